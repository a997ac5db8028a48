package render

import (
	"crypto/sha256"
	"fmt"
	"io"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/package-url/packageurl-go"

	"github.com/chainvet/chainvet/internal/inventory"
)

// cyclonedxFormat writes the report's inventory as a CycloneDX 1.6 BOM, in
// JSON or XML. Findings are left out: a BOM says what is there, and the
// findings have their own formats (json, sarif).
//
// Kinds map to CycloneDX types as follows:
//
//	package   → component "library" (purl, version, hashes)
//	model     → component "machine-learning-model" with a modelCard
//	            (modelArchitecture from architecture, task from task,
//	            datasets as refs to data components or inline datasets),
//	            licenses from license, pedigree.ancestors from base-model
//	dataset   → component "data" with one data entry of type "dataset"
//	service   → bom.services entry (provider, endpoints, authenticated,
//	            data flow; the classification is "unclassified": chainvet
//	            cannot tell what the data is)
//	plugin    → component "application" (an MCP server is a program)
//	workflow  → component "application" (a CI action runs as a program)
//	container → component "container"
//	notebook  → component "file"
//
// Every property becomes "chainvet:<key>"; the kind and the dependency scope
// are chainvet:kind and chainvet:dependency. Locations become
// evidence.occurrences (services, which have no evidence, get
// chainvet:location properties). bom-ref is the component ID, and the
// dependency graph is one entry per component and service; the scanned
// target (metadata.component) depends on every component not known to be
// transitive.
type cyclonedxFormat struct {
	opt Options
	xml bool
	// created is the BOM's timestamp; zero means the time of rendering.
	// Tests fix it so that goldens are stable.
	created time.Time
}

// newCycloneDX returns the CycloneDX renderer: JSON, or XML when xml is set.
func newCycloneDX(opt Options, xml bool) inventory.Renderer {
	return &cyclonedxFormat{opt: opt, xml: xml}
}

// Name is "cyclonedx-json" or "cyclonedx-xml".
func (f *cyclonedxFormat) Name() string {
	if f.xml {
		return "cyclonedx-xml"
	}
	return "cyclonedx-json"
}

// targetRef is the bom-ref of the scanned target. Component IDs always hold
// a colon (kind:… or pkg:…), so it cannot collide with one.
const targetRef = "chainvet-target"

// Render writes r to w.
func (f *cyclonedxFormat) Render(w io.Writer, r *inventory.Report) error {
	if r == nil {
		return errNilReport
	}
	bom := f.bom(r)
	format := cdx.BOMFileFormatJSON
	if f.xml {
		format = cdx.BOMFileFormatXML
	}
	enc := cdx.NewBOMEncoder(w, format).SetPretty(true)
	if err := enc.EncodeVersion(bom, cdx.SpecVersion1_6); err != nil {
		return fmt.Errorf("%s: %w", f.Name(), err)
	}
	return nil
}

// bom builds the BOM of r.
func (f *cyclonedxFormat) bom(r *inventory.Report) *cdx.BOM {
	created := f.created
	if created.IsZero() {
		created = time.Now()
	}
	created = created.UTC().Truncate(time.Second)
	version := toolVersion(f.opt, r)

	comps := sortedComponents(r)
	known := make(map[string]bool, len(comps))
	for _, c := range comps {
		known[c.ID] = true
	}

	bom := cdx.NewBOM()
	bom.SerialNumber = serialNumber(r.Targets, comps, version, created)
	target := targetName(r)
	bom.Metadata = &cdx.Metadata{
		Timestamp: created.Format(time.RFC3339),
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{{
			Type: cdx.ComponentTypeApplication, Name: "chainvet", Version: version,
		}}},
		Component: &cdx.Component{
			BOMRef: targetRef, Type: cdx.ComponentTypeApplication, Name: target,
		},
	}

	var components []cdx.Component
	var services []cdx.Service
	deps := []cdx.Dependency{}
	var direct []string
	for _, c := range comps {
		if c.Kind == inventory.KindService {
			services = append(services, cdxService(c))
		} else {
			components = append(components, cdxComponent(c, comps))
		}
		if c.Dependency != inventory.Transitive {
			direct = append(direct, c.ID)
		}
		d := cdx.Dependency{Ref: c.ID}
		if on := knownRefs(c.DependsOn, known); len(on) > 0 {
			d.Dependencies = &on
		}
		deps = append(deps, d)
	}
	root := cdx.Dependency{Ref: targetRef}
	if len(direct) > 0 {
		root.Dependencies = &direct
	}
	deps = append([]cdx.Dependency{root}, deps...)
	if len(components) > 0 {
		bom.Components = &components
	}
	if len(services) > 0 {
		bom.Services = &services
	}
	bom.Dependencies = &deps
	return bom
}

