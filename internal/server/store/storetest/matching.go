package storetest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/server/store"
)

// testRollback re-pushes an earlier release's report unchanged: it is
// not stored again, but it is the deployment's latest again.
func testRollback(t *testing.T, _ string, s store.Store) {
	ctx := context.Background()
	v1 := upload("web", "1.0", "prod", t0, comp("torch", "2.4.0"))
	id1 := mustAdd(t, s, v1)
	id2 := mustAdd(t, s, upload("web", "2.0", "prod", t0.Add(time.Hour), comp("torch", "2.5.1")))
	latest := func() int64 {
		t.Helper()
		ds, err := s.Deployments(ctx, "web")
		if err != nil || len(ds) != 1 {
			t.Fatalf("Deployments = %+v, %v", ds, err)
		}
		return ds[0].ID
	}
	if got := latest(); got != id2 {
		t.Fatalf("latest = %d, want release 2.0 (%d)", got, id2)
	}
	back := v1
	back.Received = t0.Add(2 * time.Hour)
	id, created, err := s.AddReport(ctx, back)
	if err != nil || created || id != id1 {
		t.Fatalf("rollback push = %d, %v, %v; want %d, false", id, created, err, id1)
	}
	if got := latest(); got != id1 {
		t.Errorf("after rollback latest = %d, want release 1.0 (%d)", got, id1)
	}
	ms, err := s.FindComponents(ctx, store.ComponentQuery{Name: "torch"})
	if err != nil || len(ms) != 1 || ms[0].CVersion != "2.4.0" {
		t.Errorf("who runs torch after rollback = %+v, %v; want 2.4.0 only", ms, err)
	}
	// The rolled-back-to report is to be matched again.
	w := claim(t, s, "a", t0.Add(3*time.Hour), time.Minute)
	if d := cmp.Diff([]store.Deployment{{Project: "web", Env: "prod", ReportID: id1}}, w.Deployments); d != "" {
		t.Errorf("deployments to match (-want +got):\n%s", d)
	}
	hist, err := s.Reports(ctx, "web", 10)
	if err != nil || len(hist) != 2 {
		t.Errorf("history = %+v, %v; want the two reports, the rollback storing none", hist, err)
	}
}

