package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/chainvet/chainvet/internal/server/store/pgtest"
)

// TestBackfill builds a database as chainvet stored it before migration 2
// — components without package keys, no digest index — and checks that
// upgrading indexes its reports and marks their deployments for
// matching, on SQLite and, when CHAINVET_TEST_POSTGRES is set, PostgreSQL.
func TestBackfill(t *testing.T) {
	dsns := map[string]string{"sqlite": "file:" + filepath.Join(t.TempDir(), "old.db")}
	if dsn := pgtest.DSN(t); dsn != "" {
		dsns["postgres"] = dsn
	}
	for name, dsn := range dsns {
		t.Run(name, func(t *testing.T) { testBackfill(t, dsn) })
	}
}

func testBackfill(t *testing.T, dsn string) {
	ctx := context.Background()
	old, err := open(ctx, dsn, 1)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	for _, stmt := range []struct {
		q    string
		args []any
	}{
		{`INSERT INTO projects (name, created) VALUES (?, ?)`, []any{"web", at}},
		{`INSERT INTO reports (project, version, env, digest, format, received, ncomponents, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			[]any{"web", "1.0", "prod", "sha256:00", FormatReport, at, 3, []byte("{}")}},
		{`INSERT INTO deployments (project, env, report_id, received) VALUES (?, ?, 1, ?)`, []any{"web", "prod", at}},
		{`INSERT INTO components (report_id, kind, name, version, purl, digests, path) VALUES (1, ?, ?, ?, ?, ?, ?)`,
			[]any{"package", "Torch", "2.0.0", "pkg:pypi/Torch@2.0.0", "sha256:aa md5:bb", "requirements.txt"}},
		{`INSERT INTO components (report_id, kind, name, version, purl, digests, path) VALUES (1, ?, ?, ?, ?, ?, ?)`,
			[]any{"model", "model.pt", "", "", "sha512:cc", "model.pt"}},
		{`INSERT INTO components (report_id, kind, name, version, purl, digests, path) VALUES (1, ?, ?, ?, ?, ?, ?)`,
			[]any{"file", "notes", "", "pkg:generic/notes", "", "notes"}},
	} {
		if _, err := old.db.ExecContext(ctx, old.q(stmt.q), stmt.args...); err != nil {
			t.Fatalf("%s: %v", stmt.q, err)
		}
	}
	old.Close()

	s, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ms, err := s.FindComponents(ctx, ComponentQuery{Ecosystem: "PyPI", Package: "torch"})
	if err != nil || len(ms) != 1 || ms[0].CVersion != "2.0.0" {
		t.Errorf("by package key: %+v, %v; want Torch 2.0.0", ms, err)
	}
	for _, d := range []string{"sha256:aa", "sha512:cc"} {
		ms, err := s.FindComponents(ctx, ComponentQuery{Digest: d})
		if err != nil || len(ms) != 1 {
			t.Errorf("by digest %s: %+v, %v; want one", d, ms, err)
		}
	}
	if ms, err := s.FindComponents(ctx, ComponentQuery{Digest: "md5:bb"}); err != nil || len(ms) != 0 {
		t.Errorf("md5 indexed: %+v, %v", ms, err)
	}
	now := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	w, err := s.ClaimMatchWork(ctx, "a", now, now, time.Minute, 10)
	if err != nil || len(w.Deployments) != 1 || w.Deployments[0].ReportID != 1 {
		t.Errorf("match work after upgrade: %+v, %v; want web/prod report 1", w, err)
	}
	// Opening again finds the schema current and changes nothing.
	s.Close()
	again, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if ms, err := again.FindComponents(ctx, ComponentQuery{Digest: "sha256:aa"}); err != nil || len(ms) != 1 {
		t.Errorf("after reopening, by digest: %+v, %v; want one (not indexed twice)", ms, err)
	}
}
