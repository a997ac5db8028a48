package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/server/store"
)

func alertRule(name string, sev inventory.Severity, mode string, tiers ...string) store.AlertRule {
	r := store.AlertRule{Name: name, MinSeverity: sev, Tiers: tiers, URL: "http://127.0.0.1:1/hook", Secret: "s-" + name,
		Format: store.FormatJSON, Mode: mode, Created: t0}
	if mode == store.ModeDigest {
		r.DigestMinutes = 10
	}
	return r
}

func mustRule(t *testing.T, s store.Store, r store.AlertRule) int64 {
	t.Helper()
	id, err := s.AddAlertRule(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// deliveredFindings lists each delivery of rule, oldest first, as the
// advisories of its findings.
func deliveredFindings(t *testing.T, s store.Store, rule int64) []string {
	t.Helper()
	ds, err := s.Deliveries(context.Background(), store.DeliveryQuery{Rule: rule})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range slices.Backward(ds) {
		var advs []string
		for _, f := range d.Findings {
			advs = append(advs, f.Project+":"+f.Advisory)
		}
		out = append(out, fmt.Sprint(advs))
	}
	return out
}

// testAlertEnqueue checks that opening findings queues deliveries for the
// rules they match, and only when they open.
func testAlertEnqueue(t *testing.T, _ string, s store.Store) {
	ctx := context.Background()
	if err := s.PutProject(ctx, store.Project{Name: "web", Owners: []string{"team-web"}, Tier: "1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutProject(ctx, store.Project{Name: "api", Owners: []string{"team-api"}, Tier: "3"}); err != nil {
		t.Fatal(err)
	}
	web := mustAdd(t, s, upload("web", "1.0", "prod", t0, comp("torch", "1.0")))
	api := mustAdd(t, s, upload("api", "1.0", "prod", t0, comp("torch", "1.0")))
	all := mustRule(t, s, alertRule("all", inventory.Info, store.ModeImmediate))
	high := mustRule(t, s, alertRule("high", inventory.High, store.ModeImmediate))
	tier1 := mustRule(t, s, alertRule("tier1", inventory.Info, store.ModeImmediate, "1"))
	owner := alertRule("owner", inventory.Info, store.ModeImmediate)
	owner.Owner = "team-a*"
	ownerID := mustRule(t, s, owner)
	proj := alertRule("proj", inventory.Info, store.ModeImmediate)
	proj.Project = "we?"
	projID := mustRule(t, s, proj)

	found := []store.Finding{finding("web", "prod", web, "torch", "A-1", inventory.Medium), finding("api", "prod", api, "torch", "A-1", inventory.Critical)}
	if _, _, err := s.SyncFindings(ctx, store.FindingScope{Advisory: "A-1"}, found, t0); err != nil {
		t.Fatal(err)
	}
	// Seen again, the findings open nothing and queue nothing.
	if _, _, err := s.SyncFindings(ctx, store.FindingScope{Advisory: "A-1"}, found, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		rule int64
		want []string
	}{
		{all, []string{"[web:A-1 api:A-1]"}},
		{high, []string{"[api:A-1]"}},
		{tier1, []string{"[web:A-1]"}},
		{ownerID, []string{"[api:A-1]"}},
		{projID, []string{"[web:A-1]"}},
	} {
		if got := deliveredFindings(t, s, tt.rule); !slices.Equal(got, tt.want) {
			t.Errorf("rule %d deliveries = %q, want %q", tt.rule, got, tt.want)
		}
	}
	ds, err := s.Deliveries(ctx, store.DeliveryQuery{Rule: tier1})
	if err != nil || len(ds) != 1 {
		t.Fatalf("Deliveries = %v, %v", ds, err)
	}
	if f := ds[0].Findings[0]; f.Tier != "1" || !slices.Equal(f.Owners, []string{"team-web"}) || f.ID == 0 || !f.FirstSeen.Equal(t0) {
		t.Errorf("queued finding lacks its project's data: %+v", f)
	}
	if d := ds[0]; d.Status != store.DeliveryPending || d.Attempts != 0 || !d.NextAttemptAt.Equal(t0) {
		t.Errorf("new delivery = %+v", d)
	}
	// Deleting a rule takes its deliveries along.
	if err := s.DeleteAlertRule(ctx, all); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAlertRule(ctx, all); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second delete = %v, want ErrNotFound", err)
	}
	if got := deliveredFindings(t, s, all); got != nil {
		t.Errorf("deliveries of a deleted rule: %q", got)
	}
	rules, err := s.AlertRules(ctx)
	if err != nil || len(rules) != 4 || rules[0].Secret != "s-high" || rules[0].MinSeverity != inventory.High {
		t.Errorf("AlertRules = %+v, %v", rules, err)
	}
}

// testAlertLease checks claiming, finishing, retrying and lease expiry.
func testAlertLease(t *testing.T, _ string, s store.Store) {
	ctx := context.Background()
	web := mustAdd(t, s, upload("web", "1.0", "prod", t0, comp("torch", "1.0")))
	rule := mustRule(t, s, alertRule("r", inventory.Info, store.ModeImmediate))
	if _, _, err := s.SyncFindings(ctx, store.FindingScope{Advisory: "A-1"}, []store.Finding{finding("web", "prod", web, "torch", "A-1", inventory.High)}, t0); err != nil {
		t.Fatal(err)
	}
	claim := func(owner string, at time.Time, want int) []store.Delivery {
		t.Helper()
		ds, err := s.ClaimDeliveries(ctx, owner, at, time.Minute, 10)
		if err != nil || len(ds) != want {
			t.Fatalf("ClaimDeliveries(%s, %v) = %d deliveries, %v; want %d", owner, at, len(ds), err, want)
		}
		return ds
	}
	if claim("a", t0.Add(-time.Second), 0); t.Failed() {
		return
	}
	d := claim("a", t0, 1)[0]
	if d.Attempts != 1 || d.Target == nil || d.Target.ID != rule || d.Target.Secret != "s-r" {
		t.Fatalf("claimed %+v target %+v", d, d.Target)
	}
	claim("b", t0.Add(30*time.Second), 0) // leased to a
	// a's lease runs out (a died sending): b claims the second attempt.
	d2 := claim("b", t0.Add(2*time.Minute), 1)[0]
	if d2.Attempts != 2 {
		t.Errorf("reclaimed attempts = %d, want 2", d2.Attempts)
	}
	// a finishing late records nothing.
	if ok, err := s.FinishAttempt(ctx, d.ID, "a", store.Attempt{Attempt: 1, At: t0.Add(3 * time.Minute), Status: store.DeliveryDelivered}); ok || err != nil {
		t.Errorf("stale FinishAttempt = %v, %v", ok, err)
	}
	retry := t0.Add(10 * time.Minute)
	if ok, err := s.FinishAttempt(ctx, d.ID, "b", store.Attempt{Attempt: 2, At: t0.Add(3 * time.Minute), StatusCode: 500,
		Error: "receiver answered 500", Status: store.DeliveryPending, NextAttemptAt: retry}); !ok || err != nil {
		t.Fatalf("FinishAttempt = %v, %v", ok, err)
	}
	claim("a", retry.Add(-time.Second), 0)
	d3 := claim("a", retry, 1)[0]
	if ok, err := s.FinishAttempt(ctx, d3.ID, "a", store.Attempt{Attempt: 3, At: retry, StatusCode: 204, Status: store.DeliveryDelivered}); !ok || err != nil {
		t.Fatalf("FinishAttempt = %v, %v", ok, err)
	}
	claim("a", retry.Add(time.Hour), 0)
	ds, err := s.Deliveries(ctx, store.DeliveryQuery{Status: store.DeliveryDelivered})
	if err != nil || len(ds) != 1 {
		t.Fatalf("delivered = %v, %v", ds, err)
	}
	var log []string
	for _, a := range ds[0].Log {
		log = append(log, fmt.Sprintf("%d %d %s", a.Attempt, a.StatusCode, a.Status))
	}
	if want := []string{"2 500 pending", "3 204 delivered"}; !slices.Equal(log, want) || ds[0].Attempts != 3 {
		t.Errorf("log = %q (attempts %d), want %q", log, ds[0].Attempts, want)
	}
	if ds, err := s.Deliveries(ctx, store.DeliveryQuery{Status: store.DeliveryPending}); err != nil || len(ds) != 0 {
		t.Errorf("pending = %v, %v", ds, err)
	}
}

// testAlertDigest checks that a digest rule gathers findings into one
// delivery per period.
func testAlertDigest(t *testing.T, _ string, s store.Store) {
	ctx := context.Background()
	web := mustAdd(t, s, upload("web", "1.0", "prod", t0, comp("torch", "1.0")))
	rule := mustRule(t, s, alertRule("d", inventory.Info, store.ModeDigest)) // every 10 minutes from t0
	for i, adv := range []string{"A-1", "A-2", "A-3"} {
		at := t0.Add(time.Duration(i) * time.Minute)
		if _, _, err := s.SyncFindings(ctx, store.FindingScope{Advisory: adv}, []store.Finding{finding("web", "prod", web, "torch", adv, inventory.Low)}, at); err != nil {
			t.Fatal(err)
		}
	}
	flush := func(at time.Time, want int) {
		t.Helper()
		if n, err := s.FlushDigests(ctx, at); err != nil || n != want {
			t.Fatalf("FlushDigests(%v) = %d, %v; want %d", at, n, err, want)
		}
	}
	flush(t0.Add(9*time.Minute), 0)
	flush(t0.Add(10*time.Minute), 1)
	flush(t0.Add(10*time.Minute), 0)
	if _, _, err := s.SyncFindings(ctx, store.FindingScope{Advisory: "A-4"}, []store.Finding{finding("web", "prod", web, "torch", "A-4", inventory.Low)}, t0.Add(11*time.Minute)); err != nil {
		t.Fatal(err)
	}
	flush(t0.Add(19*time.Minute), 0) // the next period has not passed
	flush(t0.Add(20*time.Minute), 1)
	want := []string{"[web:A-1 web:A-2 web:A-3]", "[web:A-4]"}
	if got := deliveredFindings(t, s, rule); !slices.Equal(got, want) {
		t.Errorf("digests = %q, want %q", got, want)
	}
}

// testAlertReplicas has two replicas claim the same deliveries at once,
// again and again: none may get a delivery the other holds.
func testAlertReplicas(t *testing.T, a, b store.Store) {
	ctx := context.Background()
	web := mustAdd(t, a, upload("web", "1.0", "prod", t0, comp("torch", "1.0")))
	mustRule(t, a, alertRule("r", inventory.Info, store.ModeImmediate))
	const n = 40
	for i := range n {
		adv := fmt.Sprintf("A-%d", i)
		if _, _, err := a.SyncFindings(ctx, store.FindingScope{Advisory: adv}, []store.Finding{finding("web", "prod", web, "torch", adv, inventory.Low)}, t0); err != nil {
			t.Fatal(err)
		}
	}
	var (
		mu  sync.Mutex
		got = map[int64]string{}
		wg  sync.WaitGroup
	)
	for _, r := range []struct {
		name string
		s    store.Store
	}{{"a", a}, {"b", b}, {"a2", a}, {"b2", b}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				ds, err := r.s.ClaimDeliveries(ctx, r.name, t0, time.Hour, 3)
				if err != nil {
					t.Error(err)
					return
				}
				if len(ds) == 0 {
					return
				}
				for _, d := range ds {
					mu.Lock()
					if other, ok := got[d.ID]; ok {
						t.Errorf("delivery %d claimed by %s and %s", d.ID, other, r.name)
					}
					got[d.ID] = r.name
					mu.Unlock()
					if ok, err := r.s.FinishAttempt(ctx, d.ID, r.name, store.Attempt{Attempt: d.Attempts, At: t0, StatusCode: 200, Status: store.DeliveryDelivered}); !ok || err != nil {
						t.Errorf("FinishAttempt(%d, %s) = %v, %v", d.ID, r.name, ok, err)
					}
				}
			}
		}()
	}
	wg.Wait()
	if len(got) != n {
		t.Errorf("%d deliveries claimed, want %d", len(got), n)
	}
}
