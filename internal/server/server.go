// Package server is chainvet's fleet server: an HTTP API that stores the
// reports projects push and answers "who runs X?" across all of them.
//
// Advisories (OSV records, uploaded one at a time or as an all.zip) are
// matched against the latest report of every deployment as soon as they
// are stored, and each pushed report against every stored advisory; the
// matches are findings with first-seen and resolved times; a Rematcher
// on any replica finishes matching a stopped server left undone. Alert
// rules send the findings they match, as they open, to webhooks (see Worker):
// deliveries are queued in the database in the transaction that opens
// the findings, and any replica's worker may send them, signed with the
// rule's secret (see Sign).
//
// The API is described by docs/openapi.yaml, which a test keeps in step
// with the routes here. Every request but GET /healthz needs a bearer
// token (see NewToken); its scope — read, push or admin — and its project,
// if it is limited to one, decide what it may do. A token may have an
// expiry and may be revoked; both are checked against the store on every
// request. The server keeps no state of its own: any number of replicas
// can share one store.
//
// An upload is acknowledged only after its one transaction has committed:
// a server killed at any moment has stored either all of an upload or
// none of it, and a client that got no 2xx pushes again, harmlessly.
package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/chainvet/chainvet/internal/advisory/version"
	"github.com/chainvet/chainvet/internal/diff"
	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/server/store"
)

// Limits on what a client may send.
const (
	// DefaultMaxUpload is the largest report accepted, in bytes: a
	// chainvet report of a big monorepo is a few MiB; 64 MiB leaves room
	// for a BOM of a whole container fleet.
	DefaultMaxUpload = 64 << 20
	// MaxComponents is the most components one upload may hold.
	MaxComponents = 500_000
	// maxSmallBody bounds the JSON bodies of the other requests.
	maxSmallBody = 64 << 10
	// maxHistory is the number of past reports a project page lists.
	maxHistory = 100
	// maxField bounds version, environment, owner, tier and tag values.
	maxField = 256
)

// Options configure a Server. The zero value is usable.
type Options struct {
	// MaxUpload is the largest report accepted, in bytes; 0 means
	// DefaultMaxUpload.
	MaxUpload int64
	// MaxAdvisories is the largest advisory upload (an OSV all.zip)
	// accepted, in bytes; 0 means DefaultMaxAdvisories.
	MaxAdvisories int64
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Log receives one line per failed request; nil discards them.
	Log *slog.Logger
}

// A Server serves the API from a store.
type Server struct {
	store store.Store
	opt   Options
	mux   *http.ServeMux
}

// A route is one operation of the API. scope is the least a token must
// hold; "" means no token is needed.
type route struct {
	method, path, scope string
	handle              func(s *Server, w http.ResponseWriter, r *http.Request, t store.Token) error
}

// routes lists the API; docs/openapi.yaml documents each.
var routes = []route{
	{"GET", "/healthz", "", (*Server).healthz},
	{"GET", "/api/v1/projects", store.ScopeRead, (*Server).listProjects},
	{"GET", "/api/v1/projects/{project}", store.ScopeRead, (*Server).getProject},
	{"PUT", "/api/v1/projects/{project}", store.ScopeAdmin, (*Server).putProject},
	{"POST", "/api/v1/projects/{project}/reports", store.ScopePush, (*Server).postReport},
	{"GET", "/api/v1/components", store.ScopeRead, (*Server).findComponents},
	{"POST", "/api/v1/tokens", store.ScopeAdmin, (*Server).postToken},
	{"GET", "/api/v1/tokens", store.ScopeAdmin, (*Server).listTokens},
	{"DELETE", "/api/v1/tokens/{id}", store.ScopeAdmin, (*Server).deleteToken},
	{"POST", "/api/v1/advisories", store.ScopeAdmin, (*Server).postAdvisories},
	{"GET", "/api/v1/advisories/{id}", store.ScopeRead, (*Server).getAdvisory},
	{"GET", "/api/v1/feeds", store.ScopeAdmin, (*Server).listFeeds},
	{"GET", "/api/v1/findings", store.ScopeRead, (*Server).listFindings},
	{"POST", "/api/v1/alert-rules", store.ScopeAdmin, (*Server).postAlertRule},
	{"GET", "/api/v1/alert-rules", store.ScopeAdmin, (*Server).listAlertRules},
	{"DELETE", "/api/v1/alert-rules/{id}", store.ScopeAdmin, (*Server).deleteAlertRule},
	{"GET", "/api/v1/deliveries", store.ScopeAdmin, (*Server).listDeliveries},
	// Incidents and containment (incidents.go).
	{"POST", "/api/v1/incidents", store.ScopeAdmin, (*Server).postIncident},
	{"GET", "/api/v1/incidents", store.ScopeRead, (*Server).listIncidents},
	{"GET", "/api/v1/incidents/{id}", store.ScopeRead, (*Server).getIncident},
	{"POST", "/api/v1/incidents/{id}/steps/{step}", store.ScopeAdmin, (*Server).postIncidentStep},
	{"POST", "/api/v1/incidents/{id}/close", store.ScopeAdmin, (*Server).closeIncident},
	{"GET", "/api/v1/incidents/{id}/export.md", store.ScopeRead, (*Server).exportIncident},
	{"GET", "/api/v1/metrics", store.ScopeRead, (*Server).getMetrics},
}

