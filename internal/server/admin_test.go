package server

import (
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chainvet/chainvet/internal/server/store"
)

// TestUIAdminPage checks who sees the admin page and what each sees: the
// tokens (a project admin only its project's), and for a fleet admin the
// alert rules without their secrets, the deliveries and the feeds.
func TestUIAdminPage(t *testing.T) {
	f := newFixture(t, Options{})
	// A rule whose webhook cannot be reached: its delivery fails once.
	ts := httptest.NewServer(http.NotFoundHandler())
	hook := ts.URL + "/hooks/PATHSECRET?key=QUERYSECRET"
	host := strings.TrimPrefix(ts.URL, "http://")
	ts.Close()
	rule := f.addRule(t, fmt.Sprintf(`{"name":"sec-team","url":%q}`, hook))
	f.importAdvisories(t, osvJSON("PYSEC-1", t0, "torch", "0", "2.5.0", ""))
	f.push(t, "web", "env=prod", pkg("torch", "2.4.0"))
	tick(t, f.worker(t, &clock{t: t0}, "w1", 3), 1)
	fs := f.st.(store.FeedStore)
	if _, ok, err := fs.ClaimFeed(t.Context(), "https://bob:pw@feeds.example/all.zip", "poller-1", t0, time.Hour); err != nil || !ok {
		t.Fatal(ok, err)
	}

	fleet := []string{`id="rule-1"`, "sec-team", host, `id="delivery-1"`, "pending",
		"https://xxxxx@feeds.example/all.zip", "yes, by poller-1"}
	tests := []struct {
		name, token string
		status      int
		want, not   []string
	}{
		{"fleet_admin", "admin", 200,
			append([]string{`id="token-` + f.tokenID(t, "push") + `"`, `action="/ui/admin/tokens/` + f.tokenID(t, "read-web") + `/revoke"`}, fleet...),
			[]string{"PATHSECRET", "QUERYSECRET", rule.Secret, ":pw@", f.tokens["push"], HashToken(f.tokens["push"])}},
		{"project_admin", "admin-web", 200,
			[]string{`id="token-` + f.tokenID(t, "push-web") + `"`, "need an admin token not limited to a project"},
			append([]string{`id="token-` + f.tokenID(t, "push") + `"`}, fleet...)},
		{"push", "push", 403, []string{"needs an admin token"}, nil},
		{"read", "read-web", 403, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := f.page(t, tt.token, "GET", "/ui/admin", nil)
			b := readAll(t, res)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d\n%s", res.StatusCode, tt.status, b)
			}
			pageHas(t, b, tt.want, tt.not)
		})
	}
	// The delivery's error is shown.
	ds := f.deliveries(t, "")
	if len(ds) != 1 || ds[0].LastError == "" {
		t.Fatalf("deliveries %+v", ds)
	}
	if b := readAll(t, f.page(t, "admin", "GET", "/ui/admin", nil)); !strings.Contains(b, template.HTMLEscapeString(ds[0].LastError)) {
		t.Errorf("the delivery's last error %q is not shown", ds[0].LastError)
	}
	// The layout links the page for admin tokens only.
	for token, want := range map[string]bool{"admin": true, "admin-web": true, "push": false, "read": false} {
		b := readAll(t, f.page(t, token, "GET", "/ui/", nil))
		if got := strings.Contains(b, `href="/ui/admin"`); got != want {
			t.Errorf("%s: admin link shown %v, want %v", token, got, want)
		}
	}
	if res := f.page(t, "", "GET", "/ui/admin", nil); res.StatusCode != http.StatusSeeOther {
		t.Errorf("no session: %d, want 303", res.StatusCode)
	}
}

