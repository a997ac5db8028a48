package modelsig

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/chainvet/chainvet/internal/lock"
	"golang.org/x/crypto/blake2b"
	"golang.org/x/sync/errgroup"
)

// MaxResources bounds the resources of one manifest, hashed or read: ten
// times the files of the largest model repositories.
const MaxResources = 1 << 20

// readSize is the read size of the shard and BLAKE2b hasher, matching
// package lock's for the same reasons: large sequential reads.
const readSize = 2 << 20

// Options say how to make a manifest.
type Options struct {
	// Method is MethodFiles (the default) or MethodShards.
	Method string
	// HashType is SHA256 (the default) or BLAKE2b.
	HashType string
	// ShardSize is the shard size for MethodShards; 0 is DefaultShardSize.
	ShardSize int64
	// AllowSymlinks hashes symbolic links to regular files as the files;
	// otherwise any link fails hashing.
	AllowSymlinks bool
	// IgnorePaths are slash-separated paths relative to the model, left out
	// with everything under them and recorded in the manifest. Paths that
	// leave the model are dropped.
	IgnorePaths []string
	// only, if set, limits hashing to these paths: verification that
	// ignores unsigned files.
	only map[string]bool
	// Workers is the number of files or shards hashed at once; 0 is one per
	// CPU.
	Workers int
}

func (o Options) withDefaults() (Options, error) {
	o.Method = cmp.Or(o.Method, MethodFiles)
	o.HashType = cmp.Or(o.HashType, SHA256)
	if o.Method != MethodFiles && o.Method != MethodShards {
		return o, fmt.Errorf("modelsig: unknown serialization method %q (want files or shards)", o.Method)
	}
	if o.HashType != SHA256 && o.HashType != BLAKE2b {
		return o, fmt.Errorf("modelsig: unsupported hash type %q (want sha256 or blake2b)", o.HashType)
	}
	if o.Method == MethodShards && o.ShardSize == 0 {
		o.ShardSize = DefaultShardSize
	}
	if o.Method == MethodShards && o.ShardSize < 0 {
		return o, fmt.Errorf("modelsig: shard size %d is not positive", o.ShardSize)
	}
	if o.Method == MethodFiles {
		o.ShardSize = 0
	}
	var ign []string
	for _, p := range o.IgnorePaths {
		if p, ok := cleanRel(p); ok {
			ign = append(ign, p)
		}
	}
	slices.Sort(ign)
	o.IgnorePaths = slices.Compact(ign)
	return o, nil
}

// cleanRel cleans a model-relative path, and reports false for one that is
// empty, absolute or leaves the model.
func cleanRel(p string) (string, bool) {
	p = path.Clean(filepath.ToSlash(p))
	if p == "." || path.IsAbs(p) || p == ".." || strings.HasPrefix(p, "../") || filepath.VolumeName(p) != "" {
		return "", false
	}
	return p, true
}

// ignored reports whether rel is one of the ignore paths or under one.
func ignored(rel string, ignores []string) bool {
	for _, ig := range ignores {
		if rel == ig || strings.HasPrefix(rel, ig+"/") {
			return true
		}
	}
	return false
}

// Hash makes the manifest of the model at root, a directory or one file.
func Hash(ctx context.Context, root string, opt Options) (*Manifest, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	m := &Manifest{
		Model: modelName(root),
		Serialization: Serialization{
			Method: opt.Method, HashType: opt.HashType, ShardSize: opt.ShardSize,
			AllowSymlinks: opt.AllowSymlinks, IgnorePaths: opt.IgnorePaths,
		},
	}
	files, err := list(ctx, root, opt)
	if err != nil {
		return nil, err
	}
	if m.Resources, err = hashFiles(ctx, root, files, opt); err != nil {
		return nil, err
	}
	sortResources(m.Resources)
	return m, nil
}

// modelName is the last element of root, as the reference names models.
func modelName(root string) string {
	n := filepath.Base(filepath.Clean(root))
	if n == "." || n == ".." || n == string(filepath.Separator) {
		if abs, err := filepath.Abs(root); err == nil {
			n = filepath.Base(abs)
		}
	}
	return n
}

// file is one file to hash: its resource path and its size.
type file struct {
	rel  string // "." for a single-file model
	size int64
}

