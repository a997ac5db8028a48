// Package lock pins what a project runs — model and dataset files by
// content, packages, hub revisions, CI actions and images by immutable
// identity — in a lock file, and verifies a tree against it.
//
// # Hashing
//
// Every file is hashed in full with SHA-256, in large sequential reads, by
// a pool of one worker per CPU that takes the largest files first, so that
// a big file never ends the run alone on one core. A file locked with
// shards (Artifact.Shards) is verified piece by piece, the pieces hashed in
// parallel: the only way one large file can use more than one core, since
// a single SHA-256 stream cannot be split. Memory is bounded by workers ×
// readSize.
//
// # Verification
//
// Verify re-hashes everything and compares it with the lock: sizes and
// modification times are never trusted, unless a digest Cache is given,
// and then every digest it supplied is counted and reported.
package lock

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/chainvet/chainvet/internal/inventory"
)

// readSize is the size of each read: large sequential reads are what disks
// and page caches serve fastest, and with SHA-NI a core hashes ~2 GB/s, so
// 2 MiB keeps the hash, not the syscalls, the bottleneck (measured: 256 KiB
// to 8 MiB are within 2% on a warm cache; smaller buffers lose).
const readSize = 2 << 20

// A Sum is what hashing found of one file.
type Sum struct {
	Size   int64
	SHA256 string // empty when only shards were hashed
	// Shards are the SHA-256 of each ShardSize piece, when asked for.
	Shards []string
	// Cached is true when the digests came from the Cache, not the bytes.
	Cached bool
}

// A Hasher hashes files on all cores. The zero value is ready to use.
type Hasher struct {
	// Workers is the number of files or shards hashed at once; 0 is one
	// per CPU.
	Workers int
	// Progress, if set, is called from the workers as bytes are hashed,
	// with the bytes done and the bytes to do in all. It must be cheap and
	// safe for concurrent use.
	Progress func(done, total int64)
	// Cache, if set, supplies and keeps digests by file identity.
	Cache *Cache
}

// A Job asks for one file's digests.
type Job struct {
	Path string
	// Whole asks for the SHA-256 of the whole file.
	Whole bool
	// Shards asks for the SHA-256 of each ShardSize piece (files of more
	// than one shard only; a smaller file's Shards stay empty).
	Shards bool
}

// unit is one stream to hash: a whole file, or one shard of it.
type unit struct {
	job   int
	shard int // -1 for the whole file
	off   int64
	n     int64
}

// Hash hashes every job's file and returns the sums in the order of jobs.
// A file that cannot be read has its error at its index in errs; the others
// are still hashed. The returned error is the context's, if it ended.
// Files are opened by the workers, one at a time each: a million files
// never hold a million descriptors.
func (h *Hasher) Hash(ctx context.Context, jobs []Job) (sums []Sum, errs []error, err error) {
	sums, errs = make([]Sum, len(jobs)), make([]error, len(jobs))
	stats := make([]os.FileInfo, len(jobs))
	var units []unit
	var total int64
	for i, j := range jobs {
		fi, err := os.Stat(j.Path)
		if err == nil && !fi.Mode().IsRegular() {
			err = fmt.Errorf("%s: not a regular file", j.Path)
		}
		if err != nil {
			errs[i] = err
			continue
		}
		stats[i] = fi
		sums[i].Size = fi.Size()
		if h.Cache != nil {
			if s, ok := h.Cache.lookup(fi, j); ok {
				sums[i], stats[i] = s, nil
				continue
			}
		}
		if j.Whole || !j.Shards || fi.Size() <= ShardSize {
			units = append(units, unit{job: i, shard: -1, n: fi.Size()})
			total += fi.Size()
		}
		if j.Shards && fi.Size() > ShardSize {
			n := int((fi.Size() + ShardSize - 1) / ShardSize)
			sums[i].Shards = make([]string, n)
			for k := range n {
				off := int64(k) * ShardSize
				units = append(units, unit{job: i, shard: k, off: off, n: min(ShardSize, fi.Size()-off)})
				total += min(ShardSize, fi.Size()-off)
			}
		}
	}
	// Largest first: the last unit to finish is then a small one.
	slices.SortStableFunc(units, func(a, b unit) int { return cmp.Compare(b.n, a.n) })

	var done atomic.Int64
	progress := func(n int) {
		if h.Progress != nil {
			h.Progress(done.Add(int64(n)), total)
		}
	}
	var mu sync.Mutex // guards sums and errs across the units of one job
	next := make(chan unit)
	var wg sync.WaitGroup
	for range min(cmp.Or(h.Workers, runtime.GOMAXPROCS(0)), max(len(units), 1)) {
		wg.Go(func() {
			buf := make([]byte, readSize)
			for u := range next {
				sum, err := hashUnit(ctx, jobs[u.job].Path, stats[u.job], u, buf, progress)
				mu.Lock()
				switch {
				case err != nil:
					if errs[u.job] == nil {
						errs[u.job] = fmt.Errorf("%s: %w", jobs[u.job].Path, err)
					}
				case u.shard < 0:
					sums[u.job].SHA256 = sum
				default:
					sums[u.job].Shards[u.shard] = sum
				}
				mu.Unlock()
			}
		})
	}
feed:
	for _, u := range units {
		select {
		case next <- u:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return sums, errs, err
	}
	if h.Cache != nil {
		for i, j := range jobs {
			if errs[i] == nil && stats[i] != nil {
				h.Cache.store(j, stats[i], sums[i])
			}
		}
	}
	return sums, errs, nil
}

// hashUnit opens the file at p, checks it is still the file fi describes,
// and hashes the unit's range of it.
func hashUnit(ctx context.Context, p string, fi os.FileInfo, u unit, buf []byte, progress func(int)) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	// Stat the open file: the name may have been swapped since.
	now, err := f.Stat()
	if err != nil {
		return "", err
	}
	if !os.SameFile(fi, now) {
		return "", errors.New("file replaced while being hashed")
	}
	return hashRange(ctx, f, u.off, u.n, fi.Size(), buf, progress)
}

