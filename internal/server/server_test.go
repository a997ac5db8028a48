package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/server/store"
	"github.com/chainvet/chainvet/internal/server/store/pgtest"
)

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// testDSN returns the DSN of a fresh, empty database for t: a SQLite
// file, or, when CHAINVET_TEST_SERVER_DB is "postgres", a schema of its
// own on the PostgreSQL server CHAINVET_TEST_POSTGRES names (.ci/run runs
// this package's tests both ways).
func testDSN(t testing.TB) string {
	t.Helper()
	switch db := os.Getenv("CHAINVET_TEST_SERVER_DB"); db {
	case "", "sqlite":
		return "file:" + filepath.Join(t.TempDir(), "server.db")
	case "postgres":
	default:
		t.Fatalf("CHAINVET_TEST_SERVER_DB=%q: want sqlite or postgres", db)
	}
	dsn := pgtest.DSN(t)
	if dsn == "" {
		t.Fatal("CHAINVET_TEST_SERVER_DB=postgres needs CHAINVET_TEST_POSTGRES: run .ci/postgres.sh start")
	}
	return dsn
}

// fixture is a server on a fresh store (see testDSN) with one token of
// each kind.
type fixture struct {
	st     store.Store
	srv    *Server
	tokens map[string]string // name → secret
}

func newFixture(t testing.TB, opt Options) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, testDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	opt.Now = func() time.Time { return t0 }
	f := &fixture{st: st, srv: New(st, opt), tokens: map[string]string{}}
	for _, tk := range []struct{ name, scope, project string }{
		{"admin", store.ScopeAdmin, ""}, {"push", store.ScopePush, ""}, {"read", store.ScopeRead, ""},
		{"admin-web", store.ScopeAdmin, "web"}, {"push-web", store.ScopePush, "web"}, {"read-web", store.ScopeRead, "web"},
	} {
		secret, rec, err := NewToken(tk.name, tk.scope, tk.project, t0)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.AddToken(ctx, rec); err != nil {
			t.Fatal(err)
		}
		f.tokens[tk.name] = secret
	}
	return f
}

