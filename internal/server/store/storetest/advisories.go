package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/server/store"
)

func advisory(id string, modified time.Time, pkgs ...string) store.Advisory {
	a := store.Advisory{ID: id, Modified: modified, Raw: []byte(`{"id":"` + id + `","modified":"` + modified.Format(time.RFC3339) + `"}`)}
	for _, p := range pkgs {
		a.Packages = append(a.Packages, store.PackageRef{Ecosystem: "PyPI", Name: p})
	}
	return a
}

func testAdvisories(t *testing.T, _ string, s store.Store) {
	ctx := context.Background()
	var pending []string
	put := func(want []string, advs ...store.Advisory) {
		t.Helper()
		got, p, err := s.PutAdvisories(ctx, advs, t0)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("changed (-want +got):\n%s", d)
		}
		pending = p
	}
	mal := advisory("MAL-1", t0, "evil-pkg")
	mal.Digests = []string{"sha256:00ff"}
	put([]string{"PYSEC-1", "MAL-1"}, advisory("PYSEC-1", t0, "torch"), mal)
	// The same again is still to be matched until marked so; an older
	// copy never is.
	put(nil, advisory("PYSEC-1", t0, "torch"), advisory("PYSEC-1", t0.Add(-time.Hour), "numpy"))
	if d := cmp.Diff([]string{"PYSEC-1"}, pending); d != "" {
		t.Errorf("pending (-want +got):\n%s", d)
	}
	if err := s.MarkMatched(ctx, "PYSEC-1", t0); err != nil {
		t.Fatal(err)
	}
	put(nil, advisory("PYSEC-1", t0, "torch"), advisory("PYSEC-1", t0.Add(-time.Hour), "numpy"))
	if pending != nil {
		t.Errorf("pending after MarkMatched: %q", pending)
	}
	raws := func(ecosystem, name string) []string {
		t.Helper()
		rs, err := s.AdvisoriesFor(ctx, ecosystem, name)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range rs {
			ids = append(ids, string(r))
		}
		return ids
	}
	if got := raws("PyPI", "torch"); len(got) != 1 || got[0] != string(advisory("PYSEC-1", t0).Raw) {
		t.Errorf("AdvisoriesFor(torch) = %q", got)
	}
	if got := raws("PyPI", "numpy"); got != nil {
		t.Errorf("an older copy was indexed: AdvisoriesFor(numpy) = %q", got)
	}
	// A newer copy replaces the index rows.
	put([]string{"PYSEC-1"}, advisory("PYSEC-1", t0.Add(time.Hour), "numpy"))
	if got := raws("PyPI", "torch"); got != nil {
		t.Errorf("stale index row: AdvisoriesFor(torch) = %q", got)
	}
	if got := raws("PyPI", "numpy"); len(got) != 1 {
		t.Errorf("AdvisoriesFor(numpy) = %q", got)
	}
	a, err := s.Advisory(ctx, "PYSEC-1")
	if err != nil || !a.Modified.Equal(t0.Add(time.Hour)) || !a.Imported.Equal(t0) || string(a.Raw) != string(advisory("PYSEC-1", t0.Add(time.Hour)).Raw) {
		t.Errorf("Advisory = %+v, %v", a, err)
	}
	if rs, err := s.AdvisoriesByDigest(ctx, "sha256:00ff"); err != nil || len(rs) != 1 {
		t.Errorf("AdvisoriesByDigest = %q, %v", rs, err)
	}
	// Withdrawing removes it with its index rows; withdrawing what is
	// not stored changes nothing.
	w := advisory("MAL-1", t0.Add(time.Hour))
	w.Withdrawn = true
	nothing := advisory("GHSA-none", t0)
	nothing.Withdrawn = true
	put([]string{"MAL-1"}, w, nothing)
	if _, err := s.Advisory(ctx, "MAL-1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("withdrawn advisory: err %v, want ErrNotFound", err)
	}
	if rs, err := s.AdvisoriesByDigest(ctx, "sha256:00ff"); err != nil || len(rs) != 0 {
		t.Errorf("withdrawn advisory still indexed by digest: %q, %v", rs, err)
	}
	// A failing batch stores nothing.
	if _, _, err := s.PutAdvisories(ctx, []store.Advisory{advisory("NEW-1", t0, "x"), {ID: "NEW-2", Modified: t0}}, t0); err == nil {
		t.Fatal("advisory without raw JSON accepted")
	}
	if _, err := s.Advisory(ctx, "NEW-1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("failed batch kept NEW-1: %v", err)
	}
}

