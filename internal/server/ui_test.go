package server

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/server/store"
)

// page requests a UI page as the named token's session ("" for none, or
// a literal cookie value), posting form when it is not nil.
func (f *fixture) page(t testing.TB, token, method, target string, form url.Values, hdr ...string) *http.Response {
	t.Helper()
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, target, nil)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	if token != "" {
		secret, ok := f.tokens[token]
		if !ok {
			secret = token
		}
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: secret})
	}
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	return rec.Result()
}

func readAll(t testing.TB, res *http.Response) string {
	t.Helper()
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := res.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return sb.String()
}

func TestUIRequiresSession(t *testing.T) {
	f := newFixture(t, Options{})
	f.push(t, "web", "env=prod", pkg("torch", "2.5.1"))
	for _, target := range []string{"/ui/", "/ui/projects/web", "/ui/projects/web/diff?old=1&new=1", "/ui/advisories/GHSA-x"} {
		for _, cookie := range []string{"", "cvt_not-a-real-token", "garbage"} {
			res := f.page(t, cookie, "GET", target, nil)
			if res.StatusCode != http.StatusSeeOther {
				t.Errorf("%s with cookie %q: %d, want 303", target, cookie, res.StatusCode)
				continue
			}
			want := "/ui/login?next=" + url.QueryEscape(target)
			if got := res.Header.Get("Location"); got != want {
				t.Errorf("%s: redirected to %q, want %q", target, got, want)
			}
		}
	}
	// The API does not take the cookie.
	res := f.page(t, "admin", "GET", "/api/v1/projects", nil)
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("API with a session cookie: %d, want 401", res.StatusCode)
	}
}

func TestUILogin(t *testing.T) {
	f := newFixture(t, Options{})
	tests := []struct {
		name, token, next string
		tls               bool
		status            int
		location          string
	}{
		{"read_token", f.tokens["read"], "/ui/projects/web", false, 303, "/ui/projects/web"},
		{"over_tls", f.tokens["read-web"], "", true, 303, "/ui/"},
		{"open_redirect", f.tokens["admin"], "//evil.example/", false, 303, "/ui/"},
		{"absolute_redirect", f.tokens["admin"], "https://evil.example/ui/", false, 303, "/ui/"},
		{"unknown_token", "cvt_AAAA", "", false, 401, ""},
		{"not_a_token", "<script>", "", false, 401, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := url.Values{"token": {tt.token}, "next": {tt.next}}
			req := httptest.NewRequest("POST", "/ui/login", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tt.tls {
				req.TLS = &tls.ConnectionState{}
			}
			rec := httptest.NewRecorder()
			f.srv.ServeHTTP(rec, req)
			res := rec.Result()
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.status)
			}
			if got := res.Header.Get("Location"); got != tt.location {
				t.Errorf("Location %q, want %q", got, tt.location)
			}
			cs := res.Cookies()
			if tt.status != 303 {
				if len(cs) != 0 {
					t.Errorf("failed login set cookies %v", cs)
				}
				if b := readAll(t, res); strings.Contains(b, "<script>") {
					t.Errorf("login page echoes the token unescaped")
				}
				return
			}
			if len(cs) != 1 {
				t.Fatalf("cookies %v, want one", cs)
			}
			c := cs[0]
			if c.Name != sessionCookie || c.Value != tt.token || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode ||
				c.Secure != tt.tls || c.Path != "/ui/" || c.MaxAge <= 0 {
				t.Errorf("cookie %+v", c)
			}
		})
	}
}

