package config

import (
	"fmt"
	"path"
	"strings"

	"github.com/chainvet/chainvet/internal/ownership"
)

// maxExcludes bounds the patterns tried on every path of a walk.
const maxExcludes = 1000

// Excluder compiles exclude patterns into a test on slash-separated paths
// relative to a scan root, for the walk to skip what matches (a directory
// with everything in it). The patterns are a small part of .gitignore's:
//
//   - a pattern without "/" matches a file or directory of that name at
//     any depth: "node_modules", "*.log";
//   - a pattern with "/" matches paths from the root: "vendor/**",
//     "models/cache"; a leading "/" is allowed and means the same;
//   - "**" as a whole element matches any number of directories;
//   - a trailing "/" matches directories only: "build/".
//
// Negation ("!") is not supported and is an error, not silently ignored.
func Excluder(patterns []string) (func(rel string, dir bool) bool, error) {
	if len(patterns) > maxExcludes {
		return nil, fmt.Errorf("exclude: %d patterns, more than %d", len(patterns), maxExcludes)
	}
	type pat struct {
		glob     string
		anchored bool
		dirOnly  bool
	}
	var pats []pat
	for _, s := range patterns {
		p := pat{glob: s}
		if strings.HasPrefix(p.glob, "!") {
			return nil, fmt.Errorf("exclude %q: negation is not supported", s)
		}
		if t, ok := strings.CutSuffix(p.glob, "/"); ok {
			p.glob, p.dirOnly = t, true
		}
		if t, ok := strings.CutPrefix(p.glob, "/"); ok {
			p.glob, p.anchored = t, true
		}
		if strings.Contains(p.glob, "/") {
			p.anchored = true
		}
		if p.glob == "" || p.glob == "." || strings.Contains(p.glob, "//") {
			return nil, fmt.Errorf("exclude %q: not a path pattern", s)
		}
		if strings.Count(p.glob, "**") > 4 {
			return nil, fmt.Errorf("exclude %q: more than 4 \"**\"", s)
		}
		if _, err := path.Match(strings.ReplaceAll(p.glob, "**", "*"), ""); err != nil {
			return nil, fmt.Errorf("exclude %q: %w", s, err)
		}
		pats = append(pats, p)
	}
	if len(pats) == 0 {
		return nil, nil
	}
	return func(rel string, dir bool) bool {
		for _, p := range pats {
			if p.dirOnly && !dir {
				continue
			}
			if p.anchored {
				if ownership.Glob(p.glob, rel) {
					return true
				}
				continue
			}
			if ok, _ := path.Match(p.glob, path.Base(rel)); ok {
				return true
			}
		}
		return false
	}, nil
}