func testPackageQueries(t *testing.T, _ string, s store.Store) {
	ctx := context.Background()
	odd := comp("Typing_Extensions", "4.0.0") // not normalized as written
	odd.PURL = "pkg:pypi/typing-extensions@4.0.0"
	odd.Digests = []inventory.Digest{{Algorithm: "sha256", Value: "aa11"}, {Algorithm: "md5", Value: "bb22"}}
	other := comp("torch", "2.5.1")
	other.Digests = []inventory.Digest{{Algorithm: "sha256", Value: "aa1"}} // a prefix of the other digest
	mustAdd(t, s, upload("web", "1.0", "prod", t0, odd, other))
	for _, tt := range []struct {
		q    store.ComponentQuery
		want []string
	}{
		{store.ComponentQuery{Ecosystem: "PyPI", Package: "typing-extensions"}, []string{"Typing_Extensions"}},
		{store.ComponentQuery{Ecosystem: "npm", Package: "typing-extensions"}, nil},
		{store.ComponentQuery{Digest: "sha256:aa11"}, []string{"Typing_Extensions"}},
		{store.ComponentQuery{Digest: "sha256:aa1"}, []string{"torch"}},
		{store.ComponentQuery{Digest: "md5:bb22"}, nil}, // weak digests are not indexed
	} {
		got, err := s.FindComponents(ctx, tt.q)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, m := range got {
			names = append(names, m.Name)
		}
		if d := cmp.Diff(tt.want, names); d != "" {
			t.Errorf("%+v (-want +got):\n%s", tt.q, d)
		}
	}
}

func finding(project, env string, report int64, name, advisory string, sev inventory.Severity) store.Finding {
	return store.Finding{Project: project, Env: env, ReportID: report, Component: "pkg:pypi/" + name + "@1.0", Name: name, Version: "1.0",
		Advisory: advisory, Aliases: []string{"CVE-" + advisory}, Severity: sev, Rule: store.RuleVulnerable, Evidence: "e", Message: "m", Remediation: "r"}
}

