package main

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/chainvet/chainvet/internal/catalog"
	"github.com/chainvet/chainvet/internal/config"
	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/lock"
	"github.com/chainvet/chainvet/internal/ownership"
	"github.com/chainvet/chainvet/internal/render"
	"github.com/chainvet/chainvet/internal/rules/advisories"
	"github.com/chainvet/chainvet/internal/suppress"
)

// Defaults for the pipeline's own limits.
const (
	// defaultDepth allows a model in a tarball in a zip in a 7z, and then
	// some; real artifacts are seldom nested beyond three.
	defaultDepth = 8
	// defaultFileTime bounds one file on disk and everything inside it.
	// Scanning reads headers only, so even large checkpoints take
	// milliseconds; a minute means something is built to stall scanners.
	defaultFileTime = 5 * time.Minute
)

// pipelineFlags are the flags of every command that walks a tree.
type pipelineFlags struct {
	depth           int
	fileTime        time.Duration
	workers         int
	cfg             catalog.Config
	maxDecompressed string
	digests         bool
	config          string
	db              string
	noAdvisories    bool
	exclude         []string
}

func addPipelineFlags(fl *pflag.FlagSet, p *pipelineFlags, digests bool) {
	p.cfg = catalog.DefaultConfig()
	fl.IntVar(&p.depth, "max-archive-depth", defaultDepth, "archives nested deeper than this are reported, not opened")
	fl.DurationVar(&p.fileTime, "file-timeout", defaultFileTime, "time limit for one file on disk and everything in it")
	fl.IntVarP(&p.workers, "workers", "j", 0, "files scanned at once (0: one per CPU)")
	fl.BoolVar(&p.digests, "digests", digests, "add the SHA-256 of every model file (reads the whole files, on all cores)")
	fl.StringVar(&p.config, "config", "", "ownership config (default: .chainvet.yaml in the first PATH, if there is one)")
	fl.StringVar(&p.db, "db", "", "advisory database file (default: the user cache dir; see chainvet db)")
	fl.StringArrayVar(&p.exclude, "exclude", nil, "skip what matches this pattern below each directory PATH (repeatable; e.g. vendor/**, node_modules)")
	fl.BoolVar(&p.noAdvisories, "no-advisories", false, "do not match packages against the advisory database (no warning when it is missing)")
	fl.IntVar(&p.cfg.Pickle.Opcodes, "max-opcodes", p.cfg.Pickle.Opcodes, "pickle opcodes analysed per stream")
	fl.IntVar(&p.cfg.Pickle.Memo, "max-memo", p.cfg.Pickle.Memo, "pickle memo entries per stream")
	fl.IntVar(&p.cfg.Pickle.Stack, "max-stack", p.cfg.Pickle.Stack, "pickle stack depth")
	fl.IntVar(&p.cfg.Pickle.Values, "max-values", p.cfg.Pickle.Values, "symbolic values a pickle stream may create, in 32-byte units (bounds memory)")
	fl.Int64Var(&p.cfg.Pickle.Bytes, "max-pickle-bytes", p.cfg.Pickle.Bytes, "bytes of one pickle stream analysed")
	fl.IntVar(&p.cfg.Archive.Entries, "max-entries", p.cfg.Archive.Entries, "members per archive")
	fl.StringVar(&p.maxDecompressed, "max-decompressed", formatSize(p.cfg.Archive.Decompressed), "bytes the archives in one file may inflate to (e.g. 512MiB, 8GiB)")
	fl.Int64Var(&p.cfg.Archive.Ratio, "max-ratio", p.cfg.Archive.Ratio, "inflation ratio beyond which a member is treated as a bomb")
}

