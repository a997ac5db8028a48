// Package lock pins artifacts by digest. This file holds the hashing:
// SHA-256 of whole files, in large sequential reads, on all cores.
package lock

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/chainvet/chainvet/internal/inventory"
)

// readSize is the size of each read: large sequential reads are what disks
// and page caches serve fastest, and SHA-256 runs at ~1.5 GB/s a core, so
// a 1 MiB buffer keeps the hash, not the syscalls, the bottleneck.
const readSize = 1 << 20

// HashFiles returns the lower-case hex SHA-256 of each file, in the order
// given. Files are hashed in parallel, one per worker (workers 0: one per
// CPU); a file's error is returned with its name, and stops the rest.
func HashFiles(ctx context.Context, paths []string, workers int) ([]string, error) {
	out := make([]string, len(paths))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(cmp.Or(workers, runtime.GOMAXPROCS(0)))
	for i, p := range paths {
		g.Go(func() error {
			sum, err := HashFile(ctx, p)
			out[i] = sum
			return err
		})
	}
	return out, g.Wait()
}

// HashFile returns the lower-case hex SHA-256 of the file at p.
func HashFile(ctx context.Context, p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	buf := make([]byte, readSize)
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		n, err := f.Read(buf)
		h.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", fmt.Errorf("%s: %w", p, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
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
