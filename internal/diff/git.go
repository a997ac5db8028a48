package diff

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// Limits on a git revision's tree.
const (
	// DefaultMaxTreeBytes bounds the blob bytes written out for one
	// revision: model weights kept in git beyond this are a tree to scan
	// in a checkout, not from the object store.
	DefaultMaxTreeBytes = 8 << 30
	// MaxTreeEntries bounds the files of one revision.
	MaxTreeEntries = 1 << 20
)

// ErrRevision reports a git revision that cannot be read.
var ErrRevision = errors.New("git revision")

// loadRevision writes the tree of rev to a temporary directory and scans it.
//
// The tree is read from the object store (ls-tree, cat-file), not checked
// out: the work tree and index are left alone, and no filter, hook or
// attribute of the repository runs. export-ignore, which git archive
// honours, would let a change hide files from the scan. Symbolic links and
// submodules are skipped: a link's target is outside the tree's bytes.
func loadRevision(ctx context.Context, label, rev string, opt Options) (*Side, error) {
	if rev == "" || strings.HasPrefix(rev, "-") {
		return nil, fmt.Errorf("%w %q: name a commit, branch or tag, as in git:main", ErrRevision, rev)
	}
	if opt.Scan == nil {
		return nil, fmt.Errorf("%s: no scanner to inventory a revision", label)
	}
	dir, err := os.MkdirTemp("", "chainvet-diff-")
	if err != nil {
		return nil, err
	}
	side := &Side{Label: label, Dir: dir, cleanup: func() error { return os.RemoveAll(dir) }}
	if err := writeTree(ctx, opt, rev, dir); err != nil {
		side.Close()
		return nil, err
	}
	if side.Components, err = scanDir(ctx, dir, opt); err != nil {
		side.Close()
		return nil, err
	}
	return side, nil
}

// git runs a git command in the repository and returns its output.
func git(ctx context.Context, opt Options, args ...string) ([]byte, error) {
	cmd := gitCommand(ctx, opt, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("git %s: %s", args[0], msg)
	}
	return out, nil
}

func gitCommand(ctx context.Context, opt Options, args ...string) *exec.Cmd {
	prog := opt.Git
	if prog == "" {
		prog = "git"
	}
	repo := opt.Repo
	if repo == "" {
		repo = "."
	}
	cmd := exec.CommandContext(ctx, prog, append([]string{"-C", repo}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_OPTIONAL_LOCKS=0", "GIT_TERMINAL_PROMPT=0")
	return cmd
}

// A treeEntry is one blob of a tree.
type treeEntry struct {
	oid, path string
}

// writeTree writes the files of rev's tree under dir.
func writeTree(ctx context.Context, opt Options, rev, dir string) error {
	out, err := git(ctx, opt, "rev-parse", "--verify", "--quiet", "--end-of-options", rev+"^{tree}")
	if err != nil {
		return fmt.Errorf("%w %q: not found in %s", ErrRevision, rev, repoName(opt))
	}
	tree := strings.TrimSpace(string(out))
	ls, err := git(ctx, opt, "ls-tree", "-r", "-z", "--full-tree", tree)
	if err != nil {
		return fmt.Errorf("%w %q: %v", ErrRevision, rev, err)
	}
	entries, err := parseLsTree(ls)
	if err != nil {
		return fmt.Errorf("%w %q: %v", ErrRevision, rev, err)
	}
	limit := opt.MaxTreeBytes
	if limit <= 0 {
		limit = DefaultMaxTreeBytes
	}
	return catBlobs(ctx, opt, entries, dir, limit)
}

func repoName(opt Options) string {
	if opt.Repo == "" {
		return "the repository in the current directory"
	}
	return opt.Repo
}

// parseLsTree reads "mode type oid\tpath\0" records, keeping regular
// files whose paths stay inside the tree.
func parseLsTree(b []byte) ([]treeEntry, error) {
	var out []treeEntry
	for rec := range bytes.SplitSeq(b, []byte{0}) {
		if len(rec) == 0 {
			continue
		}
		meta, p, ok := bytes.Cut(rec, []byte{'\t'})
		f := strings.Fields(string(meta))
		if !ok || len(f) != 3 {
			return nil, fmt.Errorf("unexpected ls-tree record %q", rec)
		}
		if f[1] != "blob" || (f[0] != "100644" && f[0] != "100755") {
			continue // symbolic links (120000), submodules (commit)
		}
		if !safePath(string(p)) {
			continue
		}
		if len(out) >= MaxTreeEntries {
			return nil, fmt.Errorf("more than %d files", MaxTreeEntries)
		}
		out = append(out, treeEntry{oid: f[2], path: string(p)})
	}
	return out, nil
}

// safePath accepts a relative, clean path with no .git element: git
// refuses to check such paths out, and so do we.
func safePath(p string) bool {
	if !filepath.IsLocal(p) || path.Clean(p) != p || strings.Contains(p, "\\") {
		return false
	}
	for el := range strings.SplitSeq(p, "/") {
		if strings.EqualFold(el, ".git") {
			return false
		}
	}
	return true
}

// catBlobs streams the entries' blobs from one git cat-file --batch and
// writes each under dir.
func catBlobs(ctx context.Context, opt Options, entries []treeEntry, dir string, limit int64) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := gitCommand(ctx, opt, "cat-file", "--batch")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("git cat-file: %w", err)
	}
	werr := make(chan error, 1)
	go func() {
		bw := bufio.NewWriter(stdin)
		for _, e := range entries {
			if _, err := bw.WriteString(e.oid + "\n"); err != nil {
				werr <- err
				return
			}
		}
		err := bw.Flush()
		stdin.Close()
		werr <- err
	}()
	rerr := readBlobs(ctx, bufio.NewReaderSize(stdout, 1<<20), entries, dir, limit)
	if rerr != nil {
		cancel()
	}
	io.Copy(io.Discard, stdout)
	waitErr := cmd.Wait()
	if rerr != nil {
		return rerr
	}
	if err := <-werr; err != nil {
		return fmt.Errorf("git cat-file: %w", err)
	}
	if waitErr != nil {
		return fmt.Errorf("git cat-file: %v: %s", waitErr, strings.TrimSpace(stderr.String()))
	}
	return nil
}

func readBlobs(ctx context.Context, r *bufio.Reader, entries []treeEntry, dir string, limit int64) error {
	var total int64
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := r.ReadString('\n')
		if err != nil {
			return fmt.Errorf("git cat-file: %s: %w", e.path, err)
		}
		f := strings.Fields(hdr)
		if len(f) != 3 || f[0] != e.oid || f[1] != "blob" {
			return fmt.Errorf("git cat-file: %s: unexpected header %q", e.path, strings.TrimSpace(hdr))
		}
		size, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil || size < 0 {
			return fmt.Errorf("git cat-file: %s: bad size %q", e.path, f[2])
		}
		if total += size; total > limit {
			return fmt.Errorf("%w: the tree holds more than %d bytes", ErrRevision, limit)
		}
		if err := writeBlob(r, filepath.Join(dir, filepath.FromSlash(e.path)), size); err != nil {
			return fmt.Errorf("%s: %w", e.path, err)
		}
		if b, err := r.ReadByte(); err != nil || b != '\n' {
			return fmt.Errorf("git cat-file: %s: missing record end", e.path)
		}
	}
	return nil
}

func writeBlob(r io.Reader, name string, size int64) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	// O_EXCL: a path written twice (a file and a folder of one name in a
	// crafted tree) is refused rather than followed.
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.CopyN(f, r, size); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
