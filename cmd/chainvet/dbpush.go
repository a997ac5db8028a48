package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// advisoryPushTimeout bounds the upload of one file and its import: an
// export of a few hundred MiB over a slow link, then the server matching
// every record it changed against the fleet.
const advisoryPushTimeout = 30 * time.Minute

// advisoryForbidden is the advice for a 403 to db push.
const advisoryForbidden = "advisories are the whole fleet's: use an admin token not limited to a project"

// advisoryImport is what the server did with one file, as POST
// /api/v1/advisories answers.
type advisoryImport struct {
	File      string   `json:"file"`
	Records   int      `json:"records"`
	Added     int      `json:"added"`
	Unchanged int      `json:"unchanged"`
	Withdrawn int      `json:"withdrawn"`
	Invalid   int      `json:"invalid"`
	Errors    []string `json:"errors"`
	Opened    int      `json:"opened"`
	Resolved  int      `json:"resolved"`
}

func newDBPush(stdout, stderr io.Writer) *cobra.Command {
	var (
		f      serverFlags
		output string
	)
	cmd := &cobra.Command{
		Use:   "push --server URL FILE...",
		Short: "Upload OSV advisories to a chainvet server",
		Long: `Push uploads each FILE — an OSV all.zip or one OSV JSON record, as
'db update --from' takes — to a chainvet server (chainvet serve), which
stores it and matches what changed against every deployment at once. Files
are streamed, not read into memory; the server takes up to 1 GiB each.

It prints, per file, the records read, added (new or newer), unchanged and
withdrawn, the invalid ones (named on standard error), and the findings the
import opened and resolved across the fleet. -o json prints a JSON array
instead, one object per imported file: "file" and the server's answer.
A file the server refuses is reported with its message and the others are
still pushed; the command then fails.

The token is --token or $CHAINVET_TOKEN: an admin token not limited to a
project.`,
		Example: `  chainvet db push --server http://127.0.0.1:8080 examples/fleet/advisory.json
  curl -sO https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip
  chainvet db push --server http://fleet:8080 all.zip -o json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return hinted{errors.New("db push: no FILE"), "give an OSV all.zip or JSON record: chainvet db push --server URL all.zip"}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, files []string) error {
			if output != "table" && output != "json" {
				return hinted{fmt.Errorf("db push: unknown output %q", output), "use -o table or -o json"}
			}
			c, err := f.client("db push", "an admin token not limited to a project", advisoryPushTimeout)
			if err != nil {
				return err
			}
			var (
				done   []advisoryImport
				failed []error
				fatal  error
			)
			for _, name := range files {
				res, err := pushAdvisories(cmd.Context(), c, name)
				if err != nil {
					// A file that cannot be read or that the server refuses
					// is this file's problem; anything else would fail for
					// the others too.
					if isAnswer(err) && !isStatus(err, http.StatusBadRequest, http.StatusRequestEntityTooLarge) {
						fatal = err
						break
					}
					failed = append(failed, err)
					continue
				}
				done = append(done, res)
				for _, e := range res.Errors {
					fmt.Fprintf(stderr, "chainvet: warning: %s: %s\n", name, printable(e))
				}
			}
			if err := writeImports(stdout, output, done); err != nil {
				return err
			}
			if fatal != nil {
				printErrors(stderr, failed)
				return fatal
			}
			return joinFailed(stderr, failed, fmt.Sprintf("db push: %d of %d files not imported", len(failed), len(files)))
		},
	}
	f.add(cmd.Flags(), "an admin token not limited to a project")
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	return cmd
}

// fileError is an error about a local file, which was never sent.
type fileError struct{ error }

func (e fileError) Unwrap() error { return e.error }

// isAnswer reports whether err came from the server or the network,
// rather than from reading a local file.
func isAnswer(err error) bool {
	var fe fileError
	return !errors.As(err, &fe)
}

// pushAdvisories streams the file name to the server's advisory import.
func pushAdvisories(ctx context.Context, c *apiClient, name string) (advisoryImport, error) {
	fail := func(err error, hint string) (advisoryImport, error) {
		return advisoryImport{}, hinted{fileError{fmt.Errorf("db push %s: %w", name, err)}, hint}
	}
	f, err := os.Open(name)
	if err != nil {
		return fail(err, "check the FILE path")
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fail(err, "check the FILE path")
	}
	if !fi.Mode().IsRegular() {
		return fail(errors.New("not a regular file"), "give an OSV all.zip or a JSON record, not a directory")
	}
	// The type is the server's choice to make too, but an honest
	// Content-Type costs four bytes.
	head := make([]byte, 4)
	n, _ := io.ReadFull(f, head)
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fail(err, "give a regular file, not a pipe")
	}
	ctype := "application/json"
	if bytes.Equal(head[:n], []byte("PK\x03\x04")) {
		ctype = "application/zip"
	}
	b, err := c.do(ctx, http.MethodPost, "api/v1/advisories", f, fi.Size(), ctype)
	if err != nil {
		err = c.fail(err, name, advisoryForbidden)
		switch {
		case isStatus(err, http.StatusBadRequest):
			return advisoryImport{}, hinted{err, "give an OSV all.zip or one OSV JSON record"}
		case isStatus(err, http.StatusRequestEntityTooLarge):
			return advisoryImport{}, hinted{err, "push the exports of one ecosystem at a time (such as PyPI/all.zip), or raise the server's limit"}
		}
		return advisoryImport{}, err
	}
	res := advisoryImport{File: name}
	if err := json.Unmarshal(b, &res); err != nil {
		return advisoryImport{}, fmt.Errorf("db push %s: the server's answer: %w", name, err)
	}
	res.File = name
	if res.Errors == nil {
		res.Errors = []string{}
	}
	return res, nil
}

// writeImports prints what the server did with each file, as a table or
// as a JSON array.
func writeImports(w io.Writer, format string, res []advisoryImport) error {
	if format == "json" {
		if res == nil {
			res = []advisoryImport{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	if len(res) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FILE\tRECORDS\tADDED\tUNCHANGED\tWITHDRAWN\tINVALID\tOPENED\tRESOLVED")
	for _, r := range res {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", printable(r.File), r.Records, r.Added, r.Unchanged, r.Withdrawn, r.Invalid, r.Opened, r.Resolved)
	}
	return tw.Flush()
}