// New returns a server on st.
func New(st store.Store, opt Options) *Server {
	if opt.MaxUpload <= 0 {
		opt.MaxUpload = DefaultMaxUpload
	}
	if opt.MaxAdvisories <= 0 {
		opt.MaxAdvisories = DefaultMaxAdvisories
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{store: st, opt: opt, mux: http.NewServeMux()}
	for _, rt := range routes {
		s.mux.HandleFunc(rt.method+" "+rt.path, func(w http.ResponseWriter, r *http.Request) {
			var t store.Token
			if rt.scope != "" {
				var err error
				if t, err = s.authenticate(r.Context(), r, rt.scope); err != nil {
					s.fail(w, r, err)
					return
				}
			}
			if err := rt.handle(s, w, r, t); err != nil {
				s.fail(w, r, err)
			}
		})
	}
	s.registerUI(s.mux)
	return s
}

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// httpError is an error with the status to answer it with.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &httpError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

// fail answers a request with an error as JSON. Errors from the store
// are logged, not shown: they may name tables or hosts.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var he *httpError
	status, msg := http.StatusInternalServerError, "internal error"
	switch {
	case errors.As(err, &he):
		status, msg = he.status, he.msg
	case errors.Is(err, errUnauthenticated):
		status, msg = http.StatusUnauthorized, err.Error()
		w.Header().Set("WWW-Authenticate", `Bearer realm="chainvet"`)
	case errors.Is(err, errForbidden):
		status, msg = http.StatusForbidden, err.Error()
	case errors.Is(err, store.ErrNotFound):
		status, msg = http.StatusNotFound, err.Error()
	}
	if status == http.StatusInternalServerError {
		s.opt.Log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request, _ store.Token) error {
	if err := s.store.Ping(r.Context()); err != nil {
		s.opt.Log.Error("health check failed", "err", err)
		return &httpError{http.StatusServiceUnavailable, "database unavailable"}
	}
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// projectName is what a project may be called: it appears in URLs.
var projectName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

func checkProject(name string) error {
	if !projectName.MatchString(name) {
		return badRequest("project name %q: use 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit", name)
	}
	return nil
}

// checkField refuses what the databases cannot store (NUL, invalid UTF-8)
// and what no sane value needs (control characters, great length).
func checkField(what, v string) error {
	if len(v) > maxField || !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return badRequest("%s: at most %d printable UTF-8 bytes", what, maxField)
	}
	return nil
}

func (s *Server) listProjects(w http.ResponseWriter, r *http.Request, t store.Token) error {
	ps, err := s.store.Projects(r.Context())
	if err != nil {
		return err
	}
	out := []store.Project{}
	for _, p := range ps {
		if allowProject(t, p.Name) == nil {
			out = append(out, p)
		}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"projects": out})
}

// projectPage is the answer of GET /api/v1/projects/{project}.
type projectPage struct {
	store.Project
	// Deployments is the latest report of each environment.
	Deployments []store.ReportInfo `json:"deployments"`
	// History is the project's reports, newest first.
	History []store.ReportInfo `json:"history"`
}