func TestUIPagesAndScope(t *testing.T) {
	f := newFixture(t, Options{})
	f.importAdvisories(t, osvJSON("GHSA-torch", t0, "torch", "2.0", "2.6.0", ""))
	f.push(t, "web", "env=prod&owner=web-team", pkg("torch", "2.5.1"))
	f.push(t, "api", "env=prod&owner=api-team", pkg("torch", "2.4.0"), pkg("numpy", "2.0.0"))

	tests := []struct {
		name, token, target string
		status              int
		want, notWant       []string
	}{
		{"overview_all", "read", "/ui/", 200,
			[]string{`<span class="n" id="projects">2</span>`, `<span class="n" id="open">2</span>`, "GHSA-torch", "/ui/projects/api", "/ui/projects/web", "<svg", "<polyline"}, nil},
		{"overview_scoped", "read-web", "/ui/", 200,
			[]string{`<span class="n" id="projects">1</span>`, `<span class="n" id="open">1</span>`, "/ui/projects/web"},
			[]string{"/ui/projects/api", "api-team"}},
		{"project", "read", "/ui/projects/api", 200,
			[]string{"api-team", "pkg:pypi/numpy@2.0.0", "pkg:pypi/torch@2.4.0", "GHSA-torch", "prod"}, []string{"web-team"}},
		{"project_scoped_other", "read-web", "/ui/projects/api", 403, nil, []string{"numpy"}},
		{"project_scoped_own", "read-web", "/ui/projects/web", 200, []string{"pkg:pypi/torch@2.5.1"}, nil},
		{"project_missing", "read", "/ui/projects/nope", 404, nil, nil},
		{"advisory", "read", "/ui/advisories/GHSA-torch", 200,
			[]string{"bad thing", "CVE-GHSA-torch", "PyPI torch", "web-team", "api-team"}, nil},
		{"advisory_scoped", "read-web", "/ui/advisories/GHSA-torch", 200, []string{"web-team"}, []string{"api-team"}},
		{"advisory_missing", "read", "/ui/advisories/GHSA-none", 404, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := f.page(t, tt.token, "GET", tt.target, nil)
			b := readAll(t, res)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d\n%s", res.StatusCode, tt.status, b)
			}
			if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
				t.Errorf("CSP %q", csp)
			}
			for _, w := range tt.want {
				if !strings.Contains(b, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(b, w) {
					t.Errorf("page shows %q", w)
				}
			}
		})
	}
}

func TestUIEscapesHostileNames(t *testing.T) {
	f := newFixture(t, Options{})
	const evil = `<script>alert(1)</script>`
	c := inventory.Component{ID: "x", Kind: inventory.KindPackage, Name: evil, Version: `1"><img src=x onerror=alert(1)>`,
		PURL: "pkg:pypi/" + url.PathEscape(evil) + "@1"}
	f.push(t, "web", "env="+url.QueryEscape(evil)+"&owner="+url.QueryEscape(evil)+"&tag="+url.QueryEscape(evil), c)
	res := f.page(t, "read", "GET", "/ui/projects/web", nil)
	b := readAll(t, res)
	if res.StatusCode != 200 {
		t.Fatalf("status %d\n%s", res.StatusCode, b)
	}
	for _, bad := range []string{"<script>", "<img"} {
		if strings.Contains(b, bad) {
			t.Errorf("page holds unescaped %q", bad)
		}
	}
	if n := strings.Count(b, "&lt;script&gt;alert(1)&lt;/script&gt;"); n < 4 { // owner, tag, env, name
		t.Errorf("escaped name shown %d times, want at least 4", n)
	}
}

func TestUILogoutNeedsCSRF(t *testing.T) {
	f := newFixture(t, Options{})
	tk, err := f.st.Token(t.Context(), HashToken(f.tokens["read"]))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		form   url.Values
		hdr    []string
		status int
	}{
		{"no_csrf", url.Values{}, nil, 403},
		{"wrong_csrf", url.Values{"csrf": {csrfToken(store.Token{Hash: "other"})}}, nil, 403},
		{"cross_site", url.Values{"csrf": {csrfToken(tk)}}, []string{"Sec-Fetch-Site", "cross-site"}, 403},
		{"ok", url.Values{"csrf": {csrfToken(tk)}}, []string{"Sec-Fetch-Site", "same-origin"}, 303},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := f.page(t, "read", "POST", "/ui/logout", tt.form, tt.hdr...)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.status)
			}
			cleared := len(res.Cookies()) == 1 && res.Cookies()[0].MaxAge < 0
			if cleared != (tt.status == 303) {
				t.Errorf("cookies %v", res.Cookies())
			}
		})
	}
	// A cross-site login is refused too (login CSRF).
	res := f.page(t, "", "POST", "/ui/login", url.Values{"token": {f.tokens["read"]}}, "Sec-Fetch-Site", "cross-site")
	if res.StatusCode != 403 || len(res.Cookies()) != 0 {
		t.Errorf("cross-site login: %d %v", res.StatusCode, res.Cookies())
	}
}

