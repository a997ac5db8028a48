package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/chainvet/chainvet/internal/catalog"
	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/lock"
	"github.com/chainvet/chainvet/internal/render"
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

type scanFlags struct {
	output, file, failOn string
	depth                int
	fileTime             time.Duration
	workers              int
	cfg                  catalog.Config
	maxDecompressed      string
	digests              bool
}

func newScan(stdout, stderr io.Writer) *cobra.Command {
	f := scanFlags{cfg: catalog.DefaultConfig()}
	c := &cobra.Command{
		Use:   "scan PATH...",
		Short: "Scan files and directories for dangerous model files and archives",
		Long: `scan walks every PATH (files and directories, recursively), recognises formats
by their content, opens archives member by member, and vets every model file
statically: pickles are analysed by a symbolic VM, never unpickled.

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
	fl.StringVarP(&f.output, "output", "o", "table", "report format: "+strings.Join(render.Names(), ", "))
	fl.StringVar(&f.file, "file", "", "write the report to this file instead of standard output")
	fl.StringVar(&f.failOn, "fail-on", "high", "exit 1 when a finding is at or above this severity: info, low, medium, high, critical, or none")
	fl.IntVar(&f.depth, "max-archive-depth", defaultDepth, "archives nested deeper than this are reported, not opened")
	fl.DurationVar(&f.fileTime, "file-timeout", defaultFileTime, "time limit for one file on disk and everything in it")
	fl.IntVarP(&f.workers, "workers", "j", 0, "files scanned at once (0: one per CPU)")
	fl.BoolVar(&f.digests, "digests", false, "add the SHA-256 of every model file (reads the whole files, on all cores)")
	fl.IntVar(&f.cfg.Pickle.Opcodes, "max-opcodes", f.cfg.Pickle.Opcodes, "pickle opcodes analysed per stream")
	fl.IntVar(&f.cfg.Pickle.Memo, "max-memo", f.cfg.Pickle.Memo, "pickle memo entries per stream")
	fl.IntVar(&f.cfg.Pickle.Stack, "max-stack", f.cfg.Pickle.Stack, "pickle stack depth")
	fl.IntVar(&f.cfg.Pickle.Values, "max-values", f.cfg.Pickle.Values, "symbolic values a pickle stream may create, in 32-byte units (bounds memory)")
	fl.Int64Var(&f.cfg.Pickle.Bytes, "max-pickle-bytes", f.cfg.Pickle.Bytes, "bytes of one pickle stream analysed")
	fl.IntVar(&f.cfg.Archive.Entries, "max-entries", f.cfg.Archive.Entries, "members per archive")
	fl.StringVar(&f.maxDecompressed, "max-decompressed", formatSize(f.cfg.Archive.Decompressed), "bytes the archives in one file may inflate to (e.g. 512MiB, 8GiB)")
	fl.Int64Var(&f.cfg.Archive.Ratio, "max-ratio", f.cfg.Archive.Ratio, "inflation ratio beyond which a member is treated as a bomb")
	return c
}

func runScan(cmd *cobra.Command, args []string, f *scanFlags, stdout, stderr io.Writer) error {
	threshold, never, err := parseFailOn(f.failOn)
	if err != nil {
		return hinted{err, "use --fail-on with one of info, low, medium, high, critical, none"}
	}
	if f.cfg.Archive.Decompressed, err = parseSize(f.maxDecompressed); err != nil {
		return hinted{fmt.Errorf("--max-decompressed: %w", err), "give a size such as 512MiB or 8GiB"}
	}
	if f.depth < 0 || f.cfg.Pickle.Opcodes <= 0 || f.cfg.Pickle.Memo <= 0 || f.cfg.Pickle.Stack <= 0 ||
		f.cfg.Pickle.Values <= 0 || f.cfg.Pickle.Bytes <= 0 ||
		f.cfg.Archive.Entries <= 0 || f.cfg.Archive.Ratio <= 0 || f.fileTime < 0 || f.workers < 0 {
		return hinted{errors.New("limits must be positive"), "see 'chainvet scan --help'"}
	}
	out := stdout
	var bw *bufio.Writer
	var file *os.File
	if f.file != "" {
		if file, err = os.Create(f.file); err != nil {
			return hinted{err, "choose a writable path for --file"}
		}
		defer file.Close()
		out = file
	}
	r, err := render.New(f.output, render.Options{Color: f.file == "" && colorful(stdout), Version: version()})
	if err != nil {
		return hinted{err, "use -o with one of " + strings.Join(render.Names(), ", ")}
	}

	var bar *progress
	var progress func(done, total int)
	if terminal(stderr) {
		bar = newProgress(stderr)
		progress = bar.update
	}
	rep, err := inventory.Scan(cmd.Context(), args, inventory.Options{
		Progress:   progress,
		Catalogers: catalog.Catalogers(f.cfg),
		Analyzers:  catalog.Analyzers(f.cfg),
		MaxDepth:   f.depth,
		FileTime:   f.fileTime,
		Workers:    f.workers,
		Tool:       inventory.Tool{Name: "chainvet", Version: version()},
	})
	if bar != nil {
		bar.clear() // before the report, which may share the terminal
	}
	if err != nil {
		return hinted{err, "check that every PATH exists and is readable"}
	}
	if f.digests {
		start := time.Now()
		if err := lock.AddDigests(cmd.Context(), rep, f.workers); err != nil {
			return hinted{fmt.Errorf("hashing: %w", err), "check that the model files are readable, or scan without --digests"}
		}
		rep.Stats.DurationMS += time.Since(start).Milliseconds()
	}
	bw = bufio.NewWriterSize(out, 64<<10)
	if err := r.Render(bw, rep); err != nil {
		return fmt.Errorf("writing %s report: %w", f.output, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	if file != nil {
		if err := file.Close(); err != nil {
			return fmt.Errorf("%s: %w", f.file, err)
		}
	}
	if n := rep.CountAtLeast(threshold); !never && n > 0 {
		if f.output != "table" || f.file != "" {
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
