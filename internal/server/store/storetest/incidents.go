package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/server/store"
)

// incidents returns the incident methods of s, failing the test when the
// backend has none.
func incidents(t *testing.T, s store.Store) store.Incidents {
	t.Helper()
	is, ok := s.(store.Incidents)
	if !ok {
		t.Fatalf("%T does not keep incidents", s)
	}
	return is
}

func ptr(t time.Time) *time.Time { return &t }

func testIncidents(t *testing.T, _ string, s store.Store) {
	ctx := context.Background()
	is := incidents(t, s)
	web := mustAdd(t, s, upload("web", "1.0", "prod", t0, comp("torch", "1.0")))
	api := mustAdd(t, s, upload("api", "1.0", "prod", t0, comp("torch", "1.0")))
	// Two findings of the advisory, first seen a minute apart; one
	// resolved at +10m.
	if _, _, err := s.SyncFindings(ctx, store.FindingScope{Project: "web", Env: "prod", ReportID: web},
		[]store.Finding{finding("web", "prod", web, "torch", "GHSA-1", inventory.High)}, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.SyncFindings(ctx, store.FindingScope{Project: "api", Env: "prod", ReportID: api},
		[]store.Finding{finding("api", "prod", api, "torch", "GHSA-1", inventory.Critical)}, t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.SyncFindings(ctx, store.FindingScope{Project: "api", Env: "prod", ReportID: api}, nil, t0.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}

	opened := t0.Add(5 * time.Minute)
	a, err := is.OpenIncident(ctx, store.Incident{Title: "torch", Advisory: "GHSA-1", Projects: []string{"web", "api", "web"}, OpenedBy: "admin", Opened: opened})
	if err != nil {
		t.Fatal(err)
	}
	q := &store.ComponentQuery{Name: "numpy", Version: "1.0"}
	b, err := is.OpenIncident(ctx, store.Incident{Title: "numpy", Query: q, Projects: []string{"api"}, OpenedBy: "admin", Opened: opened.Add(time.Minute),
		Steps: []store.Step{{Name: "triage"}, {Name: "close"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := is.Incident(ctx, b+100); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown incident: err %v, want ErrNotFound", err)
	}

	if err := is.CompleteStep(ctx, a, "triage", "alice", opened.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	// Done again: the first time stays.
	if err := is.CompleteStep(ctx, a, "triage", "bob", opened.Add(9*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := is.CompleteStep(ctx, a, "dance", "bob", opened); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown step: err %v, want ErrNotFound", err)
	}
	if err := is.CompleteStep(ctx, a+100, "triage", "bob", opened); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("step of unknown incident: err %v, want ErrNotFound", err)
	}
	closed := opened.Add(20 * time.Minute)
	if err := is.CloseIncident(ctx, a, closed); err != nil {
		t.Fatal(err)
	}
	if err := is.CloseIncident(ctx, a, closed.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := is.CloseIncident(ctx, a+100, closed); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("close unknown incident: err %v, want ErrNotFound", err)
	}
	if err := is.CompleteStep(ctx, a, "verify", "bob", closed.Add(time.Minute)); !errors.Is(err, store.ErrClosed) {
		t.Errorf("step of closed incident: err %v, want ErrClosed", err)
	}

	got, err := is.Incident(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	want := store.Incident{ID: a, Title: "torch", Advisory: "GHSA-1", Projects: []string{"api", "web"}, OpenedBy: "admin",
		Opened: opened, Closed: ptr(closed),
		Steps: []store.Step{{Name: "triage", Done: ptr(opened.Add(time.Minute)), By: "alice"}, {Name: "freeze"}, {Name: "rotate"},
			{Name: "pin-back"}, {Name: "verify"}, {Name: "close"}},
		Detection: store.Detection{FirstFinding: ptr(t0.Add(time.Minute)), LastResolved: ptr(t0.Add(10 * time.Minute)), Open: 1, Total: 2}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Incident (-want +got):\n%s", d)
	}

	ids := func(q store.IncidentQuery) []int64 {
		t.Helper()
		l, err := is.ListIncidents(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, in := range l {
			out = append(out, in.ID)
		}
		return out
	}
	for _, c := range []struct {
		name string
		q    store.IncidentQuery
		want []int64
	}{
		{"all_newest_first", store.IncidentQuery{}, []int64{b, a}},
		{"open", store.IncidentQuery{Status: store.StatusOpen}, []int64{b}},
		{"closed", store.IncidentQuery{Status: store.StatusResolved}, []int64{a}},
		{"project", store.IncidentQuery{Project: "web"}, []int64{a}},
		{"other_project", store.IncidentQuery{Project: "ml"}, nil},
		{"limit", store.IncidentQuery{Limit: 1}, []int64{b}},
	} {
		if d := cmp.Diff(c.want, ids(c.q)); d != "" {
			t.Errorf("%s: (-want +got):\n%s", c.name, d)
		}
	}
	gb, err := is.Incident(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(q, gb.Query); d != "" || len(gb.Steps) != 2 || gb.Detection.Total != 0 {
		t.Errorf("query incident: %+v (query -want +got %s)", gb, d)
	}

	counts, err := is.FindingCounts(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[inventory.Severity]int{inventory.High: 1}, counts); d != "" {
		t.Errorf("FindingCounts (-want +got):\n%s", d)
	}
	if counts, err = is.FindingCounts(ctx, "api"); err != nil || len(counts) != 0 {
		t.Errorf("FindingCounts(api) = %v, %v; want none open", counts, err)
	}
}
