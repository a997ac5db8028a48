package render

import (
	"crypto/sha256"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx/v2/common"
	spdx "github.com/spdx/tools-golang/spdx/v2/v2_3"

	"github.com/chainvet/chainvet/internal/inventory"
)

// spdxFormat writes the report's inventory as an SPDX 2.3 JSON document.
// Findings are left out, as in CycloneDX.
//
// The scanned target is a package (purpose APPLICATION) that the document
// DESCRIBES and that DEPENDS_ON every component not known to be transitive;
// each component is a package whose DEPENDS_ON relationships follow
// DependsOn. Purposes: package LIBRARY, plugin and workflow APPLICATION,
// container CONTAINER, notebook FILE; models, datasets and services are
// OTHER, with the kind in the comment (SPDX 2.3 has no purpose for them).
// SPDX 2.3 packages have no free properties, so chainvet's properties are
// written one per line into the package comment and locations into
// sourceInfo.
type spdxFormat struct {
	opt Options
	// created is the document's creation time; zero means the time of
	// rendering. Tests fix it so that goldens are stable.
	created time.Time
	// namespace is the document namespace; empty means one derived from
	// the targets, the tool version and the creation time.
	namespace string
}

// newSPDX returns the SPDX 2.3 JSON renderer.
func newSPDX(opt Options) inventory.Renderer { return &spdxFormat{opt: opt} }

// Name is "spdx-json".
func (*spdxFormat) Name() string { return "spdx-json" }

// spdxNamespaceBase prefixes derived document namespaces. SPDX asks only
// that the URI be unique, not that it resolve.
const spdxNamespaceBase = "https://chainvet.dev/spdxdocs/"

// spdxRootID is the SPDX id of the scanned target; component ids are
// prefixed "Component-" so they cannot collide with it.
const spdxRootID = common.ElementID("Target")

// Render writes r to w.
func (f *spdxFormat) Render(w io.Writer, r *inventory.Report) error {
	if r == nil {
		return errNilReport
	}
	doc := f.document(r)
	if err := spdxjson.Write(doc, w, spdxjson.Indent("  ")); err != nil {
		return fmt.Errorf("spdx-json: %w", err)
	}
	return nil
}

// document builds the SPDX document of r.
func (f *spdxFormat) document(r *inventory.Report) *spdx.Document {
	created := f.created
	if created.IsZero() {
		created = time.Now()
	}
	created = created.UTC().Truncate(time.Second)
	version := toolVersion(f.opt, r)
	target := targetName(r)

	ns := f.namespace
	if ns == "" {
		h := sha256.New()
		fmt.Fprintf(h, "chainvet %s\x00%s\x00", version, created.Format(time.RFC3339))
		for _, t := range r.Targets {
			fmt.Fprintf(h, "%s\x00", t)
		}
		ns = fmt.Sprintf("%s%s-%x", spdxNamespaceBase, sanitizeSPDXID(target), h.Sum(nil)[:16])
	}

	comps := sortedComponents(r)
	ids := spdxIDs(comps)

	root := &spdx.Package{
		PackageName:             target,
		PackageSPDXIdentifier:   spdxRootID,
		PackageDownloadLocation: "NOASSERTION",
		PackageLicenseConcluded: "NOASSERTION",
		PackageLicenseDeclared:  "NOASSERTION",
		PackageCopyrightText:    "NOASSERTION",
		PrimaryPackagePurpose:   "APPLICATION",
		PackageComment:          "The scanned target.",
	}
	doc := &spdx.Document{
		SPDXVersion:       spdx.Version,
		DataLicense:       spdx.DataLicense,
		SPDXIdentifier:    "DOCUMENT",
		DocumentName:      "chainvet " + target,
		DocumentNamespace: ns,
		CreationInfo: &spdx.CreationInfo{
			Creators: []common.Creator{{CreatorType: "Tool", Creator: "chainvet-" + version}},
			Created:  created.Format(time.RFC3339),
		},
		Packages: []*spdx.Package{root},
		Relationships: []*spdx.Relationship{{
			RefA:         common.MakeDocElementID("", "DOCUMENT"),
			RefB:         common.MakeDocElementID("", string(spdxRootID)),
			Relationship: common.TypeRelationshipDescribe,
		}},
	}
	dependsOn := func(a, b common.ElementID) {
		doc.Relationships = append(doc.Relationships, &spdx.Relationship{
			RefA:         common.MakeDocElementID("", string(a)),
			RefB:         common.MakeDocElementID("", string(b)),
			Relationship: common.TypeRelationshipDependsOn,
		})
	}
	for _, c := range comps {
		doc.Packages = append(doc.Packages, spdxPackage(c, ids[c.ID]))
		if c.Dependency != inventory.Transitive {
			dependsOn(spdxRootID, ids[c.ID])
		}
	}
	for _, c := range comps {
		var on []string
		for _, d := range c.DependsOn {
			if _, ok := ids[d]; ok {
				on = append(on, d)
			}
		}
		slices.Sort(on)
		for _, d := range slices.Compact(on) {
			dependsOn(ids[c.ID], ids[d])
		}
	}
	return doc
}