// errSizeChanged reports a file that ended before, or went on after, the
// size it had when opened: it is being written, and no digest of it holds.
var errSizeChanged = errors.New("file changed size while being hashed")

// hashRange hashes n bytes of f from off, in readSize reads. size is the
// file's size when opened: a range that ends there must end the file.
func hashRange(ctx context.Context, f *os.File, off, n, size int64, buf []byte, progress func(int)) (string, error) {
	h := sha256.New()
	for n > 0 {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		k, err := f.ReadAt(buf[:min(int64(len(buf)), n)], off)
		h.Write(buf[:k])
		off, n = off+int64(k), n-int64(k)
		progress(k)
		if n > 0 && err == io.EOF {
			return "", errSizeChanged
		}
		if err != nil && err != io.EOF {
			return "", err
		}
	}
	if off == size {
		if k, _ := f.ReadAt(buf[:1], off); k > 0 {
			return "", errSizeChanged
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// HashFiles returns the lower-case hex SHA-256 of each file, in the order
// given, hashed in parallel (workers 0: one per CPU). The first file's
// error is returned with its name.
func HashFiles(ctx context.Context, paths []string, workers int) ([]string, error) {
	jobs := make([]Job, len(paths))
	for i, p := range paths {
		jobs[i] = Job{Path: p, Whole: true}
	}
	sums, errs, err := (&Hasher{Workers: workers}).Hash(ctx, jobs)
	if err != nil {
		return nil, err
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out := make([]string, len(paths))
	for i, s := range sums {
		out[i] = s.SHA256
	}
	return out, nil
}

// HashFile returns the lower-case hex SHA-256 of the file at p.
func HashFile(ctx context.Context, p string) (string, error) {
	s, err := HashFiles(ctx, []string{p}, 1)
	if err != nil {
		return "", err
	}
	return s[0], nil
}

// AddDigests puts the SHA-256 of each model component that is a whole file
// on disk into its digests, unless it has one already, and counts the
// bytes hashed in the report's stats. Members of archives and components
// that are folders are left alone.
func AddDigests(ctx context.Context, r *inventory.Report, workers int) error {
	var idx []int
	var paths []string
	for i, c := range r.Components {
		if c.Kind != inventory.KindModel || len(c.Locations) != 1 || hasSHA256(c) {
			continue
		}
		p := c.Locations[0].Path
		if strings.Contains(p, "!") {
			continue
		}
		if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() {
			continue
		} else {
			r.Stats.BytesRead += fi.Size()
		}
		idx, paths = append(idx, i), append(paths, p)
	}
	sums, err := HashFiles(ctx, paths, workers)
	if err != nil {
		return err
	}
	for k, i := range idx {
		r.Components[i].Digests = append(r.Components[i].Digests, inventory.Digest{Algorithm: "sha256", Value: sums[k]})
	}
	return nil
}

func hasSHA256(c inventory.Component) bool {
	for _, d := range c.Digests {
		if d.Algorithm == "sha256" {
			return true
		}
	}
	return false
}
