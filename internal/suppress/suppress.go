package suppress

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/chainvet/chainvet/internal/glob"
	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/ownership"
)

// The rules of suppressions themselves, described in internal/rules/suppress.go.
const (
	RuleInvalid = "suppress/invalid"
	RuleExpired = "suppress/expired"
	RuleUnused  = "suppress/unused"
)

// maxEvidence bounds the comment text quoted in a suppress/invalid finding.
const maxEvidence = 200

// Apply moves the findings of r that an inline comment or an entry of f
// suppresses from r.Findings to r.Suppressed, and adds the findings about
// suppressions: comments without a reason, expired and unused entries.
// f may be nil: then only inline comments are read. now decides which
// entries have expired. Only ctx's end is an error; a file that cannot be
// read for comments has none.
func Apply(ctx context.Context, r *inventory.Report, f *File, now time.Time) error {
	var extra []inventory.Finding
	active := []int{}
	if f != nil {
		for i := range f.Entries {
			e := &f.Entries[i]
			if e.expired(now) {
				extra = append(extra, inventory.Finding{
					Rule: RuleExpired, Severity: inventory.Medium, Path: f.Path, Line: e.Line,
					Evidence: fmt.Sprintf("%s expires %s", e.describe(), e.Expires),
					Message: fmt.Sprintf("ignore-file entry for %s expired on %s; the findings it suppressed are reported again",
						e.Rule, e.Expires),
					Remediation: fmt.Sprintf("fix the findings and remove the entry at %s, or review its reason and set a later expires date", f.source(e)),
				})
				continue
			}
			active = append(active, i)
		}
	}
	inline, invalid, err := readInline(ctx, r.Findings)
	if err != nil {
		return err
	}
	extra = append(extra, invalid...)
	used := make([]bool, len(active))
	m := matcher{r: r, f: f}
	kept := r.Findings[:0:0]
	for i, fd := range r.Findings {
		if strings.HasPrefix(fd.Rule, "suppress/") {
			kept = append(kept, fd)
			continue
		}
		if s, ok := inline[i]; ok {
			r.Suppressed = append(r.Suppressed, s)
			continue
		}
		hit := -1
		for k, ei := range active {
			if m.matches(&f.Entries[ei], &fd) {
				hit = k
				break
			}
		}
		if hit < 0 {
			kept = append(kept, fd)
			continue
		}
		used[hit] = true
		e := &f.Entries[active[hit]]
		r.Suppressed = append(r.Suppressed, inventory.Suppressed{
			Finding: fd, Kind: inventory.SuppressFile, Reason: e.Reason, Expires: e.Expires, Owner: e.Owner, Source: f.source(e),
		})
	}
	for k, ei := range active {
		if used[k] {
			continue
		}
		e := &f.Entries[ei]
		extra = append(extra, inventory.Finding{
			Rule: RuleUnused, Severity: inventory.Info, Path: f.Path, Line: e.Line,
			Evidence:    e.describe(),
			Message:     fmt.Sprintf("ignore-file entry for %s matched no finding of this scan", e.Rule),
			Remediation: fmt.Sprintf("remove the entry at %s if what it was written for is gone", f.source(e)),
		})
	}
	r.Findings = append(kept, extra...)
	return nil
}

// place is a finding's file and, in a notebook, its cell.
type place struct {
	path string
	cell int
}

// readInline finds the chainvet:ignore comments on or above the lines of
// findings in files on disk. It returns the findings they suppress, by
// index, and a suppress/invalid finding for each comment without a
// reason or rule.
func readInline(ctx context.Context, fs []inventory.Finding) (map[int]inventory.Suppressed, []inventory.Finding, error) {
	need := map[place]map[int]bool{}
	var order []place
	for _, fd := range fs {
		if fd.Line <= 0 || fd.Path == "" || strings.Contains(fd.Path, "!") || strings.HasPrefix(fd.Rule, "suppress/") {
			continue
		}
		p := place{fd.Path, fd.Cell}
		if need[p] == nil {
			need[p] = map[int]bool{}
			order = append(order, p)
		}
		need[p][fd.Line] = true
		if fd.Line > 1 {
			need[p][fd.Line-1] = true
		}
	}
	lines := map[place]map[int]string{}
	cells := map[string]map[int][]string{}
	for _, p := range order {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		if p.cell == 0 {
			ls, _ := readLines(p.path, need[p]) // unreadable: no comments
			lines[p] = ls
			continue
		}
		cs, ok := cells[p.path]
		if !ok {
			cs, _ = cellLines(p.path)
			cells[p.path] = cs
		}
		ls := map[int]string{}
		src := cs[p.cell]
		for n := range need[p] {
			if n <= len(src) {
				ls[n] = src[n-1]
			}
		}
		lines[p] = ls
	}
	out := map[int]inventory.Suppressed{}
	var invalid []inventory.Finding
	reported := map[place]map[int]bool{}
	for i, fd := range fs {
		p := place{fd.Path, fd.Cell}
		ls := lines[p]
		if ls == nil {
			continue
		}
		for _, at := range []int{fd.Line, fd.Line - 1} {
			text, ok := ls[at]
			if !ok {
				continue
			}
			d, ok := parseDirective(text, at != fd.Line)
			if !ok {
				continue
			}
			if !d.valid() {
				if reported[p] == nil {
					reported[p] = map[int]bool{}
				}
				if !reported[p][at] {
					reported[p][at] = true
					invalid = append(invalid, invalidFinding(fd.Path, fd.Cell, at, d))
				}
				continue
			}
			if d.matches(fd.Rule) {
				src := fmt.Sprintf("%s:%d", fd.Path, at)
				if fd.Cell > 0 {
					src = fmt.Sprintf("%s#cell-%d:%d", fd.Path, fd.Cell, at)
				}
				out[i] = inventory.Suppressed{Finding: fd, Kind: inventory.SuppressInline, Reason: d.reason, Source: src}
				break
			}
		}
	}
	return out, invalid, nil
}