func (s *Server) getProject(w http.ResponseWriter, r *http.Request, t store.Token) error {
	name := r.PathValue("project")
	if err := allowProject(t, name); err != nil {
		return err
	}
	ctx := r.Context()
	p, err := s.store.Project(ctx, name)
	if err != nil {
		return err
	}
	page := projectPage{Project: p}
	if page.Deployments, err = s.store.Deployments(ctx, name); err != nil {
		return err
	}
	if page.History, err = s.store.Reports(ctx, name, maxHistory); err != nil {
		return err
	}
	page.Deployments = nonNil(page.Deployments)
	page.History = nonNil(page.History)
	return writeJSON(w, http.StatusOK, page)
}

// projectRequest is the body of PUT /api/v1/projects/{project}.
type projectRequest struct {
	Owners []string `json:"owners"`
	Tier   string   `json:"tier"`
	Tags   []string `json:"tags"`
}

// putProject creates a project or replaces its owners, tier and tags.
func (s *Server) putProject(w http.ResponseWriter, r *http.Request, t store.Token) error {
	name := r.PathValue("project")
	if err := checkProject(name); err != nil {
		return err
	}
	if err := allowProject(t, name); err != nil {
		return err
	}
	var req projectRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxSmallBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return badRequest("project: %v", err)
	}
	p := store.Project{Name: name, Owners: nonNil(req.Owners), Tier: req.Tier, Tags: nonNil(req.Tags)}
	if err := checkMeta(p); err != nil {
		return err
	}
	if err := s.store.PutProject(r.Context(), p); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

func nonNil[T any](l []T) []T {
	if l == nil {
		return []T{}
	}
	return l
}

// uploadResult is the answer to an upload.
type uploadResult struct {
	ID         int64  `json:"id"`
	Project    string `json:"project"`
	Version    string `json:"version"`
	Env        string `json:"env"`
	Digest     string `json:"digest"`
	Format     string `json:"format"`
	Components int    `json:"components"`
	// Created is false when the same report had been uploaded before.
	Created bool `json:"created"`
	// Opened and Resolved count the findings matching the report against
	// the stored advisories opened and resolved.
	Opened   int `json:"opened"`
	Resolved int `json:"resolved"`
}

// DefaultEnv is the environment of an upload that names none.
const DefaultEnv = "default"

func (s *Server) postReport(w http.ResponseWriter, r *http.Request, t store.Token) error {
	name := r.PathValue("project")
	if err := checkProject(name); err != nil {
		return err
	}
	if err := allowProject(t, name); err != nil {
		return err
	}
	q := r.URL.Query()
	u := store.Upload{Project: name, Version: q.Get("version"), Env: q.Get("env")}
	if u.Env == "" {
		u.Env = DefaultEnv
	}
	if err := checkField("version", u.Version); err != nil {
		return err
	}
	if err := checkField("env", u.Env); err != nil {
		return err
	}
	meta, err := projectMeta(q)
	if err != nil {
		return err
	}
	u.Meta = meta

	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opt.MaxUpload))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return &httpError{http.StatusRequestEntityTooLarge, fmt.Sprintf("report larger than %d bytes", s.opt.MaxUpload)}
	}
	if err != nil {
		return badRequest("reading the report: %v", err)
	}
	if u.Format, u.Components, err = parseUpload(body); err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	u.Digest = "sha256:" + hex.EncodeToString(sum[:])
	u.Body = body
	u.Received = s.opt.Now().UTC()
	id, created, err := s.store.AddReport(r.Context(), u)
	if err != nil {
		return err
	}
	// Matched after the commit, and again for a repeated upload: a
	// client that saw no answer because matching failed pushes again.
	opened, resolved, err := s.matchReport(r.Context(), name, u.Env, id, u.Components)
	if err != nil {
		return err
	}
	if err := s.store.MarkDeploymentMatched(r.Context(), name, u.Env, id, ""); err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return writeJSON(w, status, uploadResult{ID: id, Project: name, Version: u.Version, Env: u.Env,
		Digest: u.Digest, Format: u.Format, Components: len(u.Components), Created: created,
		Opened: opened, Resolved: resolved})
}

// projectMeta reads owners, tier and tags from an upload's query: when
// any is given, they replace the project's.
func projectMeta(q map[string][]string) (*store.Project, error) {
	owners, tier, tags := q["owner"], q["tier"], q["tag"]
	if owners == nil && tier == nil && tags == nil {
		return nil, nil
	}
	if len(tier) > 1 {
		return nil, badRequest("one tier")
	}
	p := &store.Project{Owners: nonNil(owners), Tags: nonNil(tags)}
	if len(tier) == 1 {
		p.Tier = tier[0]
	}
	if err := checkMeta(*p); err != nil {
		return nil, err
	}
	return p, nil
}

