package server

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chainvet/chainvet/internal/server/store"
)

// tokenID returns the ID of one of the fixture's tokens.
func (f *fixture) tokenID(t testing.TB, name string) string {
	t.Helper()
	return store.Token{Hash: HashToken(f.tokens[name])}.ID()
}

// listTokens lists the tokens as the named token sees them.
func (f *fixture) listTokens(t testing.TB, token string) []tokenInfo {
	t.Helper()
	code, b := f.do(t, token, "GET", "/api/v1/tokens", nil)
	if code != 200 {
		t.Fatalf("GET /api/v1/tokens as %s: %d %s", token, code, b)
	}
	var ans struct{ Tokens []tokenInfo }
	if err := json.Unmarshal(b, &ans); err != nil {
		t.Fatal(err)
	}
	return ans.Tokens
}

func names(ts []tokenInfo) []string {
	var out []string
	for _, x := range ts {
		out = append(out, x.Name)
	}
	slices.Sort(out)
	return out
}

// TestTokenRoutesAuthMatrix checks who may list and revoke tokens and
// read the feed status, before any state changes.
func TestTokenRoutesAuthMatrix(t *testing.T) {
	f := newFixture(t, Options{})
	const unknown = "/api/v1/tokens/0123456789abcdef"
	reqs := map[string][2]string{
		"list":          {"GET", "/api/v1/tokens"},
		"revoke_none":   {"DELETE", unknown},
		"revoke_badid":  {"DELETE", "/api/v1/tokens/XYZ"},
		"feeds":         {"GET", "/api/v1/feeds"},
		"revoke_prefix": {"DELETE", "/api/v1/tokens/" + f.tokenID(t, "admin")[:15]},
	}
	want := map[string]map[string]int{
		"":            {"list": 401, "revoke_none": 401, "revoke_badid": 401, "feeds": 401},
		"cvt_unknown": {"list": 401, "revoke_none": 401, "feeds": 401},
		"read":        {"list": 403, "revoke_none": 403, "revoke_badid": 403, "feeds": 403},
		"push":        {"list": 403, "revoke_none": 403, "feeds": 403},
		"read-web":    {"list": 403, "revoke_none": 403, "feeds": 403},
		"push-web":    {"list": 403, "revoke_none": 403, "feeds": 403},
		"admin-web":   {"list": 200, "revoke_none": 404, "revoke_badid": 400, "feeds": 403},
		"admin":       {"list": 200, "revoke_none": 404, "revoke_badid": 400, "feeds": 200, "revoke_prefix": 400},
	}
	for tok, m := range want {
		for name, code := range m {
			r := reqs[name]
			if got, b := f.do(t, tok, r[0], r[1], nil); got != code {
				t.Errorf("token %q, %s: %d %s; want %d", tok, name, got, b, code)
			}
		}
	}
}

// TestTokenListAndRevoke: listing never shows a secret or a hash; a
// project admin sees and revokes its project's tokens only; a revoked
// token is refused at once and stays listed.
func TestTokenListAndRevoke(t *testing.T) {
	f := newFixture(t, Options{})
	all := f.listTokens(t, "admin")
	if got := names(all); !slices.Equal(got, []string{"admin", "admin-web", "push", "push-web", "read", "read-web"}) {
		t.Errorf("admin lists %v", got)
	}
	if got := names(f.listTokens(t, "admin-web")); !slices.Equal(got, []string{"admin-web", "push-web", "read-web"}) {
		t.Errorf("admin-web lists %v", got)
	}
	_, raw := f.do(t, "admin", "GET", "/api/v1/tokens", nil)
	for name, secret := range f.tokens {
		if strings.Contains(string(raw), secret) || strings.Contains(string(raw), HashToken(secret)) {
			t.Errorf("the list shows the secret or the hash of %s", name)
		}
		if !strings.Contains(string(raw), `"id":"`+f.tokenID(t, name)+`"`) {
			t.Errorf("the list lacks the id of %s", name)
		}
	}

	steps := []struct {
		name, token, victim string
		want                int
	}{
		{"project_admin_other_project", "admin-web", "push", 403},
		{"project_admin_own_project", "admin-web", "push-web", 200},
		{"again_changes_nothing", "admin", "push-web", 200},
		{"fleet_admin", "admin", "read", 200},
	}
	for i, st := range steps {
		f.srv.opt.Now = func() time.Time { return t0.Add(time.Duration(i+1) * time.Minute) }
		code, b := f.do(t, st.token, "DELETE", "/api/v1/tokens/"+f.tokenID(t, st.victim), nil)
		if code != st.want {
			t.Fatalf("%s: %d %s; want %d", st.name, code, b, st.want)
		}
		if code != 200 {
			continue
		}
		var ans tokenInfo
		if err := json.Unmarshal(b, &ans); err != nil || ans.Name != st.victim || ans.Revoked.IsZero() {
			t.Errorf("%s: answer %s", st.name, b)
		}
	}
	// push-web keeps the time of its first revocation, the second step's.
	for _, x := range f.listTokens(t, "admin") {
		want := map[string]time.Time{"push-web": t0.Add(2 * time.Minute), "read": t0.Add(4 * time.Minute)}[x.Name]
		if !x.Revoked.Equal(want) {
			t.Errorf("%s revoked at %v, want %v", x.Name, x.Revoked, want)
		}
	}
	for _, tok := range []string{"push-web", "read"} {
		code, b := f.do(t, tok, "GET", "/api/v1/projects", nil)
		if code != 401 || !strings.Contains(string(b), "revoked") {
			t.Errorf("revoked %s: %d %s; want 401 saying revoked", tok, code, b)
		}
	}
	if code, _ := f.do(t, "push", "GET", "/api/v1/projects", nil); code != 200 {
		t.Errorf("push, not revoked: %d", code)
	}
}