func invalidFinding(path string, cell, line int, d directive) inventory.Finding {
	what := "no reason"
	if len(d.rules) == 0 {
		what = "no rule"
	}
	ev := d.text
	if len(ev) > maxEvidence {
		ev = ev[:maxEvidence]
		for !utf8.ValidString(ev) {
			ev = ev[:len(ev)-1]
		}
		ev += "…"
	}
	return inventory.Finding{
		Rule: RuleInvalid, Severity: inventory.Low, Path: path, Line: line, Cell: cell,
		Evidence:    ev,
		Message:     fmt.Sprintf("a chainvet:ignore comment with %s suppresses nothing", what),
		Remediation: "write the rule and the reason: chainvet:ignore <rule> <why the finding is accepted>",
	}
}

// matcher matches ignore-file entries against a report's findings.
type matcher struct {
	r    *inventory.Report
	f    *File
	purl map[string]string // component ID → purl, built on first use
	// cands caches the candidates of each finding path; absDir is the
	// ignore file's directory made absolute.
	cands       map[string][]string
	absDir, cwd string
}

func (m *matcher) matches(e *Entry, fd *inventory.Finding) bool {
	if !wildcard(e.Rule, fd.Rule) {
		return false
	}
	if e.Evidence != "" && !strings.Contains(fd.Evidence, e.Evidence) {
		return false
	}
	if e.Component != "" && !m.component(e.Component, fd.Component) {
		return false
	}
	if e.Path != "" && !m.path(e.Path, fd.Path) {
		return false
	}
	return true
}

func (m *matcher) component(pat, id string) bool {
	if id == "" {
		return false
	}
	if m.purl == nil {
		m.purl = map[string]string{}
		for _, c := range m.r.Components {
			m.purl[c.ID] = c.PURL
		}
	}
	for _, s := range []string{id, m.purl[id]} {
		if s != "" && (wildcard(pat, s) || !strings.ContainsAny(pat, "*?@") && strings.HasPrefix(s, pat+"@")) {
			return true
		}
	}
	return false
}

// path matches a path glob against a finding's path as reported and
// relative to the ignore file's directory, and against the archive the
// path is a member of.
func (m *matcher) path(pat, p string) bool {
	for _, c := range m.candidates(p) {
		outer, _, _ := strings.Cut(c, "!")
		if ownership.Glob(pat, c) || ownership.Glob(pat, outer) {
			return true
		}
	}
	return false
}

// candidates are the forms of path p globs are matched against, worked
// out once per path, from the working directory asked of the OS once.
func (m *matcher) candidates(p string) []string {
	if p == "" {
		return nil
	}
	if c, ok := m.cands[p]; ok {
		return c
	}
	if m.cands == nil {
		m.cands = map[string][]string{}
		if m.f.Dir != "" {
			m.cwd, _ = os.Getwd()
			m.absDir, _ = filepath.Abs(m.f.Dir)
		}
	}
	cands := []string{strings.TrimPrefix(filepath.ToSlash(p), "./")}
	file, member, isMember := strings.Cut(p, "!")
	if m.absDir != "" && m.cwd != "" {
		abs := file
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(m.cwd, abs)
		}
		if rel, err := filepath.Rel(m.absDir, abs); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			rel = filepath.ToSlash(rel)
			if isMember {
				rel += "!" + member
			}
			cands = append(cands, rel)
		}
	}
	m.cands[p] = cands
	return cands
}

// wildcard matches s against a pattern where * is any run of characters,
// "/" included, and ? any one byte; without either it is equality.
func wildcard(pat, s string) bool { return glob.Wildcard(pat, s) }
