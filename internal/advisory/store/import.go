package store

import (
	"archive/zip"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"strings"
	"time"

	"github.com/chainvet/chainvet/internal/advisory/osv"
)

// Limits on an imported archive. OSV's largest export (npm, mostly
// malicious-package reports) holds a few hundred thousand records.
const (
	// MaxEntries bounds the members of one all.zip.
	MaxEntries = 2_000_000
	// MaxDownload bounds a downloaded all.zip, in bytes; the largest OSV
	// export is a few hundred MiB.
	MaxDownload = 4 << 30
	// batchSize is how many records one transaction commits: large enough
	// to amortise commits, small enough that a cancelled import keeps most
	// of its work.
	batchSize = 2000
	// maxErrors is how many record errors Stats keeps verbatim.
	maxErrors = 20
)

// Default export URLs of the public OSV bucket, one per ecosystem chainvet
// matches. They are fetched only by an explicit update.
const (
	URLPyPI          = "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip"
	URLNpm           = "https://osv-vulnerabilities.storage.googleapis.com/npm/all.zip"
	URLGo            = "https://osv-vulnerabilities.storage.googleapis.com/Go/all.zip"
	URLGitHubActions = "https://osv-vulnerabilities.storage.googleapis.com/GitHub%20Actions/all.zip"
)

// DefaultURLs are the exports an update fetches by default.
var DefaultURLs = []string{URLPyPI, URLNpm, URLGo, URLGitHubActions}

// Stats counts what an import did.
type Stats struct {
	Records   int      // JSON members read
	Added     int      // new or newer records stored
	Unchanged int      // records not newer than the stored copy
	Withdrawn int      // withdrawn records (removed if stored)
	Invalid   int      // members that were not valid records
	Errors    []string // the first few invalid members, with their error
}