// spdxIDs gives each component (in ID order) an SPDX id made of its ID's
// letters, digits, dots and dashes; a clash gets a numeric suffix.
func spdxIDs(comps []inventory.Component) map[string]common.ElementID {
	ids := make(map[string]common.ElementID, len(comps))
	used := make(map[common.ElementID]bool, len(comps))
	for _, c := range comps {
		if _, ok := ids[c.ID]; ok {
			continue // a duplicate ID: the first one wins
		}
		base := "Component-" + sanitizeSPDXID(c.ID)
		id := common.ElementID(base)
		for n := 2; used[id]; n++ {
			id = common.ElementID(fmt.Sprintf("%s-%d", base, n))
		}
		used[id] = true
		ids[c.ID] = id
	}
	return ids
}

// sanitizeSPDXID keeps what an SPDX id may hold (letters, digits, '.', '-')
// and turns runs of anything else into one '-'.
func sanitizeSPDXID(s string) string {
	var b strings.Builder
	dash := false
	for _, c := range s {
		ok := c < 0x80 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-')
		switch {
		case ok:
			b.WriteRune(c)
			dash = c == '-'
		case !dash:
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.Trim(b.String(), "-")
	if out == "" {
		return "x"
	}
	return out
}

// spdxPurposes maps kinds to primaryPackagePurpose; see spdxFormat.
var spdxPurposes = map[inventory.Kind]string{
	inventory.KindPackage:   "LIBRARY",
	inventory.KindPlugin:    "APPLICATION",
	inventory.KindWorkflow:  "APPLICATION",
	inventory.KindContainer: "CONTAINER",
	inventory.KindNotebook:  "FILE",
}

// spdxChecksums maps chainvet's digest names to SPDX's.
var spdxChecksums = map[string]common.ChecksumAlgorithm{
	"md5":         common.MD5,
	"sha1":        common.SHA1,
	"sha256":      common.SHA256,
	"sha384":      common.SHA384,
	"sha512":      common.SHA512,
	"sha3-256":    common.SHA3_256,
	"sha3-512":    common.SHA3_512,
	"blake2b-256": common.BLAKE2b_256,
	"blake3":      common.BLAKE3,
}

// spdxPackage maps one component.
func spdxPackage(c inventory.Component, id common.ElementID) *spdx.Package {
	p := &spdx.Package{
		PackageName:             nonEmpty(c.Name, c.ID),
		PackageSPDXIdentifier:   id,
		PackageVersion:          c.Version,
		PackageDownloadLocation: "NOASSERTION",
		PackageLicenseConcluded: "NOASSERTION",
		PackageLicenseDeclared:  "NOASSERTION",
		PackageCopyrightText:    "NOASSERTION",
		PrimaryPackagePurpose:   "OTHER",
	}
	if purpose, ok := spdxPurposes[c.Kind]; ok {
		p.PrimaryPackagePurpose = purpose
	}
	if expr, ok := spdxExpression(c.Properties["license"]); ok {
		p.PackageLicenseDeclared = expr
	}
	if purl := validPURL(c.PURL); purl != "" {
		p.PackageExternalReferences = []*spdx.PackageExternalReference{{
			Category: common.CategoryPackageManager, RefType: common.TypePackageManagerPURL, Locator: purl,
		}}
	}
	for _, d := range c.Digests {
		alg, ok := spdxChecksums[strings.ToLower(d.Algorithm)]
		if ok && isHex(d.Value) {
			p.PackageChecksums = append(p.PackageChecksums, common.Checksum{Algorithm: alg, Value: strings.ToLower(d.Value)})
		}
	}
	var locs []string
	for _, l := range c.Locations {
		locs = append(locs, locationString(l))
	}
	if len(locs) > 0 {
		p.PackageSourceInfo = "found at " + strings.Join(locs, ", ")
	}
	p.PackageComment = spdxComment(c)
	return p
}

// spdxComment holds what SPDX has no field for: the kind, the dependency
// scope and the properties, one "chainvet:<key>: value" per line.
func spdxComment(c inventory.Component) string {
	lines := []string{"chainvet:kind: " + string(c.Kind)}
	if c.Kind == inventory.KindModel {
		lines[0] += " (a machine-learning model)"
	}
	if c.Dependency != "" {
		lines = append(lines, "chainvet:dependency: "+c.Dependency)
	}
	props := scrubbed(c.Properties)
	for _, k := range slices.Sorted(maps.Keys(props)) {
		lines = append(lines, fmt.Sprintf("chainvet:%s: %s", k, props[k]))
	}
	return strings.Join(lines, "\n")
}

// spdxExpression reads s as an SPDX license expression over the ids in
// spdxLicenses, in any case, and returns it with canonical ids and upper
// case operators. It accepts no LicenseRef: SPDX wants those defined in the
// document, and a property gives no text to define them with.
func spdxExpression(s string) (string, bool) {
	toks := licenseTokens(s)
	if len(toks) == 0 || len(toks) > maxLicenseTokens {
		return "", false
	}
	p := &licenseParser{toks: toks}
	if !p.expr(0) || p.i != len(toks) {
		return "", false
	}
	return parenJoiner.Replace(strings.Join(p.out, " ")), true
}

// parenSplitter and parenJoiner put spaces around parentheses and take them
// out again. Replacers are safe for concurrent use, and building one per
// call costs more than the replacing.
var (
	parenSplitter = strings.NewReplacer("(", " ( ", ")", " ) ")
	parenJoiner   = strings.NewReplacer("( ", "(", " )", ")")
)

// maxLicenseTokens bounds the tokens of a license expression; real ones
// have a handful, and the bound also bounds the parser's recursion.
const maxLicenseTokens = 64

// licenseTokens splits s at spaces and around parentheses.
func licenseTokens(s string) []string {
	return strings.Fields(parenSplitter.Replace(s))
}

// licenseParser checks the grammar
//
//	expr   = term { OR term }
//	term   = factor { AND factor }
//	factor = "(" expr ")" | id [ "+" ] [ WITH exception ]
type licenseParser struct {
	toks []string
	i    int
	out  []string
}

func (p *licenseParser) peekOp(op string) bool {
	return p.i < len(p.toks) && strings.EqualFold(p.toks[p.i], op)
}

func (p *licenseParser) expr(depth int) bool {
	if !p.term(depth) {
		return false
	}
	for p.peekOp("OR") {
		p.i++
		p.out = append(p.out, "OR")
		if !p.term(depth) {
			return false
		}
	}
	return true
}

func (p *licenseParser) term(depth int) bool {
	if !p.factor(depth) {
		return false
	}
	for p.peekOp("AND") {
		p.i++
		p.out = append(p.out, "AND")
		if !p.factor(depth) {
			return false
		}
	}
	return true
}

func (p *licenseParser) factor(depth int) bool {
	if p.i >= len(p.toks) || depth > maxLicenseTokens {
		return false
	}
	tok := p.toks[p.i]
	if tok == "(" {
		p.i++
		p.out = append(p.out, "(")
		if !p.expr(depth+1) || !p.peekOp(")") {
			return false
		}
		p.i++
		p.out = append(p.out, ")")
		return true
	}
	id, ok := spdxLicenses[strings.ToLower(strings.TrimSuffix(tok, "+"))]
	if !ok {
		return false
	}
	if strings.HasSuffix(tok, "+") {
		id += "+"
	}
	p.i++
	p.out = append(p.out, id)
	if p.peekOp("WITH") {
		p.i++
		if p.i >= len(p.toks) {
			return false
		}
		exc, ok := spdxExceptions[strings.ToLower(p.toks[p.i])]
		if !ok {
			return false
		}
		p.i++
		p.out = append(p.out, "WITH", exc)
	}
	return true
}

// spdxLicenses are the SPDX license ids chainvet recognises, by lower-case
// id: those model cards, dataset cards and AI packages commonly declare.
// Anything else is kept as a license name (CycloneDX) or NOASSERTION (SPDX)
// rather than guessed at. Every id is in the SPDX license list (a test checks
// them against the list CycloneDX's schema carries).
var spdxLicenses = lowerKeys(
	"0BSD", "AFL-3.0", "AGPL-3.0", "AGPL-3.0-only", "AGPL-3.0-or-later",
	"Apache-2.0", "Artistic-2.0", "BSD-2-Clause", "BSD-3-Clause",
	"BSD-3-Clause-Clear", "BSL-1.0", "CC-BY-2.0", "CC-BY-3.0", "CC-BY-4.0",
	"CC-BY-NC-2.0", "CC-BY-NC-3.0", "CC-BY-NC-4.0", "CC-BY-NC-ND-4.0",
	"CC-BY-NC-SA-2.0", "CC-BY-NC-SA-3.0", "CC-BY-NC-SA-4.0", "CC-BY-ND-4.0",
	"CC-BY-SA-3.0", "CC-BY-SA-4.0", "CC0-1.0", "CDLA-Permissive-1.0",
	"CDLA-Permissive-2.0", "CDLA-Sharing-1.0", "ECL-2.0", "EPL-1.0",
	"EPL-2.0", "GFDL-1.3-only", "GPL-2.0", "GPL-2.0-only",
	"GPL-2.0-or-later", "GPL-3.0", "GPL-3.0-only", "GPL-3.0-or-later", "ISC",
	"LGPL-2.1", "LGPL-2.1-only", "LGPL-2.1-or-later", "LGPL-3.0",
	"LGPL-3.0-only", "LGPL-3.0-or-later", "LPPL-1.3c", "MIT", "MIT-0",
	"MPL-2.0", "ODbL-1.0", "ODC-By-1.0", "OSL-3.0", "PDDL-1.0", "PSF-2.0",
	"Python-2.0", "Unicode-DFS-2016", "Unlicense", "WTFPL", "Zlib",
)

// spdxExceptions are the license exceptions recognised after WITH.
var spdxExceptions = lowerKeys("Classpath-exception-2.0", "LLVM-exception", "GCC-exception-3.1")

func lowerKeys(ids ...string) map[string]string {
	m := make(map[string]string, len(ids))
	for _, id := range ids {
		m[strings.ToLower(id)] = id
	}
	return m
}
