// Package advisories matches package components against known OSV
// advisories held in the local store.
//
// A pinned version that an advisory affects is package/vulnerable (or
// package/malicious for a MAL- report), one finding per issue: records that
// share an id or alias (GHSA, PYSEC, CVE) are merged. An unpinned range is
// package/vulnerable-range when it admits an affected version; which
// versions a range admits is not enumerable offline, so the check tries the
// advisory's listed versions, its non-zero "introduced" versions and the
// versions the range itself names (its bounds), and reports a hit when one
// of them is both in the range and affected. A range whose admitted
// versions are all between such candidates can be missed. An advisory that
// cannot be evaluated is package/advisory-unknown, never a silent pass.
package advisories

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/chainvet/chainvet/internal/advisory/osv"
	"github.com/chainvet/chainvet/internal/advisory/store"
	"github.com/chainvet/chainvet/internal/advisory/version"
	"github.com/chainvet/chainvet/internal/inventory"
)

// Rule ids this analyzer reports.
const (
	RuleVulnerable      = "package/vulnerable"
	RuleMalicious       = "package/malicious"
	RuleVulnerableRange = "package/vulnerable-range"
	RuleUnknown         = "package/advisory-unknown"
)

// maxEvidenceIDs bounds the ids listed in one finding's evidence.
const maxEvidenceIDs = 12

// Lookuper finds the advisories of a package, and those that report a
// file by its digest; *store.Store is one.
type Lookuper interface {
	Lookup(ctx context.Context, ecosystem, name string) ([]*osv.Record, error)
	LookupHash(ctx context.Context, algorithm, value string) ([]*osv.Record, error)
}

var _ Lookuper = (*store.Store)(nil)

// Analyzer reports packages with known advisories. With a nil Store it
// reports nothing; the caller warns that advisories were not checked.
type Analyzer struct {
	Store Lookuper
}

// Name implements inventory.Analyzer.
func (Analyzer) Name() string { return "packages/advisories" }

// ecosystems maps chainvet's ecosystem property to OSV's name.
var ecosystems = map[string]string{
	"pypi":   "PyPI",
	"npm":    "npm",
	"golang": "Go",
	"github": "GitHub Actions",
}

// hit is one advisory record matching one component.
type hit struct {
	rec    *osv.Record
	ranges []version.Range // the matching affected entries' ranges
}

// Analyze implements inventory.Analyzer.
func (a Analyzer) Analyze(ctx context.Context, r *inventory.Report) ([]inventory.Finding, error) {
	if a.Store == nil {
		return nil, nil
	}
	var out []inventory.Finding
	for i := range r.Components {
		if i%256 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		c := &r.Components[i]
		eco, ok := ecosystems[c.Properties["ecosystem"]]
		if c.Kind != inventory.KindPackage || !ok || c.Name == "" {
			continue
		}
		pinned := c.Version != "" && (c.Properties["pinned"] != "false" || eco == "GitHub Actions")
		spec := c.Properties["version-range"]
		var found []inventory.Finding
		if pinned || spec != "" {
			recs, err := a.Store.Lookup(ctx, eco, c.Name)
			if err != nil {
				return nil, fmt.Errorf("advisories: %w", err)
			}
			switch {
			case len(recs) == 0:
			case pinned:
				found = matchPinned(c, eco, recs)
			default:
				found = matchRange(c, eco, spec, recs)
			}
		}
		byHash, err := a.matchHashes(ctx, c, found)
		if err != nil {
			return nil, err
		}
		out = append(out, found...)
		out = append(out, byHash...)
	}
	return out, nil
}

// matchHashes reports c's file digests (from its lockfile: pip --hash,
// poetry, uv and pdm file hashes, npm integrity) that a malicious-package
// report names, whatever name or version the report gives: a file is
// malicious under any name. Reports already in found are not repeated.
func (a Analyzer) matchHashes(ctx context.Context, c *inventory.Component, found []inventory.Finding) ([]inventory.Finding, error) {
	var out []inventory.Finding
	reported := map[string]bool{}
	for _, f := range found {
		if f.Rule == RuleMalicious {
			for _, id := range advisoryIDs.FindAllString(f.Evidence, -1) {
				reported[id] = true
			}
		}
	}
	for _, d := range c.Digests {
		if d.Algorithm != "sha256" && d.Algorithm != "sha512" {
			continue
		}
		recs, err := a.Store.LookupHash(ctx, d.Algorithm, d.Value)
		if err != nil {
			return nil, fmt.Errorf("advisories: %w", err)
		}
		for _, rec := range recs {
			if !rec.Malicious() || slices.ContainsFunc(rec.Group(), func(id string) bool { return reported[id] }) {
				continue
			}
			for _, id := range rec.Group() {
				reported[id] = true
			}
			named := ""
			if len(rec.Affected) > 0 {
				named = fmt.Sprintf(" (reported as %s %s)", rec.Affected[0].Package.Ecosystem, rec.Affected[0].Package.Name)
			}
			f := base(c)
			f.Rule, f.Severity = RuleMalicious, inventory.Critical
			f.Evidence = fmt.Sprintf("%s:%s of %s %s matches %s%s", d.Algorithm, d.Value, c.Name, c.Version, listIDs(rec.Group()), named)
			f.Message = fmt.Sprintf("A file locked for %s %s is reported as malicious by its digest (%s)", c.Name, c.Version, rec.ID)
			if rec.Summary != "" {
				f.Message += ": " + rec.Summary
			}
			f.Remediation = "Remove the package and the lock entry that allows this file, treat the machines that installed it as compromised and rotate their credentials."
			out = append(out, f)
		}
	}
	return out, nil
}

