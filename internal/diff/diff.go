// Package diff compares two inventories of a project — BOMs, reports, locks,
// directories or git revisions — and says what was added, removed and
// changed, grading each version jump and checking it against approvals.
//
// # Matching
//
// A component is matched across the two sides by its [Key]: its kind and
// its identity without a version — the purl without version and
// qualifiers, else the component ID without a trailing "@version" or
// ":version", so files are matched by path and services by name. A version
// change is therefore one change, never an addition and a removal. When a
// key holds several components on a side (two versions of one npm package
// in a lockfile), components with equal IDs are paired first, then the
// rest in version order; what is left over was added or removed.
//
// # Grading
//
// A version change is graded with the ordering of the component's
// ecosystem ([Grade]): major, minor or patch by the first release number
// that differs, prerelease when only a pre-release label moved, downgrade
// when the new version is older, revision when both versions are commits
// or digests (a hub model's commit, an action's SHA, an image digest), and
// changed when the versions cannot be ordered. The same version with a
// different digest is a [Change.DigestChanged] red flag: the bytes behind
// a name that should be immutable were replaced.
package diff

import (
	"cmp"
	"maps"
	"slices"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/chainvet/chainvet/internal/inventory"
)

// Schema names the JSON form of a [Result]. It changes only compatibly:
// fields are added, never renamed or removed.
const Schema = "chainvet/diff/v1"

// Type says how a component differs between the two sides.
type Type string

// The types of change.
const (
	Added   Type = "added"
	Removed Type = "removed"
	Changed Type = "changed"
)

// Jump grades a version change.
type Jump string

// The grades of a version change. The zero value means the version did
// not change.
const (
	Major      Jump = "major"
	Minor      Jump = "minor"
	Patch      Jump = "patch"
	Prerelease Jump = "prerelease"
	Downgrade  Jump = "downgrade"
	Revision   Jump = "revision"
	// Other is a version change that cannot be ordered: a tag that is not
	// a version, a range that became a pin, a branch that became a commit.
	Other Jump = "changed"
)

// A Ref is the part of a component a diff shows.
type Ref struct {
	ID         string             `json:"id"`
	Name       string             `json:"name"`
	Version    string             `json:"version,omitempty"`
	PURL       string             `json:"purl,omitempty"`
	Dependency string             `json:"dependency,omitempty"`
	Digests    []inventory.Digest `json:"digests,omitempty"`
}

func refOf(c *inventory.Component) *Ref {
	if c == nil {
		return nil
	}
	return &Ref{ID: c.ID, Name: c.Name, Version: c.Version, PURL: c.PURL, Dependency: c.Dependency, Digests: c.Digests}
}

// A PropertyChange is one property whose value differs; an empty value is
// a property that one side does not have.
type PropertyChange struct {
	Key string `json:"key"`
	Old string `json:"old"`
	New string `json:"new"`
	// Source marks a property that says where the component comes from:
	// an index, registry, hub, URL or endpoint.
	Source bool `json:"source,omitempty"`
}

// A Change is one component that differs between the two sides.
type Change struct {
	Type Type           `json:"type"`
	Kind inventory.Kind `json:"kind"`
	// Key is the version-less identity the sides were matched by.
	Key string `json:"key"`
	Old *Ref   `json:"old,omitempty"`
	New *Ref   `json:"new,omitempty"`
	// Jump grades a version change; empty when the version is the same.
	Jump Jump `json:"jump,omitempty"`
	// DigestChanged is set when the version is the same (or there is none,
	// as for a file) but a digest of the same algorithm differs.
	DigestChanged bool `json:"digestChanged,omitempty"`
	// Properties are the properties that differ, sorted by key; digest
	// properties (lockfile hashes) are in Digests instead.
	Properties []PropertyChange `json:"properties,omitempty"`
	// Digests are the digest properties that differ (hashes, go-sum,
	// integrity, root-digest), sorted by key.
	Digests []PropertyChange `json:"digests,omitempty"`
	// Via lists, for an added transitive dependency, the direct
	// dependencies of the new side whose dependency graph reaches it.
	Via []string `json:"via,omitempty"`
	// Approval is the verdict of the approvals file, when one was applied.
	Approval *Verdict `json:"approval,omitempty"`
}

