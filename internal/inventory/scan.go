package inventory

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// Options configure a Scan.
type Options struct {
	Catalogers []Cataloger
	Analyzers  []Analyzer
	// MaxDepth bounds archive nesting: a member at a greater Depth is not
	// scanned, and a finding says so.
	MaxDepth int
	// FileTime bounds the work on one file on disk and everything in it.
	// Zero means no bound.
	FileTime time.Duration
	// Workers is the number of files scanned at once; zero means one per CPU.
	Workers int
	Tool    Tool
	// Progress, when set, is called after each file on disk is scanned,
	// from any goroutine, with the count done and the total.
	Progress func(done, total int)
	// Exclude, when set, is asked about every file and directory below a
	// directory target, with its slash-separated path relative to that
	// target; what it excludes is not scanned (a directory, with all that
	// is in it). A target itself is always scanned.
	Exclude func(rel string, dir bool) bool
}

// Rule ids the pipeline itself reports.
const (
	RuleScanError = "scan/error" // a file could not be read to the end
	RuleScanLimit = "scan/limit" // a limit cut the scan of a file short
)

// skipDirs are version-control metadata: not part of what a project runs.
var skipDirs = map[string]bool{".git": true, ".hg": true, ".svn": true}

// Scan walks targets, files and directories alike, runs the catalogers over
// every file and the analyzers over the result. A target that cannot be
// read is an error; a file within one that cannot be read is a finding.
func Scan(ctx context.Context, targets []string, opt Options) (*Report, error) {
	start := time.Now()
	files, err := discover(ctx, targets, opt.Exclude)
	if err != nil {
		return nil, err
	}
	var read atomic.Int64
	var done atomic.Int64
	results := make([]fileResult, len(files))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cmp.Or(opt.Workers, runtime.GOMAXPROCS(0)))
	for i, df := range files {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			results[i] = scanFile(gctx, df, &opt, &read)
			if opt.Progress != nil {
				opt.Progress(int(done.Add(1)), len(files))
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}

	r := &Report{Schema: Schema, Tool: opt.Tool, Targets: targets}
	byID := map[string]int{}
	var m merger
	for _, res := range results {
		r.Stats.Members += res.members
		r.Findings = append(r.Findings, res.findings...)
		for _, c := range res.components {
			if i, ok := byID[c.ID]; ok {
				m.merge(i, &r.Components[i], c)
				continue
			}
			byID[c.ID] = len(r.Components)
			r.Components = append(r.Components, c)
		}
	}
	for _, df := range files {
		r.Stats.Files++
		r.Stats.Bytes += df.size
	}
	for _, a := range opt.Analyzers {
		fs, err := a.Analyze(ctx, r)
		if err != nil {
			return nil, fmt.Errorf("analyzer %s: %w", a.Name(), err)
		}
		r.Findings = append(r.Findings, fs...)
	}
	Sort(r)
	r.Stats.BytesRead = read.Load()
	r.Stats.DurationMS = time.Since(start).Milliseconds()
	return r, nil
}

// Sort puts components and findings in their stable order: components by
// ID; findings by path, offset, line, then rule.
func Sort(r *Report) {
	slices.SortStableFunc(r.Components, func(a, b Component) int { return strings.Compare(a.ID, b.ID) })
	slices.SortStableFunc(r.Findings, func(a, b Finding) int {
		return cmp.Or(
			strings.Compare(a.Path, b.Path),
			cmp.Compare(offset(a), offset(b)),
			cmp.Compare(a.Cell, b.Cell),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Column, b.Column),
			strings.Compare(a.Rule, b.Rule),
			strings.Compare(a.Evidence, b.Evidence),
		)
	})
}

func offset(f Finding) int64 {
	if f.Offset == nil {
		return -1
	}
	return *f.Offset
}

// merger folds repeated reports of a component into the first. It keeps
// sets of what each component holds, so that a component reported
// thousands of times (an action used by every workflow) merges in linear
// time.
type merger struct {
	sets map[int]*componentSets
}

