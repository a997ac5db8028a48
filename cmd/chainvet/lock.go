package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/lock"
)

// hashFlags are the flags of the commands that hash a tree.
type hashFlags struct {
	lockfile string
	cache    bool
	pipe     pipelineFlags
}

type lockFlags struct {
	hashFlags
	allowUnpinned bool
	allFiles      bool
	shards        bool
	update        bool
}

func newLock(stdout, stderr io.Writer) *cobra.Command {
	var f lockFlags
	c := &cobra.Command{
		Use:   "lock [PATH]",
		Short: "Pin every model, dataset, package, action, image and plugin of a project in chainvet.lock",
		Long: `lock scans PATH (default: the current folder) and writes PATH/chainvet.lock:
every model and dataset file with its size and SHA-256, a root digest for
each model folder, Hugging Face references with their commit, packages with
their version, index and lockfile hashes, MCP launches, CI actions by commit
SHA, container images by digest.

Anything that cannot be pinned immutably — an action on a tag, an image
without a digest, a hub reference without a commit, a package without a
version — is an error naming each item and how to pin it, unless
--allow-unpinned records it as unpinned.

With --update, only the paths and pins named are re-pinned (a path names
the files and folders under it and the pins declared in it; a pin is named
by its ID, or its purl without the version); the rest of the lock is kept
as it was.`,
		Example: `  chainvet lock .
  chainvet lock --allow-unpinned --lockfile /srv/locks/app.lock ./app
  chainvet lock --update models/bert pkg:pypi/torch`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLock(cmd, args, &f, stderr)
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.lockfile, "lockfile", "", "the lock file (default: PATH/"+lock.Name+")")
	fl.BoolVar(&f.allowUnpinned, "allow-unpinned", false, "record what cannot be pinned as unpinned instead of failing")
	fl.BoolVar(&f.allFiles, "all-files", false, "lock every file under PATH, not only models and datasets")
	fl.BoolVar(&f.shards, "shards", false, "also record SHA-256 of each 64 MiB shard of large files, so that verify hashes one large file on all cores")
	fl.BoolVar(&f.update, "update", false, "re-pin only the paths and pin IDs given as arguments, in the lock of the current folder (or --lockfile's)")
	addHashFlags(c, &f.hashFlags)
	return c
}

func addHashFlags(c *cobra.Command, f *hashFlags) {
	fl := c.Flags()
	fl.BoolVar(&f.cache, "cache", false, "reuse digests of files whose device, inode, size, mtime and ctime are unchanged (local use only; refused when CI is set)")
	addPipelineFlags(fl, &f.pipe, false)
	fl.MarkHidden("digests") // files are always hashed here
}

func runLock(cmd *cobra.Command, args []string, f *lockFlags, stderr io.Writer) error {
	root := "."
	var names []string
	switch {
	case f.update:
		if len(args) == 0 {
			return hinted{errors.New("--update needs the paths or pin IDs to re-pin"), "chainvet lock --update models/bert pkg:pypi/torch"}
		}
		names = args
		if f.lockfile != "" {
			root = filepath.Dir(f.lockfile)
		}
	case len(args) > 1:
		return hinted{errors.New("lock takes one PATH"), "lock each folder on its own, or the folder above them"}
	case len(args) == 1:
		root = args[0]
	}
	if fi, err := os.Stat(root); err != nil {
		return hinted{err, "check that PATH exists"}
	} else if !fi.IsDir() {
		return hinted{fmt.Errorf("%s: not a folder", root), "lock the folder that holds it"}
	}
	lockPath := f.lockfile
	if lockPath == "" {
		lockPath = filepath.Join(root, lock.Name)
	}
	var prior *lock.File
	var keep func(string, []string) bool
	if f.update {
		var err error
		if prior, err = lock.Read(lockPath); err != nil {
			return hinted{fmt.Errorf("reading the lock: %w", err), "run chainvet lock first, or name it with --lockfile"}
		}
		rel := make([]string, len(names))
		for i, n := range names {
			rel[i] = relName(root, n)
		}
		keep = func(x string, locs []string) bool { return !named(rel, x, locs) }
		f.allFiles, f.shards = f.allFiles || prior.Options.AllFiles, f.shards || prior.Options.Shards
	}
	h, cache, err := f.hasher(stderr)
	if err != nil {
		return err
	}
	opt := lock.BuildOptions{
		Options: lock.Options{AllFiles: f.allFiles, Shards: f.shards},
		Hasher:  h.Hasher, Skip: skipLock(root, lockPath), Prior: prior, Keep: keep,
	}
	_, lf, unpinned, err := f.build(cmd, root, lockPath, opt, h, cache, stderr)
	if err != nil {
		return err
	}
	if len(unpinned) > 0 && !f.allowUnpinned {
		for _, u := range unpinned {
			fmt.Fprintf(stderr, "chainvet: unpinned: %s (%s)\n", u.ID, u.Location)
			fmt.Fprintf(stderr, "chainvet:   pin it: %s\n", u.Fix)
		}
		return hinted{fmt.Errorf("%d item(s) cannot be pinned immutably", len(unpinned)),
			"pin each as shown, or run with --allow-unpinned to record them as unpinned"}
	}
	if err := writeFileAtomic(lockPath, lf.Marshal()); err != nil {
		return hinted{err, "choose a writable path with --lockfile"}
	}
	var bytes int64
	for _, a := range lf.Files {
		bytes += a.Size
	}
	fmt.Fprintf(stderr, "chainvet: wrote %s: %d files (%s), %d folders, %d pins", lockPath, len(lf.Files), humanBytes(bytes), len(lf.Folders), len(lf.Pins))
	if len(unpinned) > 0 {
		fmt.Fprintf(stderr, ", %d unpinned", len(unpinned))
	}
	fmt.Fprintln(stderr)
	return nil
}

