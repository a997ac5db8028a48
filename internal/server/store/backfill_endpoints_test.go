package store

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/server/store/pgtest"
)

// TestBackfillEndpoints builds a database as chainvet stored it before
// the endpoint index, and checks that upgrading indexes the endpoints of
// each deployment's latest report, read from its body — a chainvet
// report or a CycloneDX BOM — and of no earlier report, on SQLite and,
// when CHAINVET_TEST_POSTGRES is set, PostgreSQL.
func TestBackfillEndpoints(t *testing.T) {
	dsns := map[string]string{"sqlite": "file:" + filepath.Join(t.TempDir(), "old.db")}
	if dsn := pgtest.DSN(t); dsn != "" {
		dsns["postgres"] = dsn
	}
	for name, dsn := range dsns {
		t.Run(name, func(t *testing.T) { testBackfillEndpoints(t, dsn) })
	}
}

func chainvetReport(t *testing.T, cs ...inventory.Component) []byte {
	t.Helper()
	b, err := json.Marshal(inventory.Report{Schema: inventory.Schema, Components: cs})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testBackfillEndpoints(t *testing.T, dsn string) {
	ctx := context.Background()
	before := slices.IndexFunc(migrations, func(m string) bool { return strings.Contains(m, "CREATE TABLE component_endpoints") }) - 1
	old, err := open(ctx, dsn, int64(before))
	if err != nil {
		t.Fatal(err)
	}
	openai := inventory.Component{ID: "service:openai", Kind: inventory.KindService, Name: "openai",
		Properties: map[string]string{"endpoints": "https://api.openai.com/v1"}, Locations: []inventory.Location{{Path: "app.py"}}}
	anthropic := inventory.Component{ID: "service:anthropic", Kind: inventory.KindService, Name: "anthropic",
		Properties: map[string]string{"endpoints": "https://api.anthropic.com"}}
	bom := `{"bomFormat":"CycloneDX","specVersion":"1.5","services":[{"bom-ref":"svc-1","name":"llm","endpoints":["https://API.openai.com:443/v1/chat"]}]}`
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	reports := []struct {
		project, version string
		body             []byte
		latest           bool
	}{
		{"web", "1.0", chainvetReport(t, openai, anthropic), false},
		{"web", "1.1", chainvetReport(t, openai), true},
		{"api", "2.0", []byte(bom), true},
		{"odd", "0.1", []byte(`{"unknown":true}`), true}, // does not parse: left unindexed
	}
	for i, r := range reports {
		if _, err := old.db.ExecContext(ctx, old.q(`INSERT INTO projects (name, created) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`), r.project, at); err != nil {
			t.Fatal(err)
		}
		if _, err := old.db.ExecContext(ctx, old.q(`INSERT INTO reports (project, version, env, digest, format, received, ncomponents, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
			r.project, r.version, "prod", fmt.Sprintf("sha256:%02d", i), FormatReport, at+int64(i), 1, r.body); err != nil {
			t.Fatal(err)
		}
		if r.latest {
			if _, err := old.db.ExecContext(ctx, old.q(`INSERT INTO deployments (project, env, report_id, received) VALUES (?, ?, ?, ?)
ON CONFLICT (project, env) DO UPDATE SET report_id = excluded.report_id, received = excluded.received`), r.project, "prod", i+1, at+int64(i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	old.Close()

	check := func(s Store) {
		t.Helper()
		for _, tt := range []struct {
			q    ComponentQuery
			want []string
		}{
			{ComponentQuery{Endpoint: "api.openai.com"}, []string{
				"api 2.0 llm https://API.openai.com:443/v1/chat", "web 1.1 openai https://api.openai.com/v1"}},
			// web 1.0 was not the latest: not indexed.
			{ComponentQuery{Endpoint: "api.openai.com", History: true}, []string{
				"api 2.0 llm https://API.openai.com:443/v1/chat", "web 1.1 openai https://api.openai.com/v1"}},
			{ComponentQuery{Endpoint: "api.anthropic.com", History: true}, []string{}},
		} {
			ms, err := s.FindComponents(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, m := range ms {
				got = append(got, m.Project+" "+m.Version+" "+m.Name+" "+m.Endpoint)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("%+v (-want +got):\n%s", tt.q, d)
			}
		}
	}
	s, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	check(s)
	s.Close()
	// Opening again finds the schema current and indexes nothing twice.
	again, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	check(again)
}
