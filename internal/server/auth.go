package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/chainvet/chainvet/internal/server/store"
)

// TokenPrefix starts every API token, so that secret scanners and people
// can tell one when they see it.
const TokenPrefix = "cvt_"

// tokenBytes is the randomness in a token: 256 bits, beyond guessing.
const tokenBytes = 32

// NewToken makes a token with a scope, limited to project unless it is
// empty. It returns the secret, to show once, and the record to store,
// which holds only the secret's hash.
func NewToken(name, scope, project string, now time.Time) (secret string, t store.Token, err error) {
	if rank(scope) == 0 {
		return "", store.Token{}, fmt.Errorf("unknown scope %q: want read, push or admin", scope)
	}
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", store.Token{}, fmt.Errorf("new token: %w", err)
	}
	secret = TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return secret, store.Token{Hash: HashToken(secret), Name: name, Scope: scope, Project: project, Created: now.UTC()}, nil
}

// HashToken is how a token is stored and looked up: the lower-case hex
// SHA-256 of its text. A plain hash suffices since tokens are random, not
// chosen by people: there is nothing to brute-force from a leaked hash.
func HashToken(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// rank orders scopes: each allows what those below it allow.
func rank(scope string) int {
	switch scope {
	case store.ScopeRead:
		return 1
	case store.ScopePush:
		return 2
	case store.ScopeAdmin:
		return 3
	}
	return 0
}

// errUnauthenticated and errForbidden become 401 and 403.
var (
	errUnauthenticated = errors.New("missing or unknown token: send Authorization: Bearer <token>")
	errForbidden       = errors.New("forbidden")
)

// An endedError is a token that is known but no longer works: it is
// errUnauthenticated, with a message saying why.
type endedError struct{ msg string }

func (e *endedError) Error() string        { return e.msg }
func (e *endedError) Is(target error) bool { return target == errUnauthenticated }

// checkLive refuses a token that was revoked or has expired at now.
// Neither is cached: the store is read on every request, so a
// revocation holds at once on every replica.
func checkLive(t store.Token, now time.Time) error {
	switch {
	case !t.Revoked.IsZero():
		return &endedError{fmt.Sprintf("token %q was revoked at %s: ask an admin for a new one", t.Name, t.Revoked.UTC().Format(time.RFC3339))}
	case !t.Expires.IsZero() && !now.Before(t.Expires):
		return &endedError{fmt.Sprintf("token %q expired at %s: make a new one (POST /api/v1/tokens, with an admin token)", t.Name, t.Expires.UTC().Format(time.RFC3339))}
	}
	return nil
}

// authenticate finds the request's token and checks that its scope
// reaches need.
func (s *Server) authenticate(ctx context.Context, r *http.Request, need string) (store.Token, error) {
	h := r.Header.Get("Authorization")
	scheme, secret, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || !strings.HasPrefix(secret, TokenPrefix) {
		return store.Token{}, errUnauthenticated
	}
	t, err := s.store.Token(ctx, HashToken(strings.TrimSpace(secret)))
	if errors.Is(err, store.ErrNotFound) {
		return store.Token{}, errUnauthenticated
	}
	if err != nil {
		return store.Token{}, err
	}
	if err := checkLive(t, s.opt.Now()); err != nil {
		return store.Token{}, err
	}
	if rank(t.Scope) < rank(need) {
		return store.Token{}, fmt.Errorf("%w: this needs a %s token, %q is %s", errForbidden, need, t.Name, t.Scope)
	}
	return t, nil
}

// allowProject checks that t may act on project.
func allowProject(t store.Token, project string) error {
	if t.Project != "" && t.Project != project {
		return fmt.Errorf("%w: token %q is limited to project %s", errForbidden, t.Name, t.Project)
	}
	return nil
}

// maxTokenLife bounds how far away a token's expiry may be: an expiry
// years ahead is a typo, or a wish for none, which leaving it out says.
const maxTokenLife = 2 * 365 * 24 * time.Hour

// tokenExpiry reads the expiry of a token request: an RFC 3339 time, or
// a duration from now (Go syntax: "720h"), at most one of them, cut to
// the second. The zero time means the token never expires.
func tokenExpiry(expires, ttl string, now time.Time) (time.Time, error) {
	var at time.Time
	switch {
	case expires != "" && ttl != "":
		return time.Time{}, badRequest("give expires or ttl, not both")
	case expires != "":
		var err error
		if at, err = time.Parse(time.RFC3339, expires); err != nil {
			return time.Time{}, badRequest("expires: an RFC 3339 time such as 2027-01-31T00:00:00Z")
		}
	case ttl != "":
		d, err := time.ParseDuration(ttl)
		if err != nil {
			return time.Time{}, badRequest("ttl: a duration such as 720h or 90m")
		}
		at = now.Add(d)
	default:
		return time.Time{}, nil
	}
	at = at.UTC().Truncate(time.Second)
	if !at.After(now) {
		return time.Time{}, badRequest("expiry %s is not in the future", at.Format(time.RFC3339))
	}
	if at.After(now.Add(maxTokenLife)) {
		return time.Time{}, badRequest("expiry %s is more than two years (%.0fh) away; leave out expires and ttl for a token that never expires", at.Format(time.RFC3339), maxTokenLife.Hours())
	}
	return at, nil
}

// tokenInfo is a token as GET /api/v1/tokens lists it: never its hash,
// let alone its secret.
type tokenInfo struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Scope   string    `json:"scope"`
	Project string    `json:"project,omitempty"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires,omitzero"`
	Revoked time.Time `json:"revoked,omitzero"`
}

func infoOf(t store.Token) tokenInfo {
	return tokenInfo{ID: t.ID(), Name: t.Name, Scope: t.Scope, Project: t.Project, Created: t.Created, Expires: t.Expires, Revoked: t.Revoked}
}

// listTokens lists the tokens the admin token t may see: all of them, or
// those of its project when it is limited to one.
func (s *Server) listTokens(w http.ResponseWriter, r *http.Request, t store.Token) error {
	ts, err := s.store.Tokens(r.Context(), t.Project)
	if err != nil {
		return err
	}
	out := make([]tokenInfo, len(ts))
	for i, x := range ts {
		out[i] = infoOf(x)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"tokens": out})
}

func (s *Server) deleteToken(w http.ResponseWriter, r *http.Request, t store.Token) error {
	rt, err := s.revoke(r.Context(), t, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, infoOf(rt))
}

// tokenID is what a token ID looks like (see store.Token.ID).
var tokenID = regexp.MustCompile(`^[0-9a-f]{16}$`)

// revoke revokes the token with this ID on behalf of the admin token t,
// which, when limited to a project, may revoke that project's tokens
// only. Revoking a revoked token changes nothing.
func (s *Server) revoke(ctx context.Context, t store.Token, id string) (store.Token, error) {
	if err := needAdmin(t); err != nil {
		return store.Token{}, err
	}
	if !tokenID.MatchString(id) {
		return store.Token{}, badRequest("token id %q: %d lower-case hex digits", id, store.TokenIDLen)
	}
	rt, err := s.store.TokenByID(ctx, id)
	if err != nil {
		return store.Token{}, err
	}
	if t.Project != "" && rt.Project != t.Project {
		return store.Token{}, fmt.Errorf("%w: token %q may only revoke tokens of project %s", errForbidden, t.Name, t.Project)
	}
	return s.store.RevokeToken(ctx, id, s.opt.Now().UTC())
}