// checkMeta bounds a project's owners, tier and tags, from an upload's
// query or PUT /api/v1/projects/{project}.
func checkMeta(p store.Project) error {
	if len(p.Owners)+len(p.Tags) > 64 {
		return badRequest("at most 64 owners and tags")
	}
	for _, v := range append(append([]string{p.Tier}, p.Owners...), p.Tags...) {
		if err := checkField("owner, tier or tag", v); err != nil {
			return err
		}
	}
	return nil
}

// parseUpload recognises a chainvet report or a CycloneDX JSON BOM and
// reads its components, refusing anything else.
func parseUpload(body []byte) (string, []inventory.Component, error) {
	var probe struct {
		Schema    string `json:"schema"`
		BOMFormat string `json:"bomFormat"`
	}
	if err := json.Unmarshal(body, &probe); err != nil {
		return "", nil, badRequest("not JSON: %v", err)
	}
	var format string
	switch {
	case probe.Schema == inventory.Schema:
		format = store.FormatReport
	case probe.BOMFormat == "CycloneDX":
		format = store.FormatCycloneDX
	default:
		return "", nil, badRequest("not a %s report or a CycloneDX JSON BOM", inventory.Schema)
	}
	cs, err := diff.Parse(body)
	if err != nil {
		return "", nil, badRequest("%s: %v", format, err)
	}
	if len(cs) > MaxComponents {
		return "", nil, badRequest("%d components, more than %d", len(cs), MaxComponents)
	}
	for i, c := range cs {
		if c.Kind == "" {
			return "", nil, badRequest("component %d (%q) has no kind", i, c.Name)
		}
		// PostgreSQL text cannot hold NUL; the report's JSON may.
		for _, v := range []string{string(c.Kind), c.Name, c.Version, c.PURL, firstPath(c)} {
			if strings.ContainsRune(v, 0) {
				return "", nil, badRequest("component %d (%q) holds a NUL character", i, c.Name)
			}
		}
	}
	return format, cs, nil
}

func firstPath(c inventory.Component) string {
	if len(c.Locations) > 0 {
		return c.Locations[0].Path
	}
	return ""
}

// componentsAnswer is the answer of GET /api/v1/components.
type componentsAnswer struct {
	Matches []store.Match `json:"matches"`
	// Truncated says that more matches exist than the limit let through.
	Truncated bool `json:"truncated"`
	// SkippedVersions counts, for a range query, the distinct stored
	// versions of the package that do not parse in its ecosystem: whether
	// they are in the range is unknown, and they are not listed.
	SkippedVersions int `json:"skippedVersions"`
}

func (s *Server) findComponents(w http.ResponseWriter, r *http.Request, t store.Token) error {
	v := r.URL.Query()
	q := store.ComponentQuery{PURL: v.Get("purl"), Range: v.Get("range"), Name: v.Get("name"), Version: v.Get("version"),
		Digest: v.Get("digest"), Endpoint: v.Get("endpoint"), Project: v.Get("project"), History: v.Get("history") == "true"}
	if q.PURL == "" && q.Name == "" && q.Digest == "" && q.Endpoint == "" {
		return badRequest("give purl=… (and optionally range=…), name=… (and optionally version=…), digest=sha256:… or endpoint=HOST")
	}
	for _, f := range []string{q.PURL, q.Range, q.Name, q.Version, q.Digest, q.Endpoint, q.Project} {
		if err := checkField("query", f); err != nil {
			return err
		}
	}
	if err := checkEndpoint(q); err != nil {
		return err
	}
	if t.Project != "" {
		if q.Project != "" && q.Project != t.Project {
			return allowProject(t, q.Project)
		}
		q.Project = t.Project
	}
	limit := store.DefaultLimit
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > store.DefaultLimit {
			return badRequest("limit: a number from 1 to %d", store.DefaultLimit)
		}
		limit = n
	}
	q.Limit = limit + 1
	ms, skipped, err := s.find(r.Context(), q)
	if err != nil {
		return err
	}
	ans := componentsAnswer{Matches: nonNil(ms), SkippedVersions: skipped}
	if len(ms) > limit {
		ans.Matches, ans.Truncated = ms[:limit], true
	}
	return writeJSON(w, http.StatusOK, ans)
}

