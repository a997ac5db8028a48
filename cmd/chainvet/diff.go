package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/chainvet/chainvet/internal/diff"
	"github.com/chainvet/chainvet/internal/inventory"
)

type diffFlags struct {
	format, file    string
	repo            string
	approvals       string
	requireApproval bool
	failOnDigest    bool
	pipe            pipelineFlags
	// now is the time approvals are judged at.
	now func() time.Time
}

func newDiff(stdout, stderr io.Writer) *cobra.Command {
	return newDiffAt(stdout, stderr, time.Now)
}

// newDiffAt is the diff command judging approvals at now(); tests fix it.
func newDiffAt(stdout, stderr io.Writer, now func() time.Time) *cobra.Command {
	f := diffFlags{now: now}
	c := &cobra.Command{
		Use:   "diff OLD NEW",
		Short: "Compare two inventories: added, removed and changed components, graded",
		Long: `diff compares the supply chain of OLD with that of NEW. Each is a chainvet
report (-o json), a CycloneDX BOM (JSON or XML), an SPDX 2 JSON document, a
chainvet.lock, a directory (scanned as bom would), or git:REV — a revision
of the repository in the current directory (or --repo), read from its
object store without a checkout.

It reports every component added, removed or changed, of every kind; grades
version jumps (major, minor, patch, prerelease, downgrade, revision); names,
for each new transitive dependency, the direct ones that pull it in; and
flags the same version with a different digest, which fails the command
unless an approval covers it (--fail-on-digest-change=false to only report).

With --require-approval, every added component, version jump and content
change needs a live entry in chainvet-approvals.yaml (in NEW's directory or
tree, else the current directory; or --approvals FILE); the exit code is 1
when one lacks it.

Exit codes: 0 nothing to fail on, 1 unapproved changes or a digest red
flag, 2 usage or runtime error.`,
		Example: `  chainvet diff git:main git:HEAD
  chainvet diff -o markdown --require-approval old.cdx.json new.cdx.json
  chainvet diff --repo ../service git:v1.4.0 git:v1.5.0`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return hinted{fmt.Errorf("diff needs OLD and NEW, got %d argument(s)", len(args)), "chainvet diff git:main git:HEAD"}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDiff(cmd, args, &f, stdout, stderr)
		},
	}
	fl := c.Flags()
	fl.StringVarP(&f.format, "output", "o", "table", "diff format: "+strings.Join(diff.Formats, ", "))
	fl.StringVar(&f.file, "file", "", "write the diff to this file instead of standard output")
	fl.StringVar(&f.repo, "repo", "", "git repository that git:REV inputs are read from (default: the current directory)")
	fl.StringVar(&f.approvals, "approvals", "", "approvals file (default: "+diff.ApprovalsName+" in NEW's directory, else the current directory)")
	fl.BoolVar(&f.requireApproval, "require-approval", false, "exit 1 when an added component or version jump lacks a live approval")
	fl.BoolVar(&f.failOnDigest, "fail-on-digest-change", true, "exit 1 when a component keeps its version but its digest changed, unless approved")
	addPipelineFlags(fl, &f.pipe, true)
	// A diff has no findings: the advisory database would be opened for
	// nothing.
	fl.MarkHidden("db")
	fl.MarkHidden("no-advisories")
	return c
}