// RedFlag reports whether c is the same version with different bytes.
// A file without a version whose content changed is not one: files are
// expected to change; a released version is not.
func (c *Change) RedFlag() bool {
	return c.DigestChanged && c.Old != nil && c.Old.Version != ""
}

// SourceChanged reports whether a property naming c's origin changed.
func (c *Change) SourceChanged() bool {
	return slices.ContainsFunc(c.Properties, func(p PropertyChange) bool { return p.Source })
}

// NeedsApproval reports whether c is an addition, a version jump, changed
// content, or a red flag: what --require-approval asks a person to accept.
func (c *Change) NeedsApproval() bool {
	return c.Type == Added || (c.Type == Changed && (c.Jump != "" || c.DigestChanged))
}

// A Result is the difference between two inventories.
type Result struct {
	Schema string `json:"schema"`
	// Old and New name the two sides as the user gave them.
	Old     string   `json:"old"`
	New     string   `json:"new"`
	Summary Summary  `json:"summary"`
	Changes []Change `json:"changes"`
}

// Summary counts a result's changes. The grades count version changes
// by Jump; OtherVersion is those graded "changed". DigestChanged counts
// red flags (see [Change.RedFlag]); NewTransitive the added transitive
// dependencies. Unapproved and Approved count the verdicts of
// [Result.Apply], and are zero before it.
type Summary struct {
	Added         int `json:"added"`
	Removed       int `json:"removed"`
	Changed       int `json:"changed"`
	Major         int `json:"major"`
	Minor         int `json:"minor"`
	Patch         int `json:"patch"`
	Prerelease    int `json:"prerelease"`
	Downgrade     int `json:"downgrade"`
	Revision      int `json:"revision"`
	OtherVersion  int `json:"otherVersion"`
	DigestChanged int `json:"digestChanged"`
	SourceChanged int `json:"sourceChanged"`
	NewTransitive int `json:"newTransitive"`
	Unapproved    int `json:"unapproved"`
	Approved      int `json:"approved"`
}

// summarize recounts r.Summary from r.Changes.
func (r *Result) summarize() {
	s := Summary{}
	for i := range r.Changes {
		c := &r.Changes[i]
		switch c.Type {
		case Added:
			s.Added++
			if len(c.Via) > 0 || (c.New != nil && c.New.Dependency == inventory.Transitive) {
				s.NewTransitive++
			}
		case Removed:
			s.Removed++
		case Changed:
			s.Changed++
		}
		switch c.Jump {
		case Major:
			s.Major++
		case Minor:
			s.Minor++
		case Patch:
			s.Patch++
		case Prerelease:
			s.Prerelease++
		case Downgrade:
			s.Downgrade++
		case Revision:
			s.Revision++
		case Other:
			s.OtherVersion++
		}
		if c.RedFlag() {
			s.DigestChanged++
		}
		if c.SourceChanged() {
			s.SourceChanged++
		}
		if c.Approval != nil {
			if c.Approval.Approved {
				s.Approved++
			} else {
				s.Unapproved++
			}
		}
	}
	r.Summary = s
}

// Key is c's identity without its version: the kind, a space, and the
// purl without version and qualifiers, or else the ID without a trailing
// version.
func Key(c *inventory.Component) string {
	return string(c.Kind) + " " + identity(c)
}

func identity(c *inventory.Component) string {
	p := c.PURL
	if p == "" && strings.HasPrefix(c.ID, "pkg:") {
		p = c.ID
	}
	if p != "" {
		if u, err := packageurl.FromString(p); err == nil {
			u.Version, u.Qualifiers = "", nil
			return u.ToString()
		}
	}
	id := c.ID
	if v := c.Version; v != "" {
		for _, sep := range []string{"@", ":"} {
			if s, ok := strings.CutSuffix(id, sep+v); ok && s != "" {
				return s
			}
		}
	}
	return id
}

