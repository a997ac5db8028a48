package lock

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestHashFiles(t *testing.T) {
	dir := t.TempDir()
	var paths, want []string
	for i, size := range []int{0, 1, readSize - 1, readSize, readSize + 1, 3*readSize + 17} {
		b := bytes.Repeat([]byte{byte(i), 0x5a}, size/2+1)[:size]
		p := filepath.Join(dir, fmt.Sprint(i))
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		paths, want = append(paths, p), append(want, hex.EncodeToString(sum[:]))
	}
	got, err := HashFiles(context.Background(), paths, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%s: got %s, want %s", paths[i], got[i], want[i])
		}
	}
	if _, err := HashFiles(context.Background(), append(paths, filepath.Join(dir, "missing")), 2); err == nil {
		t.Error("a missing file hashed without error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := HashFiles(ctx, paths, 1); err == nil {
		t.Error("a cancelled hash returned no error")
	}
}

func BenchmarkHashFiles(b *testing.B) {
	dir := b.TempDir()
	const files, size = 8, 32 << 20
	var paths []string
	data := bytes.Repeat([]byte("chainvet"), size/8)
	for i := range files {
		p := filepath.Join(dir, fmt.Sprint(i))
		if err := os.WriteFile(p, data, 0o644); err != nil {
			b.Fatal(err)
		}
		paths = append(paths, p)
	}
	b.SetBytes(files * size)
	for b.Loop() {
		if _, err := HashFiles(context.Background(), paths, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func TestHasherShards(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 2 × 129 MiB")
	}
	dir := t.TempDir()
	big := bytes.Repeat([]byte("0123456789abcdef"), (2*ShardSize+ShardSize/2)/16)
	small := []byte("small")
	paths := []string{filepath.Join(dir, "big"), filepath.Join(dir, "small")}
	for i, b := range [][]byte{big, small} {
		if err := os.WriteFile(paths[i], b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var last, total int64
	h := &Hasher{Workers: 2, Progress: func(done, all int64) { last, total = max(last, done), all }}
	jobs := []Job{{Path: paths[0], Whole: true, Shards: true}, {Path: paths[1], Whole: true, Shards: true}}
	sums, errs, err := h.Hash(context.Background(), jobs)
	if err != nil || errs[0] != nil || errs[1] != nil {
		t.Fatal(err, errs)
	}
	whole := sha256.Sum256(big)
	if sums[0].SHA256 != hex.EncodeToString(whole[:]) || sums[0].Size != int64(len(big)) {
		t.Errorf("whole digest %s, size %d", sums[0].SHA256, sums[0].Size)
	}
	if len(sums[0].Shards) != 3 {
		t.Fatalf("%d shards, want 3", len(sums[0].Shards))
	}
	for k := range 3 {
		s := sha256.Sum256(big[k*ShardSize : min(len(big), (k+1)*ShardSize)])
		if sums[0].Shards[k] != hex.EncodeToString(s[:]) {
			t.Errorf("shard %d: %s", k, sums[0].Shards[k])
		}
	}
	if len(sums[1].Shards) != 0 {
		t.Errorf("a one-shard file has shards %v", sums[1].Shards)
	}
	if want := 2*int64(len(big)) + 5; last != want || total != want {
		t.Errorf("progress ended at %d of %d, want %d", last, total, want)
	}
	// Shards alone: no whole digest, the same shards.
	sums2, _, _ := h.Hash(context.Background(), []Job{{Path: paths[0], Shards: true}})
	if sums2[0].SHA256 != "" || !slices.Equal(sums2[0].Shards, sums[0].Shards) {
		t.Errorf("shards-only hash: %+v", sums2[0])
	}
}

func TestHasherRefuses(t *testing.T) {
	dir := t.TempDir()
	sums, errs, err := (&Hasher{}).Hash(context.Background(), []Job{{Path: dir, Whole: true}, {Path: filepath.Join(dir, "none"), Whole: true}})
	if err != nil || errs[0] == nil || errs[1] == nil {
		t.Errorf("a folder and a missing file hashed: %+v %v %v", sums, errs, err)
	}
}

func TestCache(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "m.bin")
	if err := os.WriteFile(p, []byte("one"), 0o644); err != nil {
		t.Fatal(err)
	}
	cachePath := filepath.Join(dir, "cache", "digests.jsonl")
	hash := func() (Sum, int) {
		t.Helper()
		c, err := OpenCache(cachePath)
		if err != nil {
			t.Fatal(err)
		}
		c.now = func() time.Time { return time.Now().Add(time.Minute) } // nothing is racy
		sums, errs, err := (&Hasher{Cache: c}).Hash(context.Background(), []Job{{Path: p, Whole: true}})
		if err != nil || errs[0] != nil {
			t.Fatal(err, errs[0])
		}
		if err := c.Save(); err != nil {
			t.Fatal(err)
		}
		return sums[0], c.Hits()
	}
	if s, hits := hash(); hits != 0 || s.Cached {
		t.Errorf("first hash came from the cache: %+v", s)
	}
	if s, hits := hash(); hits != 1 || !s.Cached || s.SHA256 != sha("one") {
		t.Errorf("second hash: %+v, %d hits; want one hit", s, hits)
	}
	// Same size, same mtime given back: the ctime still moves (rewrite
	// until the filesystem's clock ticks: racy writes are the next test's).
	fi, _ := os.Stat(p)
	k0, _ := keyOf(fi)
	for range 1000 {
		if err := os.WriteFile(p, []byte("two"), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, fi.ModTime(), fi.ModTime())
		fi2, _ := os.Stat(p)
		if k, _ := keyOf(fi2); k.CtimeNS != k0.CtimeNS {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if s, hits := hash(); hits != 0 || s.SHA256 != sha("two") {
		t.Errorf("a rewritten file came from the cache: %+v", s)
	}
	if err := os.WriteFile(cachePath, []byte("garbage\n{\"Dev\":1}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if s, _ := hash(); s.SHA256 != sha("two") {
		t.Errorf("a damaged cache gave %+v", s)
	}
}

func TestCacheRacy(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "m.bin")
	if err := os.WriteFile(p, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := OpenCache(filepath.Join(dir, "digests.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, _, err := (&Hasher{Cache: c}).Hash(context.Background(), []Job{{Path: p, Whole: true}}); err != nil {
			t.Fatal(err)
		}
	}
	if c.Hits() != 0 {
		t.Error("a file changed just now was served from the cache")
	}
}

func sha(s string) string {
	b := sha256.Sum256([]byte(s))
	return hex.EncodeToString(b[:])
}