// advisoryIDs finds the advisory ids in a finding's evidence.
var advisoryIDs = regexp.MustCompile(`\b[A-Z][A-Z0-9]*-[0-9A-Za-z-]+\b`)

// entries are rec's affected entries for the package.
func entries(rec *osv.Record, eco, name string) []osv.Affected {
	var out []osv.Affected
	want := store.NormalizeName(eco, name)
	for _, af := range rec.Affected {
		if af.Package.Ecosystem == eco && store.NormalizeName(eco, af.Package.Name) == want {
			out = append(out, af)
		}
	}
	return out
}

func matchPinned(c *inventory.Component, eco string, recs []*osv.Record) []inventory.Finding {
	var hits []hit
	var out []inventory.Finding
	for _, rec := range recs {
		var h *hit
		for _, af := range entries(rec, eco, c.Name) {
			rs := af.VersionRanges()
			aff, err := version.Affected(eco, c.Version, rs, af.Versions)
			if err != nil {
				out = append(out, unknown(c, rec, err))
				continue
			}
			if aff {
				if h == nil {
					hits = append(hits, hit{rec: rec})
					h = &hits[len(hits)-1]
				}
				h.ranges = append(h.ranges, rs...)
			}
		}
	}
	if len(hits) == 0 {
		return out
	}
	groups := group(hits)
	var all [][]version.Range
	for _, g := range groups {
		for _, h := range g {
			all = append(all, h.ranges)
		}
	}
	safe, safeOK := version.SmallestFix(eco, c.Version, all)
	for _, g := range groups {
		sev, why, ids, mal := rank(g)
		var fixed []string
		for _, h := range g {
			f, _ := version.FixedVersions(eco, c.Version, h.ranges)
			fixed = append(fixed, f...)
		}
		slices.Sort(fixed)
		fixed = slices.Compact(fixed)
		f := base(c)
		f.Severity = sev
		f.Evidence = fmt.Sprintf("%s %s %s: %s", eco, c.Name, c.Version, listIDs(ids))
		if len(fixed) > 0 {
			f.Evidence += "; fixed in " + strings.Join(fixed, ", ")
		}
		summary := g[0].rec.Summary
		if mal {
			f.Rule = RuleMalicious
			f.Message = fmt.Sprintf("%s %s is reported as a malicious package (%s)", c.Name, c.Version, ids[0])
			f.Remediation = "Remove the package, treat the machines that installed it as compromised and rotate their credentials."
		} else {
			f.Rule = RuleVulnerable
			f.Message = fmt.Sprintf("%s %s is affected by %s (%s)", c.Name, c.Version, ids[0], why)
			switch {
			case safeOK && safe != c.Version:
				f.Remediation = fmt.Sprintf("Upgrade %s to %s, the smallest version clear of every known advisory.", c.Name, safe)
			case len(fixed) > 0:
				f.Remediation = fmt.Sprintf("Upgrade %s to a fixed version (%s) and check it against the other advisories.", c.Name, strings.Join(fixed, ", "))
			default:
				f.Remediation = fmt.Sprintf("No fixed version is known: replace %s or mitigate as the advisory describes.", c.Name)
			}
		}
		if summary != "" {
			f.Message += ": " + summary
		}
		out = append(out, f)
	}
	return out
}

var versionToken = regexp.MustCompile(`v?[0-9][0-9A-Za-z.+!\-]*`)

