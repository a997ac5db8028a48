package lock

import (
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
)

// The rule ids of drift, as findings (see internal/rules/lock.go).
const (
	RuleChanged       = "lock/changed"
	RuleMissing       = "lock/missing"
	RuleAdded         = "lock/added"
	RuleRenamed       = "lock/renamed"
	RuleRevision      = "lock/revision-changed"
	RulePackageHash   = "lock/package-hash-changed"
	RuleFolderChanged = "lock/folder-changed"
)

// A Drift is one difference between a lock and the tree it pins.
type Drift struct {
	Rule string `json:"rule"`
	// Kind is the kind of what drifted: model, dataset, file, package…
	Kind inventory.Kind `json:"kind"`
	// Path is the file or folder (relative to the lock's folder), or the
	// pin's ID.
	Path string `json:"path"`
	// Pin is true when Path is a pin's ID rather than a path.
	Pin bool `json:"pin,omitempty"`
	// From is the old path of a renamed file.
	From     string `json:"from,omitempty"`
	Expected string `json:"expected"`
	Found    string `json:"found"`
	// Accept is the command that records the change in the lock, once it
	// has been reviewed.
	Accept string `json:"accept"`
}

// A Filter restricts a comparison to some kinds and paths. The zero value
// lets everything through.
type Filter struct {
	// Kinds, if not empty, are the kinds compared.
	Kinds []inventory.Kind
	// Paths, if not empty, are path.Match patterns; an entry is compared
	// when its path, or one of the folders above it, matches one (a pin is
	// compared when its ID or a location does).
	Paths []string
}

func (f Filter) kind(k inventory.Kind) bool {
	return len(f.Kinds) == 0 || slices.Contains(f.Kinds, k)
}

func (f Filter) path(names ...string) bool {
	if len(f.Paths) == 0 {
		return true
	}
	for _, n := range names {
		for p := n; ; p = path.Dir(p) {
			for _, pat := range f.Paths {
				if ok, _ := path.Match(pat, p); ok || pat == p {
					return true
				}
			}
			if p == "." || p == "/" || !strings.Contains(p, "/") {
				break
			}
		}
	}
	return false
}