// list walks the model and returns the files to hash.
func list(ctx context.Context, root string, opt Options) ([]file, error) {
	fi, err := os.Lstat(root)
	if err != nil {
		return nil, fmt.Errorf("modelsig: %w", err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		if !opt.AllowSymlinks {
			return nil, fmt.Errorf("modelsig: %s is a symbolic link (allow symlinks to follow it)", root)
		}
		if fi, err = os.Stat(root); err != nil {
			return nil, fmt.Errorf("modelsig: %w", err)
		}
	}
	if fi.Mode().IsRegular() {
		return []file{{rel: ".", size: fi.Size()}}, nil
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("modelsig: %s is neither a file nor a directory", root)
	}
	// WalkDir does not enter a root that is a link; walk what it names.
	walkRoot := root
	if r, err := filepath.EvalSymlinks(root); err == nil && r != root && opt.AllowSymlinks {
		walkRoot = r
	}
	var files []file
	err = filepath.WalkDir(walkRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == walkRoot {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		r, err := filepath.Rel(walkRoot, p)
		if err != nil {
			return err
		}
		rel := filepath.ToSlash(r)
		if ignored(rel, opt.IgnorePaths) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if opt.only != nil && !opt.only[rel] {
			return nil // not signed, and told to ignore unsigned files
		}
		mode := d.Type()
		if mode&fs.ModeSymlink != 0 {
			if !opt.AllowSymlinks {
				return fmt.Errorf("%s is a symbolic link (allow symlinks to hash what it points to)", rel)
			}
			fi, err := os.Stat(p)
			if err != nil {
				return err
			}
			if !fi.Mode().IsRegular() {
				return fmt.Errorf("%s is a symbolic link to something other than a regular file", rel)
			}
			mode = 0
		} else if !mode.IsRegular() {
			return fmt.Errorf("%s is not a regular file (mode %v)", rel, mode)
		}
		if strings.Contains(rel, `\`) {
			return fmt.Errorf("%s: a path with a backslash cannot be named portably", rel)
		}
		if opt.Method == MethodShards && strings.Contains(rel, ":") {
			return fmt.Errorf("%s: a path with ':' cannot be named in a shard manifest", rel)
		}
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if len(files) == MaxResources {
			return fmt.Errorf("more than %d files", MaxResources)
		}
		files = append(files, file{rel: rel, size: fi.Size()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("modelsig: %s: %w", root, err)
	}
	return files, nil
}

// osPath is the file's path on disk.
func osPath(root, rel string) string {
	if rel == "." {
		return root
	}
	return filepath.Join(root, filepath.FromSlash(rel))
}

// hashFiles hashes each file whole, or each of its shards.
func hashFiles(ctx context.Context, root string, files []file, opt Options) ([]Resource, error) {
	algo := Serialization{Method: opt.Method, HashType: opt.HashType, ShardSize: opt.ShardSize}.algorithm()
	if opt.Method == MethodFiles && opt.HashType == SHA256 {
		// The lock engine: largest files first, one worker per CPU.
		jobs := make([]lock.Job, len(files))
		for i, f := range files {
			jobs[i] = lock.Job{Path: osPath(root, f.rel), Whole: true}
		}
		h := lock.Hasher{Workers: opt.Workers}
		sums, errs, err := h.Hash(ctx, jobs)
		if err != nil {
			return nil, err
		}
		rs := make([]Resource, len(files))
		for i, f := range files {
			if errs[i] != nil {
				return nil, fmt.Errorf("modelsig: %w", errs[i])
			}
			d, err := hex.DecodeString(sums[i].SHA256)
			if err != nil || len(d) != 32 {
				return nil, fmt.Errorf("modelsig: %s: bad digest from the hasher", f.rel)
			}
			rs[i] = Resource{Name: f.rel, Path: f.rel, Algorithm: algo, Digest: d}
		}
		return rs, nil
	}
	var rs []Resource
	for _, f := range files {
		if opt.Method == MethodFiles {
			rs = append(rs, Resource{Name: f.rel, Path: f.rel, Algorithm: algo, End: f.size})
			continue
		}
		for start := int64(0); start < f.size; start += opt.ShardSize {
			end := min(start+opt.ShardSize, f.size)
			if len(rs) == MaxResources {
				return nil, fmt.Errorf("modelsig: more than %d shards", MaxResources)
			}
			rs = append(rs, Resource{Name: fmt.Sprintf("%s:%d:%d", f.rel, start, end), Path: f.rel, Start: start, End: end, Algorithm: algo})
		}
	}
	order := make([]int, len(rs))
	for i := range order {
		order[i] = i
	}
	// Largest first, so the run does not end on one big piece.
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Compare(rs[b].End-rs[b].Start, rs[a].End-rs[a].Start)
	})
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cmp.Or(max(opt.Workers, 0), runtime.GOMAXPROCS(0)))
	for _, i := range order {
		g.Go(func() error {
			d, err := hashRange(gctx, osPath(root, rs[i].Path), rs[i].Start, rs[i].End, opt.HashType)
			if err != nil {
				return fmt.Errorf("modelsig: %s: %w", rs[i].Path, err)
			}
			rs[i].Digest = d
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for i := range rs {
		if opt.Method == MethodFiles {
			rs[i].End = 0
		}
	}
	return rs, nil
}

// hashRange hashes bytes [start, end) of the file at p. For a whole file
// (start 0, end its size) it also checks the file did not grow or shrink.
func hashRange(ctx context.Context, p string, start, end int64, hashType string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var h hash.Hash
	if hashType == BLAKE2b {
		h, _ = blake2b.New512(nil)
	} else {
		h = sha256.New()
	}
	buf := make([]byte, min(readSize, max(end-start, 1)))
	r := io.NewSectionReader(f, start, end-start)
	var done int64
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n, err := r.Read(buf)
		h.Write(buf[:n])
		done += int64(n)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if done != end-start {
		return nil, errors.New("file shrank while being hashed")
	}
	return h.Sum(nil), nil
}
