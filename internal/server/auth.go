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
