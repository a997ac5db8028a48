package server

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
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
			pageHas(t, b, tt.want, tt.notWant)
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
			pageHas(t, b, tt.want, nil)
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
			pageHas(t, b, tt.want, nil)
			if strings.Contains(b, "<b>RCE") || (tt.token == "read-web" && strings.Contains(b, "/ui/incidents/1")) {
				t.Errorf("page shows what it should not:\n%s", b)
			}
		})
	}
}

// TestUIIncidentActions opens an incident from the advisory page, ticks
// a step and closes it through the UI's forms, checking the CSRF token
// and the same scopes as the API at each step, then reads MTTC and MTTD
// on the overview.
func TestUIIncidentActions(t *testing.T) {
	f := newFixture(t, Options{})
	now := t0
	f.srv = New(f.st, Options{Now: func() time.Time { return now }})
	f.importAdvisories(t, osvJSON("GHSA-torch", t0, "torch", "2.0", "2.6.0", "")) // imported at t0
	now = t0.Add(time.Hour)
	f.push(t, "web", "env=prod", pkg("torch", "2.5.1")) // detected an hour later
	now = t0.Add(2 * time.Hour)

	csrf := func(name string) string {
		tk, err := f.st.Token(t.Context(), HashToken(f.tokens[name]))
		if err != nil {
			t.Fatal(err)
		}
		return csrfToken(tk)
	}
	post := func(token, target string, form url.Values, hdr ...string) (int, string) {
		t.Helper()
		res := f.page(t, token, "POST", target, form, hdr...)
		return res.StatusCode, res.Header.Get("Location")
	}
	type action struct {
		name, token, target string
		form                url.Values
		hdr                 []string
		status              int
		location            string
	}
	run := func(t *testing.T, tests []action) {
		for _, tt := range tests {
			code, loc := post(tt.token, tt.target, tt.form, tt.hdr...)
			if code != tt.status || loc != tt.location {
				t.Errorf("%s: %d %q, want %d %q", tt.name, code, loc, tt.status, tt.location)
			}
		}
	}

	// Only an unlimited admin is offered the button.
	for token, want := range map[string]bool{"admin": true, "admin-web": false, "read": false} {
		b := readAll(t, f.page(t, token, "GET", "/ui/advisories/GHSA-torch", nil))
		if got := strings.Contains(b, `action="/ui/advisories/GHSA-torch/incident"`); got != want {
			t.Errorf("%s: open button shown %v, want %v", token, got, want)
		}
	}
	const open = "/ui/advisories/GHSA-torch/incident"
	t.Run("open", func(t *testing.T) {
		run(t, []action{
			{"no_csrf", "admin", open, url.Values{"title": {"torch"}}, nil, 403, ""},
			{"wrong_csrf", "admin", open, url.Values{"csrf": {csrf("read")}}, nil, 403, ""},
			{"cross_site", "admin", open, url.Values{"csrf": {csrf("admin")}}, []string{"Sec-Fetch-Site", "cross-site"}, 403, ""},
			{"read_token", "read", open, url.Values{"csrf": {csrf("read")}}, nil, 403, ""},
			{"project_admin", "admin-web", open, url.Values{"csrf": {csrf("admin-web")}}, nil, 403, ""},
			{"bad_title", "admin", open, url.Values{"csrf": {csrf("admin")}, "title": {"a\x00b"}}, nil, 400, ""},
			{"unknown_advisory", "admin", "/ui/advisories/GHSA-none/incident", url.Values{"csrf": {csrf("admin")}}, nil, 404, ""},
			{"ok", "admin", open, url.Values{"csrf": {csrf("admin")}, "title": {"torch compromise"}}, nil, 303, "/ui/incidents/1"},
		})
	})
	l, err := f.st.ListIncidents(t.Context(), store.IncidentQuery{})
	if err != nil || len(l) != 1 || l[0].Title != "torch compromise" || l[0].OpenedBy != "admin" ||
		!l[0].Opened.Equal(now) || !slices.Equal(l[0].Projects, []string{"web"}) {
		t.Fatalf("incidents after opening: %+v, %v", l, err)
	}

	// Admins see the step and close buttons; readers do not.
	for token, want := range map[string]bool{"admin": true, "admin-web": true, "read": false} {
		b := readAll(t, f.page(t, token, "GET", "/ui/incidents/1", nil))
		got := strings.Contains(b, `action="/ui/incidents/1/steps/triage"`) && strings.Contains(b, `action="/ui/incidents/1/close"`)
		if got != want {
			t.Errorf("%s: action buttons shown %v, want %v", token, got, want)
		}
	}

	now = t0.Add(3 * time.Hour)
	const triage = "/ui/incidents/1/steps/triage"
	t.Run("step", func(t *testing.T) {
		run(t, []action{
			{"no_csrf", "admin", triage, url.Values{}, nil, 403, ""},
			{"read_token", "read", triage, url.Values{"csrf": {csrf("read")}}, nil, 403, ""},
			{"unknown_step", "admin", "/ui/incidents/1/steps/nope", url.Values{"csrf": {csrf("admin")}}, nil, 404, ""},
			{"unknown_incident", "admin", "/ui/incidents/9/steps/triage", url.Values{"csrf": {csrf("admin")}}, nil, 404, ""},
			{"ok", "admin-web", triage, url.Values{"csrf": {csrf("admin-web")}}, nil, 303, "/ui/incidents/1"},
		})
	})
	in, err := f.st.Incident(t.Context(), 1)
	if err != nil || in.Steps[0].Name != "triage" || in.Steps[0].Done == nil || !in.Steps[0].Done.Equal(now) || in.Steps[0].By != "admin-web" {
		t.Fatalf("triage after ticking: %+v, %v", in.Steps, err)
	}

	now = t0.Add(5 * time.Hour)
	const closeURL = "/ui/incidents/1/close"
	t.Run("close", func(t *testing.T) {
		run(t, []action{
			{"no_csrf", "admin", closeURL, url.Values{}, nil, 403, ""},
			{"push_token", "push", closeURL, url.Values{"csrf": {csrf("push")}}, nil, 403, ""},
			{"ok", "admin", closeURL, url.Values{"csrf": {csrf("admin")}}, nil, 303, "/ui/incidents/1"},
			{"step_after_close", "admin", "/ui/incidents/1/steps/verify", url.Values{"csrf": {csrf("admin")}}, nil, 409, ""},
		})
	})
	if in, err := f.st.Incident(t.Context(), 1); err != nil || in.Closed == nil || !in.Closed.Equal(now) {
		t.Fatalf("incident after closing: %+v, %v", in, err)
	}

	// Opened at t0+2h, closed at t0+5h; the finding came an hour after
	// the advisory.
	b := readAll(t, f.page(t, "read", "GET", "/ui/", nil))
	for _, want := range []string{`id="mttc">3h</span>`, `id="mttd">1h</span>`, `id="mttc-chart"`, "<rect", "incident #1: 3h", `id="incidents-open">0</span>`} {
		if !strings.Contains(b, want) {
			t.Errorf("overview lacks %q", want)
		}
	}
	b = readAll(t, f.page(t, "admin", "GET", "/ui/incidents/1", nil))
	for _, want := range []string{`id="ttc">3h</dd>`, `id="ttd">1h</dd>`, `id="status">closed`} {
		if !strings.Contains(b, want) {
			t.Errorf("incident page lacks %q", want)
		}
	}
	if strings.Contains(b, `action="/ui/incidents/1/close"`) || strings.Contains(b, "/steps/") {
		t.Errorf("a closed incident still offers actions")
	}
}