// Compare lists how now (the tree as it is) differs from the lock, in a
// stable order: files (changed, renamed, missing, added), folders, pins.
// A file that moved keeps its content, so it is matched by digest: one
// missing file and one added file with the same size and SHA-256 are a
// rename.
func Compare(lock, now *File, f Filter) []Drift {
	var out []Drift
	accept := func(p string) string { return "chainvet lock --update " + shellQuote(p) }

	old := map[string]Artifact{}
	for _, a := range lock.Files {
		if f.kind(a.Kind) && f.path(a.Path) {
			old[a.Path] = a
		}
	}
	cur := map[string]Artifact{}
	for _, a := range now.Files {
		if f.kind(a.Kind) && f.path(a.Path) {
			cur[a.Path] = a
		}
	}
	var missing, added []Artifact
	for _, a := range sortedValues(old) {
		n, ok := cur[a.Path]
		if !ok {
			missing = append(missing, a)
			continue
		}
		if exp, got, same := sameContent(a, n); !same {
			out = append(out, Drift{Rule: RuleChanged, Kind: a.Kind, Path: a.Path, Expected: exp, Found: got, Accept: accept(a.Path)})
		}
	}
	for _, n := range sortedValues(cur) {
		if _, ok := old[n.Path]; !ok {
			added = append(added, n)
		}
	}
	// Renames: match each missing file with an added one of the same
	// content; what is left is missing or added.
	byDigest := map[string][]int{}
	for i, n := range added {
		byDigest[n.SHA256] = append(byDigest[n.SHA256], i)
	}
	taken := make([]bool, len(added))
	for _, a := range missing {
		found := false
		for _, i := range byDigest[a.SHA256] {
			if !taken[i] && added[i].Size == a.Size && a.SHA256 != "" {
				taken[i], found = true, true
				out = append(out, Drift{Rule: RuleRenamed, Kind: a.Kind, Path: added[i].Path, From: a.Path,
					Expected: a.Path, Found: added[i].Path, Accept: accept(a.Path) + " " + shellQuote(added[i].Path)})
				break
			}
		}
		if !found {
			out = append(out, Drift{Rule: RuleMissing, Kind: a.Kind, Path: a.Path, Expected: digestText(a), Found: "no file", Accept: accept(a.Path)})
		}
	}
	for i, n := range added {
		if !taken[i] {
			out = append(out, Drift{Rule: RuleAdded, Kind: n.Kind, Path: n.Path, Expected: "no file", Found: digestText(n), Accept: accept(n.Path)})
		}
	}

	// Folders: a folder keeps its identity by name (a Hugging Face
	// snapshot's path holds its commit); a new commit is a new revision.
	oldF := map[string]Folder{}
	for _, d := range lock.Folders {
		if f.kind(d.Kind) && f.path(d.Path) {
			oldF[folderKey(d)] = d
		}
	}
	for _, n := range now.Folders {
		if !f.kind(n.Kind) || !f.path(n.Path) {
			continue
		}
		d, ok := oldF[folderKey(n)]
		if !ok {
			continue // its files are reported as added
		}
		switch {
		case d.Version != n.Version:
			out = append(out, Drift{Rule: RuleRevision, Kind: n.Kind, Path: n.Path, Expected: d.Name + "@" + d.Version,
				Found: n.Name + "@" + n.Version, Accept: accept(n.Path)})
		case d.Git != n.Git:
			out = append(out, Drift{Rule: RuleRevision, Kind: n.Kind, Path: n.Path, Expected: "git " + cmpOrStr(d.Git, "(none)"),
				Found: "git " + cmpOrStr(n.Git, "(none)"), Accept: accept(n.Path)})
		case d.Root != n.Root && n.Root != "" && d.Path == n.Path:
			out = append(out, Drift{Rule: RuleFolderChanged, Kind: n.Kind, Path: n.Path, Expected: d.Root, Found: n.Root, Accept: accept(n.Path)})
		}
	}

	// Pins, by identity without version: a new version of the same thing
	// is a revision change, not a removal and an addition.
	oldP, curP := pinsByKey(lock.Pins, f), pinsByKey(now.Pins, f)
	for _, k := range sortedKeys(oldP) {
		ps, ns := oldP[k], curP[k]
		switch {
		case len(ns) == 0:
			for _, p := range ps {
				out = append(out, Drift{Rule: RuleMissing, Kind: p.Kind, Path: p.ID, Pin: true, Expected: pinText(p), Found: "not used", Accept: accept(p.ID)})
			}
		case len(ps) == 1 && len(ns) == 1:
			p, n := ps[0], ns[0]
			switch {
			case p.Version != n.Version || p.Unpinned != n.Unpinned:
				out = append(out, Drift{Rule: RuleRevision, Kind: n.Kind, Path: p.ID, Pin: true, Expected: pinText(p), Found: pinText(n), Accept: accept(n.ID)})
			case !slices.Equal(p.Digests, n.Digests):
				out = append(out, Drift{Rule: RulePackageHash, Kind: n.Kind, Path: p.ID, Pin: true, Expected: digestsText(p.Digests),
					Found: digestsText(n.Digests), Accept: accept(n.ID)})
			}
		default:
			// Several versions side by side: compare them as sets.
			for _, p := range ps {
				if i := slices.IndexFunc(ns, func(n Pin) bool { return n.ID == p.ID }); i < 0 {
					out = append(out, Drift{Rule: RuleMissing, Kind: p.Kind, Path: p.ID, Pin: true, Expected: pinText(p), Found: "not used", Accept: accept(p.ID)})
				} else if !slices.Equal(p.Digests, ns[i].Digests) {
					out = append(out, Drift{Rule: RulePackageHash, Kind: p.Kind, Path: p.ID, Pin: true, Expected: digestsText(p.Digests),
						Found: digestsText(ns[i].Digests), Accept: accept(p.ID)})
				}
			}
			for _, n := range ns {
				if !slices.ContainsFunc(ps, func(p Pin) bool { return n.ID == p.ID }) {
					out = append(out, Drift{Rule: RuleAdded, Kind: n.Kind, Path: n.ID, Pin: true, Expected: "not used", Found: pinText(n), Accept: accept(n.ID)})
				}
			}
		}
	}
	for _, k := range sortedKeys(curP) {
		if _, ok := oldP[k]; !ok {
			for _, n := range curP[k] {
				out = append(out, Drift{Rule: RuleAdded, Kind: n.Kind, Path: n.ID, Pin: true, Expected: "not used", Found: pinText(n), Accept: accept(n.ID)})
			}
		}
	}
	return out
}

