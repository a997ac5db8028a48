package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/chainvet/chainvet/internal/diff"
	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/lock"
	"github.com/chainvet/chainvet/internal/policy"
	"github.com/chainvet/chainvet/internal/suppress"
)

type gateFlags struct {
	policy    string
	base      string
	mode      string
	explain   bool
	format    string
	file      string
	bom       string
	approvals string
	noIgnore  bool
	pipe      pipelineFlags
	// now decides which exceptions and approvals have expired.
	now func() time.Time
	// checker verifies signatures and attestations (signatureChecker).
	checker policy.SignatureChecker
}

func newGate(stdout, stderr io.Writer) *cobra.Command {
	return newGateWith(stdout, stderr, time.Now, signatureChecker{})
}

// newGateWith is the gate command judging expiry at now() and signatures
// with checker; tests fix both.
func newGateWith(stdout, stderr io.Writer, now func() time.Time, checker policy.SignatureChecker) *cobra.Command {
	f := gateFlags{now: now, checker: checker}
	c := &cobra.Command{
		Use:   "gate [PATH]",
		Short: "Judge a project against a policy: pass or fail, with the reason and fix for each failure",
		Long: `gate scans PATH (default: the current folder) as scan does, verifies its
chainvet.lock when there is one (or the policy requires it), checks the
signatures the policy requires, compares it with --base REV and its
approvals, writes a BOM with --bom, and evaluates every control of the
policy (--policy, default PATH/chainvet-policy.yaml).

Every failure names the control, the component and where it is, the
evidence, and the fix; --explain lists every control's result.

Exit codes: 0 pass, 1 fail (never with --mode report, which prints what
would fail), 2 usage or runtime error, including a policy that does not
parse or type-check.`,
		Example: `  chainvet gate --policy examples/policies/strict.yaml .
  chainvet gate --base origin/main -o markdown --file "$GITHUB_STEP_SUMMARY"
  chainvet gate --mode report --explain`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return hinted{errors.New("gate takes one PATH"), "chainvet gate ./app"}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runGate(cmd, args, &f, stdout, stderr)
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.policy, "policy", "", "the policy file (default: PATH/"+policy.FileName+")")
	fl.StringVar(&f.base, "base", "", "git revision to compare with; changes since it need approvals (the approvals control)")
	fl.StringVar(&f.mode, "mode", "enforce", "enforce (exit 1 on failure) or report (never fail; print what would)")
	fl.BoolVar(&f.explain, "explain", false, "show every control's result, not only failures")
	fl.StringVarP(&f.format, "output", "o", "table", "output format: "+strings.Join(policy.Formats, ", "))
	fl.StringVar(&f.file, "file", "", "write the result to this file instead of standard output")
	fl.StringVar(&f.bom, "bom", "", "write the BOM to this file (CycloneDX 1.6 JSON; SPDX 2.3 when it ends in .spdx.json)")
	fl.StringVar(&f.approvals, "approvals", "", "approvals file (default: PATH/"+diff.ApprovalsName+")")
	fl.BoolVar(&f.noIgnore, "no-ignore", false, "apply no suppressions: neither the ignore file nor chainvet:ignore comments")
	addPipelineFlags(fl, &f.pipe, false)
	return c
}

func runGate(cmd *cobra.Command, args []string, f *gateFlags, stdout, stderr io.Writer) error {
	ctx := cmd.Context()
	root := "."
	if len(args) == 1 {
		root = args[0]
	}
	if !slices.Contains(policy.Formats, f.format) {
		return hinted{fmt.Errorf("unknown output format %q", f.format), "use -o with one of " + strings.Join(policy.Formats, ", ")}
	}
	if f.mode != "enforce" && f.mode != "report" {
		return hinted{fmt.Errorf("--mode %q is not enforce or report", f.mode), "use --mode report to see what would fail without failing"}
	}
	if fi, err := os.Stat(root); err != nil {
		return hinted{err, "check that PATH exists"}
	} else if !fi.IsDir() {
		return hinted{fmt.Errorf("%s: not a folder", root), "gate the folder that holds the project"}
	}
	polPath := f.policy
	if polPath == "" {
		polPath = filepath.Join(root, policy.FileName)
	}
	pol, err := policy.Load(polPath)
	if errors.Is(err, fs.ErrNotExist) {
		return hinted{err, "write a policy (see examples/policies/), or name one with --policy"}
	}
	if err != nil {
		return hinted{err, "fix the policy; every key is described in the README's policy reference"}
	}
	var ig *suppress.File
	if !f.noIgnore {
		if ig, err = suppress.Find(root); err != nil {
			return hinted{err, "fix the ignore file, or gate with --no-ignore"}
		}
	}
	rep, err := f.pipe.run(cmd, []string{root}, stderr)
	if err != nil {
		return err
	}
	now := f.now()
	if !f.noIgnore {
		if err := suppress.Apply(ctx, rep, ig, now); err != nil {
			return err
		}
	}
	in := &policy.Input{Root: root, Report: rep, Checker: f.checker, Now: now}
	if in.Lock, err = f.verifyLock(ctx, pol, rep, root); err != nil {
		return err
	}
	if f.base != "" {
		if in.Diff, err = f.compare(cmd, rep, root, now, stderr); err != nil {
			return err
		}
	}
	if f.bom != "" {
		if err := writeBOM(rep, f.bom, stdout); err != nil {
			return err
		}
		in.BOM = f.bom
	}
	res, err := pol.Evaluate(ctx, in)
	if err != nil {
		return hinted{err, "fix the control named, or report a bug if the policy is right"}
	}
	res.Mode = f.mode
	res.Tool = inventory.Tool{Name: "chainvet", Version: version()}
	if err := f.write(res, stdout); err != nil {
		return err
	}
	if res.Pass {
		return nil
	}
	if f.format != "table" || f.file != "" {
		fmt.Fprintf(stderr, "chainvet: gate: %s\n", res.Verdict())
	}
	if f.mode == "report" {
		return nil
	}
	return errFailOn
}

