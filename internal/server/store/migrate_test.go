package store

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chainvet/chainvet/internal/server/store/pgtest"
)

// TestMigrateTokenIDs migrates a database whose tokens predate token IDs:
// each gets its ID, and neither expires nor is revoked; on SQLite and,
// when CHAINVET_TEST_POSTGRES is set, PostgreSQL.
func TestMigrateTokenIDs(t *testing.T) {
	dsns := map[string]string{"sqlite": "file:" + filepath.Join(t.TempDir(), "old.db")}
	if dsn := pgtest.DSN(t); dsn != "" {
		dsns["postgres"] = dsn
	}
	v := slices.IndexFunc(migrations, func(m string) bool { return strings.Contains(m, "tokens_id") })
	if v < 1 {
		t.Fatal("no migration adds token IDs")
	}
	for name, dsn := range dsns {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			old, err := open(ctx, dsn, int64(v-1))
			if err != nil {
				t.Fatal(err)
			}
			hash := strings.Repeat("ab", 32)
			if _, err := old.db.ExecContext(ctx, old.q(`INSERT INTO tokens (hash, name, scope, project, created) VALUES (?, 'old', 'admin', '', 1)`), hash); err != nil {
				t.Fatal(err)
			}
			old.Close()
			st, err := Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			tk, err := st.TokenByID(ctx, hash[:TokenIDLen])
			if err != nil || tk.Name != "old" || !tk.Expires.IsZero() || !tk.Revoked.IsZero() {
				t.Errorf("TokenByID after migration = %+v, %v", tk, err)
			}
		})
	}
}