// scanAndPrehash scans root and, at the same time, hashes the files the
// lock at lockPath already names, if there is one: the scan reads headers
// and leaves cores idle. Every byte is still hashed, now; only the order
// changes. The hashing progress is drawn once the scan's line is gone.
func scanAndPrehash(cmd *cobra.Command, pipe *pipelineFlags, root, lockPath string, opt lock.BuildOptions, h meteredHasher, stderr io.Writer) (*inventory.Report, map[string]lock.Sum, error) {
	switch {
	case opt.Prior == nil:
		opt.Prior, _ = lock.Read(lockPath) // none, or unreadable: nothing to start with
	case opt.Keep != nil:
		// Hash now only what Build will hash: what --update names.
		kept := *opt.Prior
		kept.Files = nil
		for _, a := range opt.Prior.Files {
			if !opt.Keep(a.Path, nil) {
				kept.Files = append(kept.Files, a)
			}
		}
		opt.Prior = &kept
	}
	h.hold(true)
	ctx, cancel := context.WithCancel(cmd.Context())
	defer cancel()
	type prehashed struct {
		sums map[string]lock.Sum
		err  error
	}
	pre := make(chan prehashed, 1)
	go func() {
		sums, err := lock.Prehash(ctx, root, opt)
		pre <- prehashed{sums, err}
	}()
	rep, err := pipe.run(cmd, []string{root}, stderr)
	h.hold(false)
	if err != nil {
		cancel()
		<-pre
		return nil, nil, err
	}
	p := <-pre
	if p.err != nil {
		return nil, nil, hinted{fmt.Errorf("hashing: %w", p.err), "check that every file under PATH is readable"}
	}
	return rep, p.sums, nil
}

// relName makes a named path relative to the root, slash-separated; pin
// IDs (which hold a colon and do not exist as files) are left alone.
func relName(root, n string) string {
	if _, err := os.Lstat(n); err != nil && strings.Contains(n, ":") {
		return n
	}
	if r, err := filepath.Rel(root, n); err == nil {
		return filepath.ToSlash(r)
	}
	return filepath.ToSlash(n)
}

// named reports whether x — a path, or a pin's ID with its locations — is
// one of names or under one of them.
func named(names []string, x string, locs []string) bool {
	for _, n := range names {
		if n == "." || x == n || strings.HasPrefix(x, n+"/") || strings.HasPrefix(x, n+"@") {
			return true
		}
		for _, l := range locs {
			if l == n || strings.HasPrefix(l, n+"/") {
				return true
			}
		}
	}
	return false
}

// skipLock is the lock file's path relative to root, if it is inside it:
// the lock never pins itself.
func skipLock(root, lockPath string) []string {
	r, err := filepath.Rel(root, lockPath)
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return nil
	}
	return []string{filepath.ToSlash(r)}
}