func claim(t *testing.T, s store.Store, owner string, now time.Time, grace time.Duration) store.MatchWork {
	t.Helper()
	w, err := s.ClaimMatchWork(context.Background(), owner, now.Add(-grace), now, 10*time.Minute, 100)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func ids(w store.MatchWork) (advs []string, deps []string) {
	for _, a := range w.Advisories {
		advs = append(advs, a.ID)
	}
	for _, d := range w.Deployments {
		deps = append(deps, d.Project+"/"+d.Env)
	}
	return advs, deps
}

// testMatchWork checks what ClaimMatchWork hands out, and when.
func testMatchWork(t *testing.T, _ string, s store.Store) {
	ctx := context.Background()
	web := mustAdd(t, s, upload("web", "1.0", "prod", t0, comp("torch", "1.0")))
	if _, _, err := s.PutAdvisories(ctx, []store.Advisory{advisory("PYSEC-1", t0, "torch"), advisory("PYSEC-2", t0, "numpy")}, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkMatched(ctx, "PYSEC-2", t0); err != nil {
		t.Fatal(err)
	}

	// Within the grace period, the requests that made the work own it.
	if w := claim(t, s, "a", t0.Add(time.Minute), 5*time.Minute); len(w.Advisories)+len(w.Deployments)+len(w.Orphans) != 0 {
		t.Fatalf("claimed within the grace period: %+v", w)
	}
	now := t0.Add(10 * time.Minute)
	w := claim(t, s, "a", now, time.Minute)
	advs, deps := ids(w)
	if d := cmp.Diff([]string{"PYSEC-1"}, advs); d != "" {
		t.Errorf("advisories (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"web/prod"}, deps); d != "" {
		t.Errorf("deployments (-want +got):\n%s", d)
	}
	if len(w.Advisories) == 1 && string(w.Advisories[0].Raw) != string(advisory("PYSEC-1", t0, "torch").Raw) {
		t.Errorf("claimed advisory raw = %s", w.Advisories[0].Raw)
	}
	// Leased: another owner gets nothing until the lease ends.
	if w := claim(t, s, "b", now.Add(time.Minute), time.Minute); len(w.Advisories)+len(w.Deployments) != 0 {
		t.Errorf("claimed under another's lease: %+v", w)
	}
	if w := claim(t, s, "b", now.Add(11*time.Minute), time.Minute); len(w.Advisories) != 1 || len(w.Deployments) != 1 {
		t.Errorf("after the lease ended, claim = %+v; want both again", w)
	}
	// Done: neither comes back. A mark by a former holder still counts.
	if err := s.MarkMatched(ctx, "PYSEC-1", t0); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkDeploymentMatched(ctx, "web", "prod", web, "a"); err != nil {
		t.Fatal(err)
	}
	if w := claim(t, s, "c", now.Add(time.Hour), time.Minute); len(w.Advisories)+len(w.Deployments) != 0 {
		t.Errorf("claimed finished work: %+v", w)
	}

	// A report replaced while it was being matched: the mark of the old
	// one changes nothing, and the new one is still to be matched.
	next := mustAdd(t, s, upload("web", "2.0", "prod", now.Add(2*time.Hour), comp("torch", "2.0")))
	w = claim(t, s, "a", now.Add(3*time.Hour), time.Minute)
	if len(w.Deployments) != 1 || w.Deployments[0].ReportID != next {
		t.Fatalf("claim after push = %+v; want report %d", w.Deployments, next)
	}
	if err := s.MarkDeploymentMatched(ctx, "web", "prod", web, "a"); err != nil {
		t.Fatal(err)
	}
	// "a" released its lease with that mark, so the work is claimable at once.
	if w := claim(t, s, "b", now.Add(3*time.Hour), time.Minute); len(w.Deployments) != 1 || w.Deployments[0].ReportID != next {
		t.Errorf("after a stale mark, claim = %+v; want report %d", w.Deployments, next)
	}

	// An advisory withdrawn while its findings were open leaves orphans
	// until a run resolves them.
	f := finding("web", "prod", next, "torch", "PYSEC-1", inventory.High)
	if _, _, err := s.SyncFindings(ctx, store.FindingScope{Advisory: "PYSEC-1"}, []store.Finding{f}, now.Add(4*time.Hour)); err != nil {
		t.Fatal(err)
	}
	gone := advisory("PYSEC-1", t0.Add(time.Hour))
	gone.Withdrawn = true
	if _, _, err := s.PutAdvisories(ctx, []store.Advisory{gone}, now.Add(4*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if w := claim(t, s, "a", now.Add(5*time.Hour), time.Minute); !slices.Equal(w.Orphans, []string{"PYSEC-1"}) {
		t.Errorf("orphans = %q; want PYSEC-1", w.Orphans)
	}
	if _, _, err := s.SyncFindings(ctx, store.FindingScope{Advisory: "PYSEC-1"}, nil, now.Add(5*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if w := claim(t, s, "a", now.Add(6*time.Hour), time.Minute); len(w.Orphans) != 0 {
		t.Errorf("orphans after resolving = %q", w.Orphans)
	}
}

// testMatchWorkReplicas has two replicas claim the same backlog at once:
// each piece goes to one of them.
func testMatchWorkReplicas(t *testing.T, a, b store.Store) {
	ctx := context.Background()
	var advs []store.Advisory
	for i := range 40 {
		advs = append(advs, advisory("PYSEC-"+string(rune('A'+i/26))+string(rune('a'+i%26)), t0, "torch"))
		mustAdd(t, a, upload("svc"+string(rune('a'+i%26))+string(rune('A'+i/26)), "1", "prod", t0, comp("torch", "1.0")))
	}
	if _, _, err := a.PutAdvisories(ctx, advs, t0); err != nil {
		t.Fatal(err)
	}
	now := t0.Add(time.Hour)
	var (
		mu   sync.Mutex
		seen = map[string]int{}
		wg   sync.WaitGroup
	)
	for i, s := range []store.Store{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				w, err := s.ClaimMatchWork(ctx, string(rune('p'+i)), now, now, time.Hour, 3)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for _, x := range w.Advisories {
					seen["adv "+x.ID]++
				}
				for _, x := range w.Deployments {
					seen["dep "+x.Project]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s claimed %d times", k, n)
		}
	}
	if len(seen) != 80 {
		t.Errorf("claimed %d pieces of 80", len(seen))
	}
}

// testDeployRace has two replicas push different reports of one
// deployment at once, again and again: after each round, "who runs it?"
// answers with the components of exactly the report the deployment
// points to, the other's no longer (or never) counted.
func testDeployRace(t *testing.T, a, b store.Store) {
	ctx := context.Background()
	for round := range 8 {
		env := "env" + string(rune('a'+round))
		at := t0.Add(time.Duration(round) * time.Hour)
		var wg sync.WaitGroup
		for i, s := range []store.Store{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				v := string(rune('1' + i))
				// Each pushes twice, so that pushes replace one another.
				for k := range 2 {
					u := upload("web", v+"."+string(rune('0'+k)), env, at.Add(time.Duration(k)*time.Minute), comp("torch", v+"."+string(rune('0'+k))))
					if _, _, err := s.AddReport(ctx, u); err != nil {
						t.Error(err)
					}
				}
			}()
		}
		wg.Wait()
		deps, err := a.Deployments(ctx, "web")
		if err != nil {
			t.Fatal(err)
		}
		var want int64
		for _, d := range deps {
			if d.Env == env {
				want = d.ID
			}
		}
		ms, err := b.FindComponents(ctx, store.ComponentQuery{Name: "torch", Project: "web"})
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, m := range ms {
			if m.Env == env {
				got = append(got, m.ReportID)
			}
		}
		if len(got) != 1 || got[0] != want {
			t.Errorf("round %d: who runs torch in %s = reports %v; want the deployment's %d only", round, env, got, want)
		}
	}
}