func runDiff(cmd *cobra.Command, args []string, f *diffFlags, stdout, stderr io.Writer) error {
	if !validFormat(f.format) {
		return hinted{fmt.Errorf("unknown diff format %q", f.format), "use -o with one of " + strings.Join(diff.Formats, ", ")}
	}
	f.pipe.noAdvisories = true
	opt := diff.Options{
		Repo: f.repo,
		Scan: func(ctx context.Context, dir string) (*inventory.Report, error) {
			return f.pipe.run(cmd, []string{dir}, stderr)
		},
	}
	old, err := loadSide(cmd.Context(), args[0], opt)
	if err != nil {
		return err
	}
	defer old.Close()
	nw, err := loadSide(cmd.Context(), args[1], opt)
	if err != nil {
		return err
	}
	defer nw.Close()

	res := diff.Compare(old.Label, old.Components, nw.Label, nw.Components)
	apr, err := f.loadApprovals(nw)
	if err != nil {
		return err
	}
	if f.requireApproval || apr != nil {
		res.Apply(apr, f.now())
	}
	if err := f.write(res, stdout); err != nil {
		return err
	}
	var fail []*diff.Change
	for i := range res.Changes {
		c := &res.Changes[i]
		if approved := c.Approval != nil && c.Approval.Approved; approved {
			continue
		}
		if (f.requireApproval && c.NeedsApproval()) || (f.failOnDigest && c.RedFlag()) {
			fail = append(fail, c)
		}
	}
	if len(fail) == 0 {
		return nil
	}
	for _, c := range fail {
		note := "no approval"
		if c.Approval != nil {
			note = c.Approval.Note
		}
		fmt.Fprintf(stderr, "chainvet: %s: %s\n", describe(c), note)
	}
	fmt.Fprintf(stderr, "chainvet: %d change(s) need approval\n", len(fail))
	where := f.approvals
	if where == "" {
		where = diff.ApprovalsName
	}
	fmt.Fprintf(stderr, "chainvet: fix: review each, then add an entry for it to %s (component, versions, approved_by, reason, expires)\n", where)
	return errFailOn
}

func validFormat(s string) bool {
	for _, n := range diff.Formats {
		if n == s {
			return true
		}
	}
	return false
}

// describe names a change for a message: what, and from which version to
// which.
func describe(c *diff.Change) string {
	switch {
	case c.Type == diff.Added:
		return fmt.Sprintf("added %s %s", c.Key, c.New.Version)
	case c.RedFlag():
		return fmt.Sprintf("%s %s has a different digest at the same version", c.Key, c.New.Version)
	case c.Jump != "":
		return fmt.Sprintf("%s %s → %s (%s)", c.Key, c.Old.Version, c.New.Version, c.Jump)
	}
	return fmt.Sprintf("%s content changed", c.Key)
}

// loadSide reads one input, turning its errors into advice.
func loadSide(ctx context.Context, spec string, opt diff.Options) (*diff.Side, error) {
	s, err := diff.Load(ctx, spec, opt)
	var h hinted
	switch {
	case err == nil:
		return s, nil
	case errors.As(err, &h):
		return nil, err
	case errors.Is(err, diff.ErrRevision):
		return nil, hinted{err, "name a commit, branch or tag that exists (git log --oneline), and the repository with --repo if it is not the current directory"}
	case errors.Is(err, diff.ErrUnknownInput):
		return nil, hinted{err, "give a chainvet report (chainvet scan -o json), a CycloneDX or SPDX BOM (chainvet bom), a chainvet.lock, a directory, or git:REV"}
	case errors.Is(err, fs.ErrNotExist):
		return nil, hinted{err, "check the path, or write a revision as git:" + spec}
	}
	return nil, hinted{err, "check that " + spec + " is readable"}
}

// loadApprovals reads --approvals, or the approvals file in NEW's
// directory, or in the current one; nil when there is none.
func (f *diffFlags) loadApprovals(nw *diff.Side) (*diff.Approvals, error) {
	paths := []string{f.approvals}
	if f.approvals == "" {
		paths = []string{filepath.Join(nw.Dir, diff.ApprovalsName), diff.ApprovalsName}
	}
	for _, p := range paths {
		a, err := diff.LoadApprovals(p)
		switch {
		case err == nil:
			if strings.HasPrefix(nw.Label, "git:") && strings.HasPrefix(p, nw.Dir) {
				a.Path = nw.Label + ":" + diff.ApprovalsName
			}
			return a, nil
		case errors.Is(err, fs.ErrNotExist) && f.approvals == "":
			continue
		}
		return nil, hinted{err, "fix the approvals file: each entry needs component, approved_by, reason and expires (YYYY-MM-DD)"}
	}
	return nil, nil
}

func (f *diffFlags) write(res *diff.Result, stdout io.Writer) error {
	return writeTo(f.file, stdout, func(w io.Writer) error { return diff.Render(w, res, f.format) })
}
