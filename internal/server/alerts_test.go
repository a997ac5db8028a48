package server

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/server/store"
)

// receiver is a webhook endpoint that answers with the codes it is given,
// in turn (200 once they run out), and records what it receives.
type receiver struct {
	mu    sync.Mutex
	codes []int
	got   []received
}

type received struct {
	delivery, signature, body string
}

func newReceiver(t *testing.T, codes ...int) (*receiver, string) {
	rc := &receiver{codes: codes}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		rc.got = append(rc.got, received{r.Header.Get(DeliveryHeader), r.Header.Get(SignatureHeader), string(body)})
		code := 200
		if len(rc.codes) > 0 {
			code, rc.codes = rc.codes[0], rc.codes[1:]
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(ts.Close)
	return rc, ts.URL
}

func (rc *receiver) received() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.got)
}

// clock is a test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// addRule posts an alert rule as the fleet admin and returns it with its
// secret.
func (f *fixture) addRule(t *testing.T, body string) alertRuleAnswer {
	t.Helper()
	code, out := f.do(t, "admin", "POST", "/api/v1/alert-rules", []byte(body))
	if code != 201 {
		t.Fatalf("add rule: %d %s", code, out)
	}
	var a alertRuleAnswer
	if err := json.Unmarshal(out, &a); err != nil {
		t.Fatal(err)
	}
	return a
}