// toolVersion is the version Options name, or else the report's.
func toolVersion(opt Options, r *inventory.Report) string {
	if opt.Version != "" {
		return opt.Version
	}
	if r.Tool.Version != "" {
		return r.Tool.Version
	}
	return "unknown"
}

// targetName names what was scanned: the targets, joined.
func targetName(r *inventory.Report) string {
	if len(r.Targets) == 0 {
		return "."
	}
	return strings.Join(r.Targets, ", ")
}

// sortedComponents is a copy of r's components in ID order, so that output
// does not depend on the order catalogers finished in. IDs must be unique
// refs in both formats: the pipeline merges components with equal IDs, so a
// duplicate here is a malformed report, and the first of its kind is kept.
// A component without an ID gets one from its position.
func sortedComponents(r *inventory.Report) []inventory.Component {
	comps := slices.Clone(r.Components)
	slices.SortStableFunc(comps, func(a, b inventory.Component) int { return strings.Compare(a.ID, b.ID) })
	seen := map[string]bool{targetRef: true}
	out := comps[:0]
	for i, c := range comps {
		if c.ID == "" {
			c.ID = fmt.Sprintf("chainvet-component-%d", i)
		}
		if seen[c.ID] {
			continue
		}
		seen[c.ID] = true
		out = append(out, c)
	}
	return out
}