// TestUIRevokeToken revokes tokens through the admin page's buttons,
// with the CSRF token and the API's checks, and then finds the revoked
// token refused by the UI and the API.
func TestUIRevokeToken(t *testing.T) {
	f := newFixture(t, Options{})
	csrf := func(name string) string {
		tk, err := f.st.Token(t.Context(), HashToken(f.tokens[name]))
		if err != nil {
			t.Fatal(err)
		}
		return csrfToken(tk)
	}
	target := func(victim string) string { return "/ui/admin/tokens/" + f.tokenID(t, victim) + "/revoke" }
	tests := []struct {
		name, token, target string
		form                url.Values
		hdr                 []string
		status              int
		location            string
	}{
		{"no_csrf", "admin", target("push-web"), url.Values{}, nil, 403, ""},
		{"wrong_csrf", "admin", target("push-web"), url.Values{"csrf": {csrf("read")}}, nil, 403, ""},
		{"cross_site", "admin", target("push-web"), url.Values{"csrf": {csrf("admin")}}, []string{"Sec-Fetch-Site", "cross-site"}, 403, ""},
		{"read_token", "read", target("push-web"), url.Values{"csrf": {csrf("read")}}, nil, 403, ""},
		{"project_admin_other", "admin-web", target("push"), url.Values{"csrf": {csrf("admin-web")}}, nil, 403, ""},
		{"unknown", "admin", "/ui/admin/tokens/0123456789abcdef/revoke", url.Values{"csrf": {csrf("admin")}}, nil, 404, ""},
		{"bad_id", "admin", "/ui/admin/tokens/zz/revoke", url.Values{"csrf": {csrf("admin")}}, nil, 400, ""},
		{"project_admin_own", "admin-web", target("push-web"), url.Values{"csrf": {csrf("admin-web")}}, nil, 303, "/ui/admin#token-" + f.tokenID(t, "push-web")},
	}
	for _, tt := range tests {
		res := f.page(t, tt.token, "POST", tt.target, tt.form, tt.hdr...)
		if res.StatusCode != tt.status || res.Header.Get("Location") != tt.location {
			t.Errorf("%s: %d %q, want %d %q", tt.name, res.StatusCode, res.Header.Get("Location"), tt.status, tt.location)
		}
	}
	// Only push-web was revoked: the page shows it so, without a button.
	b := readAll(t, f.page(t, "admin", "GET", "/ui/admin", nil))
	if strings.Contains(b, `action="`+target("push-web")+`"`) || !strings.Contains(b, `action="`+target("push")+`"`) ||
		!strings.Contains(b, "revoked 2026-11-01 12:00 UTC") {
		t.Errorf("admin page after revocation:\n%s", b)
	}
	if res := f.page(t, "push-web", "GET", "/ui/", nil); res.StatusCode != http.StatusSeeOther {
		t.Errorf("revoked session: %d, want a redirect to sign in", res.StatusCode)
	}
	if code, _ := f.do(t, "push-web", "GET", "/api/v1/projects", nil); code != 401 {
		t.Errorf("revoked token on the API: %d, want 401", code)
	}
}

// TestUIExpiredToken: an expired token's session ends, and signing in
// with it says why.
func TestUIExpiredToken(t *testing.T) {
	f := newFixture(t, Options{})
	_, b := f.do(t, "admin", "POST", "/api/v1/tokens", []byte(`{"name":"brief","scope":"read","ttl":"1h"}`))
	secret := strings.Split(strings.Split(string(b), `"token":"`)[1], `"`)[0]
	f.tokens["brief"] = secret
	if res := f.page(t, "brief", "GET", "/ui/", nil); res.StatusCode != 200 {
		t.Fatalf("before expiry: %d", res.StatusCode)
	}
	f.srv.opt.Now = func() time.Time { return t0.Add(time.Hour) }
	if res := f.page(t, "brief", "GET", "/ui/", nil); res.StatusCode != http.StatusSeeOther {
		t.Errorf("expired session: %d, want a redirect to sign in", res.StatusCode)
	}
	form := url.Values{"token": {secret}}
	req := httptest.NewRequest("POST", "/ui/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	if rec.Code != 401 || !strings.Contains(rec.Body.String(), "expired") || len(rec.Result().Cookies()) != 0 {
		t.Errorf("sign in with an expired token: %d %v\n%s", rec.Code, rec.Result().Cookies(), rec.Body)
	}
}