// run walks args through the pipeline, with a progress line on a terminal.
func (p *pipelineFlags) run(cmd *cobra.Command, args []string, stderr io.Writer) (*inventory.Report, error) {
	var err error
	if p.cfg.Archive.Decompressed, err = parseSize(p.maxDecompressed); err != nil {
		return nil, hinted{fmt.Errorf("--max-decompressed: %w", err), "give a size such as 512MiB or 8GiB"}
	}
	if p.depth < 0 || p.cfg.Pickle.Opcodes <= 0 || p.cfg.Pickle.Memo <= 0 || p.cfg.Pickle.Stack <= 0 ||
		p.cfg.Pickle.Values <= 0 || p.cfg.Pickle.Bytes <= 0 ||
		p.cfg.Archive.Entries <= 0 || p.cfg.Archive.Ratio <= 0 || p.fileTime < 0 || p.workers < 0 {
		return nil, hinted{errors.New("limits must be positive"), fmt.Sprintf("see '%s --help'", cmd.CommandPath())}
	}
	exclude, err := config.Excluder(p.exclude)
	if err != nil {
		return nil, hinted{err, "fix the pattern in --exclude, or in exclude: of .chainvet.yaml"}
	}
	var bar *progress
	var progress func(done, total int)
	if terminal(stderr) {
		bar = newProgress(stderr)
		progress = bar.update
	}
	analyzers := catalog.Analyzers(p.cfg)
	if !p.noAdvisories {
		if db := openAdvisories(cmd.Context(), p.db, stderr); db != nil {
			defer db.Close()
			analyzers = append(analyzers, advisories.Analyzer{Store: db})
		}
	}
	rep, err := inventory.Scan(cmd.Context(), args, inventory.Options{
		Progress:   progress,
		Catalogers: catalog.Catalogers(p.cfg),
		Analyzers:  analyzers,
		MaxDepth:   p.depth,
		FileTime:   p.fileTime,
		Workers:    p.workers,
		Exclude:    exclude,
		Tool:       inventory.Tool{Name: "chainvet", Version: version()},
	})
	if bar != nil {
		bar.clear() // before the report, which may share the terminal
	}
	if err != nil {
		return nil, hinted{err, "check that every PATH exists and is readable"}
	}
	catalog.Link(rep)
	cfg, err := p.ownership(args)
	if err != nil {
		return nil, hinted{err, "fix the config, or name another with --config"}
	}
	if cfg != nil {
		cfg.Apply(rep)
	}
	if p.digests {
		start := time.Now()
		if err := lock.AddDigests(cmd.Context(), rep, p.workers); err != nil {
			return nil, hinted{fmt.Errorf("hashing: %w", err), "check that the model files are readable, or run without --digests"}
		}
		rep.Stats.DurationMS += time.Since(start).Milliseconds()
	}
	return rep, nil
}

// ownership loads --config, or .chainvet.yaml in the first PATH.
func (p *pipelineFlags) ownership(args []string) (*ownership.Config, error) {
	if p.config != "" {
		return ownership.Load(p.config)
	}
	root := args[0]
	if fi, err := os.Stat(root); err == nil && !fi.IsDir() {
		root = filepath.Dir(root)
	}
	return ownership.Find(root)
}

// output is where and how a report is written.
type output struct {
	format, file string
}

// renderer checks the format before any work is done.
func (o *output) renderer(stdout io.Writer) (inventory.Renderer, error) {
	r, err := render.New(o.format, render.Options{Color: o.file == "" && colorful(stdout), Version: version()})
	if err != nil {
		return nil, hinted{err, "use -o with one of " + strings.Join(render.Names(), ", ")}
	}
	return r, nil
}

// write renders rep to the --file, or to stdout.
func (o *output) write(r inventory.Renderer, rep *inventory.Report, stdout io.Writer) error {
	return writeTo(o.file, stdout, func(w io.Writer) error {
		if err := r.Render(w, rep); err != nil {
			return fmt.Errorf("writing %s report: %w", o.format, err)
		}
		return nil
	})
}

// writeTo runs render into the file named by --file, or into stdout when
// none is, through one buffer, and reports a failed flush or close: a
// report cut short must not look written.
func writeTo(file string, stdout io.Writer, render func(io.Writer) error) error {
	out := stdout
	var f *os.File
	if file != "" {
		var err error
		if f, err = os.Create(file); err != nil {
			return hinted{err, "choose a writable path for --file"}
		}
		defer f.Close()
		out = f
	}
	bw := bufio.NewWriterSize(out, 64<<10)
	if err := render(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing %s: %w", cmp.Or(file, "standard output"), err)
	}
	if f != nil {
		if err := f.Close(); err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
	}
	return nil
}

type scanFlags struct {
	out        output
	failOn     string
	pipe       pipelineFlags
	ignoreFile string
	noIgnore   bool
	push       pushFlags
}

func newScan(stdout, stderr io.Writer) *cobra.Command {
	var f scanFlags
	c := &cobra.Command{
		Use:   "scan PATH...",
		Short: "Vet models, packages, code, notebooks, CI, containers, agent plugins and secrets under each PATH",
		Long: `scan walks every PATH (files and directories, recursively), recognises formats
by their content, opens archives member by member, and vets what it finds
statically: model files (pickles are analysed by a symbolic VM, never
unpickled), packages against the advisory database and for typosquats,
dependency confusion and install-time code, Python code and notebooks, CI
workflows, Dockerfiles, MCP configs, and secrets. Suppressions come from
chainvet:ignore comments and .chainvet-ignore.yaml.

The report goes to standard output (or --file); the exit code is 1 when a
finding reaches --fail-on.`,
		Example: `  chainvet scan ./models
  chainvet scan -o json --file report.json model.pt
  chainvet scan -o sarif --fail-on critical . > chainvet.sarif`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return hinted{errors.New("scan needs at least one PATH"), "chainvet scan ./models"}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScan(cmd, args, &f, stdout, stderr)
		},
	}
	fl := c.Flags()
	fl.StringVarP(&f.out.format, "output", "o", "table", "report format: "+strings.Join(render.Names(), ", "))
	fl.StringVar(&f.out.file, "file", "", "write the report to this file instead of standard output")
	fl.StringVar(&f.failOn, "fail-on", "high", "exit 1 when a finding is at or above this severity: info, low, medium, high, critical, or none")
	fl.StringVar(&f.ignoreFile, "ignore-file", "", "suppressions to apply (default: "+suppress.FileName+" in the first PATH, if it is a directory and has one)")
	fl.BoolVar(&f.noIgnore, "no-ignore", false, "apply no suppressions: neither the ignore file nor chainvet:ignore comments")
	addPipelineFlags(fl, &f.pipe, false)
	addPushFlags(fl, &f.push)
	return c
}