// do sends a request with the named token ("" for none) and returns the
// status and body.
func (f *fixture) do(t testing.TB, token, method, target string, body []byte) (int, []byte) {
	t.Helper()
	req := httptest.NewRequest(method, target, bytes.NewReader(body))
	if token != "" {
		secret, ok := f.tokens[token]
		if !ok {
			secret = token // a literal header value
		}
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

func report(cs ...inventory.Component) []byte {
	r := inventory.Report{Schema: inventory.Schema, Tool: inventory.Tool{Name: "chainvet", Version: "test"},
		Targets: []string{"."}, Components: cs, Findings: []inventory.Finding{}}
	b, err := json.Marshal(r)
	if err != nil {
		panic(err)
	}
	return b
}

func pkg(name, version string) inventory.Component {
	purl := "pkg:pypi/" + name + "@" + version
	return inventory.Component{ID: purl, Kind: inventory.KindPackage, Name: name, Version: version, PURL: purl,
		Locations: []inventory.Location{{Path: "requirements.txt"}}}
}

const cyclonedxBOM = `{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,
"components":[{"type":"library","bom-ref":"pkg:npm/left-pad@1.3.0","name":"left-pad","version":"1.3.0","purl":"pkg:npm/left-pad@1.3.0"},
{"type":"machine-learning-model","bom-ref":"m1","name":"bert","hashes":[{"alg":"SHA-256","content":"ab12"}]}]}`

func TestAuthMatrix(t *testing.T) {
	f := newFixture(t, Options{})
	for _, p := range []string{"web", "api"} {
		if code, b := f.do(t, "admin", "POST", "/api/v1/projects/"+p+"/reports?env=prod", report(pkg("torch", "2.5.1"))); code != 201 {
			t.Fatalf("seed %s: %d %s", p, code, b)
		}
	}
	tokenBody := func(scope, project string) []byte {
		return []byte(fmt.Sprintf(`{"name":"x","scope":%q,"project":%q}`, scope, project))
	}
	type req struct {
		method, target string
		body           []byte
	}
	reqs := map[string]req{
		"list":        {"GET", "/api/v1/projects", nil},
		"get_web":     {"GET", "/api/v1/projects/web", nil},
		"get_api":     {"GET", "/api/v1/projects/api", nil},
		"push_web":    {"POST", "/api/v1/projects/web/reports?env=staging", report(pkg("numpy", "2.0.0"))},
		"push_api":    {"POST", "/api/v1/projects/api/reports?env=staging", report(pkg("numpy", "2.0.0"))},
		"find":        {"GET", "/api/v1/components?name=torch", nil},
		"find_api":    {"GET", "/api/v1/components?name=torch&project=api", nil},
		"token_any":   {"POST", "/api/v1/tokens", tokenBody("read", "")},
		"token_web":   {"POST", "/api/v1/tokens", tokenBody("read", "web")},
		"health":      {"GET", "/healthz", nil},
		"push_no_obj": {"POST", "/api/v1/projects/new/reports", report()},
	}
	// Each token's answer to each request; pushes answer 200 once the
	// same body was pushed by an earlier token.
	want := map[string]map[string]int{
		"": {"list": 401, "get_web": 401, "get_api": 401, "push_web": 401, "push_api": 401, "find": 401,
			"find_api": 401, "token_any": 401, "token_web": 401, "health": 200, "push_no_obj": 401},
		"cvt_unknown": {"list": 401, "get_web": 401, "push_web": 401, "find": 401, "token_any": 401, "health": 200},
		"read": {"list": 200, "get_web": 200, "get_api": 200, "push_web": 403, "push_api": 403, "find": 200,
			"find_api": 200, "token_any": 403, "token_web": 403, "push_no_obj": 403},
		"read-web": {"list": 200, "get_web": 200, "get_api": 403, "push_web": 403, "push_api": 403, "find": 200,
			"find_api": 403, "token_any": 403, "token_web": 403},
		"push-web": {"get_web": 200, "get_api": 403, "push_web": 201, "push_api": 403, "find_api": 403,
			"token_web": 403, "push_no_obj": 403},
		"push": {"get_api": 200, "push_web": 200, "push_api": 201, "find_api": 200, "token_any": 403, "push_no_obj": 201},
		"admin-web": {"get_web": 200, "get_api": 403, "push_web": 200, "push_api": 403, "find_api": 403,
			"token_any": 403, "token_web": 201},
		"admin": {"get_api": 200, "push_api": 200, "token_any": 201, "token_web": 201, "find_api": 200},
	}
	for _, tok := range []string{"", "cvt_unknown", "read", "read-web", "push-web", "push", "admin-web", "admin"} {
		names := make([]string, 0, len(want[tok]))
		for name := range want[tok] {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			r := reqs[name]
			if code, b := f.do(t, tok, r.method, r.target, r.body); code != want[tok][name] {
				t.Errorf("token %q, %s: %d %s; want %d", tok, name, code, b, want[tok][name])
			}
		}
	}

	// What a project token reads is its project only.
	_, b := f.do(t, "read-web", "GET", "/api/v1/projects", nil)
	var list struct{ Projects []store.Project }
	if err := json.Unmarshal(b, &list); err != nil || len(list.Projects) != 1 || list.Projects[0].Name != "web" {
		t.Errorf("read-web lists %s", b)
	}
	_, b = f.do(t, "read-web", "GET", "/api/v1/components?name=torch", nil)
	var found componentsAnswer
	if err := json.Unmarshal(b, &found); err != nil || len(found.Matches) != 1 || found.Matches[0].Project != "web" {
		t.Errorf("read-web finds %s", b)
	}
	_, b = f.do(t, "read", "GET", "/api/v1/components?name=torch", nil)
	if err := json.Unmarshal(b, &found); err != nil || len(found.Matches) != 2 {
		t.Errorf("read finds %s", b)
	}
}

func TestNewTokenWorksAndOnlyHashIsStored(t *testing.T) {
	f := newFixture(t, Options{})
	code, b := f.do(t, "admin", "POST", "/api/v1/tokens", []byte(`{"name":"ci","scope":"push","project":"web"}`))
	if code != 201 {
		t.Fatalf("POST /api/v1/tokens: %d %s", code, b)
	}
	var ans tokenAnswer
	if err := json.Unmarshal(b, &ans); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ans.Token, TokenPrefix) || len(ans.Token) != len(TokenPrefix)+43 || ans.Scope != "push" || ans.Project != "web" {
		t.Fatalf("answer %+v", ans)
	}
	rec, err := f.st.Token(context.Background(), HashToken(ans.Token))
	if err != nil || rec.Hash == ans.Token || rec.Name != "ci" {
		t.Fatalf("stored %+v, %v", rec, err)
	}
	f.tokens["ci"] = ans.Token
	if code, b := f.do(t, "ci", "POST", "/api/v1/projects/web/reports", report(pkg("a", "1"))); code != 201 {
		t.Errorf("new token push: %d %s", code, b)
	}
	if code, _ := f.do(t, "ci", "POST", "/api/v1/projects/api/reports", report(pkg("a", "1"))); code != 403 {
		t.Errorf("new token pushed to another project: %d", code)
	}
	for _, body := range []string{`{"scope":"root"}`, `{"scope":"read","extra":1}`, `not json`, `{"scope":"read","project":"a/b"}`} {
		if code, b := f.do(t, "admin", "POST", "/api/v1/tokens", []byte(body)); code != 400 {
			t.Errorf("token request %s: %d %s; want 400", body, code, b)
		}
	}
}

func TestUpload(t *testing.T) {
	f := newFixture(t, Options{MaxUpload: 4096})
	body := report(pkg("torch", "2.5.1"), pkg("numpy", "2.0.0"))
	post := func(target string, body []byte) (int, uploadResult) {
		t.Helper()
		code, b := f.do(t, "push", "POST", target, body)
		var res uploadResult
		if code < 300 {
			if err := json.Unmarshal(b, &res); err != nil {
				t.Fatal(err)
			}
		}
		return code, res
	}
	code, first := post("/api/v1/projects/web/reports?version=1.0&env=prod&owner=team-web&tier=1&tag=pci", body)
	if code != 201 || !first.Created || first.Components != 2 || first.Format != store.FormatReport || !strings.HasPrefix(first.Digest, "sha256:") {
		t.Fatalf("first upload: %d %+v", code, first)
	}
	code, again := post("/api/v1/projects/web/reports?version=1.0&env=prod", body)
	if code != 200 || again.Created || again.ID != first.ID {
		t.Errorf("same upload: %d %+v; want 200 and id %d", code, again, first.ID)
	}
	code, cdx := post("/api/v1/projects/web/reports?version=1.0&env=edge", []byte(cyclonedxBOM))
	if code != 201 || cdx.Format != store.FormatCycloneDX || cdx.Components != 2 {
		t.Errorf("CycloneDX upload: %d %+v", code, cdx)
	}
	p, err := f.st.Project(context.Background(), "web")
	if want := (store.Project{Name: "web", Owners: []string{"team-web"}, Tier: "1", Tags: []string{"pci"}}); err != nil || cmp.Diff(want, p) != "" {
		t.Errorf("project %+v, %v; want %+v", p, err, want)
	}

	refused := []struct {
		name, target string
		body         []byte
		want         int
	}{
		{"too_large", "/api/v1/projects/new/reports", report(slices.Repeat([]inventory.Component{pkg("x", "1")}, 100)...), 413},
		{"not_json", "/api/v1/projects/new/reports", []byte("\x80\x02garbage"), 400},
		{"empty", "/api/v1/projects/new/reports", nil, 400},
		{"other_json", "/api/v1/projects/new/reports", []byte(`{"hello":"world"}`), 400},
		{"spdx", "/api/v1/projects/new/reports", []byte(`{"spdxVersion":"SPDX-2.3","packages":[]}`), 400},
		{"bad_components", "/api/v1/projects/new/reports", []byte(`{"schema":"chainvet/report/v1","components":3}`), 400},
		{"no_kind", "/api/v1/projects/new/reports", []byte(`{"schema":"chainvet/report/v1","components":[{"id":"a","name":"a"}]}`), 400},
		{"nul", "/api/v1/projects/new/reports", []byte(`{"schema":"chainvet/report/v1","components":[{"id":"a","kind":"package","name":"a\u0000b"}]}`), 400},
		{"bad_project", "/api/v1/projects/-x/reports", body, 400},
		{"bad_env", "/api/v1/projects/new/reports?env=a%0Ab", body, 400},
		{"long_version", "/api/v1/projects/new/reports?version=" + strings.Repeat("v", 300), body, 400},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			if code, b := f.do(t, "push", "POST", tt.target, tt.body); code != tt.want {
				t.Errorf("%d %s; want %d", code, b, tt.want)
			}
		})
	}
	// Nothing of a refused upload was stored.
	ps, err := f.st.Projects(context.Background())
	if err != nil || len(ps) != 1 || ps[0].Name != "web" {
		t.Errorf("projects after refused uploads: %+v, %v", ps, err)
	}
	ms, err := f.st.FindComponents(context.Background(), store.ComponentQuery{Name: "x", History: true})
	if err != nil || len(ms) != 0 {
		t.Errorf("components of refused uploads: %+v, %v", ms, err)
	}
}

