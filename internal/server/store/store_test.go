package store_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chainvet/chainvet/internal/server/store"
	"github.com/chainvet/chainvet/internal/server/store/pgtest"
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
	if os.Getenv(pgtest.Env) == "" {
		t.Skip("CHAINVET_TEST_POSTGRES is not set; run .ci/postgres.sh to start a throwaway PostgreSQL")
	}
	storetest.Run(t, func(t *testing.T) string { return pgtest.DSN(t) })
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