// ignores loads --ignore-file, or the ignore file in the first PATH when
// it is a directory; nil when there is none.
func (f *scanFlags) ignores(args []string) (*suppress.File, error) {
	if f.ignoreFile != "" {
		return suppress.Load(f.ignoreFile)
	}
	if fi, err := os.Stat(args[0]); err != nil || !fi.IsDir() {
		return nil, nil
	}
	return suppress.Find(args[0])
}

func runScan(cmd *cobra.Command, args []string, f *scanFlags, stdout, stderr io.Writer) error {
	threshold, never, err := parseFailOn(f.failOn)
	if err != nil {
		return hinted{err, "use --fail-on with one of info, low, medium, high, critical, none"}
	}
	r, err := f.out.renderer(stdout)
	if err != nil {
		return err
	}
	if f.noIgnore && f.ignoreFile != "" {
		return hinted{errors.New("--no-ignore and --ignore-file exclude each other"), "drop one of them"}
	}
	var ig *suppress.File
	if !f.noIgnore {
		if ig, err = f.ignores(args); err != nil {
			return hinted{err, "give every entry a rule and a reason (see 'Suppressing findings' in the README), or scan with --no-ignore"}
		}
	}
	rep, err := f.pipe.run(cmd, args, stderr)
	if err != nil {
		return err
	}
	if !f.noIgnore {
		// Suppression comes before the exit code: only findings left count.
		if err := suppress.Apply(cmd.Context(), rep, ig, time.Now()); err != nil {
			return err
		}
	}
	if err := f.out.write(r, rep, stdout); err != nil {
		return err
	}
	// Pushed before the threshold is judged: a report with findings is
	// what the fleet most needs to see.
	if err := f.push.push(cmd.Context(), rep, args, stderr); err != nil {
		return err
	}
	if n := rep.CountAtLeast(threshold); !never && n > 0 {
		if f.out.format != "table" || f.out.file != "" {
			fmt.Fprintf(stderr, "chainvet: %d finding(s) at or above %s\n", n, threshold)
		}
		return errFailOn
	}
	return nil
}

func parseFailOn(s string) (sev inventory.Severity, never bool, err error) {
	if strings.EqualFold(s, "none") {
		return 0, true, nil
	}
	sev, err = inventory.ParseSeverity(s)
	return sev, false, err
}

// colorful reports whether w is a terminal that may be coloured: never when
// NO_COLOR is set (https://no-color.org) or TERM is "dumb".
func colorful(w io.Writer) bool {
	return os.Getenv("NO_COLOR") == "" && terminal(w)
}

// terminal reports whether w is a terminal that can redraw a line.
func terminal(w io.Writer) bool {
	if os.Getenv("TERM") == "dumb" {
		return false
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progress redraws one status line on a terminal, at most ten times a
// second, and erases it when the scan ends.
type progress struct {
	w     io.Writer
	mu    sync.Mutex
	last  time.Time
	drawn bool
}

func newProgress(w io.Writer) *progress { return &progress{w: w} }

func (p *progress) update(done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if now := time.Now(); now.Sub(p.last) >= 100*time.Millisecond || done == total {
		p.last = now
		p.drawn = true
		fmt.Fprintf(p.w, "\r\x1b[Kchainvet: scanned %d of %d files", done, total)
	}
}

func (p *progress) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}

var sizeUnits = []struct {
	suffix string
	mult   int64
}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1}}

// parseSize reads a byte count with an optional unit: 1048576, 512MiB, 8GiB.
func parseSize(s string) (int64, error) {
	mult := int64(1)
	num := strings.TrimSpace(s)
	for _, u := range sizeUnits {
		if strings.HasSuffix(num, u.suffix) {
			num, mult = strings.TrimSpace(strings.TrimSuffix(num, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	return n * mult, nil
}

// formatSize writes n with the largest binary unit that divides it.
func formatSize(n int64) string {
	for i := 3; i >= 0; i-- {
		u := sizeUnits[i]
		if n >= u.mult && n%u.mult == 0 {
			return strconv.FormatInt(n/u.mult, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}
