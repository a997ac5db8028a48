package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/chainvet/chainvet/internal/advisory/store"
)

// staleAfter is the age past which scans warn that the advisory database
// is out of date: OSV publishes daily, and a week-old database misses the
// advisories a fleet most needs.
const staleAfter = 7 * 24 * time.Hour

func newDB(stdout, stderr io.Writer) *cobra.Command {
	var path string
	db := &cobra.Command{
		Use:   "db",
		Short: "Manage the local advisory database (OSV)",
		Long: `db keeps a local copy of OSV advisories — known vulnerabilities and
malicious packages for PyPI, npm, Go and GitHub Actions — that scan and bom
match the inventory against. Nothing is fetched during a scan. db push
uploads such advisories to a chainvet server instead.`,
	}
	db.PersistentFlags().StringVar(&path, "db", "", "advisory database file (default: the user cache dir)")

	var from []string
	update := &cobra.Command{
		Use:   "update",
		Short: "Import OSV advisories, from the public OSV exports or --from a URL or file",
		Example: `  chainvet db update
  chainvet db update --from ./PyPI-all.zip --from https://mirror.example/npm/all.zip`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := dbPath(path)
			if err != nil {
				return err
			}
			s, err := store.Open(p)
			if err != nil {
				return hinted{err, "check that the cache directory is writable, or give --db"}
			}
			defer s.Close()
			sources := from
			if len(sources) == 0 {
				sources = store.DefaultURLs
			}
			client := &http.Client{Timeout: 30 * time.Minute}
			for _, src := range sources {
				var st store.Stats
				if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
					st, err = store.Update(cmd.Context(), s, src, client)
				} else {
					st, err = s.ImportFile(cmd.Context(), src)
				}
				if err != nil {
					return hinted{fmt.Errorf("%s: %w", src, err), "check the source, or import a downloaded all.zip with --from FILE"}
				}
				fmt.Fprintf(stdout, "%s: %d records, %d new or newer, %d unchanged, %d withdrawn, %d invalid\n",
					src, st.Records, st.Added, st.Unchanged, st.Withdrawn, st.Invalid)
				for _, e := range st.Errors {
					fmt.Fprintln(stderr, "chainvet: warning:", e)
				}
			}
			return nil
		},
	}
	update.Flags().StringArrayVar(&from, "from", nil, "an OSV all.zip to import: a URL or a file (repeatable; default: the public OSV exports)")

	status := &cobra.Command{
		Use:   "status",
		Short: "Show the advisory database's sources, counts and age",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := dbPath(path)
			if err != nil {
				return err
			}
			s, err := store.OpenExisting(p)
			if err != nil {
				return hinted{err, "run: chainvet db update"}
			}
			defer s.Close()
			st, err := s.Status(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "database: %s\nadvisories: %d\n", p, st.Advisories)
			ecos := make([]string, 0, len(st.Ecosystems))
			for e := range st.Ecosystems {
				ecos = append(ecos, e)
			}
			sort.Strings(ecos)
			for _, e := range ecos {
				fmt.Fprintf(stdout, "  %s: %d\n", e, st.Ecosystems[e])
			}
			for _, src := range st.Sources {
				fmt.Fprintf(stdout, "source: %s (%d records, imported %s)\n", src.Name, src.Records, src.Imported.UTC().Format(time.RFC3339))
			}
			if age := time.Since(st.LastImport); st.LastImport.IsZero() || age > staleAfter {
				fmt.Fprintf(stderr, "chainvet: warning: the advisory database is stale (last import %s)\nchainvet: fix: run: chainvet db update\n", ageText(st.LastImport))
			}
			return nil
		},
	}
	db.AddCommand(update, status, newDBPush(stdout, stderr))
	return db
}

func dbPath(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	p, err := store.DefaultPath()
	if err != nil {
		return "", hinted{err, "give the database file with --db"}
	}
	return p, nil
}

func ageText(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

// openAdvisories opens the advisory database for a scan, warning on stderr
// when it is missing or stale: a scan without advisories is not a scan that
// found none. It returns nil when there is no database.
func openAdvisories(ctx context.Context, flag string, stderr io.Writer) *store.Store {
	p, err := dbPath(flag)
	if err != nil {
		fmt.Fprintln(stderr, "chainvet: warning:", err)
		return nil
	}
	s, err := store.OpenExisting(p)
	if err != nil {
		fmt.Fprintf(stderr, "chainvet: warning: packages were not checked against advisories: %v\nchainvet: fix: run: chainvet db update\n", err)
		return nil
	}
	if st, err := s.Status(ctx); err == nil && (st.LastImport.IsZero() || time.Since(st.LastImport) > staleAfter) {
		fmt.Fprintf(stderr, "chainvet: warning: the advisory database is stale (last import %s)\nchainvet: fix: run: chainvet db update\n", ageText(st.LastImport))
	}
	return s
}