func testSyncFindings(t *testing.T, _ string, s store.Store) {
	ctx := context.Background()
	if err := s.PutProject(ctx, store.Project{Name: "web", Owners: []string{"team-web"}, Tier: "1"}); err != nil {
		t.Fatal(err)
	}
	web := mustAdd(t, s, upload("web", "1.0", "prod", t0, comp("torch", "1.0")))
	api := mustAdd(t, s, upload("api", "1.0", "prod", t0, comp("torch", "1.0"), comp("numpy", "1.0")))
	sync := func(scope store.FindingScope, at time.Time, wantOpened, wantResolved int, fs ...store.Finding) {
		t.Helper()
		o, r, err := s.SyncFindings(ctx, scope, fs, at)
		if err != nil || o != wantOpened || r != wantResolved {
			t.Fatalf("SyncFindings(%+v) = %d, %d, %v; want %d, %d", scope, o, r, err, wantOpened, wantResolved)
		}
	}
	list := func(q store.FindingQuery) []string {
		t.Helper()
		fs, err := s.Findings(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, f := range fs {
			st := "open"
			if f.ResolvedAt != nil {
				st = "resolved@" + f.ResolvedAt.Sub(t0).String()
			}
			out = append(out, f.Project+" "+f.Name+" "+f.Advisory+" "+st+" first@"+f.FirstSeen.Sub(t0).String())
		}
		return out
	}
	check := func(q store.FindingQuery, want ...string) {
		t.Helper()
		if d := cmp.Diff(want, list(q)); d != "" {
			t.Errorf("Findings(%+v) (-want +got):\n%s", q, d)
		}
	}
	a1 := store.FindingScope{Advisory: "A-1"}
	sync(a1, t0, 2, 0, finding("web", "prod", web, "torch", "A-1", inventory.High), finding("api", "prod", api, "torch", "A-1", inventory.High))
	// Again: nothing new; a finding for a report that is no longer the
	// deployment's latest is not recorded.
	sync(a1, t0.Add(time.Minute), 0, 0, finding("web", "prod", web, "torch", "A-1", inventory.High),
		finding("api", "prod", api, "torch", "A-1", inventory.High), finding("api", "prod", api+100, "numpy", "A-1", inventory.High))
	sync(store.FindingScope{Advisory: "A-2"}, t0, 1, 0, finding("api", "prod", api, "numpy", "A-2", inventory.Low))
	check(store.FindingQuery{}, "api torch A-1 open first@0s", "web torch A-1 open first@0s", "api numpy A-2 open first@0s")
	check(store.FindingQuery{Project: "web"}, "web torch A-1 open first@0s")
	check(store.FindingQuery{MinSeverity: inventory.Medium}, "api torch A-1 open first@0s", "web torch A-1 open first@0s")
	check(store.FindingQuery{Advisory: "CVE-A-2"}, "api numpy A-2 open first@0s") // by alias
	check(store.FindingQuery{Advisory: "A-%"})                                    // a literal, not a pattern
	fs, err := s.Findings(ctx, store.FindingQuery{Project: "web"})
	if err != nil || len(fs) != 1 || cmp.Diff([]string{"team-web"}, fs[0].Owners) != "" || fs[0].Tier != "1" ||
		fs[0].Severity != inventory.High || !fs[0].LastSeen.Equal(t0.Add(time.Minute)) || cmp.Diff([]string{"CVE-A-1"}, fs[0].Aliases) != "" {
		t.Errorf("finding details = %+v, %v", fs, err)
	}

	// A-1 no longer matches api: resolved there, still open on web.
	sync(a1, t0.Add(2*time.Minute), 0, 1, finding("web", "prod", web, "torch", "A-1", inventory.High))
	check(store.FindingQuery{Status: store.StatusResolved}, "api torch A-1 resolved@2m0s first@0s")
	// A deployment run: api's new report no longer has numpy.
	api2 := mustAdd(t, s, upload("api", "2.0", "prod", t0.Add(time.Hour), comp("torch", "1.0")))
	// A stale run for the old report changes nothing.
	sync(store.FindingScope{Project: "api", Env: "prod", ReportID: api}, t0.Add(3*time.Minute), 0, 0)
	sync(store.FindingScope{Project: "api", Env: "prod", ReportID: api2}, t0.Add(3*time.Minute), 1, 1,
		finding("api", "prod", api2, "torch", "A-1", inventory.High))
	// torch A-1 on api reopened with a new first-seen; numpy A-2 resolved.
	check(store.FindingQuery{Status: store.StatusAll},
		"api torch A-1 open first@3m0s", "web torch A-1 open first@0s", "api numpy A-2 resolved@3m0s first@0s")
	// Withdrawn: a run with nothing found resolves every finding of it.
	sync(a1, t0.Add(4*time.Minute), 0, 2)
	check(store.FindingQuery{})
	if _, _, err := s.SyncFindings(ctx, store.FindingScope{}, nil, t0); err == nil {
		t.Error("SyncFindings without a scope: no error")
	}
	if _, err := s.Findings(ctx, store.FindingQuery{Status: "closed"}); err == nil {
		t.Error("unknown status: no error")
	}
}

// testReplicaFindings records the same findings from two stores on one
// database at once: each is stored once.
func testReplicaFindings(t *testing.T, a, b store.Store) {
	ctx := context.Background()
	id := mustAdd(t, a, upload("web", "1.0", "prod", t0, comp("torch", "1.0")))
	fs := []store.Finding{finding("web", "prod", id, "torch", "A-1", inventory.High), finding("web", "prod", id, "torch", "A-2", inventory.Low)}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			_, _, errs[i] = s.SyncFindings(ctx, store.FindingScope{Advisory: "A-1"}, fs[:1], t0)
			if errs[i] == nil {
				_, _, errs[i] = s.SyncFindings(ctx, store.FindingScope{Project: "web", Env: "prod", ReportID: id}, fs, t0)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := a.Findings(ctx, store.FindingQuery{Status: store.StatusAll})
	if err != nil || len(got) != 2 {
		t.Errorf("findings after concurrent runs = %+v, %v; want 2", got, err)
	}
}
