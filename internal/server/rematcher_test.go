package server

import (
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/chainvet/chainvet/internal/advisory/osv"
	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/server/store"
)

// storeOnly does what a server stopped between its commit and its
// matching leaves behind: the report stored, not matched.
func (f *fixture) storeOnly(t *testing.T, project string, cs ...inventory.Component) {
	t.Helper()
	body := report(cs...)
	format, comps, err := parseUpload(body)
	if err != nil {
		t.Fatal(err)
	}
	u := store.Upload{Project: project, Env: "prod", Digest: fmt.Sprintf("sha256:%x", sha256.Sum256(body)),
		Received: t0, Format: format, Body: body, Components: comps}
	if _, _, err := f.st.AddReport(t.Context(), u); err != nil {
		t.Fatal(err)
	}
}

// storeAdvisoryOnly stores an advisory record without matching it.
func (f *fixture) storeAdvisoryOnly(t *testing.T, raw []byte) {
	t.Helper()
	rec, err := osv.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.st.PutAdvisories(t.Context(), []store.Advisory{toAdvisory(rec, raw)}, t0); err != nil {
		t.Fatal(err)
	}
}

func TestRematcher(t *testing.T) {
	withdrawn := osvJSON("PYSEC-1", t0.Add(time.Hour), "torch", "0", "2.5.0", `,"withdrawn":"2026-11-01T13:00:00Z"`)
	tests := []struct {
		name    string
		setup   func(t *testing.T, f *fixture)
		want    []string // open findings after the rematcher ran
		resolve []string // resolved findings after it ran
	}{
		{"advisory stored, not matched", func(t *testing.T, f *fixture) {
			f.push(t, "web", "env=prod", pkg("torch", "2.4.0"))
			f.storeAdvisoryOnly(t, osvJSON("PYSEC-1", t0, "torch", "0", "2.5.0", ""))
		}, []string{webTorch}, nil},
		{"report stored, not matched", func(t *testing.T, f *fixture) {
			f.importAdvisories(t, osvJSON("PYSEC-1", t0, "torch", "0", "2.5.0", ""))
			f.storeOnly(t, "web", pkg("torch", "2.4.0"))
		}, []string{webTorch}, nil},
		{"advisory withdrawn, findings left open", func(t *testing.T, f *fixture) {
			f.push(t, "web", "env=prod", pkg("torch", "2.4.0"))
			f.importAdvisories(t, osvJSON("PYSEC-1", t0, "torch", "0", "2.5.0", ""))
			f.storeAdvisoryOnly(t, withdrawn)
		}, nil, []string{webTorch + " resolved"}},
		{"all matched by the requests", func(t *testing.T, f *fixture) {
			f.push(t, "web", "env=prod", pkg("torch", "2.4.0"))
			f.importAdvisories(t, osvJSON("PYSEC-1", t0, "torch", "0", "2.5.0", ""))
		}, []string{webTorch}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Options{})
			tt.setup(t, f)
			now := t0
			m, err := NewRematcher(f.srv, RematcherOptions{Now: func() time.Time { return now }, Grace: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			before := f.findings(t, "read", "")
			// Within the grace period the work is the request's.
			if n, err := m.Tick(t.Context()); err != nil || n != len(tt.resolve) {
				// Orphans need no grace: only they may be done at once.
				t.Fatalf("Tick within grace = %d, %v; want %d", n, err, len(tt.resolve))
			}
			if len(tt.resolve) == 0 {
				wantList(t, "findings within grace", before, f.findings(t, "read", ""))
			}
			now = t0.Add(time.Hour)
			if _, err := m.Tick(t.Context()); err != nil {
				t.Fatal(err)
			}
			wantList(t, "open findings", tt.want, f.findings(t, "read", ""))
			wantList(t, "resolved findings", tt.resolve, f.findings(t, "read", "status=resolved"))
			if n, err := m.Tick(t.Context()); err != nil || n != 0 {
				t.Errorf("second Tick = %d, %v; want nothing left", n, err)
			}
		})
	}
}
