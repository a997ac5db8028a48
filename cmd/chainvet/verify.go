package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/lock"
)

type verifyFlags struct {
	hashFlags
	out   output
	kinds []string
	paths []string
}

func newVerify(stdout, stderr io.Writer) *cobra.Command {
	var f verifyFlags
	c := &cobra.Command{
		Use:   "verify [PATH]",
		Short: "Check a project against its chainvet.lock (drift); verify model and verify attestation check signatures",
		Long: `verify scans PATH (default: the current folder) again, re-hashes every
locked file in full, and compares the result with PATH/chainvet.lock:
files changed, added, missing or renamed (matched by digest), model folders
whose root digest moved, hub references, actions and images at another
revision, packages whose lockfile hashes differ. The lock file itself is
never counted.

The exit code is 0 when nothing differs, 1 when something does (the table
says what, what was expected, what was found and how to accept the change),
and 2 when the lock is missing or unreadable. Content is always hashed:
sizes and times are never trusted, except with --cache, which reports each
digest it supplied.`,
		Example: `  chainvet verify
  chainvet verify ./model                       # a folder named model: "verify model" is the signature check
  chainvet verify --kind model,dataset ./app
  chainvet verify -o sarif --file drift.sarif .`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return hinted{errors.New("verify takes one PATH"), "chainvet verify ./app"}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerify(cmd, args, &f, stdout, stderr)
		},
	}
	fl := c.Flags()
	fl.StringVarP(&f.out.format, "output", "o", "table", "report format: table, json, sarif")
	fl.StringVar(&f.out.file, "file", "", "write the report to this file instead of standard output")
	fl.StringVar(&f.lockfile, "lockfile", "", "the lock file (default: PATH/"+lock.Name+")")
	fl.StringSliceVar(&f.kinds, "kind", nil, "compare only these kinds: model, dataset, file, package, container, workflow, plugin (comma-separated)")
	fl.StringSliceVar(&f.paths, "path", nil, "compare only paths (relative to PATH) or pin IDs matching these globs")
	addHashFlags(c, &f.hashFlags)
	// verify model and verify attestation check signatures; a folder
	// named like them is verified against its lock as ./model.
	c.AddCommand(newVerifyModel(stdout, stderr), newVerifyAttestation(stdout, stderr))
	return c
}

func runVerify(cmd *cobra.Command, args []string, f *verifyFlags, stdout, stderr io.Writer) error {
	root := "."
	if len(args) == 1 {
		root = args[0]
	}
	switch f.out.format {
	case "table", "json", "sarif":
	default:
		return hinted{fmt.Errorf("unknown output format %q", f.out.format), "use -o with one of table, json, sarif"}
	}
	var filter lock.Filter
	for _, k := range f.kinds {
		switch kk := inventory.Kind(strings.TrimSpace(k)); kk {
		case inventory.KindModel, inventory.KindDataset, inventory.KindPackage, inventory.KindContainer,
			inventory.KindWorkflow, inventory.KindPlugin, "file":
			filter.Kinds = append(filter.Kinds, kk)
		default:
			return hinted{fmt.Errorf("--kind: unknown kind %q", k), "use model, dataset, file, package, container, workflow or plugin"}
		}
	}
	filter.Paths = f.paths
	lockPath := f.lockfile
	if lockPath == "" {
		lockPath = filepath.Join(root, lock.Name)
	}
	locked, err := lock.Read(lockPath)
	if errors.Is(err, os.ErrNotExist) {
		return hinted{fmt.Errorf("no lock: %w", err), "run chainvet lock " + root + " first, or name the lock with --lockfile"}
	}
	if err != nil {
		return hinted{err, "restore the lock from version control, or write a new one with chainvet lock"}
	}
	h, cache, err := f.hasher(stderr)
	if err != nil {
		return err
	}
	opt := lock.BuildOptions{Options: locked.Options, Hasher: h.Hasher, Skip: skipLock(root, lockPath),
		Prior: locked, VerifyShards: true}
	rep, now, _, err := f.build(cmd, root, lockPath, opt, h, cache, stderr)
	if err != nil {
		return err
	}
	drifts := lock.Compare(locked, now, filter)
	for i, d := range drifts {
		drifts[i].Accept = acceptCommand(root, f.lockfile, d)
	}
	if err := f.write(drifts, rep, lockPath, stdout); err != nil {
		return err
	}
	if len(drifts) > 0 {
		fmt.Fprintf(stderr, "chainvet: %d difference(s) from %s\n", len(drifts), lockPath)
		return errFailOn
	}
	if f.out.format == "table" && f.out.file == "" {
		fmt.Fprintf(stdout, "chainvet: %s verified: %d files, %d folders, %d pins, nothing changed\n",
			lockPath, len(locked.Files), len(locked.Folders), len(locked.Pins))
	}
	return nil
}

// write renders the drifts as a table, or as a report's findings.
func (f *verifyFlags) write(ds []lock.Drift, scan *inventory.Report, lockPath string, stdout io.Writer) error {
	if f.out.format != "table" {
		r, err := f.out.renderer(stdout)
		if err != nil {
			return err
		}
		rep := &inventory.Report{Schema: inventory.Schema, Tool: scan.Tool, Targets: scan.Targets,
			Findings: lock.Findings(ds, scan.Targets[0], lockPath), Stats: scan.Stats}
		return f.out.write(r, rep, stdout)
	}
	out := stdout
	if f.out.file != "" {
		file, err := os.Create(f.out.file)
		if err != nil {
			return hinted{err, "choose a writable path for --file"}
		}
		defer file.Close()
		out = file
	}
	if len(ds) == 0 {
		return nil
	}
	bw := bufio.NewWriter(out)
	tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WHAT\tKIND\tCHANGE\tEXPECTED\tFOUND\tTO ACCEPT")
	for _, d := range ds {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.Path, d.Kind, strings.TrimPrefix(d.Rule, "lock/"),
			short(d.Expected), short(d.Found), d.Accept)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return bw.Flush()
}

// acceptCommand is the command line that accepts d, run from where verify
// was: lock --update names paths from the current folder, and finds the
// lock there unless told where it is.
func acceptCommand(root, lockfile string, d lock.Drift) string {
	cmd := "chainvet lock --update"
	if lockfile == "" && filepath.Clean(root) != "." {
		lockfile = filepath.Join(root, lock.Name)
	}
	if lockfile != "" {
		cmd += " --lockfile " + shellQuote(lockfile)
	}
	for _, n := range d.Names() {
		if !d.Pin {
			n = filepath.Join(root, filepath.FromSlash(n))
		}
		cmd += " " + shellQuote(n)
	}
	return cmd
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:@%+=,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// short cuts the long hex digests in s to 12 digits, for a table that fits
// a terminal; JSON and SARIF carry them whole.
func short(s string) string {
	fs := strings.Fields(s)
	for i, w := range fs {
		w = strings.TrimSuffix(w, ",")
		pre, hex, ok := strings.Cut(w, ":")
		if !ok {
			hex, pre = w, ""
		} else {
			pre += ":"
		}
		if len(hex) >= 40 && strings.Trim(hex, "0123456789abcdef") == "" {
			fs[i] = strings.Replace(fs[i], w, pre+hex[:12]+"…", 1)
		}
	}
	return strings.Join(fs, " ")
}