type componentSets struct {
	locs  map[Location]bool
	deps  map[string]bool
	props map[string]map[string]bool
}

func newSets(c *Component) *componentSets {
	cs := &componentSets{locs: map[Location]bool{}, deps: map[string]bool{}, props: map[string]map[string]bool{}}
	for _, l := range c.Locations {
		cs.locs[l] = true
	}
	for _, d := range c.DependsOn {
		cs.deps[d] = true
	}
	for k, v := range c.Properties {
		// Whole values: a value may itself hold commas (">=4.44,<5").
		cs.props[k] = map[string]bool{v: true}
	}
	return cs
}

// merge folds o into c, the component at index i: the first value of each
// field stands; locations, dependencies and digests are joined, and so are
// property values that differ.
func (m *merger) merge(i int, c *Component, o Component) {
	if m.sets == nil {
		m.sets = map[int]*componentSets{}
	}
	cs := m.sets[i]
	if cs == nil {
		cs = newSets(c)
		m.sets[i] = cs
	}
	c.Name = cmp.Or(c.Name, o.Name)
	c.Version = cmp.Or(c.Version, o.Version)
	c.PURL = cmp.Or(c.PURL, o.PURL)
	// A component declared directly anywhere is direct.
	if c.Dependency != Direct {
		c.Dependency = cmp.Or(o.Dependency, c.Dependency)
	}
	for _, d := range o.DependsOn {
		if !cs.deps[d] {
			cs.deps[d] = true
			c.DependsOn = append(c.DependsOn, d)
		}
	}
	for _, d := range o.Digests {
		if !slices.Contains(c.Digests, d) {
			c.Digests = append(c.Digests, d)
		}
	}
	for _, l := range o.Locations {
		if !cs.locs[l] {
			cs.locs[l] = true
			c.Locations = append(c.Locations, l)
		}
	}
	for k, v := range o.Properties {
		if c.Properties == nil {
			c.Properties = map[string]string{}
		}
		vals := cs.props[k]
		if vals == nil {
			vals = map[string]bool{}
			cs.props[k] = vals
		}
		switch _, ok := c.Properties[k]; {
		case !ok:
			c.Properties[k] = v
			vals[v] = true
		case !vals[v]:
			c.Properties[k] += "," + v
			vals[v] = true
		}
	}
}

// hubBlobs reports whether dir is the blobs folder of a Hugging Face hub
// cache repository (models--org--name/blobs). Every blob a revision uses
// is linked from that revision's snapshots folder, where it is scanned
// under the name the model knows it by; scanning the blobs too would
// report each file twice.
func hubBlobs(dir string) bool {
	if filepath.Base(dir) != "blobs" {
		return false
	}
	parent := filepath.Base(filepath.Dir(dir))
	for _, p := range []string{"models--", "datasets--", "spaces--"} {
		if strings.HasPrefix(parent, p) {
			return true
		}
	}
	return false
}

// diskFile is a regular file found by the walk.
type diskFile struct {
	path string
	size int64
}

// discover lists the regular files under targets. It does not follow
// symbolic links to directories, so a tree with a link cycle ends.
func discover(ctx context.Context, targets []string, exclude func(rel string, dir bool) bool) ([]diskFile, error) {
	var files []diskFile
	seen := map[string]bool{}
	add := func(p string, size int64) {
		if !seen[p] {
			seen[p] = true
			files = append(files, diskFile{p, size})
		}
	}
	for _, t := range targets {
		fi, err := os.Stat(t)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t, err)
		}
		if !fi.IsDir() {
			if !fi.Mode().IsRegular() {
				return nil, fmt.Errorf("%s: not a regular file or directory", t)
			}
			add(t, fi.Size())
			continue
		}
		err = filepath.WalkDir(t, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if p == t {
					return err
				}
				// An unreadable entry is scanned (and fails) like any file,
				// so that it shows up as a finding rather than vanishing.
				add(p, 0)
				return nil
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if exclude != nil && p != t {
				if rel, err := filepath.Rel(t, p); err == nil && exclude(filepath.ToSlash(rel), d.IsDir()) {
					if d.IsDir() {
						return filepath.SkipDir
					}
					return nil
				}
			}
			switch {
			case d.IsDir():
				if p != t && (skipDirs[d.Name()] || hubBlobs(p)) {
					return filepath.SkipDir
				}
			case d.Type().IsRegular():
				if fi, err := d.Info(); err == nil {
					add(p, fi.Size())
				} else {
					add(p, 0)
				}
			case d.Type()&fs.ModeSymlink != 0:
				// Follow links to files, not to directories.
				if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
					add(p, fi.Size())
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t, err)
		}
	}
	return files, nil
}