// find answers a component query, by version range when it has one;
// skipped is then the count of the package's versions that do not parse.
func (s *Server) find(ctx context.Context, q store.ComponentQuery) (ms []store.Match, skipped int, err error) {
	if q.Range == "" {
		ms, err = s.store.FindComponents(ctx, q)
		return ms, 0, err
	}
	if err := checkRange(q.PURL, q.Range); err != nil {
		return nil, 0, err
	}
	return s.store.FindComponentsInRange(ctx, q)
}

// checkEndpoint says why an endpoint query cannot be answered: it
// selects by endpoint alone, a host or a URL.
func checkEndpoint(q store.ComponentQuery) error {
	if q.Endpoint == "" {
		return nil
	}
	if q.PURL != "" || q.Range != "" || q.Name != "" || q.Version != "" || q.Digest != "" {
		return badRequest("endpoint: give it alone, a host such as api.openai.com or a URL")
	}
	if _, err := store.EndpointHost(q.Endpoint); err != nil {
		return badRequest("endpoint %q: a host such as api.openai.com, or an http(s) URL", q.Endpoint)
	}
	return nil
}

// checkRange says why a range query cannot be answered: a range needs a
// purl without a version, of an ecosystem whose versions chainvet
// orders, and a range that parses in it.
func checkRange(purl, rng string) error {
	if purl == "" || strings.Contains(purl, "@") {
		return badRequest("range: give it with a purl without a version, such as purl=pkg:pypi/torch&range=>=2.0,<2.5")
	}
	typ, _ := store.PURLType(purl)
	eco, _ := store.PURLPackageKey(purl)
	if eco == "" {
		return badRequest("range: chainvet cannot order the versions of purl type %q; ask for every version, or one", typ)
	}
	_, err := version.ParseConstraint(eco, rng)
	switch {
	case errors.Is(err, version.ErrUnsupported):
		return badRequest("range: chainvet cannot order the versions of ecosystem %s; ask for every version, or one", eco)
	case err != nil:
		return badRequest("range %q for %s: %v", rng, eco, err)
	}
	return nil
}

// tokenRequest is the body of POST /api/v1/tokens.
type tokenRequest struct {
	Name    string `json:"name"`
	Scope   string `json:"scope"`
	Project string `json:"project"`
	// Expires (RFC 3339) or TTL (a Go duration), not both, sets when
	// the token stops working; neither means never.
	Expires string `json:"expires"`
	TTL     string `json:"ttl"`
}

// tokenAnswer shows a new token, the only time it is shown.
type tokenAnswer struct {
	Token string `json:"token"`
	// ID names the token in the list and to revoke it.
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Scope   string    `json:"scope"`
	Project string    `json:"project,omitempty"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires,omitzero"`
}

func (s *Server) postToken(w http.ResponseWriter, r *http.Request, t store.Token) error {
	var req tokenRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxSmallBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return badRequest("token request: %v", err)
	}
	if rank(req.Scope) == 0 {
		return badRequest("scope %q: want read, push or admin", req.Scope)
	}
	if err := checkField("name", req.Name); err != nil {
		return err
	}
	if req.Project != "" {
		if err := checkProject(req.Project); err != nil {
			return err
		}
	}
	// An admin of one project makes tokens for that project only.
	if t.Project != "" && req.Project != t.Project {
		return fmt.Errorf("%w: token %q may only make tokens for project %s", errForbidden, t.Name, t.Project)
	}
	now := s.opt.Now()
	expires, err := tokenExpiry(req.Expires, req.TTL, now)
	if err != nil {
		return err
	}
	secret, nt, err := NewToken(req.Name, req.Scope, req.Project, now)
	if err != nil {
		return err
	}
	nt.Expires = expires
	if err := s.store.AddToken(r.Context(), nt); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, tokenAnswer{Token: secret, ID: nt.ID(), Name: nt.Name, Scope: nt.Scope, Project: nt.Project,
		Created: nt.Created, Expires: nt.Expires})
}

// Bootstrap makes the first admin token of a new database and returns
// it; it returns "" when the database has, or once had, tokens.
func Bootstrap(ctx context.Context, st store.Store, now time.Time) (string, error) {
	secret, t, err := NewToken("bootstrap", store.ScopeAdmin, "", now)
	if err != nil {
		return "", err
	}
	ok, err := st.Bootstrap(ctx, t)
	if err != nil || !ok {
		return "", err
	}
	return secret, nil
}