func TestProjectAndComponents(t *testing.T) {
	f := newFixture(t, Options{})
	for _, u := range []struct {
		target string
		body   []byte
	}{
		{"/api/v1/projects/web/reports?version=1.0&env=prod", report(pkg("torch", "2.4.0"))},
		{"/api/v1/projects/web/reports?version=1.1&env=prod", report(pkg("torch", "2.5.1"))},
		{"/api/v1/projects/api/reports?version=7&env=prod&owner=team-api", report(pkg("torch", "2.5.1"), pkg("numpy", "2.0.0"))},
	} {
		if code, b := f.do(t, "push", "POST", u.target, u.body); code != 201 {
			t.Fatalf("%s: %d %s", u.target, code, b)
		}
	}
	_, b := f.do(t, "read", "GET", "/api/v1/projects/web", nil)
	var page projectPage
	if err := json.Unmarshal(b, &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Deployments) != 1 || page.Deployments[0].Version != "1.1" || len(page.History) != 2 {
		t.Errorf("project page %s", b)
	}
	if code, _ := f.do(t, "read", "GET", "/api/v1/projects/nope", nil); code != 404 {
		t.Errorf("missing project: %d, want 404", code)
	}
	tests := []struct {
		query     string
		want      []string // project/env/version
		truncated bool
		code      int
	}{
		{"purl=pkg:pypi/torch@2.5.1", []string{"api/prod/7", "web/prod/1.1"}, false, 200},
		{"purl=pkg:pypi/torch", []string{"api/prod/7", "web/prod/1.1"}, false, 200},
		{"purl=pkg:pypi/torch@2.4.0", []string{}, false, 200},
		{"purl=pkg:pypi/torch@2.4.0&history=true", []string{"web/prod/1.0"}, false, 200},
		{"name=torch&version=2.5.1&limit=1", []string{"api/prod/7"}, true, 200},
		{"name=numpy", []string{"api/prod/7"}, false, 200},
		{"version=1", nil, false, 400},
		{"name=torch&limit=0", nil, false, 400},
		{"name=torch&limit=x", nil, false, 400},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			code, b := f.do(t, "read", "GET", "/api/v1/components?"+tt.query, nil)
			if code != tt.code {
				t.Fatalf("%d %s; want %d", code, b, tt.code)
			}
			if code != 200 {
				return
			}
			var ans componentsAnswer
			if err := json.Unmarshal(b, &ans); err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, m := range ans.Matches {
				got = append(got, m.Project+"/"+m.Env+"/"+m.Version)
			}
			if d := cmp.Diff(tt.want, got); d != "" || ans.Truncated != tt.truncated {
				t.Errorf("truncated %v, matches (-want +got):\n%s", ans.Truncated, d)
			}
		})
	}
	_, b = f.do(t, "read", "GET", "/api/v1/components?name=numpy", nil)
	if !bytes.Contains(b, []byte(`"owners":["team-api"]`)) {
		t.Errorf("match without owners: %s", b)
	}
}