// fileResult is what the catalogers reported about one file on disk.
type fileResult struct {
	components []Component
	findings   []Finding
	members    int
}

// sink collects for one file on disk; it is used from one goroutine.
type sink struct {
	opt *Options
	res *fileResult
}

func (s *sink) Component(c Component) { s.res.components = append(s.res.components, c) }
func (s *sink) Finding(f Finding)     { s.res.findings = append(s.res.findings, f) }

func (s *sink) Scan(ctx context.Context, m *File) {
	if m.Depth > s.opt.MaxDepth {
		s.Finding(Finding{
			Rule: RuleScanLimit, Severity: High, Component: m.Component, Path: m.Path,
			Evidence:    fmt.Sprintf("archive nesting depth %d > limit %d", m.Depth, s.opt.MaxDepth),
			Message:     "archive nested deeper than the limit: its contents were not scanned",
			Remediation: "unpack it and scan the contents, or raise --max-archive-depth if the nesting is legitimate",
		})
		return
	}
	s.res.members++
	s.dispatch(ctx, m)
}

// dispatch runs every cataloger that wants f. A panic in a cataloger is a
// bug, but the file it was reading is reported, not passed.
func (s *sink) dispatch(ctx context.Context, f *File) {
	for _, c := range s.opt.Catalogers {
		if !c.Wants(f) {
			continue
		}
		if ctx.Err() != nil {
			s.limitOrError(ctx, f, ctx.Err())
			return
		}
		err := func() (err error) {
			defer func() {
				if p := recover(); p != nil {
					err = fmt.Errorf("internal error in %s: %v", c.Name(), p)
				}
			}()
			return c.Catalog(ctx, f, s)
		}()
		if err != nil {
			s.limitOrError(ctx, f, err)
		}
	}
}

func (s *sink) limitOrError(ctx context.Context, f *File, err error) {
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
		s.Finding(Finding{
			Rule: RuleScanLimit, Severity: High, Component: f.Component, Path: f.Path,
			Evidence:    fmt.Sprintf("time limit %s reached", s.opt.FileTime),
			Message:     "the scan of this file was cut short by the time limit: it is not known to be clean",
			Remediation: "raise --file-timeout, or inspect the file by hand",
		})
		return
	}
	s.Finding(Finding{
		Rule: RuleScanError, Severity: High, Component: f.Component, Path: f.Path,
		Evidence:    err.Error(),
		Message:     "the file could not be scanned to the end: it is not known to be clean",
		Remediation: "check that the file is readable and complete, then scan again",
	})
}

func scanFile(ctx context.Context, df diskFile, opt *Options, read *atomic.Int64) fileResult {
	var res fileResult
	s := &sink{opt: opt, res: &res}
	if opt.FileTime > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opt.FileTime)
		defer cancel()
	}
	fail := func(err error) fileResult {
		s.Finding(Finding{
			Rule: RuleScanError, Severity: High, Path: df.path, Evidence: err.Error(),
			Message:     "the file could not be read: it is not known to be clean",
			Remediation: "make the file readable by the user running chainvet, then scan again",
		})
		return res
	}
	osf, err := os.Open(df.path)
	if err != nil {
		return fail(err)
	}
	defer osf.Close()
	fi, err := osf.Stat()
	if err != nil {
		return fail(err)
	}
	f, err := NewFile(df.path, osf, fi.Size(), read)
	if err != nil {
		return fail(err)
	}
	s.dispatch(ctx, f)
	return res
}
