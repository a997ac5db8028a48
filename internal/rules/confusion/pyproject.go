package confusion

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/chainvet/chainvet/internal/inventory"
)

// pyprojectWants reports whether data is a pyproject.toml that configures
// package indexes for uv or Poetry.
func pyprojectWants(data []byte) bool {
	return bytes.Contains(data, []byte("[[tool.uv.index]]")) || bytes.Contains(data, []byte("[[tool.poetry.source]]"))
}

// checkPyproject returns the findings of uv and Poetry index settings that
// resolve a name from whichever index offers it.
//
// uv's default strategy (first-index) stops at the first index that has a
// name, which is safe; the unsafe-* strategies merge indexes as pip does.
// Poetry searches a supplemental source only when no other source has the
// name, so a private name published on PyPI replaces the private package.
func checkPyproject(p string, data []byte) []inventory.Finding {
	var doc map[string]any
	if _, err := toml.Decode(string(data), &doc); err != nil {
		// The Python cataloger reports malformed pyproject files.
		return nil
	}
	tool, _ := doc["tool"].(map[string]any)
	var out []inventory.Finding
	if uv, ok := tool["uv"].(map[string]any); ok {
		strategy, _ := uv["index-strategy"].(string)
		if strings.HasPrefix(strategy, "unsafe-") {
			sources, _ := uv["sources"].(map[string]any)
			for _, ix := range tablesOf(uv["index"]) {
				u, _ := ix["url"].(string)
				if explicit, _ := ix["explicit"].(bool); explicit || u == "" || publicPyPI(u) {
					continue
				}
				out = append(out, inventory.Finding{
					Rule: "package/dependency-confusion", Severity: inventory.High, Path: p, Line: lineOf(data, "index-strategy"),
					Evidence:    fmt.Sprintf("index-strategy = %q with index %s", strategy, redact(u)),
					Message:     fmt.Sprintf("uv merges %s with PyPI (%s) for every package without a [tool.uv.sources] pin%s: a name published on PyPI can replace a private one", redact(u), strategy, unpinned(doc, sources)),
					Remediation: fmt.Sprintf("drop index-strategy (uv's default first-index is safe), mark the index `explicit = true` and pin each private package: `[tool.uv.sources] pkg = { index = %q }`", ixName(ix)),
				})
			}
		}
	}
	if poetry, ok := tool["poetry"].(map[string]any); ok {
		for _, s := range tablesOf(poetry["source"]) {
			if prio, _ := s["priority"].(string); prio != "supplemental" {
				continue
			}
			u, _ := s["url"].(string)
			name := ixName(s)
			out = append(out, inventory.Finding{
				Rule: "package/dependency-confusion", Severity: inventory.High, Path: p, Line: lineOf(data, "supplemental"),
				Evidence:    fmt.Sprintf("poetry source %q %s priority supplemental", name, redact(u)),
				Message:     fmt.Sprintf("Poetry searches %s only for names no other source has: a private package name published on PyPI is installed from PyPI instead%s", redact(u), poetryUnpinned(poetry)),
				Remediation: fmt.Sprintf("set `priority = \"explicit\"` on source %q and give each private package `source = %q` in its dependency table", name, name),
			})
		}
	}
	return out
}

// maxListed bounds the package names one finding lists.
const maxListed = 20

// unpinned lists the project's dependencies that no uv source pins.
func unpinned(doc, sources map[string]any) string {
	proj, _ := doc["project"].(map[string]any)
	deps, _ := proj["dependencies"].([]any)
	var names []string
	for _, d := range deps {
		s, _ := d.(string)
		r, ok := requirement(strings.TrimSpace(s))
		if !ok {
			continue
		}
		if _, pinned := sources[r.name]; !pinned {
			names = append(names, r.name)
		}
	}
	return listed(names)
}

// poetryUnpinned lists Poetry dependencies with no source of their own.
func poetryUnpinned(poetry map[string]any) string {
	tables := []any{poetry["dependencies"], poetry["dev-dependencies"]}
	groups, _ := poetry["group"].(map[string]any)
	for _, g := range groups {
		if gt, ok := g.(map[string]any); ok {
			tables = append(tables, gt["dependencies"])
		}
	}
	var names []string
	for _, t := range tables {
		deps, _ := t.(map[string]any)
		for n, v := range deps {
			if n == "python" {
				continue
			}
			if vt, ok := v.(map[string]any); ok && vt["source"] != nil {
				continue
			}
			names = append(names, normalize(n))
		}
	}
	return listed(names)
}

func listed(names []string) string {
	if len(names) == 0 {
		return ""
	}
	slices.Sort(names)
	names = slices.Compact(names)
	more := ""
	if len(names) > maxListed {
		more = fmt.Sprintf(" and %d more", len(names)-maxListed)
		names = names[:maxListed]
	}
	return "; packages at risk: " + strings.Join(names, ", ") + more
}

func tablesOf(v any) []map[string]any {
	switch t := v.(type) {
	case []map[string]any:
		return t
	case []any:
		var out []map[string]any
		for _, e := range t {
			if m, ok := e.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	}
	return nil
}

func ixName(t map[string]any) string {
	n, _ := t["name"].(string)
	return n
}

// lineOf returns the 1-based line of the first occurrence of s, or 0.
func lineOf(data []byte, s string) int {
	i := bytes.Index(data, []byte(s))
	if i < 0 {
		return 0
	}
	return bytes.Count(data[:i], []byte("\n")) + 1
}
