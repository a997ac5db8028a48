package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chainvet/chainvet/internal/advisory/osv"
	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/rules/advisories"
	"github.com/chainvet/chainvet/internal/server/store"
)

// feedServer serves one advisory body with an ETag and a Last-Modified,
// answering 304 to a request that names them.
type feedServer struct {
	mu            sync.Mutex
	body          []byte
	etag, lastMod string
	full, cond    atomic.Int64 // 200 and 304 answers
	ifNoneMatch   []string
}

func (fs *feedServer) set(body []byte, etag, lastMod string) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.body, fs.etag, fs.lastMod = body, etag, lastMod
}

func (fs *feedServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.ifNoneMatch = append(fs.ifNoneMatch, r.Header.Get("If-None-Match"))
	inm, ims := r.Header.Get("If-None-Match"), r.Header.Get("If-Modified-Since")
	if (inm != "" && inm == fs.etag) || (inm == "" && ims != "" && ims == fs.lastMod) {
		fs.cond.Add(1)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	fs.full.Add(1)
	w.Header().Set("ETag", fs.etag)
	w.Header().Set("Last-Modified", fs.lastMod)
	w.Write(fs.body)
}

// openFindings lists the open findings as "project component advisory".
func openFindings(t *testing.T, st store.Store) []string {
	t.Helper()
	fs, err := st.Findings(context.Background(), store.FindingQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var l []string
	for _, f := range fs {
		l = append(l, f.Project+" "+f.Component+" "+f.Advisory)
	}
	sort.Strings(l)
	return l
}

func TestFeedPolling(t *testing.T) {
	f := newFixture(t, Options{})
	c := &clock{t: t0}
	f.srv.opt.Now = c.now
	fsrv := &feedServer{}
	fsrv.set(osvJSON("PYSEC-1", t0, "torch", "0", "2.5.0", ""), `"v1"`, "Sun, 01 Nov 2026 12:00:00 GMT")
	hs := httptest.NewServer(fsrv)
	defer hs.Close()
	f.push(t, "web", "env=prod", pkg("torch", "2.5.0"))

	p, err := NewFeedPoller(f.srv, FeedOptions{URLs: []string{hs.URL}, Owner: "p1"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	steps := []struct {
		name    string
		advance time.Duration
		change  []byte // a new body served, with etag "v2"
		want    int    // feeds imported
		full    int64  // 200 answers so far
		cond    int64  // 304 answers so far
		result  string
		open    []string
	}{
		{"first poll imports", 0, nil, 1, 1, 0, "imported 1 records: 1 added", nil},
		{"not due yet", 30 * time.Minute, nil, 0, 1, 0, "imported 1 records", nil},
		{"unchanged feed answers 304", 30 * time.Minute, nil, 0, 1, 1, "not modified", nil},
		{"changed feed is imported and matched", time.Hour, osvJSON("PYSEC-1", t0.Add(time.Hour), "torch", "0", "2.6.0", ""), 1, 2, 1,
			"imported 1 records: 1 added", []string{"web pkg:pypi/torch@2.5.0 PYSEC-1"}},
		{"unchanged again", time.Hour, nil, 0, 2, 2, "not modified", []string{"web pkg:pypi/torch@2.5.0 PYSEC-1"}},
	}
	for _, s := range steps {
		c.add(s.advance)
		if s.change != nil {
			fsrv.set(s.change, `"v2"`, "Sun, 01 Nov 2026 13:00:00 GMT")
		}
		if n := p.PollDue(ctx); n != s.want {
			t.Errorf("%s: imported %d feeds, want %d", s.name, n, s.want)
		}
		if fsrv.full.Load() != s.full || fsrv.cond.Load() != s.cond {
			t.Errorf("%s: %d full and %d conditional answers, want %d and %d", s.name, fsrv.full.Load(), fsrv.cond.Load(), s.full, s.cond)
		}
		feeds, err := f.st.(store.FeedStore).AdvisoryFeeds(ctx)
		if err != nil || len(feeds) != 1 {
			t.Fatalf("%s: feeds %v, %v", s.name, feeds, err)
		}
		if !strings.HasPrefix(feeds[0].LastResult, s.result) {
			t.Errorf("%s: last result %q, want prefix %q", s.name, feeds[0].LastResult, s.result)
		}
		wantList(t, s.name, s.open, openFindings(t, f.st))
	}
	if got := strings.Join(fsrv.ifNoneMatch, " "); got != ` "v1" "v1" "v2"` {
		t.Errorf("If-None-Match sent: %q", got)
	}
}

func TestFeedFailureKeepsValidators(t *testing.T) {
	f := newFixture(t, Options{})
	c := &clock{t: t0}
	f.srv.opt.Now = c.now
	var code atomic.Int64
	code.Store(200)
	var seen []string
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Header.Get("If-None-Match"))
		w.Header().Set("ETag", fmt.Sprintf(`"%d"`, len(seen)))
		w.WriteHeader(int(code.Load()))
		if code.Load() == 200 && len(seen) == 1 {
			w.Write([]byte("not an advisory"))
			return
		}
		w.Write(osvJSON("PYSEC-1", t0, "torch", "0", "2.5.0", ""))
	}))
	defer hs.Close()
	p, err := NewFeedPoller(f.srv, FeedOptions{URLs: []string{hs.URL}, Owner: "p1"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i, want := range []string{"failed: not an OSV", "imported 1 records", "failed: HTTP 500"} {
		if i == 2 {
			code.Store(500)
		}
		p.PollDue(ctx)
		feeds, _ := f.st.(store.FeedStore).AdvisoryFeeds(ctx)
		if len(feeds) != 1 || !strings.HasPrefix(feeds[0].LastResult, want) {
			t.Errorf("poll %d: %+v, want result %q", i, feeds, want)
		}
		c.add(time.Hour)
	}
	// The garbage was not taken as the feed: the next poll was not
	// conditional. The import was: the one after it was.
	if got := strings.Join(seen, " "); got != ` "2"` && got != `  "2"` {
		t.Errorf("If-None-Match sent: %q", got)
	}
}

func TestFeedTwoPollersOneImport(t *testing.T) {
	f := newFixture(t, Options{})
	fsrv := &feedServer{}
	fsrv.set(osvJSON("PYSEC-1", t0, "torch", "0", "2.5.0", ""), `"v1"`, "")
	hs := httptest.NewServer(fsrv)
	defer hs.Close()
	// Two replicas: two servers on one store.
	srv2 := New(f.st, Options{Now: func() time.Time { return t0 }})
	var imported atomic.Int64
	var wg sync.WaitGroup
	for i, s := range []*Server{f.srv, srv2, f.srv, srv2} {
		p, err := NewFeedPoller(s, FeedOptions{URLs: []string{hs.URL}, Owner: fmt.Sprintf("p%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			imported.Add(int64(p.PollDue(context.Background())))
		}()
	}
	wg.Wait()
	if imported.Load() != 1 || fsrv.full.Load() != 1 || fsrv.cond.Load() != 0 {
		t.Errorf("%d imports, %d downloads, %d conditional; want 1, 1, 0", imported.Load(), fsrv.full.Load(), fsrv.cond.Load())
	}
}

func TestFeedLeaseExpires(t *testing.T) {
	f := newFixture(t, Options{})
	fs := f.st.(store.FeedStore)
	ctx := context.Background()
	const u = "https://example.invalid/all.zip"
	if _, ok, err := fs.ClaimFeed(ctx, u, "a", t0, time.Minute); !ok || err != nil {
		t.Fatalf("first claim: %v, %v", ok, err)
	}
	for _, tc := range []struct {
		owner string
		at    time.Duration
		want  bool
	}{{"b", 59 * time.Second, false}, {"b", time.Minute, true}, {"a", 90 * time.Second, false}} {
		if _, ok, err := fs.ClaimFeed(ctx, u, tc.owner, t0.Add(tc.at), time.Minute); ok != tc.want || err != nil {
			t.Errorf("claim by %s after %v: %v, %v; want %v", tc.owner, tc.at, ok, err, tc.want)
		}
	}
	// a's lease ran out: its poll is not recorded; b's is.
	if ok, err := fs.FinishFeed(ctx, "a", store.AdvisoryFeed{URL: u, ETag: "x"}, t0.Add(time.Hour)); ok || err != nil {
		t.Errorf("finish by the lost lease: %v, %v", ok, err)
	}
	if ok, err := fs.FinishFeed(ctx, "b", store.AdvisoryFeed{URL: u, ETag: "y", Polled: t0}, t0.Add(time.Hour)); !ok || err != nil {
		t.Errorf("finish by the lease: %v, %v", ok, err)
	}
	got, ok, err := fs.ClaimFeed(ctx, u, "c", t0.Add(time.Hour), time.Minute)
	if !ok || err != nil || got.ETag != "y" {
		t.Errorf("claim when due: %+v, %v, %v", got, ok, err)
	}
}

func TestNewFeedPollerRefusesURLs(t *testing.T) {
	f := newFixture(t, Options{})
	for _, u := range []string{"file:///etc/passwd", "ftp://h/x", "https://", "::"} {
		if _, err := NewFeedPoller(f.srv, FeedOptions{URLs: []string{u}}); err == nil {
			t.Errorf("NewFeedPoller(%q) succeeded", u)
		}
	}
}

const (
	revA = "0123456789abcdef0123456789abcdef01234567"
	revB = "89abcdef0123456789abcdef0123456789abcdef"
)

// model is a Hugging Face model component at a revision.
func model(repo, rev string) inventory.Component {
	ns, name, _ := strings.Cut(repo, "/")
	return inventory.Component{ID: "m", Kind: inventory.KindModel, Name: repo, Version: rev,
		PURL: "pkg:huggingface/" + ns + "/" + name + "@" + rev}
}

// modelOSV is a model advisory for repo at revs, with extra spliced in.
func modelOSV(id, repo string, revs []string, extra string) []byte {
	return fmt.Appendf(nil, `{"id":%q,"modified":%q,"summary":"backdoored weights",
"affected":[{"package":{"ecosystem":"HuggingFace","name":%q},"versions":["%s"]}]%s}`,
		id, t0.Format(time.RFC3339), repo, strings.Join(revs, `","`), extra)
}

func TestModelAdvisories(t *testing.T) {
	const digest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	weights := inventory.Component{ID: "w", Kind: inventory.KindModel, Name: "model.safetensors", Version: "",
		Digests:   []inventory.Digest{{Algorithm: "sha256", Value: digest}},
		Locations: []inventory.Location{{Path: "models/model.safetensors"}}}
	tests := []struct {
		name   string
		adv    []byte
		pushes map[string][]inventory.Component
		want   []string
	}{
		{"affected revision only", modelOSV("CHAINVET-M-1", "Acme/LLM", []string{revA}, ""),
			map[string][]inventory.Component{"web": {model("acme/llm", revA)}, "api": {model("acme/llm", revB)}, "ml": {model("acme/other", revA)}},
			[]string{"web pkg:huggingface/acme/llm@" + revA + " CHAINVET-M-1"}},
		{"revision in upper case", modelOSV("CHAINVET-M-2", "acme/llm", []string{strings.ToUpper(revB)}, ""),
			map[string][]inventory.Component{"web": {model("acme/llm", revA)}, "api": {model("acme/llm", revB)}},
			[]string{"api pkg:huggingface/acme/llm@" + revB + " CHAINVET-M-2"}},
		{"malicious file digest", modelOSV("MAL-2026-7", "acme/llm", []string{revB}, `,"database_specific":{"sha256":["`+digest+`"]}`),
			map[string][]inventory.Component{"web": {weights}, "api": {model("acme/llm", revA)}},
			[]string{"web model:model.safetensors@ MAL-2026-7"}},
	}
	for _, tc := range tests {
		for _, order := range []string{"import then push", "push then import"} {
			t.Run(tc.name+"/"+order, func(t *testing.T) {
				f := newFixture(t, Options{})
				if order == "import then push" {
					f.importAdvisories(t, tc.adv)
				}
				for _, p := range []string{"api", "ml", "web"} {
					if cs, ok := tc.pushes[p]; ok {
						f.push(t, p, "env=prod", cs...)
					}
				}
				if order == "push then import" {
					if res := f.importAdvisories(t, tc.adv); res.Opened != len(tc.want) {
						t.Errorf("import opened %d, want %d", res.Opened, len(tc.want))
					}
				}
				wantList(t, "findings", tc.want, openFindings(t, f.st))
			})
		}
	}
}

func TestModelFindingDetails(t *testing.T) {
	f := newFixture(t, Options{})
	f.importAdvisories(t, modelOSV("CHAINVET-M-1", "acme/llm", []string{revA}, ""))
	f.push(t, "web", "env=prod", model("acme/llm", revA))
	fs, err := f.st.Findings(context.Background(), store.FindingQuery{})
	if err != nil || len(fs) != 1 {
		t.Fatalf("findings %v, %v", fs, err)
	}
	g := fs[0]
	if g.Rule != store.RuleVulnerable || g.Severity != inventory.High || !strings.Contains(g.Evidence, "HuggingFace acme/llm@"+revA) ||
		!strings.Contains(g.Remediation, "Pin acme/llm to a revision") {
		t.Errorf("finding %+v", g)
	}
}

func FuzzMatchModels(f *testing.F) {
	f.Add(modelOSV("CHAINVET-M-1", "acme/llm", []string{revA}, ""), "pkg:huggingface/acme/llm@"+revA, "sha256:00")
	f.Add(modelOSV("MAL-1", "a/b", []string{"x"}, `,"database_specific":{"sha256":["`+strings.Repeat("a", 64)+`"]}`), "pkg:huggingface/a%2Fb?x=1#y", "sha256:"+strings.Repeat("A", 64))
	f.Add([]byte(`{"id":"X","modified":"2026-01-01T00:00:00Z"}`), "pkg:huggingface/@", "")
	f.Fuzz(func(t *testing.T, raw []byte, purl, digest string) {
		rec, err := osv.Parse(raw)
		if err != nil {
			return
		}
		c := inventory.Component{ID: "c", Kind: inventory.KindModel, Name: "n", PURL: purl}
		if alg, v, ok := strings.Cut(digest, ":"); ok {
			c.Digests = []inventory.Digest{{Algorithm: alg, Value: v}}
		}
		for _, g := range matchModels(rec, []inventory.Component{c}) {
			if g.Component != "c" || g.Remediation == "" || (g.Rule != advisories.RuleVulnerable && g.Rule != advisories.RuleMalicious) {
				t.Errorf("finding %+v", g)
			}
		}
		if repo := store.HuggingFaceRepo(purl); repo == "" && store.HuggingFaceRevision(purl) != "" {
			t.Errorf("%q: a revision without a repository", purl)
		}
	})
}
