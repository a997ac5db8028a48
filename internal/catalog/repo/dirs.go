package repo

import (
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/chainvet/chainvet/internal/modelfile/hfcache"
)

// folders caches, for one run of the pipeline, what the cataloger learns of
// the folders it looks at: whether they hold weights, whether they carry
// huggingface_hub download metadata, and the repository their config
// makes of them. Without it every file of a folder of thousands would list
// and probe the folder again.
type folders struct {
	mu      sync.Mutex
	weights map[string]bool
	dl      map[string]bool
	repos   map[string]*repository
}

// New returns a Repo that caches what it learns of folders for as long as
// it is used: one per pipeline run.
func New(lim Limits) Repo {
	return Repo{Limits: lim, dirs: &folders{
		weights: map[string]bool{}, dl: map[string]bool{}, repos: map[string]*repository{},
	}}
}

// hasWeights reports whether dir holds a weight-named file, listing at
// most max entries.
func (c *folders) hasWeights(dir string, max int) bool {
	if c != nil {
		c.mu.Lock()
		v, ok := c.weights[dir]
		c.mu.Unlock()
		if ok {
			return v
		}
	}
	v := false
	if d, err := os.Open(dir); err == nil {
		names, _ := d.Readdirnames(max)
		d.Close()
		v = slices.ContainsFunc(names, func(n string) bool { return weightExts[ext(n)] })
	}
	if c != nil {
		c.mu.Lock()
		c.weights[dir] = v
		c.mu.Unlock()
	}
	return v
}

// mayBeLocal reports whether dir, or a folder close enough above it for
// hfcache.LocalOf to look in, has huggingface_hub download metadata. When
// none has, LocalOf need not probe for a file's metadata at all.
func (c *folders) mayBeLocal(dir string) bool {
	if c == nil {
		return true
	}
	for range hfcache.MaxLocalDepth + 1 {
		c.mu.Lock()
		v, ok := c.dl[dir]
		c.mu.Unlock()
		if !ok {
			fi, err := os.Stat(filepath.Join(dir, ".cache", "huggingface", "download"))
			v = err == nil && fi.IsDir()
			c.mu.Lock()
			c.dl[dir] = v
			c.mu.Unlock()
		}
		if v {
			return true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return false
}

// repository returns the repository dir's own config makes of it, found
// once per folder.
func (c *folders) repository(dir string, find func(string) *repository) *repository {
	if c == nil {
		return find(dir)
	}
	c.mu.Lock()
	r, ok := c.repos[dir]
	c.mu.Unlock()
	if ok {
		return r
	}
	r = find(dir)
	c.mu.Lock()
	c.repos[dir] = r
	c.mu.Unlock()
	return r
}