// sameContent compares a locked file with the file now. now may carry only
// shard digests (verified by shards), or only a whole digest.
func sameContent(a, now Artifact) (expected, found string, same bool) {
	if a.Size != now.Size {
		return digestText(a), digestText(now), false
	}
	if now.SHA256 == "" && len(now.Shards) > 0 {
		for i := range a.Shards {
			if i >= len(now.Shards) || a.Shards[i] != now.Shards[i] {
				return fmt.Sprintf("shard %d sha256 %s", i, a.Shards[i]), fmt.Sprintf("shard %d sha256 %s", i, at(now.Shards, i)), false
			}
		}
		return "", "", len(a.Shards) == len(now.Shards)
	}
	return digestText(a), digestText(now), a.SHA256 == now.SHA256
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "none"
}

func digestText(a Artifact) string {
	if a.SHA256 == "" {
		return fmt.Sprintf("%d bytes, %d shards", a.Size, len(a.Shards))
	}
	return fmt.Sprintf("sha256 %s, %d bytes", a.SHA256, a.Size)
}

func pinText(p Pin) string {
	v := p.Version
	if v == "" {
		v = "(no version)"
	}
	if p.Unpinned {
		v += " (unpinned)"
	}
	return v
}

func digestsText(ds []inventory.Digest) string {
	if len(ds) == 0 {
		return "no hashes"
	}
	var s []string
	for _, d := range ds {
		s = append(s, d.Algorithm+":"+d.Value)
	}
	return strings.Join(s, " ")
}

func folderKey(f Folder) string {
	if f.Name != "" && f.Version != "" {
		return string(f.Kind) + "|" + f.Name
	}
	return string(f.Kind) + "|" + f.Path
}

// PinKey is a pin's identity without its version: the purl (or ID) with
// the "@version" cut out, qualifiers and subpath kept.
func PinKey(p Pin) string {
	id := p.PURL
	if id == "" {
		id = p.ID
	}
	rest, sub, _ := strings.Cut(id, "#")
	rest, q, _ := strings.Cut(rest, "?")
	if i := strings.LastIndex(rest, "@"); i > strings.LastIndex(rest, "/") {
		rest = rest[:i]
	}
	key := string(p.Kind) + "|" + rest
	if q != "" {
		key += "?" + q
	}
	if sub != "" {
		key += "#" + sub
	}
	return key
}

func pinsByKey(ps []Pin, f Filter) map[string][]Pin {
	m := map[string][]Pin{}
	for _, p := range ps {
		if f.kind(p.Kind) && f.path(append([]string{p.ID}, p.Locations...)...) {
			m[PinKey(p)] = append(m[PinKey(p)], p)
		}
	}
	return m
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func sortedValues(m map[string]Artifact) []Artifact {
	var out []Artifact
	for _, k := range sortedKeys(m) {
		out = append(out, m[k])
	}
	return out
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:@%+=,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Names are what to name to chainvet lock --update to accept d: the path,
// both paths of a rename, or the pin's ID.
func (d Drift) Names() []string {
	if d.From != "" {
		return []string{d.From, d.Path}
	}
	return []string{d.Path}
}

// Findings turns drifts into findings of the lock rules, for JSON and
// SARIF reports: a file's finding names it under root, as a scan of root
// would; a pin's names the lock file.
func Findings(ds []Drift, root, lockPath string) []inventory.Finding {
	var out []inventory.Finding
	for _, d := range ds {
		msg := fmt.Sprintf("%s %s: expected %s, found %s", d.Kind, d.Path, d.Expected, d.Found)
		if d.Rule == RuleRenamed {
			msg = fmt.Sprintf("%s %s was renamed to %s (same content)", d.Kind, d.From, d.Path)
		}
		p := filepath.Join(root, filepath.FromSlash(d.Path))
		if d.Pin { // point at the lock, which names it
			p = lockPath
		}
		out = append(out, inventory.Finding{Rule: d.Rule, Severity: severity(d.Rule), Path: p,
			Evidence: "expected " + d.Expected + "; found " + d.Found, Message: msg,
			Remediation: "review the change; to accept it run: " + d.Accept})
	}
	return out
}

func severity(rule string) inventory.Severity {
	switch rule {
	case RuleChanged, RulePackageHash:
		return inventory.High
	case RuleRenamed, RuleAdded:
		return inventory.Low
	}
	return inventory.Medium
}