func (f *fixture) worker(t *testing.T, c *clock, owner string, maxAttempts int) *Worker {
	t.Helper()
	w, err := NewWorker(f.st, WorkerOptions{Owner: owner, Now: c.now, MaxAttempts: maxAttempts, Timeout: 5 * time.Second,
		Backoff: time.Minute, MaxBackoff: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func tick(t *testing.T, w *Worker, want int) {
	t.Helper()
	if n, err := w.Tick(context.Background()); err != nil || n != want {
		t.Fatalf("Tick = %d, %v; want %d attempts", n, err, want)
	}
}

func (f *fixture) deliveries(t *testing.T, query string) []store.Delivery {
	t.Helper()
	code, out := f.do(t, "admin", "GET", "/api/v1/deliveries?"+query, nil)
	if code != 200 {
		t.Fatalf("deliveries: %d %s", code, out)
	}
	var ans struct{ Deliveries []store.Delivery }
	if err := json.Unmarshal(out, &ans); err != nil {
		t.Fatal(err)
	}
	return ans.Deliveries
}

// TestWebhookSignedAndRetried: a finding opened by a push is delivered,
// signed, after the receiver failed twice; every attempt is logged.
func TestWebhookSignedAndRetried(t *testing.T) {
	f := newFixture(t, Options{})
	rc, url := newReceiver(t, 500, 503)
	rule := f.addRule(t, fmt.Sprintf(`{"name":"sec","url":%q}`, url))
	if !strings.HasPrefix(rule.Secret, SecretPrefix) || rule.Format != "json" || rule.Mode != "immediate" {
		t.Fatalf("new rule = %+v", rule)
	}
	f.importAdvisories(t, osvJSON("PYSEC-1", t0, "torch", "0", "2.5.0", ""))
	f.push(t, "web", "env=prod&owner=team-web&tier=1", pkg("torch", "2.4.0"))

	c := &clock{t: t0}
	w := f.worker(t, c, "w1", 5)
	tick(t, w, 1) // 500
	tick(t, w, 0) // backing off
	c.add(time.Minute)
	tick(t, w, 1) // 503
	c.add(2 * time.Minute)
	tick(t, w, 1) // 200
	c.add(time.Hour)
	tick(t, w, 0)

	got := rc.received()
	if len(got) != 3 {
		t.Fatalf("receiver got %d requests, want 3", len(got))
	}
	for i, g := range got {
		if g != got[0] {
			t.Errorf("attempt %d differs from the first: %+v", i+1, g)
		}
		mac := Sign(rule.Secret, []byte(g.body))
		if !hmac.Equal([]byte(mac), []byte(g.signature)) || !strings.HasPrefix(g.signature, "sha256=") {
			t.Errorf("signature %q does not verify", g.signature)
		}
	}
	if Sign("wrong", []byte(got[0].body)) == got[0].signature {
		t.Error("signature verifies with another secret")
	}
	var doc AlertDocument
	if err := json.Unmarshal([]byte(got[0].body), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != AlertSchema || fmt.Sprint(doc.Delivery) != got[0].delivery || doc.Rule.ID != rule.ID || len(doc.Findings) != 1 ||
		doc.Findings[0].Advisory != "PYSEC-1" || doc.Findings[0].Tier != "1" || doc.Findings[0].Severity != inventory.Critical {
		t.Errorf("document = %+v", doc)
	}
	ds := f.deliveries(t, fmt.Sprintf("rule=%d", rule.ID))
	if len(ds) != 1 || ds[0].Status != store.DeliveryDelivered || ds[0].Attempts != 3 || len(ds[0].Log) != 3 {
		t.Fatalf("deliveries = %+v", ds)
	}
	var codes []int
	for _, a := range ds[0].Log {
		codes = append(codes, a.StatusCode)
	}
	if !slices.Equal(codes, []int{500, 503, 200}) || ds[0].Log[0].Error == "" {
		t.Errorf("attempt log = %+v", ds[0].Log)
	}
}

// TestWebhookGivesUp: after MaxAttempts failures a delivery is failed and
// no longer tried.
func TestWebhookGivesUp(t *testing.T) {
	f := newFixture(t, Options{})
	rc, url := newReceiver(t, 500, 500, 500, 500, 500)
	f.addRule(t, fmt.Sprintf(`{"name":"r","url":%q}`, url))
	f.importAdvisories(t, osvJSON("PYSEC-1", t0, "torch", "0", "2.5.0", ""))
	f.push(t, "web", "env=prod", pkg("torch", "2.4.0"))
	c := &clock{t: t0}
	w := f.worker(t, c, "w1", 3)
	for range 3 {
		tick(t, w, 1)
		c.add(time.Hour)
	}
	tick(t, w, 0)
	if n := len(rc.received()); n != 3 {
		t.Errorf("receiver got %d requests, want 3", n)
	}
	ds := f.deliveries(t, "status=failed")
	if len(ds) != 1 || ds[0].Attempts != 3 || !strings.Contains(ds[0].LastError, "500") || ds[0].Log[2].Status != store.DeliveryFailed {
		t.Errorf("failed deliveries = %+v", ds)
	}
	if ds := f.deliveries(t, "status=pending"); len(ds) != 0 {
		t.Errorf("pending = %+v", ds)
	}
}

// TestWebhookUnreachable: a receiver that does not answer is an attempt
// failed with an error and no status code.
func TestWebhookUnreachable(t *testing.T) {
	f := newFixture(t, Options{})
	ts := httptest.NewServer(http.NotFoundHandler())
	url := ts.URL
	ts.Close()
	f.addRule(t, fmt.Sprintf(`{"name":"r","url":%q}`, url))
	f.importAdvisories(t, osvJSON("PYSEC-1", t0, "torch", "0", "2.5.0", ""))
	f.push(t, "web", "env=prod", pkg("torch", "2.4.0"))
	tick(t, f.worker(t, &clock{t: t0}, "w1", 3), 1)
	ds := f.deliveries(t, "")
	if len(ds) != 1 || ds[0].Status != store.DeliveryPending || ds[0].Log[0].StatusCode != 0 || ds[0].LastError == "" ||
		!ds[0].NextAttemptAt.After(t0) || ds[0].NextAttemptAt.After(t0.Add(time.Minute)) {
		t.Errorf("deliveries = %+v", ds)
	}
}

// TestWebhookFilters: rules send only the findings of their severity,
// tier, owner and project.
func TestWebhookFilters(t *testing.T) {
	f := newFixture(t, Options{})
	_, url := newReceiver(t)
	rules := map[string]int64{}
	for name, body := range map[string]string{
		"any":      `{}`,
		"critical": `{"minSeverity":"critical"}`,
		"tier1":    `{"tiers":["1"]}`,
		"owner":    `{"owner":"team-a*"}`,
		"project":  `{"project":"w*"}`,
	} {
		var m map[string]any
		json.Unmarshal([]byte(body), &m)
		m["name"], m["url"] = name, url
		b, _ := json.Marshal(m)
		rules[name] = f.addRule(t, string(b)).ID
	}
	f.importAdvisories(t, osvJSON("PYSEC-1", t0, "torch", "0", "2.5.0", "")) // critical
	f.importAdvisories(t, fmt.Appendf(nil, `{"id":"PYSEC-2","modified":%q,"database_specific":{"severity":"LOW"},
"affected":[{"package":{"ecosystem":"PyPI","name":"numpy"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.0.0"}]}]}]}`,
		t0.Format(time.RFC3339)))
	f.push(t, "web", "env=prod&owner=team-web&tier=1", pkg("numpy", "1.0.0"))
	f.push(t, "api", "env=prod&owner=team-api&tier=2", pkg("torch", "2.4.0"))
	for name, want := range map[string][]string{
		"any":      {"web PYSEC-2", "api PYSEC-1"},
		"critical": {"api PYSEC-1"},
		"tier1":    {"web PYSEC-2"},
		"owner":    {"api PYSEC-1"},
		"project":  {"web PYSEC-2"},
	} {
		var got []string
		for _, d := range slices.Backward(f.deliveries(t, fmt.Sprintf("rule=%d", rules[name]))) {
			for _, x := range d.Findings {
				got = append(got, x.Project+" "+x.Advisory)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("rule %s queued %q, want %q", name, got, want)
		}
	}
}

// TestWebhookDigest: a digest rule sends the findings of a period in one
// Slack message.
func TestWebhookDigest(t *testing.T) {
	f := newFixture(t, Options{})
	rc, url := newReceiver(t)
	f.addRule(t, fmt.Sprintf(`{"name":"daily","url":%q,"mode":"digest","digestMinutes":60,"format":"slack"}`, url))
	f.importAdvisories(t, osvJSON("PYSEC-1", t0, "torch", "0", "2.5.0", ""))
	f.push(t, "web", "env=prod", pkg("torch", "2.4.0"))
	f.push(t, "api", "env=prod", pkg("torch", "2.3.0"))
	c := &clock{t: t0}
	w := f.worker(t, c, "w1", 3)
	tick(t, w, 0)
	c.add(59 * time.Minute)
	tick(t, w, 0)
	c.add(time.Minute)
	tick(t, w, 1)
	tick(t, w, 0)
	got := rc.received()
	if len(got) != 1 {
		t.Fatalf("receiver got %d messages, want 1", len(got))
	}
	var msg slackMessage
	if err := json.Unmarshal([]byte(got[0].body), &msg); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg.Text, "2 new finding(s), worst critical") || len(msg.Blocks) != 3 ||
		!strings.Contains(msg.Blocks[1].Text.Text, "PYSEC-1") || msg.Blocks[1].Type != "section" {
		t.Errorf("slack message = %s", got[0].body)
	}
}

// TestWebhookTwoWorkers: workers sharing a database never send one
// delivery twice.
func TestWebhookTwoWorkers(t *testing.T) {
	f := newFixture(t, Options{})
	rc, url := newReceiver(t)
	f.addRule(t, fmt.Sprintf(`{"name":"r","url":%q}`, url))
	const n = 12
	for i := range n {
		f.importAdvisories(t, osvJSON(fmt.Sprintf("PYSEC-%d", i), t0, "torch", "0", "2.5.0", ""))
	}
	f.push(t, "web", "env=prod", pkg("torch", "2.4.0"))
	for i := range n { // a delivery per advisory
		f.push(t, fmt.Sprintf("p%d", i), "env=prod", pkg("torch", "2.4.0"))
	}
	c := &clock{t: t0}
	var wg sync.WaitGroup
	for _, name := range []string{"w1", "w2", "w3"} {
		w, err := NewWorker(f.st, WorkerOptions{Owner: name, Now: c.now, Batch: 2})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k, err := w.Tick(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				if k == 0 {
					return
				}
			}
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, g := range rc.received() {
		if seen[g.delivery] {
			t.Errorf("delivery %s sent twice", g.delivery)
		}
		seen[g.delivery] = true
	}
	if len(seen) != n+1 {
		t.Errorf("%d deliveries sent, want %d", len(seen), n+1)
	}
}

func TestAlertRuleAPI(t *testing.T) {
	f := newFixture(t, Options{})
	for _, tt := range []struct {
		token, body string
		want        int
	}{
		{"admin", `{"name":"a","url":"https://hooks.example/x"}`, 201},
		{"admin", `{"name":"a","url":"https://hooks.example/x","mode":"digest","digestMinutes":15,"format":"slack","tiers":["1"],"owner":"t-*","project":"w*","minSeverity":"HIGH"}`, 201},
		{"admin-web", `{"name":"a","url":"https://hooks.example/x"}`, 403},
		{"push", `{"name":"a","url":"https://hooks.example/x"}`, 403},
		{"", `{"name":"a","url":"https://hooks.example/x"}`, 401},
		{"admin", `{"url":"https://hooks.example/x"}`, 400},
		{"admin", `{"name":"a","url":"ftp://hooks.example/x"}`, 400},
		{"admin", `{"name":"a","url":"https://u:p@hooks.example/x"}`, 400},
		{"admin", `{"name":"a","url":"/relative"}`, 400},
		{"admin", `{"name":"a","url":"https://h/","format":"xml"}`, 400},
		{"admin", `{"name":"a","url":"https://h/","mode":"digest"}`, 400},
		{"admin", `{"name":"a","url":"https://h/","digestMinutes":5}`, 400},
		{"admin", `{"name":"a","url":"https://h/","minSeverity":"severe"}`, 400},
		{"admin", `{"name":"a","url":"https://h/","owner":"["}`, 400},
		{"admin", `{"name":"a","url":"https://h/","extra":1}`, 400},
		{"admin", `not json`, 400},
	} {
		if code, out := f.do(t, tt.token, "POST", "/api/v1/alert-rules", []byte(tt.body)); code != tt.want {
			t.Errorf("POST %s as %q = %d %s; want %d", tt.body, tt.token, code, out, tt.want)
		}
	}
	code, out := f.do(t, "admin", "GET", "/api/v1/alert-rules", nil)
	if code != 200 || strings.Contains(string(out), SecretPrefix) || strings.Count(string(out), `"id"`) != 2 {
		t.Errorf("GET rules = %d %s", code, out)
	}
	if code, _ := f.do(t, "read", "GET", "/api/v1/alert-rules", nil); code != 403 {
		t.Errorf("GET rules as read = %d", code)
	}
	for _, tt := range []struct {
		target string
		want   int
	}{{"/api/v1/alert-rules/1", 204}, {"/api/v1/alert-rules/1", 404}, {"/api/v1/alert-rules/x", 400}} {
		if code, out := f.do(t, "admin", "DELETE", tt.target, nil); code != tt.want {
			t.Errorf("DELETE %s = %d %s; want %d", tt.target, code, out, tt.want)
		}
	}
	for _, tt := range []struct {
		token, query string
		want         int
	}{{"admin", "status=failed&rule=2&limit=5", 200}, {"admin", "status=lost", 400}, {"admin", "rule=-1", 400},
		{"admin", "limit=0", 400}, {"admin-web", "", 403}, {"read", "", 403}} {
		if code, out := f.do(t, tt.token, "GET", "/api/v1/deliveries?"+tt.query, nil); code != tt.want {
			t.Errorf("GET deliveries?%s as %s = %d %s; want %d", tt.query, tt.token, code, out, tt.want)
		}
	}
}

func FuzzCheckAlertRule(f *testing.F) {
	f.Add([]byte(`{"name":"a","url":"https://hooks.example/x","mode":"digest","digestMinutes":15,"format":"slack","tiers":["1"],"owner":"t-*"}`))
	f.Add([]byte(`{"name":"a","url":"http://[::1]:80/x","minSeverity":"low","project":"[a-"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var req alertRuleRequest
		if json.Unmarshal(b, &req) != nil {
			return
		}
		r, err := checkAlertRule(req)
		if err != nil {
			return
		}
		if r.Format != store.FormatJSON && r.Format != store.FormatSlack || r.Mode == store.ModeDigest && r.DigestMinutes < 1 {
			t.Fatalf("accepted %+v", r)
		}
		// What is accepted renders.
		if _, err := Payload(store.Delivery{ID: 1, Findings: []store.Finding{{Project: r.Project, Owners: []string{r.Owner}}}}, &r); err != nil {
			t.Fatal(err)
		}
	})
}