// writeFileAtomic replaces p with b through a temporary file, so that a
// crash never leaves half a lock.
func writeFileAtomic(p string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(p), ".chainvet-lock-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), p)
}

// meteredHasher is a Hasher with a progress line on a terminal.
type meteredHasher struct {
	*lock.Hasher
	bar *hashProgress
}

func (m meteredHasher) done() {
	if m.bar != nil {
		m.bar.clear()
	}
}

// hold stops the progress line from being drawn, while another is.
func (m meteredHasher) hold(on bool) {
	if m.bar != nil {
		m.bar.mu.Lock()
		m.bar.held = on
		m.bar.mu.Unlock()
	}
}

// hasher makes the Hasher of the flags, with the digest cache when asked
// for and allowed.
func (f *hashFlags) hasher(stderr io.Writer) (meteredHasher, *lock.Cache, error) {
	h := meteredHasher{Hasher: &lock.Hasher{Workers: f.pipe.workers}}
	f.pipe.noAdvisories = true // a lock pins; vetting is scan's work
	f.pipe.digests = false     // Build hashes, once
	if terminal(stderr) {
		h.bar = &hashProgress{w: stderr, start: time.Now()}
		h.Progress = h.bar.update
	}
	if !f.cache {
		return h, nil, nil
	}
	if os.Getenv("CI") != "" {
		return h, nil, hinted{errors.New("--cache is refused in CI (CI is set): every file must be hashed"), "run without --cache"}
	}
	p, err := lock.DefaultCachePath()
	if err != nil {
		return h, nil, err
	}
	c, err := lock.OpenCache(p)
	if err != nil {
		return h, nil, err
	}
	h.Cache = c
	return h, c, nil
}

// build scans root, hashes what it holds (starting while the scan runs)
// and builds the lock of it, then saves the digest cache: the common path
// of lock and verify. It returns the scan's report too.
func (f *hashFlags) build(cmd *cobra.Command, root, lockPath string, opt lock.BuildOptions, h meteredHasher, cache *lock.Cache, stderr io.Writer) (*inventory.Report, *lock.File, []lock.Unpinned, error) {
	rep, hashed, err := scanAndPrehash(cmd, &f.pipe, root, lockPath, opt, h, stderr)
	if err != nil {
		return nil, nil, nil, err
	}
	opt.Hashed = hashed
	lf, unpinned, err := lock.Build(cmd.Context(), rep, root, opt)
	h.done()
	if err != nil {
		return nil, nil, nil, hinted{err, "check that every file under PATH is readable"}
	}
	if err := f.saveCache(cache, stderr); err != nil {
		return nil, nil, nil, err
	}
	return rep, lf, unpinned, nil
}

func (f *hashFlags) saveCache(c *lock.Cache, stderr io.Writer) error {
	if c == nil {
		return nil
	}
	fmt.Fprintf(stderr, "chainvet: %d file digest(s) taken from the cache, not re-hashed (--cache)\n", c.Hits())
	return c.Save()
}

// hashProgress draws bytes hashed, throughput and time left on a terminal,
// at most ten times a second.
type hashProgress struct {
	w     io.Writer
	start time.Time
	mu    sync.Mutex
	last  time.Time
	drawn bool
	held  bool
}

func (p *hashProgress) update(done, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if p.held || now.Sub(p.last) < 100*time.Millisecond && done != total {
		return
	}
	p.last, p.drawn = now, true
	el := now.Sub(p.start).Seconds()
	rate := float64(done) / max(el, 1e-3)
	eta := "?"
	if rate > 0 {
		eta = time.Duration(float64(total-done) / rate * float64(time.Second)).Round(time.Second).String()
	}
	fmt.Fprintf(p.w, "\r\x1b[Kchainvet: hashed %s of %s, %s/s, %s left", humanBytes(done), humanBytes(total), humanBytes(int64(rate)), eta)
}

func (p *hashProgress) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}

// humanBytes writes n in decimal units, as disks and networks are sold.
func humanBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, u := float64(n), 0
	for v >= unit && u < 4 {
		v /= unit
		u++
	}
	return fmt.Sprintf("%.1f %cB", v, "kMGTP"[u-1])
}