// failingStore refuses every upload, as a database failing mid-ingest.
type failingStore struct{ store.Store }

func (failingStore) AddReport(context.Context, store.Upload) (int64, bool, error) {
	return 0, false, fmt.Errorf("store: add report: disk I/O error")
}

func TestStoreFailureIs500WithoutDetail(t *testing.T) {
	f := newFixture(t, Options{})
	srv := New(failingStore{f.st}, Options{})
	req := httptest.NewRequest("POST", "/api/v1/projects/web/reports", bytes.NewReader(report(pkg("a", "1"))))
	req.Header.Set("Authorization", "Bearer "+f.tokens["push"])
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "disk") {
		t.Errorf("%d %s; want 500 without the store's message", rec.Code, rec.Body)
	}
}

func TestBootstrap(t *testing.T) {
	f := newFixture(t, Options{})
	// The fixture's database has tokens: no bootstrap token.
	if secret, err := Bootstrap(context.Background(), f.st, t0); err != nil || secret != "" {
		t.Errorf("Bootstrap with tokens = %q, %v", secret, err)
	}
	st, err := store.Open(context.Background(), testDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	secret, err := Bootstrap(context.Background(), st, t0)
	if err != nil || !strings.HasPrefix(secret, TokenPrefix) {
		t.Fatalf("Bootstrap = %q, %v", secret, err)
	}
	if tok, err := st.Token(context.Background(), HashToken(secret)); err != nil || tok.Scope != store.ScopeAdmin || tok.Project != "" {
		t.Errorf("bootstrap token %+v, %v", tok, err)
	}
	if again, err := Bootstrap(context.Background(), st, t0); err != nil || again != "" {
		t.Errorf("second Bootstrap = %q, %v", again, err)
	}
}

// TestOpenAPI checks that docs/openapi.yaml documents exactly the routes
// the server serves, each with the scope it enforces.
func TestOpenAPI(t *testing.T) {
	b, err := os.ReadFile("../../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Scope    string         `yaml:"x-scope"`
			Security []any          `yaml:"security"`
			Resp     map[string]any `yaml:"responses"`
		} `yaml:"paths"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	documented := map[string]string{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if method == "parameters" {
				continue
			}
			documented[strings.ToUpper(method)+" "+path] = op.Scope
			if op.Scope == "" && op.Security == nil {
				t.Errorf("%s %s: no x-scope and not marked security: []", method, path)
			}
			if len(op.Resp) == 0 {
				t.Errorf("%s %s: no responses", method, path)
			}
		}
	}
	served := map[string]string{}
	for _, rt := range routes {
		served[rt.method+" "+rt.path] = rt.scope
	}
	if d := cmp.Diff(served, documented); d != "" {
		t.Errorf("routes (-served +documented):\n%s", d)
	}
}

func FuzzParseUpload(f *testing.F) {
	f.Add(report(pkg("torch", "2.5.1")))
	f.Add([]byte(cyclonedxBOM))
	f.Add([]byte(`{"schema":"chainvet/report/v1","components":[{"id":"a","name":"a"}]}`))
	f.Add([]byte(`{"bomFormat":"CycloneDX","components":[{"type":"library","name":"x","components":[{"type":"library","name":"y"}]}]}`))
	f.Add([]byte("not json"))
	f.Fuzz(func(t *testing.T, b []byte) {
		format, cs, err := parseUpload(b)
		if err != nil {
			var he *httpError
			if !errors.As(err, &he) || he.status != http.StatusBadRequest {
				t.Fatalf("error is not a 400: %v", err)
			}
			return
		}
		if format != store.FormatReport && format != store.FormatCycloneDX {
			t.Fatalf("format %q", format)
		}
		for _, c := range cs {
			if c.Kind == "" || strings.ContainsRune(c.Name, 0) {
				t.Fatalf("accepted component %+v", c)
			}
		}
	})
}

// TestUploadLyingLength guards the 413 path: the limit applies to the
// body as sent, whatever Content-Length claims.
func TestUploadLyingLength(t *testing.T) {
	f := newFixture(t, Options{MaxUpload: 1024})
	body := report(slices.Repeat([]inventory.Component{pkg("x", "1")}, 50)...)
	req := httptest.NewRequest("POST", "/api/v1/projects/web/reports", io.NopCloser(bytes.NewReader(body)))
	req.ContentLength = 10
	req.Header.Set("Authorization", "Bearer "+f.tokens["push"])
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	if rec.Code != 413 {
		t.Errorf("%d %s; want 413", rec.Code, rec.Body)
	}
}

func TestPutProject(t *testing.T) {
	f := newFixture(t, Options{})
	tests := []struct {
		token, project, body string
		want                 int
	}{
		{"admin", "web", `{"owners":["team-web"],"tier":"1","tags":["pci"]}`, 200},
		{"admin-web", "web", `{"owners":["team-web","sre"],"tier":"0"}`, 200},
		{"admin-web", "api", `{"owners":["x"]}`, 403},
		{"push", "web", `{"owners":["x"]}`, 403},
		{"read", "web", `{"owners":["x"]}`, 403},
		{"", "web", `{"owners":["x"]}`, 401},
		{"admin", "web", `{"owner":["x"]}`, 400},
		{"admin", "web", `{"tier":"a\u0000b"}`, 400},
		{"admin", "web", `not json`, 400},
		{"admin", "bad name", `{}`, 400},
	}
	for _, tt := range tests {
		code, out := f.do(t, tt.token, "PUT", "/api/v1/projects/"+url.PathEscape(tt.project), []byte(tt.body))
		if code != tt.want {
			t.Errorf("%s PUT %s %s: %d %s; want %d", tt.token, tt.project, tt.body, code, out, tt.want)
		}
	}
	code, out := f.do(t, "read", "GET", "/api/v1/projects/web", nil)
	var p store.Project
	if code != 200 || json.Unmarshal(out, &p) != nil {
		t.Fatalf("GET web: %d %s", code, out)
	}
	want := store.Project{Name: "web", Owners: []string{"team-web", "sre"}, Tier: "0", Tags: []string{}}
	if d := cmp.Diff(want, p); d != "" {
		t.Errorf("project after PUTs (-want +got):\n%s", d)
	}
}