// Import reads an OSV all.zip (one JSON record per member) from r and
// stores its records, recording source as their origin.
func (s *Store) Import(ctx context.Context, r io.ReaderAt, size int64, source string) (Stats, error) {
	var st Stats
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return st, fmt.Errorf("import %s: %w", source, err)
	}
	if len(zr.File) > MaxEntries {
		return st, fmt.Errorf("import %s: %d members, over the limit of %d", source, len(zr.File), MaxEntries)
	}
	var tx *sql.Tx
	var w *writer
	defer func() {
		if tx != nil {
			tx.Rollback()
		}
	}()
	inBatch := 0
	for _, zf := range zr.File {
		if err := ctx.Err(); err != nil {
			return st, fmt.Errorf("import %s: %w", source, err)
		}
		if zf.FileInfo().IsDir() || path.Ext(zf.Name) != ".json" {
			continue
		}
		st.Records++
		rec, raw, err := osv.ReadMember(zf)
		if err != nil {
			st.Invalid++
			if len(st.Errors) < maxErrors {
				st.Errors = append(st.Errors, zf.Name+": "+err.Error())
			}
			continue
		}
		if tx == nil {
			if tx, err = s.db.BeginTx(ctx, nil); err != nil {
				return st, fmt.Errorf("import %s: %w", source, err)
			}
			if w, err = newWriter(ctx, tx); err != nil {
				return st, fmt.Errorf("import %s: %w", source, err)
			}
		}
		if err := w.put(ctx, rec, raw, source, &st); err != nil {
			return st, fmt.Errorf("import %s: %s: %w", source, zf.Name, err)
		}
		if inBatch++; inBatch >= batchSize {
			if err := tx.Commit(); err != nil {
				return st, fmt.Errorf("import %s: %w", source, err)
			}
			tx, inBatch = nil, 0
		}
	}
	if tx == nil {
		if tx, err = s.db.BeginTx(ctx, nil); err != nil {
			return st, fmt.Errorf("import %s: %w", source, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO imports(source, imported, records) VALUES(?, ?, ?)
		ON CONFLICT(source) DO UPDATE SET imported = excluded.imported, records = excluded.records`,
		source, time.Now().UTC().Format(time.RFC3339Nano), st.Records); err != nil {
		return st, fmt.Errorf("import %s: %w", source, err)
	}
	if err := tx.Commit(); err != nil {
		return st, fmt.Errorf("import %s: %w", source, err)
	}
	tx = nil
	return st, nil
}

// writer holds one transaction's prepared statements: preparing each
// statement once per batch, not once per record, is most of an import's
// speed.
type writer struct {
	tx                                 *sql.Tx
	modified, delAffected, delAdvisory *sql.Stmt
	insAdvisory, insAffected, insHash  *sql.Stmt
}

func newWriter(ctx context.Context, tx *sql.Tx) (*writer, error) {
	w := &writer{tx: tx}
	for _, p := range []struct {
		stmt **sql.Stmt
		sql  string
	}{
		{&w.modified, `SELECT modified FROM advisories WHERE id = ?`},
		{&w.delAffected, `DELETE FROM affected WHERE advisory = ?`},
		{&w.delAdvisory, `DELETE FROM advisories WHERE id = ?`},
		{&w.insAdvisory, `INSERT INTO advisories(id, modified, severity, summary, aliases, source, raw) VALUES(?, ?, ?, ?, ?, ?, ?)`},
		{&w.insAffected, `INSERT OR IGNORE INTO affected(advisory, ecosystem, name) VALUES(?, ?, ?)`},
		{&w.insHash, `INSERT OR IGNORE INTO file_hashes(algorithm, value, advisory) VALUES(?, ?, ?)`},
	} {
		st, err := tx.PrepareContext(ctx, p.sql)
		if err != nil {
			return nil, err
		}
		*p.stmt = st
	}
	return w, nil
}

// put stores rec unless the stored copy is as new, or deletes it if it
// has been withdrawn.
func (w *writer) put(ctx context.Context, rec *osv.Record, raw []byte, source string, st *Stats) error {
	var stored string
	err := w.modified.QueryRowContext(ctx, rec.ID).Scan(&stored)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return err
	default:
		if t, err := time.Parse(time.RFC3339Nano, stored); err == nil && !rec.Modified.After(t) {
			st.Unchanged++
			return nil
		}
		// file_hashes go with the advisory (ON DELETE CASCADE).
		if _, err := w.delAffected.ExecContext(ctx, rec.ID); err != nil {
			return err
		}
		if _, err := w.delAdvisory.ExecContext(ctx, rec.ID); err != nil {
			return err
		}
	}
	if !rec.Withdrawn.IsZero() {
		st.Withdrawn++
		return nil
	}
	aliases, err := json.Marshal(rec.Aliases)
	if err != nil {
		return err
	}
	sev, _ := rec.Rank()
	if _, err := w.insAdvisory.ExecContext(ctx, rec.ID, rec.Modified.UTC().Format(time.RFC3339Nano), sev.String(), rec.Summary, string(aliases), source, raw); err != nil {
		return err
	}
	for _, a := range rec.Affected {
		if a.Package.Ecosystem == "" || a.Package.Name == "" {
			continue
		}
		if _, err := w.insAffected.ExecContext(ctx, rec.ID, a.Package.Ecosystem, NormalizeName(a.Package.Ecosystem, a.Package.Name)); err != nil {
			return err
		}
	}
	for _, h := range rec.FileHashes() {
		if _, err := w.insHash.ExecContext(ctx, h.Algorithm, h.Value, rec.ID); err != nil {
			return err
		}
	}
	st.Added++
	return nil
}

// putHashes indexes the file digests rec reports.
func putHashes(ctx context.Context, tx *sql.Tx, rec *osv.Record) error {
	for _, h := range rec.FileHashes() {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO file_hashes(algorithm, value, advisory) VALUES(?, ?, ?)`,
			h.Algorithm, h.Value, rec.ID); err != nil {
			return err
		}
	}
	return nil
}

// ImportFile imports an all.zip from a local file (an update's --from).
func (s *Store) ImportFile(ctx context.Context, name string) (Stats, error) {
	f, err := os.Open(name)
	if err != nil {
		return Stats{}, fmt.Errorf("import: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Stats{}, fmt.Errorf("import: %w", err)
	}
	return s.Import(ctx, f, fi.Size(), "file:"+name)
}

// Update downloads the all.zip at url with client (http.DefaultClient if
// nil) into a temporary file, then imports it with url as its source.
func Update(ctx context.Context, s *Store, url string, client *http.Client) (Stats, error) {
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return Stats{}, fmt.Errorf("update from %s: %w", url, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return Stats{}, fmt.Errorf("update from %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Stats{}, fmt.Errorf("update from %s: %s", url, resp.Status)
	}
	tmp, err := os.CreateTemp("", "chainvet-osv-*.zip")
	if err != nil {
		return Stats{}, fmt.Errorf("update from %s: %w", url, err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	n, err := io.Copy(tmp, io.LimitReader(resp.Body, MaxDownload+1))
	if err != nil {
		return Stats{}, fmt.Errorf("update from %s: download: %w", url, err)
	}
	if n > MaxDownload {
		return Stats{}, fmt.Errorf("update from %s: over the %d byte download limit", url, int64(MaxDownload))
	}
	return s.Import(ctx, tmp, n, strings.TrimSpace(url))
}