// Compare returns the changes from old to new, sorted by type (added,
// removed, changed), then kind, then key. The labels name the sides.
func Compare(oldLabel string, old []inventory.Component, newLabel string, new []inventory.Component) *Result {
	og, ng := group(old), group(new)
	var changes []Change
	for _, k := range slices.Sorted(maps.Keys(union(og, ng))) {
		for _, p := range pair(og[k], ng[k]) {
			if c, ok := compareOne(k, p[0], p[1]); ok {
				changes = append(changes, c)
			}
		}
	}
	addVia(changes, new)
	slices.SortStableFunc(changes, func(a, b Change) int {
		return cmp.Or(cmp.Compare(typeOrder(a.Type), typeOrder(b.Type)),
			strings.Compare(string(a.Kind), string(b.Kind)), strings.Compare(a.Key, b.Key),
			strings.Compare(refID(a.New), refID(b.New)), strings.Compare(refID(a.Old), refID(b.Old)))
	})
	r := &Result{Schema: Schema, Old: oldLabel, New: newLabel, Changes: changes}
	r.summarize()
	return r
}

func refID(r *Ref) string {
	if r == nil {
		return ""
	}
	return r.ID
}

func typeOrder(t Type) int {
	switch t {
	case Added:
		return 0
	case Removed:
		return 1
	}
	return 2
}

// group indexes components by key; duplicates of one ID (a malformed
// input) are kept once.
func group(cs []inventory.Component) map[string][]*inventory.Component {
	g := make(map[string][]*inventory.Component, len(cs))
	seen := make(map[string]bool, len(cs))
	for i := range cs {
		c := &cs[i]
		if c.ID != "" {
			if seen[c.ID] {
				continue
			}
			seen[c.ID] = true
		}
		k := Key(c)
		g[k] = append(g[k], c)
	}
	return g
}

func union(a, b map[string][]*inventory.Component) map[string]bool {
	u := make(map[string]bool, len(a)+len(b))
	for k := range a {
		u[k] = true
	}
	for k := range b {
		u[k] = true
	}
	return u
}

// pair matches the components of one key: equal IDs first, then the rest
// in version order; the left-over ones are paired with nil.
func pair(old, new []*inventory.Component) [][2]*inventory.Component {
	if len(old) == 1 && len(new) == 1 {
		return [][2]*inventory.Component{{old[0], new[0]}}
	}
	var out [][2]*inventory.Component
	byID := map[string]*inventory.Component{}
	for _, c := range new {
		byID[c.ID] = c
	}
	used := map[*inventory.Component]bool{}
	var restOld []*inventory.Component
	for _, o := range old {
		if n := byID[o.ID]; n != nil && !used[n] {
			used[n] = true
			out = append(out, [2]*inventory.Component{o, n})
			continue
		}
		restOld = append(restOld, o)
	}
	var restNew []*inventory.Component
	for _, n := range new {
		if !used[n] {
			restNew = append(restNew, n)
		}
	}
	byVersion := func(a, b *inventory.Component) int {
		if c, ok := compareVersions(a, a.Version, b.Version); ok {
			return c
		}
		return cmp.Or(strings.Compare(a.Version, b.Version), strings.Compare(a.ID, b.ID))
	}
	slices.SortStableFunc(restOld, byVersion)
	slices.SortStableFunc(restNew, byVersion)
	for i := range max(len(restOld), len(restNew)) {
		var p [2]*inventory.Component
		if i < len(restOld) {
			p[0] = restOld[i]
		}
		if i < len(restNew) {
			p[1] = restNew[i]
		}
		out = append(out, p)
	}
	return out
}

// compareOne is the change from o to n (either may be nil), and false
// when they do not differ.
func compareOne(key string, o, n *inventory.Component) (Change, bool) {
	kind, _, _ := strings.Cut(key, " ")
	c := Change{Kind: inventory.Kind(kind), Key: key[len(kind)+1:], Old: refOf(o), New: refOf(n)}
	switch {
	case o == nil:
		c.Type = Added
		return c, true
	case n == nil:
		c.Type = Removed
		return c, true
	}
	c.Type = Changed
	if o.Version != n.Version {
		c.Jump = Grade(n, o.Version, n.Version)
	}
	c.DigestChanged = c.Jump == "" && digestsDiffer(o, n)
	c.Properties, c.Digests = propertyChanges(o.Properties, n.Properties)
	if c.Jump == "" && !c.DigestChanged && len(c.Properties) == 0 && len(c.Digests) == 0 && o.Dependency == n.Dependency {
		return c, false
	}
	return c, true
}

