package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chainvet/chainvet/internal/server/store"
	"github.com/chainvet/chainvet/internal/server/store/storetest"
)

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) string {
		return "file:" + filepath.Join(t.TempDir(), "server.db")
	})
}

// TestPostgres runs the suite against the PostgreSQL server that
// CHAINVET_TEST_POSTGRES names (.ci/postgres.sh starts one), each test in
// a schema of its own.
func TestPostgres(t *testing.T) {
	base := os.Getenv("CHAINVET_TEST_POSTGRES")
	if base == "" {
		t.Skip("CHAINVET_TEST_POSTGRES is not set; run .ci/postgres.sh to start a throwaway PostgreSQL")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var n atomic.Int64
	prefix := fmt.Sprintf("t%d_", os.Getpid())
	storetest.Run(t, func(t *testing.T) string {
		schema := fmt.Sprintf("%s%d", prefix, n.Add(1))
		ctx := context.Background()
		if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE") })
		u, err := url.Parse(base)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	})
}

func TestOpenUnknown(t *testing.T) {
	for _, dsn := range []string{"", "chainvet.db", "mysql://u:secret@h/db"} {
		_, err := store.Open(context.Background(), dsn)
		if err == nil {
			t.Errorf("Open(%q) succeeded", dsn)
		} else if strings.Contains(err.Error(), "secret") {
			t.Errorf("Open(%q) error shows the password: %v", dsn, err)
		}
	}
}