func TestUIDiff(t *testing.T) {
	f := newFixture(t, Options{})
	old := f.push(t, "web", "env=prod&version=1", pkg("torch", "2.4.0"), pkg("numpy", "1.26.0"))
	cur := f.push(t, "web", "env=prod&version=2", pkg("torch", "2.5.1"), pkg("requests", "2.32.0"))
	other := f.push(t, "api", "env=prod", pkg("flask", "3.0.0"))

	res := f.page(t, "read", "GET", "/ui/projects/web", nil)
	b := readAll(t, res)
	link := fmt.Sprintf(`/ui/projects/web/diff?old=%d&amp;new=%d`, old.ID, cur.ID)
	if !strings.Contains(b, link) {
		t.Errorf("project page lacks the diff link %s", link)
	}

	tests := []struct {
		name, token, query string
		status             int
		want               []string
	}{
		{"diff", "read", fmt.Sprintf("old=%d&new=%d", old.ID, cur.ID), 200,
			[]string{"1 added, 1 removed, 1 changed", "pkg:pypi/requests", "pkg:pypi/numpy", "2.4.0", "2.5.1", "minor"}},
		{"other_projects_report", "read", fmt.Sprintf("old=%d&new=%d", other.ID, cur.ID), 404, nil},
		{"not_an_id", "read", "old=x&new=1", 400, nil},
		{"scoped_other", "read-web", fmt.Sprintf("old=%d&new=%d", old.ID, cur.ID), 200, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := f.page(t, tt.token, "GET", "/ui/projects/web/diff?"+tt.query, nil)
			b := readAll(t, res)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d\n%s", res.StatusCode, tt.status, b)
			}
			for _, w := range tt.want {
				if !strings.Contains(b, w) {
					t.Errorf("page lacks %q", w)
				}
			}
		})
	}
	res = f.page(t, "read-web", "GET", fmt.Sprintf("/ui/projects/api/diff?old=%d&new=%d", other.ID, other.ID), nil)
	if res.StatusCode != 403 {
		t.Errorf("scoped token diffing another project: %d, want 403", res.StatusCode)
	}
}

func TestOpenChart(t *testing.T) {
	day := 24 * time.Hour
	now := time.Date(2026, 11, 10, 15, 0, 0, 0, time.UTC)
	resolved := now.Add(-2 * day)
	fs := []store.Finding{
		{FirstSeen: now.Add(-5 * day)},                        // open from the end of 11-05
		{FirstSeen: now.Add(-3 * day), ResolvedAt: &resolved}, // open at the end of 11-07 only
		{FirstSeen: now.Add(-40 * day)},                       // before the chart: always open
	}
	c := openChart(fs, now, 7)
	// Days ending 11-04 … 11-10: 1,2,2,3,2,2,2.
	if c.Max != 3 || c.Last != 2 || c.From != "2026-11-04" || c.To != "2026-11-10" {
		t.Errorf("chart %+v", c)
	}
	if got := len(strings.Fields(c.Points)); got != 7 {
		t.Errorf("%d points, want 7", got)
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/ui/projects/web": "/ui/projects/web",
		"":                 "/ui/",
		"//evil/ui/":       "/ui/",
		"/ui/\\evil":       "/ui/",
		"https://evil/ui/": "/ui/",
		"/api/v1/projects": "/ui/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUIIncident(t *testing.T) {
	f := newFixture(t, Options{})
	f.importAdvisories(t, osvJSON("GHSA-torch", t0, "torch", "2.0", "2.6.0", ""))
	f.push(t, "api", "env=prod", pkg("torch", "2.4.0"))
	code, out := f.do(t, "admin", "POST", "/api/v1/incidents", []byte(`{"title":"torch <b>RCE</b>","advisory":"GHSA-torch"}`))
	if code != 201 && code != 200 {
		t.Fatalf("open incident: %d %s", code, out)
	}
	tests := []struct {
		name, token, target string
		status              int
		want                []string
	}{
		{"page", "read", "/ui/incidents/1", 200, []string{"torch &lt;b&gt;RCE&lt;/b&gt;", "/ui/advisories/GHSA-torch", "/ui/projects/api", "triage", "not yet", `id="status">open`}},
		{"listed", "read", "/ui/", 200, []string{`/ui/incidents/1`, "torch &lt;b&gt;RCE&lt;/b&gt;"}},
		{"scoped_other_project", "read-web", "/ui/incidents/1", 404, nil},
		{"scoped_not_listed", "read-web", "/ui/", 200, nil},
		{"missing", "read", "/ui/incidents/99", 404, nil},
		{"not_a_number", "read", "/ui/incidents/x", 400, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := f.page(t, tt.token, "GET", tt.target, nil)
			b := readAll(t, res)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d\n%s", res.StatusCode, tt.status, b)
			}
			for _, w := range tt.want {
				if !strings.Contains(b, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			if strings.Contains(b, "<b>RCE") || (tt.token == "read-web" && strings.Contains(b, "/ui/incidents/1")) {
				t.Errorf("page shows what it should not:\n%s", b)
			}
		})
	}
}