// digestsDiffer reports whether o and n share a digest algorithm with no
// value in common. Lockfile hashes (the hashes and go-sum properties) and a
// folder's root digest count as digests.
func digestsDiffer(o, n *inventory.Component) bool {
	od, nd := digestSets(o), digestSets(n)
	for alg, ov := range od {
		nv, ok := nd[alg]
		if !ok {
			continue
		}
		shared := false
		for v := range ov {
			if nv[v] {
				shared = true
				break
			}
		}
		if !shared {
			return true
		}
	}
	return false
}

// digestProperties are properties that hold digests of the component's
// bytes, as comma-separated lists.
var digestProperties = []string{"hashes", "go-sum", "root-digest", "integrity"}

func digestSets(c *inventory.Component) map[string]map[string]bool {
	m := map[string]map[string]bool{}
	add := func(alg, v string) {
		alg, v = strings.ToLower(strings.TrimSpace(alg)), strings.ToLower(strings.TrimSpace(v))
		if v == "" {
			return
		}
		if m[alg] == nil {
			m[alg] = map[string]bool{}
		}
		m[alg][v] = true
	}
	for _, d := range c.Digests {
		add(d.Algorithm, d.Value)
	}
	for _, p := range digestProperties {
		for v := range strings.SplitSeq(c.Properties[p], ",") {
			// "sha256:abc…" names its algorithm; bare values are keyed by
			// the property, so they only meet their own kind.
			alg, val, ok := strings.Cut(v, ":")
			if !ok {
				alg, val = p, v
			}
			add(p+"/"+alg, val)
		}
	}
	return m
}

// ignoredProperties say where a component was declared or who looks
// after it (from .chainvet.yaml), not what it is: moving a requirement to
// another file is not a change of dependency.
var ignoredProperties = map[string]bool{"manifest": true, "manifests": true, "line": true, "owner": true, "criticality": true}

// sourceProperties say where a component comes from.
var sourceProperties = map[string]bool{
	"index": true, "registry": true, "hub": true, "source": true, "url": true,
	"source-url": true, "repository": true, "endpoints": true, "provider": true, "resolved": true,
}

// propertyChanges lists the properties that differ, sorted by key: the
// digest properties apart from the others.
func propertyChanges(o, n map[string]string) (props, digests []PropertyChange) {
	for k := range union2(o, n) {
		if ignoredProperties[k] || o[k] == n[k] {
			continue
		}
		p := PropertyChange{Key: k, Old: o[k], New: n[k], Source: sourceProperties[k]}
		if slices.Contains(digestProperties, k) {
			digests = append(digests, p)
		} else {
			props = append(props, p)
		}
	}
	byKey := func(a, b PropertyChange) int { return strings.Compare(a.Key, b.Key) }
	slices.SortFunc(props, byKey)
	slices.SortFunc(digests, byKey)
	return props, digests
}

func union2(a, b map[string]string) map[string]bool {
	u := make(map[string]bool, len(a)+len(b))
	for k := range a {
		u[k] = true
	}
	for k := range b {
		u[k] = true
	}
	return u
}

// maxVia bounds the direct dependencies named for one new transitive one.
const maxVia = 16

// addVia fills Via for each added transitive component: the direct
// components of new whose DependsOn closure reaches it.
func addVia(changes []Change, new []inventory.Component) {
	var ids map[string][]string
	for i := range changes {
		c := &changes[i]
		if c.Type != Added || c.New == nil || c.New.Dependency != inventory.Transitive {
			continue
		}
		if ids == nil {
			ids = directAncestors(new)
		}
		via := ids[c.New.ID]
		if len(via) > maxVia {
			via = append(via[:maxVia:maxVia], "…")
		}
		c.Via = via
	}
}

