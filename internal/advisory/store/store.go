// Package store keeps OSV advisories in a local SQLite database, imports
// them from OSV's all.zip exports, and looks them up by package.
//
// Records are kept whole (their JSON) and indexed by (ecosystem,
// normalised package name); a lookup re-parses the few records it finds.
// Import is incremental: a record whose modified time is not newer than
// the stored one is skipped, and a withdrawn record is deleted.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/chainvet/chainvet/internal/advisory/osv"
)

// Store is an open advisory database. It is safe for concurrent use.
type Store struct {
	db *sql.DB
}

const schema = `
CREATE TABLE IF NOT EXISTS advisories (
	id        TEXT PRIMARY KEY,
	modified  TEXT NOT NULL,
	severity  TEXT NOT NULL,
	summary   TEXT NOT NULL,
	aliases   TEXT NOT NULL,
	source    TEXT NOT NULL,
	raw       BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS affected (
	advisory  TEXT NOT NULL REFERENCES advisories(id) ON DELETE CASCADE,
	ecosystem TEXT NOT NULL,
	name      TEXT NOT NULL,
	PRIMARY KEY (ecosystem, name, advisory)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS affected_advisory ON affected(advisory);
CREATE TABLE IF NOT EXISTS file_hashes (
	algorithm TEXT NOT NULL,
	value     TEXT NOT NULL,
	advisory  TEXT NOT NULL REFERENCES advisories(id) ON DELETE CASCADE,
	PRIMARY KEY (algorithm, value, advisory)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS file_hashes_advisory ON file_hashes(advisory);
CREATE TABLE IF NOT EXISTS imports (
	source    TEXT PRIMARY KEY,
	imported  TEXT NOT NULL,
	records   INTEGER NOT NULL
);
`

// DefaultPath is where the database lives unless the user says otherwise:
// the user cache directory, since the data can always be downloaded again.
func DefaultPath() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("locate advisory database: %w", err)
	}
	return filepath.Join(dir, "chainvet", "advisories.db"), nil
}

// Open opens (creating if needed) the database at path.
func Open(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("open advisory database: %w", err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)&_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	if err != nil {
		return nil, fmt.Errorf("open advisory database %s: %w", path, err)
	}
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("open advisory database %s: create schema: %w", path, err)
	}
	s := &Store{db: db}
	if err := s.migrate(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open advisory database %s: %w", path, err)
	}
	return s, nil
}

// schemaVersion is the store's PRAGMA user_version: 2 added file_hashes.
const schemaVersion = 2

// migrate brings a database written by an older chainvet up to
// schemaVersion: records imported before file_hashes existed have their
// hashes indexed from the stored raw JSON, since an incremental import
// would skip them as unchanged.
func (s *Store) migrate() error {
	var v int
	if err := s.db.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if v >= schemaVersion {
		return nil
	}
	tx, err := s.db.Begin()
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.Query(`SELECT raw FROM advisories`)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var recs []*osv.Record
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			rows.Close()
			return fmt.Errorf("migrate: %w", err)
		}
		if r, err := osv.Parse(raw); err == nil && len(r.FileHashes()) > 0 {
			recs = append(recs, r)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, r := range recs {
		if err := putHashes(context.Background(), tx, r); err != nil {
			return fmt.Errorf("migrate: %s: %w", r.ID, err)
		}
	}
	if _, err := tx.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, schemaVersion)); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return tx.Commit()
}

// Exists reports whether a database file is at path, so a caller can warn
// that advisories were not checked rather than create an empty one.
func Exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

var pypiSeparators = regexp.MustCompile(`[-_.]+`)

// NormalizeName is name as the ecosystem compares names: PyPI per PEP 503
// (lower case, runs of "-", "_", "." become "-"), npm lower case (scoped
// names included), every other ecosystem as is.
func NormalizeName(ecosystem, name string) string {
	switch ecosystem {
	case "PyPI":
		return pypiSeparators.ReplaceAllString(strings.ToLower(name), "-")
	case "npm":
		return strings.ToLower(name)
	}
	return name
}

