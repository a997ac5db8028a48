package lock

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// maxCacheEntries bounds the digest cache: past it, the oldest half of the
// entries (by insertion) is dropped when the cache is saved. A million
// entries is ~150 MB on disk.
const maxCacheEntries = 1 << 20

// A Cache reuses digests of files whose identity has not changed: the same
// device, inode, size, modification and change time (to the nanosecond).
// The change time cannot be set by a user, so a file rewritten and given
// back its old mtime still misses; but anyone with root, or a filesystem
// with coarse timestamps, can defeat it. That is why it is an option for
// fast local re-checks only, never for CI or security gates, and why every
// digest it supplies is counted.
type Cache struct {
	// now is the clock racy entries are judged by (time.Now).
	now     func() time.Time
	path    string
	mu      sync.Mutex
	entries map[cacheKey]cacheEntry
	order   []cacheKey
	hits    int
	dirty   bool
}

// cacheKey is a file's identity. It is empty (zero) where the platform
// gives no inode, and then nothing is cached.
type cacheKey struct {
	Dev, Ino         uint64
	Size             int64
	MtimeNS, CtimeNS int64
}

type cacheEntry struct {
	SHA256 string   `json:"sha256,omitempty"`
	Shards []string `json:"shards,omitempty"`
}

type cacheLine struct {
	cacheKey
	cacheEntry
}

// DefaultCachePath is the digest cache in the user cache directory.
func DefaultCachePath() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("digest cache: %w", err)
	}
	return filepath.Join(dir, "chainvet", "digests.jsonl"), nil
}

// OpenCache loads the cache at p; a missing file is an empty cache, and a
// damaged line is skipped (the cache only ever saves work).
func OpenCache(p string) (*Cache, error) {
	c := &Cache{path: p, entries: map[cacheKey]cacheEntry{}, now: time.Now}
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("digest cache: %w", err)
	}
	for line := range bytes.Lines(b) {
		var l cacheLine
		if json.Unmarshal(line, &l) != nil || l.cacheKey == (cacheKey{}) ||
			(l.SHA256 != "" && !isHex256(l.SHA256)) {
			continue
		}
		c.put(l.cacheKey, l.cacheEntry)
	}
	c.dirty = false
	return c, nil
}

// Hits is the number of files whose digests came from the cache.
func (c *Cache) Hits() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits
}

// Save writes the cache back, if it changed, through a temporary file.
func (c *Cache) Save() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.dirty {
		return nil
	}
	if len(c.order) > maxCacheEntries {
		for _, k := range c.order[:len(c.order)-maxCacheEntries/2] {
			delete(c.entries, k)
		}
		c.order = c.order[len(c.order)-maxCacheEntries/2:]
	}
	if err := os.MkdirAll(filepath.Dir(c.path), 0o700); err != nil {
		return fmt.Errorf("digest cache: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(c.path), ".digests-*")
	if err != nil {
		return fmt.Errorf("digest cache: %w", err)
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriter(tmp)
	for _, k := range c.order {
		b, _ := json.Marshal(cacheLine{k, c.entries[k]})
		w.Write(b)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return fmt.Errorf("digest cache: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("digest cache: %w", err)
	}
	if err := os.Rename(tmp.Name(), c.path); err != nil {
		return fmt.Errorf("digest cache: %w", err)
	}
	c.dirty = false
	return nil
}

func (c *Cache) put(k cacheKey, e cacheEntry) {
	if _, ok := c.entries[k]; !ok {
		c.order = append(c.order, k)
	}
	c.entries[k] = e
	c.dirty = true
}

// lookup returns the cached sums of the file fi, if they cover what j asks.
func (c *Cache) lookup(fi os.FileInfo, j Job) (Sum, bool) {
	k, ok := keyOf(fi)
	if !ok {
		return Sum{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok || j.Whole && e.SHA256 == "" || j.Shards && fi.Size() > ShardSize && len(e.Shards) == 0 {
		return Sum{}, false
	}
	c.hits++
	s := Sum{Size: fi.Size(), SHA256: e.SHA256, Cached: true}
	if j.Shards {
		s.Shards = append([]string(nil), e.Shards...)
	}
	return s, true
}

// racyWindow is how recent a change may be for a digest to be kept. A
// filesystem stamps times with a coarse clock (a few milliseconds on
// Linux), so a file changed again within the same tick keeps its key;
// a file last changed this recently is not cached at all (git's "racily
// clean" rule).
const racyWindow = 2 * time.Second

// store keeps the sums of the file at j.Path, which was fi when hashing
// began, if it is unchanged since: a file that changed while being hashed
// has another key, and its digests are not kept.
func (c *Cache) store(j Job, fi os.FileInfo, s Sum) {
	after, err := os.Stat(j.Path)
	if err != nil {
		return
	}
	k, ok := keyOf(fi)
	k2, ok2 := keyOf(after)
	if !ok || !ok2 || k != k2 || c.now().Sub(time.Unix(0, max(k.MtimeNS, k.CtimeNS))) < racyWindow {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[k]
	if s.SHA256 != "" {
		e.SHA256 = s.SHA256
	}
	if len(s.Shards) > 0 {
		e.Shards = s.Shards
	}
	c.put(k, e)
}