// TestRevocationOnEveryReplica revokes a token through one server and
// uses it on another sharing the database: no replica caches tokens.
func TestRevocationOnEveryReplica(t *testing.T) {
	dsn := "file:" + filepath.Join(t.TempDir(), "server.db")
	var srvs []*Server
	for range 2 {
		st, err := store.Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		srvs = append(srvs, New(st, Options{Now: func() time.Time { return t0 }}))
	}
	admin, rec, err := NewToken("admin", store.ScopeAdmin, "", t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := srvs[0].store.AddToken(t.Context(), rec); err != nil {
		t.Fatal(err)
	}
	victim, vrec, err := NewToken("ci", store.ScopeRead, "", t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := srvs[0].store.AddToken(t.Context(), vrec); err != nil {
		t.Fatal(err)
	}
	call := func(s *Server, secret, method, target string) int {
		req := httptest.NewRequest(method, target, nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		return rec.Code
	}
	if code := call(srvs[1], victim, "GET", "/api/v1/projects"); code != 200 {
		t.Fatalf("before revocation: %d", code)
	}
	if code := call(srvs[0], admin, "DELETE", "/api/v1/tokens/"+vrec.ID()); code != 200 {
		t.Fatalf("revoke: %d", code)
	}
	for i, s := range srvs {
		if code := call(s, victim, "GET", "/api/v1/projects"); code != 401 {
			t.Errorf("replica %d after revocation: %d, want 401", i, code)
		}
	}
}

func TestTokenExpiry(t *testing.T) {
	f := newFixture(t, Options{})
	tests := []struct {
		name, body string
		status     int
		expires    time.Time // when 201
	}{
		{"ttl", `{"name":"a","scope":"read","ttl":"720h"}`, 201, t0.Add(720 * time.Hour)},
		{"expires", `{"name":"b","scope":"read","expires":"2026-12-01T00:00:00+01:00"}`, 201, time.Date(2026, 11, 30, 23, 0, 0, 0, time.UTC)},
		{"cut_to_the_second", `{"name":"c","scope":"read","ttl":"90.5s"}`, 201, t0.Add(90 * time.Second)},
		{"never", `{"name":"d","scope":"read"}`, 201, time.Time{}},
		{"both", `{"scope":"read","ttl":"1h","expires":"2026-12-01T00:00:00Z"}`, 400, time.Time{}},
		{"past", `{"scope":"read","expires":"2026-10-01T00:00:00Z"}`, 400, time.Time{}},
		{"now", `{"scope":"read","ttl":"0s"}`, 400, time.Time{}},
		{"negative", `{"scope":"read","ttl":"-1h"}`, 400, time.Time{}},
		{"too_far", `{"scope":"read","ttl":"17521h"}`, 400, time.Time{}},
		{"at_most_two_years", `{"name":"e","scope":"read","ttl":"17520h"}`, 201, t0.Add(17520 * time.Hour)},
		{"not_rfc3339", `{"scope":"read","expires":"tomorrow"}`, 400, time.Time{}},
		{"not_a_duration", `{"scope":"read","ttl":"30d"}`, 400, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, b := f.do(t, "admin", "POST", "/api/v1/tokens", []byte(tt.body))
			if code != tt.status {
				t.Fatalf("%d %s; want %d", code, b, tt.status)
			}
			if code != 201 {
				return
			}
			var ans tokenAnswer
			if err := json.Unmarshal(b, &ans); err != nil {
				t.Fatal(err)
			}
			if !ans.Expires.Equal(tt.expires) || strings.Contains(string(b), `"expires"`) == tt.expires.IsZero() {
				t.Errorf("answer %s; want expires %v", b, tt.expires)
			}
			rec, err := f.st.Token(context.Background(), HashToken(ans.Token))
			if err != nil || !rec.Expires.Equal(tt.expires) || rec.ID() != ans.ID {
				t.Errorf("stored %+v, %v", rec, err)
			}
		})
	}

	// A token works until the instant it expires, then is refused with
	// a 401 saying so.
	_, b := f.do(t, "admin", "POST", "/api/v1/tokens", []byte(`{"name":"short","scope":"read","ttl":"1h"}`))
	var ans tokenAnswer
	if err := json.Unmarshal(b, &ans); err != nil {
		t.Fatal(err)
	}
	f.tokens["short"] = ans.Token
	c := &clock{t: t0}
	f.srv.opt.Now = c.now
	for _, st := range []struct {
		at   time.Duration
		want int
	}{{0, 200}, {time.Hour - time.Second, 200}, {time.Hour, 401}, {48 * time.Hour, 401}} {
		c.t = t0.Add(st.at)
		req := httptest.NewRequest("GET", "/api/v1/projects", nil)
		req.Header.Set("Authorization", "Bearer "+ans.Token)
		rec := httptest.NewRecorder()
		f.srv.ServeHTTP(rec, req)
		if rec.Code != st.want {
			t.Errorf("at +%v: %d, want %d", st.at, rec.Code, st.want)
		}
		if st.want == 401 && (!strings.Contains(rec.Body.String(), "expired") || !strings.Contains(rec.Body.String(), "make a new one") ||
			rec.Header().Get("WWW-Authenticate") == "") {
			t.Errorf("at +%v: %s %v; want a 401 saying it expired", st.at, rec.Body, rec.Header())
		}
	}
}

func TestFeedStatus(t *testing.T) {
	f := newFixture(t, Options{})
	fs := f.st.(store.FeedStore)
	ctx := context.Background()
	const (
		secretURL = "https://alice:hunter2@feeds.example/all.zip?sig=s3cr3t#frag"
		plainURL  = "https://osv.example/PyPI/all.zip"
	)
	// One feed polled and released, one being polled.
	if _, ok, err := fs.ClaimFeed(ctx, plainURL, "p1", t0.Add(-time.Hour), time.Minute); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if ok, err := fs.FinishFeed(ctx, "p1", store.AdvisoryFeed{URL: plainURL, ETag: `"e1"`, LastResult: "not modified", Polled: t0.Add(-time.Hour)}, t0.Add(time.Hour)); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if _, ok, err := fs.ClaimFeed(ctx, secretURL, "p2", t0.Add(-time.Minute), 30*time.Minute); err != nil || !ok {
		t.Fatal(ok, err)
	}
	code, b := f.do(t, "admin", "GET", "/api/v1/feeds", nil)
	if code != 200 {
		t.Fatalf("%d %s", code, b)
	}
	for _, secret := range []string{"alice", "hunter2", "s3cr3t", "frag"} {
		if strings.Contains(string(b), secret) {
			t.Errorf("feed status shows %q: %s", secret, b)
		}
	}
	var ans struct{ Feeds []feedStatus }
	if err := json.Unmarshal(b, &ans); err != nil {
		t.Fatal(err)
	}
	want := []feedStatus{
		{URL: "https://xxxxx@feeds.example/all.zip?sig=xxxxx", Leased: true, LeaseOwner: "p2", LeaseUntil: t0.Add(29 * time.Minute)},
		{URL: plainURL, ETag: `"e1"`, LastResult: "not modified", Polled: t0.Add(-time.Hour), NextPoll: t0.Add(time.Hour)},
	}
	if !slices.Equal(ans.Feeds, want) {
		t.Errorf("feeds\n got %+v\nwant %+v", ans.Feeds, want)
	}
	// Once the lease ends, no replica holds it.
	f.srv.opt.Now = func() time.Time { return t0.Add(30 * time.Minute) }
	_, b = f.do(t, "admin", "GET", "/api/v1/feeds", nil)
	if strings.Contains(string(b), `"leased":true`) || strings.Contains(string(b), "p2") {
		t.Errorf("after the lease ended: %s", b)
	}
}

func TestRedactURL(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"https://osv.example/all.zip", "https://osv.example/all.zip"},
		{"https://user@h/x", "https://xxxxx@h/x"},
		{"https://user:pw@h/x", "https://xxxxx@h/x"},
		{"https://h/x?a=1&token=t", "https://h/x?a=xxxxx&token=xxxxx"},
		{"https://h/x#secret", "https://h/x"},
		{"http://[::1:x/", "(unparsable URL)"},
	} {
		if got := redactURL(tt.in); got != tt.want {
			t.Errorf("redactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