// directAncestors maps each component ID to the direct components, other
// than itself, whose DependsOn closure reaches it: sorted, and cut to the
// first maxVia+1.
//
// A walk up the graph from every component would cost components × edges
// (a long chain of transitive dependencies is common in npm). Instead the
// graph's strongly connected components are found (Tarjan, without
// recursion), and the sets flow from each to those it depends on in
// topological order, each kept to maxVia+1 names: the smallest names of
// a union are among the smallest of its parts, so the cut is exact. That
// is (components + edges) × maxVia.
func directAncestors(cs []inventory.Component) map[string][]string {
	index := make(map[string]int, len(cs))
	for i, c := range cs {
		if _, dup := index[c.ID]; !dup {
			index[c.ID] = i
		}
	}
	adj := make([][]int, len(cs))
	for i, c := range cs {
		for _, d := range c.DependsOn {
			if j, ok := index[d]; ok {
				adj[i] = append(adj[i], j)
			}
		}
	}
	comp, order := sccs(adj)
	const keep = maxVia + 1
	sets := make([][]string, len(order))
	// Tarjan emits a component after every component it reaches, so the
	// reverse of order is topological: parents first.
	for x := len(order) - 1; x >= 0; x-- {
		var own []string
		for _, v := range order[x] {
			if cs[v].Dependency == inventory.Direct {
				own = append(own, cs[v].ID)
			}
		}
		slices.Sort(own)
		sets[x] = mergeCap(sets[x], own, keep+1) // +1: one may be the component itself
		for _, v := range order[x] {
			for _, w := range adj[v] {
				if y := comp[w]; y != x {
					sets[y] = mergeCap(sets[y], sets[x], keep+1)
				}
			}
		}
	}
	out := make(map[string][]string, len(cs))
	for i, c := range cs {
		set := sets[comp[i]]
		if slices.Contains(set, c.ID) {
			set = slices.DeleteFunc(slices.Clone(set), func(id string) bool { return id == c.ID })
		}
		if len(set) > keep {
			set = set[:keep]
		}
		if len(set) > 0 {
			out[c.ID] = set
		}
	}
	return out
}

// mergeCap merges two sorted lists without duplicates, keeping the first n.
func mergeCap(a, b []string, n int) []string {
	if len(b) == 0 {
		return a
	}
	out := make([]string, 0, min(len(a)+len(b), n))
	i, j := 0, 0
	for len(out) < n && (i < len(a) || j < len(b)) {
		switch {
		case j == len(b) || (i < len(a) && a[i] < b[j]):
			out = append(out, a[i])
			i++
		case i == len(a) || b[j] < a[i]:
			out = append(out, b[j])
			j++
		default: // equal
			out = append(out, a[i])
			i++
			j++
		}
	}
	return out
}

// sccs finds the strongly connected components of the graph adj with
// Tarjan's algorithm, iteratively. comp[v] is v's component; order lists
// the components' members, each component after all it can reach.
func sccs(adj [][]int) (comp []int, order [][]int) {
	n := len(adj)
	num := make([]int, n) // 0: not yet visited; else visit number
	low := make([]int, n)
	on := make([]bool, n)
	comp = make([]int, n)
	var stack []int
	type frame struct{ v, next int }
	counter := 0
	visit := func(v int) {
		counter++
		num[v], low[v] = counter, counter
		stack = append(stack, v)
		on[v] = true
	}
	for s := range n {
		if num[s] != 0 {
			continue
		}
		visit(s)
		call := []frame{{s, 0}}
		for len(call) > 0 {
			top := len(call) - 1
			v := call[top].v
			if call[top].next < len(adj[v]) {
				w := adj[v][call[top].next]
				call[top].next++
				switch {
				case num[w] == 0:
					visit(w)
					call = append(call, frame{w, 0})
				case on[w]:
					low[v] = min(low[v], num[w])
				}
				continue
			}
			if low[v] == num[v] {
				var members []int
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					on[w] = false
					comp[w] = len(order)
					members = append(members, w)
					if w == v {
						break
					}
				}
				order = append(order, members)
			}
			call = call[:top]
			if top > 0 {
				u := call[top-1].v
				low[u] = min(low[u], low[v])
			}
		}
	}
	return comp, order
}