func matchRange(c *inventory.Component, eco, spec string, recs []*osv.Record) []inventory.Finding {
	contains, err := rangeFunc(eco, spec)
	if err != nil {
		f := base(c)
		f.Rule, f.Severity = RuleUnknown, inventory.Low
		f.Evidence = fmt.Sprintf("%s %s %q: %v", eco, c.Name, spec, err)
		f.Message = fmt.Sprintf("Could not tell whether the range %q of %s admits a version with a known advisory", spec, c.Name)
		f.Remediation = "Pin the package to an exact version so it can be checked."
		return []inventory.Finding{f}
	}
	bounds := versionToken.FindAllString(spec, version.MaxClauses)
	var out []inventory.Finding
	for _, rec := range recs {
		for _, af := range entries(rec, eco, c.Name) {
			rs := af.VersionRanges()
			cands := append(slices.Clone(af.Versions), bounds...)
			for _, r := range rs {
				for _, e := range r.Events {
					if e.Introduced != "" && e.Introduced != "0" {
						cands = append(cands, e.Introduced)
					}
				}
			}
			var admitted string
			for _, v := range cands {
				if !contains(v) {
					continue
				}
				if aff, err := version.Affected(eco, v, rs, af.Versions); err == nil && aff {
					admitted = v
					break
				}
			}
			if admitted == "" {
				continue
			}
			sev, why := rec.Rank()
			f := base(c)
			fixed, _ := version.FixedVersions(eco, admitted, rs)
			f.Evidence = fmt.Sprintf("%s %s %q admits %s: %s", eco, c.Name, spec, admitted, listIDs(rec.Group()))
			if len(fixed) > 0 {
				f.Evidence += "; fixed in " + strings.Join(fixed, ", ")
			}
			if rec.Malicious() {
				f.Rule, f.Severity = RuleMalicious, inventory.Critical
				f.Message = fmt.Sprintf("The range %q of %s admits %s, reported as malicious (%s)", spec, c.Name, admitted, rec.ID)
				f.Remediation = "Remove the package or pin it to a version not named in the report."
			} else {
				f.Rule, f.Severity = RuleVulnerableRange, max(sev-1, inventory.Low)
				f.Message = fmt.Sprintf("The range %q of %s admits %s, affected by %s (%s)", spec, c.Name, admitted, rec.ID, why)
				f.Remediation = "Pin the package (a lockfile) to a version clear of the advisory"
				if len(fixed) > 0 {
					f.Remediation += fmt.Sprintf(", such as %s or later", fixed[len(fixed)-1])
				}
				f.Remediation += "."
			}
			out = append(out, f)
			break
		}
	}
	return out
}

// rangeFunc parses spec in eco's range syntax.
func rangeFunc(eco, spec string) (func(string) bool, error) {
	switch eco {
	case "PyPI":
		set, err := version.ParseSpecifierSet(spec)
		if err != nil {
			return nil, err
		}
		return func(v string) bool {
			p, err := version.ParsePEP440(v)
			return err == nil && set.Contains(p, false)
		}, nil
	case "npm":
		rg, err := version.ParseNpmRange(spec)
		if err != nil {
			return nil, err
		}
		return func(v string) bool {
			s, err := version.ParseSemver(v)
			return err == nil && rg.Contains(s, false)
		}, nil
	}
	return nil, fmt.Errorf("ranges of ecosystem %s are not supported", eco)
}

func base(c *inventory.Component) inventory.Finding {
	f := inventory.Finding{Component: c.ID}
	if len(c.Locations) > 0 {
		f.Path, f.Line = c.Locations[0].Path, c.Locations[0].Line
	}
	return f
}

func unknown(c *inventory.Component, rec *osv.Record, err error) inventory.Finding {
	f := base(c)
	f.Rule, f.Severity = RuleUnknown, inventory.Low
	f.Evidence = fmt.Sprintf("%s %s: %v", rec.ID, c.Version, err)
	f.Message = fmt.Sprintf("Could not tell whether %s %s is affected by %s", c.Name, c.Version, rec.ID)
	f.Remediation = "Check the advisory by hand."
	return f
}

// group merges hits that share an id or alias, in first-seen order.
func group(hits []hit) [][]hit {
	parent := make([]int, len(hits))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	owner := map[string]int{}
	for i, h := range hits {
		for _, id := range h.rec.Group() {
			if j, ok := owner[id]; ok {
				parent[find(i)] = find(j)
			} else {
				owner[id] = i
			}
		}
	}
	idx := map[int]int{}
	var out [][]hit
	for i, h := range hits {
		root := find(i)
		k, ok := idx[root]
		if !ok {
			k = len(out)
			idx[root] = k
			out = append(out, nil)
		}
		out[k] = append(out[k], h)
	}
	return out
}

// rank is a group's highest severity with its reason, its ids (records
// first, then aliases) and whether it reports malice.
func rank(g []hit) (inventory.Severity, string, []string, bool) {
	sev, why, mal := inventory.Info, "", false
	var ids, aliases []string
	for i, h := range g {
		s, w := h.rec.Rank()
		if i == 0 || s > sev {
			sev, why = s, w
		}
		mal = mal || h.rec.Malicious()
		ids = append(ids, h.rec.ID)
		aliases = append(aliases, h.rec.Aliases...)
	}
	for _, a := range aliases {
		if !slices.Contains(ids, a) {
			ids = append(ids, a)
		}
	}
	if mal {
		sev = inventory.Critical
	}
	return sev, why, ids, mal
}

func listIDs(ids []string) string {
	if len(ids) > maxEvidenceIDs {
		return strings.Join(ids[:maxEvidenceIDs], ", ") + fmt.Sprintf(" and %d more", len(ids)-maxEvidenceIDs)
	}
	return strings.Join(ids, ", ")
}