// knownRefs is ids that name components of the BOM, sorted and without
// duplicates: a dangling ref makes a BOM invalid for its consumers.
func knownRefs(ids []string, known map[string]bool) []string {
	var out []string
	for _, id := range ids {
		if known[id] {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// serialNumber is a version-5-shaped URN derived from what the BOM is of,
// so that rendering the same report at the same time gives the same bytes.
func serialNumber(targets []string, comps []inventory.Component, version string, created time.Time) string {
	h := sha256.New()
	fmt.Fprintf(h, "chainvet %s\x00%s\x00", version, created.Format(time.RFC3339))
	for _, t := range targets {
		fmt.Fprintf(h, "%s\x00", t)
	}
	for _, c := range comps {
		fmt.Fprintf(h, "%s\x00", c.ID)
	}
	b := h.Sum(nil)[:16]
	b[6] = b[6]&0x0f | 0x50 // version 5
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// cdxTypes maps kinds to component types; see cyclonedxFormat.
var cdxTypes = map[inventory.Kind]cdx.ComponentType{
	inventory.KindPackage:   cdx.ComponentTypeLibrary,
	inventory.KindModel:     cdx.ComponentTypeMachineLearningModel,
	inventory.KindDataset:   cdx.ComponentTypeData,
	inventory.KindPlugin:    cdx.ComponentTypeApplication,
	inventory.KindWorkflow:  cdx.ComponentTypeApplication,
	inventory.KindContainer: cdx.ComponentTypeContainer,
	inventory.KindNotebook:  cdx.ComponentTypeFile,
}

// cdxComponent maps one component; all is every component, for datasets
// the model card can refer to.
func cdxComponent(c inventory.Component, all []inventory.Component) cdx.Component {
	typ, ok := cdxTypes[c.Kind]
	if !ok {
		typ = cdx.ComponentTypeLibrary
	}
	out := cdx.Component{
		BOMRef:     c.ID,
		Type:       typ,
		Name:       nonEmpty(c.Name, c.ID),
		Version:    c.Version,
		PackageURL: validPURL(c.PURL),
		Hashes:     cdxHashes(c.Digests),
		Properties: cdxProperties(inventory.Component{Kind: c.Kind, Dependency: c.Dependency, Properties: scrubbed(c.Properties)}),
		Evidence:   cdxEvidence(c.Locations),
	}
	if lic := cdxLicenses(c.Properties["license"]); lic != nil {
		out.Licenses = lic
	}
	switch c.Kind {
	case inventory.KindModel:
		out.ModelCard = modelCard(c, all)
		if base := c.Properties["base-model"]; base != "" {
			out.Pedigree = &cdx.Pedigree{Ancestors: &[]cdx.Component{baseModel(base)}}
		}
	case inventory.KindDataset:
		out.Data = &[]cdx.ComponentData{{Type: cdx.ComponentDataTypeDataset, Name: out.Name}}
	}
	return out
}

// modelCard holds what the model's properties say of its parameters, or nil.
func modelCard(c inventory.Component, all []inventory.Component) *cdx.MLModelCard {
	p := &cdx.MLModelParameters{
		Task:              c.Properties["task"],
		ModelArchitecture: c.Properties["architecture"],
	}
	var sets []cdx.MLDatasetChoice
	for _, name := range splitList(c.Properties["datasets"]) {
		if id := datasetID(name, all); id != "" {
			sets = append(sets, cdx.MLDatasetChoice{Ref: id})
			continue
		}
		sets = append(sets, cdx.MLDatasetChoice{ComponentData: &cdx.ComponentData{
			Type: cdx.ComponentDataTypeDataset, Name: name,
		}})
	}
	if len(sets) > 0 {
		p.Datasets = &sets
	}
	if p.Task == "" && p.ModelArchitecture == "" && p.Datasets == nil {
		return nil
	}
	return &cdx.MLModelCard{ModelParameters: p}
}

// datasetID is the ID of the dataset component named name (by ID or name),
// or "".
func datasetID(name string, all []inventory.Component) string {
	for _, d := range all {
		if d.Kind == inventory.KindDataset && (d.ID == name || d.Name == name) {
			return d.ID
		}
	}
	return ""
}

// baseModel is the ancestor a base-model property names. A Hugging Face
// repository id ("org/name") also gets its purl.
func baseModel(base string) cdx.Component {
	anc := cdx.Component{Type: cdx.ComponentTypeMachineLearningModel, Name: base}
	if org, name, ok := strings.Cut(base, "/"); ok && org != "" && name != "" && !strings.Contains(name, "/") {
		anc.PackageURL = validPURL(packageurl.NewPackageURL("huggingface", org, name, "", nil, "").ToString())
	}
	return anc
}

// cdxService maps a service component.
func cdxService(c inventory.Component) cdx.Service {
	p := c.Properties
	s := cdx.Service{
		BOMRef:  c.ID,
		Name:    nonEmpty(c.Name, c.ID),
		Version: c.Version,
	}
	if p["provider"] != "" {
		s.Provider = &cdx.OrganizationalEntity{Name: p["provider"]}
	}
	if eps := endpointURLs(p["endpoints"]); len(eps) > 0 {
		s.Endpoints = &eps
	}
	switch p["authenticated"] {
	case "true", "false":
		b := p["authenticated"] == "true"
		s.Authenticated = &b
	}
	switch flow := cdx.DataFlow(p["data-flow"]); flow {
	case cdx.DataFlowOutbound, cdx.DataFlowInbound, cdx.DataFlowBidirectional, cdx.DataFlowUnknown:
		s.Data = &[]cdx.DataClassification{{Flow: flow, Classification: "unclassified"}}
	}
	c.Properties = scrubbed(p)
	props := cdxProperties(c)
	var locs []cdx.Property
	for _, l := range c.Locations {
		locs = append(locs, cdx.Property{Name: "chainvet:location", Value: locationString(l)})
	}
	if len(locs) > 0 {
		if props == nil {
			props = &[]cdx.Property{}
		}
		*props = append(*props, locs...)
	}
	s.Properties = props
	return s
}

// endpointURLs is the endpoints property's URLs that parse, without any
// user information (a password in a URL must not reach the BOM). The
// chainvet:endpoints property is this list too.
func endpointURLs(list string) []string {
	var out []string
	for _, ep := range splitList(list) {
		u, err := url.Parse(ep)
		if err != nil {
			continue
		}
		u.User = nil
		out = append(out, u.String())
	}
	return out
}

// scrubbed is props with the endpoints property reduced to endpointURLs.
// Catalogers strip credentials already; a renderer writes a file people
// share, so it does not rely on that.
func scrubbed(props map[string]string) map[string]string {
	eps, ok := props["endpoints"]
	if !ok {
		return props
	}
	props = maps.Clone(props)
	props["endpoints"] = strings.Join(endpointURLs(eps), ",")
	return props
}

// cdxProperties is chainvet:kind, chainvet:dependency and every property
// as chainvet:<key>, sorted by name.
func cdxProperties(c inventory.Component) *[]cdx.Property {
	props := []cdx.Property{{Name: "chainvet:kind", Value: string(c.Kind)}}
	if c.Dependency != "" {
		props = append(props, cdx.Property{Name: "chainvet:dependency", Value: c.Dependency})
	}
	for _, k := range slices.Sorted(maps.Keys(c.Properties)) {
		props = append(props, cdx.Property{Name: "chainvet:" + k, Value: c.Properties[k]})
	}
	slices.SortStableFunc(props, func(a, b cdx.Property) int { return strings.Compare(a.Name, b.Name) })
	return &props
}

// cdxEvidence lists where the component was found, or nil.
func cdxEvidence(locs []inventory.Location) *cdx.Evidence {
	if len(locs) == 0 {
		return nil
	}
	occ := make([]cdx.EvidenceOccurrence, 0, len(locs))
	for _, l := range locs {
		o := cdx.EvidenceOccurrence{Location: nonEmpty(l.Path, ".")}
		if l.Line > 0 {
			line := l.Line
			o.Line = &line
		}
		occ = append(occ, o)
	}
	return &cdx.Evidence{Occurrences: &occ}
}

// cdxHashAlgs maps chainvet's digest names to CycloneDX's. Digests of
// other algorithms are left out: the schema allows only these names.
var cdxHashAlgs = map[string]cdx.HashAlgorithm{
	"md5":         cdx.HashAlgoMD5,
	"sha1":        cdx.HashAlgoSHA1,
	"sha256":      cdx.HashAlgoSHA256,
	"sha384":      cdx.HashAlgoSHA384,
	"sha512":      cdx.HashAlgoSHA512,
	"sha3-256":    cdx.HashAlgoSHA3_256,
	"sha3-512":    cdx.HashAlgoSHA3_512,
	"blake2b-256": cdx.HashAlgoBlake2b_256,
	"blake3":      cdx.HashAlgoBlake3,
}

// hexLengths are the lengths of digest the schema admits.
var hexLengths = []int{32, 40, 64, 96, 128}

// cdxHashes maps digests whose value is hex of the algorithm's length, or nil.
func cdxHashes(ds []inventory.Digest) *[]cdx.Hash {
	var out []cdx.Hash
	for _, d := range ds {
		alg, ok := cdxHashAlgs[strings.ToLower(d.Algorithm)]
		if !ok || !isHex(d.Value) || !slices.Contains(hexLengths, len(d.Value)) {
			continue
		}
		out = append(out, cdx.Hash{Algorithm: alg, Value: strings.ToLower(d.Value)})
	}
	if len(out) == 0 {
		return nil
	}
	return &out
}

// cdxLicenses maps a license property: an SPDX expression or id as such,
// anything else (e.g. "llama3", "other") by name.
func cdxLicenses(lic string) *cdx.Licenses {
	lic = strings.TrimSpace(lic)
	if lic == "" {
		return nil
	}
	expr, ok := spdxExpression(lic)
	switch {
	case ok && !strings.Contains(expr, " "):
		return &cdx.Licenses{{License: &cdx.License{ID: expr}}}
	case ok:
		return &cdx.Licenses{{Expression: expr}}
	default:
		return &cdx.Licenses{{License: &cdx.License{Name: lic}}}
	}
}

// validPURL is s if it parses as a purl, else "". Component purls come from
// catalogers and should always parse; this keeps a bad one out of the BOM.
func validPURL(s string) string {
	if s == "" {
		return ""
	}
	if _, err := packageurl.FromString(s); err != nil {
		return ""
	}
	return s
}

// locationString is path or path:line.
func locationString(l inventory.Location) string {
	if l.Line > 0 {
		return fmt.Sprintf("%s:%d", l.Path, l.Line)
	}
	return l.Path
}

// splitList splits a comma-separated property, dropping empty items.
func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func nonEmpty(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range strings.ToLower(s) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