func TestDuration(t *testing.T) {
	v := 90061.0
	for _, tt := range []struct {
		in   any
		want string
	}{
		{(*float64)(nil), "none yet"},
		{0.0, "0s"},
		{0.4, "0s"},
		{59.6, "1m"},
		{3600.0, "1h"},
		{3725.0, "1h 2m"},
		{&v, "1d 1h"},
		{-5.0, "0s"},
	} {
		if got := duration(tt.in); got != tt.want {
			t.Errorf("duration(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMTTCChart(t *testing.T) {
	sec := func(v float64) *float64 { return &v }
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	cs := []containment{
		{ID: 3, At: at(5), TimeToContain: sec(100)},
		{ID: 1, At: at(1), TimeToContain: sec(400)},
		{ID: 2}, // not contained: no bar
		{ID: 4, At: at(3), TimeToContain: sec(0)}, // instant: a 1px bar
	}
	c := mttcChart(cs, 30)
	var ids []int64
	for _, b := range c.Bars {
		ids = append(ids, b.ID)
	}
	if !slices.Equal(ids, []int64{1, 4, 3}) || c.Max != 400 {
		t.Fatalf("bars %v, max %v; want incidents 1, 4, 3 in containment order, max 400", ids, c.Max)
	}
	if h := c.Bars[0].H; h != c.Height-10 || c.Bars[0].Y != 10 {
		t.Errorf("longest bar %+v, want full height", c.Bars[0])
	}
	if c.Bars[1].H != 1 || c.Bars[2].H != (c.Height-10)/4 {
		t.Errorf("bars %+v", c.Bars)
	}
	if last := mttcChart(cs, 2); len(last.Bars) != 2 || last.Bars[0].ID != 4 {
		t.Errorf("last two bars %+v", last.Bars)
	}
	if empty := mttcChart(nil, 30); len(empty.Bars) != 0 {
		t.Errorf("no incidents drew %+v", empty.Bars)
	}
}

func TestUISearch(t *testing.T) {
	f := newFixture(t, Options{})
	hostile := pkg("torch", "2.4.0")
	hostile.Locations[0].Path = `<script>alert(1)</script>`
	model := inventory.Component{ID: "model:bert", Kind: inventory.KindModel, Name: "bert",
		Digests: []inventory.Digest{{Algorithm: "sha256", Value: strings.Repeat("ab", 32)}}}
	f.push(t, "web", "env=prod&version=1.1&owner=web-team&tier=1", pkg("torch", "2.5.1"), model)
	f.push(t, "api", "env=staging&version=7&owner=api-team", hostile)
	f.push(t, "odd", "env=prod", pkg("torch", "nightly"))

	tests := []struct {
		name, token, target string
		status              int
		want, notWant       []string
	}{
		{"form_only", "read", "/ui/search", 200, []string{`name="q"`, `name="range"`}, []string{"<table"}},
		{"range", "read", "/ui/search?q=pkg:pypi/torch&range=%3C2.5", 200,
			[]string{`<a href="/ui/projects/api">api</a>`, "api-team", "staging", "2.4.0", "&lt;script&gt;alert(1)&lt;/script&gt;",
				`id="skipped">1 stored versions`, `value="&lt;2.5"`},
			[]string{"/ui/projects/web", "<script>alert", `id="truncated"`}},
		{"any_version", "read", "/ui/search?q=pkg:pypi/torch", 200,
			[]string{"/ui/projects/web", "/ui/projects/api", "/ui/projects/odd", "web-team", "2026-11-01 12:00 UTC"}, []string{`id="skipped"`}},
		{"name_at_version", "read", "/ui/search?q=torch@2.5.1", 200, []string{"/ui/projects/web"}, []string{"/ui/projects/api"}},
		{"digest", "read", "/ui/search?q=SHA256:" + strings.Repeat("AB", 32), 200, []string{"/ui/projects/web", "bert"}, []string{"/ui/projects/api"}},
		{"none", "read", "/ui/search?q=pkg:pypi/left-pad", 200, []string{"No deployment runs it."}, nil},
		{"project_limited", "read-web", "/ui/search?q=pkg:pypi/torch", 200, []string{"/ui/projects/web"}, []string{"/ui/projects/api", "/ui/projects/odd"}},
		{"project_limited_range", "read-web", "/ui/search?q=pkg:pypi/torch&range=%3C2.5", 200, []string{"No deployment runs it."}, []string{"/ui/projects/api", `id="skipped"`}},
		{"bad_range", "read", "/ui/search?q=pkg:pypi/torch&range=%3C%3C%3Cb%3E", 400, []string{`id="search-error"`, "&lt;&lt;&lt;b&gt;"}, []string{"<<<b>", "<table"}},
		{"range_without_purl", "read", "/ui/search?q=torch&range=%3E1", 400, []string{"purl without a version"}, nil},
		{"unordered", "read", "/ui/search?q=pkg:huggingface/org/m&range=%3E1", 400, []string{"cannot order", "HuggingFace"}, nil},
		{"admin_button", "admin", "/ui/search?q=pkg:pypi/torch&range=%3C2.5", 200, []string{`action="/ui/search/incident"`, "Open incident from this query", `name="csrf"`}, nil},
		{"no_button_for_read", "read", "/ui/search?q=pkg:pypi/torch", 200, nil, []string{`action="/ui/search/incident"`}},
		{"no_button_for_project_admin", "admin-web", "/ui/search?q=pkg:pypi/torch", 200, nil, []string{`action="/ui/search/incident"`}},
		{"overview_links", "read", "/ui/", 200, []string{`href="/ui/search"`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := f.page(t, tt.token, "GET", tt.target, nil)
			b := readAll(t, res)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d:\n%s", res.StatusCode, tt.status, b)
			}
			pageHas(t, b, tt.want, tt.notWant)
		})
	}

	csrf := func(name string) string {
		tk, err := f.st.Token(t.Context(), HashToken(f.tokens[name]))
		if err != nil {
			t.Fatal(err)
		}
		return csrfToken(tk)
	}
	form := func(token string, kv ...string) url.Values {
		v := url.Values{"csrf": {csrf(token)}, "q": {"pkg:pypi/torch"}, "range": {"<2.5"}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	for _, tt := range []struct {
		name, token string
		form        url.Values
		status      int
		location    string
	}{
		{"no_csrf", "admin", url.Values{"q": {"pkg:pypi/torch"}}, 403, ""},
		{"read_token", "read", form("read"), 403, ""},
		{"project_admin", "admin-web", form("admin-web"), 403, ""},
		{"no_query", "admin", form("admin", "q", ""), 400, ""},
		{"bad_range", "admin", form("admin", "range", "<<2"), 400, ""},
		{"ok", "admin", form("admin", "title", "torch < 2.5"), 303, "/ui/incidents/1"},
		{"untitled", "admin", form("admin", "q", "torch@2.5.1", "range", ""), 303, "/ui/incidents/2"},
	} {
		res := f.page(t, tt.token, "POST", "/ui/search/incident", tt.form)
		if res.StatusCode != tt.status || res.Header.Get("Location") != tt.location {
			t.Errorf("%s: %d %q, want %d %q", tt.name, res.StatusCode, res.Header.Get("Location"), tt.status, tt.location)
		}
	}
	l, err := f.st.ListIncidents(t.Context(), store.IncidentQuery{})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(l, func(a, b store.Incident) int { return int(a.ID - b.ID) })
	if len(l) != 2 || l[0].Title != "torch < 2.5" || l[0].Query == nil || l[0].Query.Range != "<2.5" ||
		!slices.Equal(l[0].Projects, []string{"api"}) || l[0].OpenedBy != "admin" ||
		l[1].Title != "torch@2.5.1" || !slices.Equal(l[1].Projects, []string{"web"}) {
		t.Errorf("incidents %+v", l)
	}
	// The incident's page shows the range of its query.
	if b := readAll(t, f.page(t, "admin", "GET", "/ui/incidents/1", nil)); !strings.Contains(b, "pkg:pypi/torch &lt;2.5") {
		t.Errorf("incident page does not show the range")
	}
}

func TestUISearchTruncated(t *testing.T) {
	f := newFixture(t, Options{})
	var cs []inventory.Component
	for i := range maxUIMatches + 1 {
		cs = append(cs, pkg("torch", fmt.Sprintf("2.%d", i)))
	}
	f.push(t, "web", "env=prod", cs...)
	b := readAll(t, f.page(t, "read", "GET", "/ui/search?q=pkg:pypi/torch&range=%3E%3D2", nil))
	if !strings.Contains(b, `id="truncated"`) || strings.Count(b, `<a href="/ui/projects/web">`) != maxUIMatches {
		t.Errorf("truncated page: notice %v, %d rows", strings.Contains(b, `id="truncated"`), strings.Count(b, `<a href="/ui/projects/web">`))
	}
}

func TestParseSearch(t *testing.T) {
	for _, tt := range []struct {
		box, rng string
		want     incidentRequest
	}{
		{" pkg:npm/%40s/x ", " ^1 ", incidentRequest{PURL: "pkg:npm/%40s/x", Range: "^1"}},
		{"sha256:AB", "", incidentRequest{Digest: "sha256:ab"}},
		{"torch@2.5.1", "", incidentRequest{Name: "torch", Version: "2.5.1"}},
		{"@scope/pkg@1.0", "", incidentRequest{Name: "@scope/pkg", Version: "1.0"}},
		{"@scope/pkg", "", incidentRequest{Name: "@scope/pkg"}},
		{"bert.bin", "", incidentRequest{Name: "bert.bin"}},
		{" https://API.openai.com/v1 ", "", incidentRequest{Endpoint: "https://API.openai.com/v1"}},
		{"HTTP://localhost:8080", "", incidentRequest{Endpoint: "HTTP://localhost:8080"}},
		{"host:api.openai.com", "", incidentRequest{Endpoint: "api.openai.com"}},
		{"Host: mcp.internal:8443", ">1", incidentRequest{Endpoint: "mcp.internal:8443", Range: ">1"}},
		{"api.openai.com", "", incidentRequest{Name: "api.openai.com"}},
		{"", "", incidentRequest{}},
	} {
		if got := parseSearch(tt.box, tt.rng); got != tt.want {
			t.Errorf("parseSearch(%q, %q) = %+v, want %+v", tt.box, tt.rng, got, tt.want)
		}
	}
}

// pageHas checks that page b holds each of want and none of notWant ("" is
// ignored).
func pageHas(t *testing.T, b string, want, notWant []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(b, w) {
			t.Errorf("page lacks %q", w)
		}
	}
	for _, w := range notWant {
		if w != "" && strings.Contains(b, w) {
			t.Errorf("page shows %q", w)
		}
	}
}