// Lookup returns the stored advisories affecting the package name in
// ecosystem (an OSV ecosystem name such as "PyPI", "npm" or "Go"), ordered
// by id.
func (s *Store) Lookup(ctx context.Context, ecosystem, name string) ([]*osv.Record, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT a.raw FROM affected f JOIN advisories a ON a.id = f.advisory
		WHERE f.ecosystem = ? AND f.name = ? ORDER BY a.id`, ecosystem, NormalizeName(ecosystem, name))
	if err != nil {
		return nil, fmt.Errorf("look up %s %s: %w", ecosystem, name, err)
	}
	defer rows.Close()
	var out []*osv.Record
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			return nil, fmt.Errorf("look up %s %s: %w", ecosystem, name, err)
		}
		r, err := osv.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("look up %s %s: stored record: %w", ecosystem, name, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("look up %s %s: %w", ecosystem, name, err)
	}
	return out, nil
}

// LookupHash returns the stored advisories that report a file with the
// digest value (lower-case hex) under algorithm ("sha256" or "sha512"),
// ordered by id.
func (s *Store) LookupHash(ctx context.Context, algorithm, value string) ([]*osv.Record, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT a.raw FROM file_hashes h JOIN advisories a ON a.id = h.advisory
		WHERE h.algorithm = ? AND h.value = ? ORDER BY a.id`, algorithm, strings.ToLower(value))
	if err != nil {
		return nil, fmt.Errorf("look up %s:%s: %w", algorithm, value, err)
	}
	defer rows.Close()
	var out []*osv.Record
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			return nil, fmt.Errorf("look up %s:%s: %w", algorithm, value, err)
		}
		r, err := osv.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("look up %s:%s: stored record: %w", algorithm, value, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("look up %s:%s: %w", algorithm, value, err)
	}
	return out, nil
}

// Source is one import source and when it was last imported.
type Source struct {
	Name     string
	Imported time.Time
	Records  int // records in the source's last import
}

// Status describes what the database holds.
type Status struct {
	Advisories int
	Ecosystems map[string]int // advisories per ecosystem
	Sources    []Source
	LastImport time.Time // zero if nothing was ever imported
}

// Status reports the database's sources, counts and last import time.
func (s *Store) Status(ctx context.Context) (Status, error) {
	st := Status{Ecosystems: map[string]int{}}
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM advisories`).Scan(&st.Advisories); err != nil {
		return st, fmt.Errorf("advisory status: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT ecosystem, COUNT(DISTINCT advisory) FROM affected GROUP BY ecosystem`)
	if err != nil {
		return st, fmt.Errorf("advisory status: %w", err)
	}
	for rows.Next() {
		var eco string
		var n int
		if err := rows.Scan(&eco, &n); err != nil {
			rows.Close()
			return st, fmt.Errorf("advisory status: %w", err)
		}
		st.Ecosystems[eco] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("advisory status: %w", err)
	}
	rows, err = s.db.QueryContext(ctx, `SELECT source, imported, records FROM imports ORDER BY source`)
	if err != nil {
		return st, fmt.Errorf("advisory status: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var src Source
		var when string
		if err := rows.Scan(&src.Name, &when, &src.Records); err != nil {
			return st, fmt.Errorf("advisory status: %w", err)
		}
		t, err := time.Parse(time.RFC3339Nano, when)
		if err != nil {
			return st, fmt.Errorf("advisory status: source %s: %w", src.Name, err)
		}
		src.Imported = t
		st.LastImport = maxTime(st.LastImport, t)
		st.Sources = append(st.Sources, src)
	}
	return st, rows.Err()
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// ErrNoDatabase is returned by OpenExisting when no database exists.
var ErrNoDatabase = errors.New("no advisory database")

// OpenExisting opens the database at path only if it exists, so a scan
// never creates an empty one and mistakes it for "no advisories".
func OpenExisting(path string) (*Store, error) {
	if !Exists(path) {
		return nil, fmt.Errorf("%w at %s: run the advisory update first", ErrNoDatabase, path)
	}
	return Open(path)
}