// verifyLock reads and verifies the lock when there is one, or when the
// policy requires one; nil when there is none.
func (f *gateFlags) verifyLock(ctx context.Context, pol *policy.Policy, rep *inventory.Report, root string) (*policy.LockStatus, error) {
	want := false
	for _, c := range pol.Controls {
		want = want || (c.Type == policy.TypePinning && c.Lock != "off") || c.Type == policy.TypeCEL
	}
	if !want {
		return nil, nil
	}
	lockPath := filepath.Join(root, lock.Name)
	locked, err := lock.Read(lockPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	st := &policy.LockStatus{Path: lockPath}
	if err != nil {
		st.Err = err
		return st, nil
	}
	opt := lock.BuildOptions{Options: locked.Options, Hasher: &lock.Hasher{Workers: f.pipe.workers},
		Skip: skipLock(root, lockPath), Prior: locked, VerifyShards: true}
	now, _, err := lock.Build(ctx, rep, root, opt)
	if err != nil {
		st.Err = fmt.Errorf("hashing the tree: %w", err)
		return st, nil
	}
	st.Drifts = lock.Compare(locked, now, lock.Filter{})
	for i, d := range st.Drifts {
		st.Drifts[i].Accept = acceptCommand(root, "", d)
	}
	return st, nil
}

// compare diffs the tree with --base and applies the approvals.
func (f *gateFlags) compare(cmd *cobra.Command, rep *inventory.Report, root string, now time.Time, stderr io.Writer) (*diff.Result, error) {
	pipe := f.pipe
	pipe.noAdvisories = true // the base's inventory is all that is needed
	opt := diff.Options{Repo: root, Scan: func(ctx context.Context, dir string) (*inventory.Report, error) {
		return pipe.run(cmd, []string{dir}, stderr)
	}}
	old, err := loadSide(cmd.Context(), "git:"+f.base, opt)
	if err != nil {
		return nil, err
	}
	defer old.Close()
	res := diff.Compare("git:"+f.base, old.Components, root, relativeTo(rep.Components, root))
	p := f.approvals
	if p == "" {
		p = filepath.Join(root, diff.ApprovalsName)
	}
	apr, err := diff.LoadApprovals(p)
	switch {
	case errors.Is(err, fs.ErrNotExist) && f.approvals == "":
		apr = nil
	case err != nil:
		return nil, hinted{err, "fix the approvals file: each entry needs component, approved_by, reason and expires (YYYY-MM-DD)"}
	}
	res.Apply(apr, now)
	return res, nil
}

// relativeTo copies components with the paths under root made relative
// to it, as the base revision's are: the two sides then compare by what
// is in them.
func relativeTo(cs []inventory.Component, root string) []inventory.Component {
	prefix := filepath.ToSlash(filepath.Clean(root)) + "/"
	if prefix == "./" {
		return cs
	}
	rel := func(s string) string { return strings.ReplaceAll(s, prefix, "") }
	out := make([]inventory.Component, len(cs))
	for i, c := range cs {
		c.ID, c.Name = rel(c.ID), rel(c.Name)
		c.Locations = slices.Clone(c.Locations)
		for j := range c.Locations {
			c.Locations[j].Path = rel(c.Locations[j].Path)
		}
		c.DependsOn = slices.Clone(c.DependsOn)
		for j := range c.DependsOn {
			c.DependsOn[j] = rel(c.DependsOn[j])
		}
		props := make(map[string]string, len(c.Properties))
		for k, v := range c.Properties {
			props[k] = rel(v)
		}
		c.Properties = props
		out[i] = c
	}
	return out
}

// writeBOM writes the inventory as a BOM file: the release's record.
func writeBOM(rep *inventory.Report, name string, stdout io.Writer) error {
	format := "cyclonedx-json"
	if strings.HasSuffix(name, ".spdx.json") {
		format = "spdx-json"
	}
	o := output{format: format, file: name}
	r, err := o.renderer(stdout)
	if err != nil {
		return err
	}
	bom := *rep
	bom.Findings, bom.Suppressed = nil, nil // a BOM lists what is used, not what is wrong
	return o.write(r, &bom, stdout)
}

func (f *gateFlags) write(res *policy.Result, stdout io.Writer) error {
	return writeTo(f.file, stdout, func(w io.Writer) error {
		if err := policy.Render(w, res, f.format, f.explain); err != nil {
			return fmt.Errorf("writing %s gate result: %w", f.format, err)
		}
		return nil
	})
}
