package diff

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/lock"
)

// Limits on the files read as inputs.
const (
	// MaxInputSize is the largest BOM or report read, in bytes: a BOM of a
	// million components is a few hundred MB.
	MaxInputSize = 512 << 20
	// MaxComponents is the most components one input may hold.
	MaxComponents = 2_000_000
	// maxNesting bounds how deep CycloneDX components and services nest.
	maxNesting = 64
)

// ErrUnknownInput reports an input that is none of the formats diff reads.
var ErrUnknownInput = errors.New("not a chainvet report, chainvet lock, CycloneDX BOM or SPDX 2 document")

// Options say how inputs that must be scanned are read.
type Options struct {
	// Scan inventories a directory, given as an absolute path. Without it,
	// directories and git revisions are errors.
	Scan func(ctx context.Context, dir string) (*inventory.Report, error)
	// Repo is the git repository that git:REV inputs are read from; "" is
	// the current directory.
	Repo string
	// Git is the git program; "" is "git" found on PATH.
	Git string
	// MaxTreeBytes bounds the bytes a git revision's tree may hold; 0 is
	// DefaultMaxTreeBytes.
	MaxTreeBytes int64
}

// A Side is one input, read into components.
type Side struct {
	// Label names the input as the user gave it.
	Label      string
	Components []inventory.Component
	// Dir is where the input's approvals file would be: the directory
	// scanned, the tree of the revision, or the folder holding the file.
	Dir     string
	cleanup func() error
}

// Close removes what reading the side made (a revision's tree).
func (s *Side) Close() error {
	if s == nil || s.cleanup == nil {
		return nil
	}
	err := s.cleanup()
	s.cleanup = nil
	return err
}

// Load reads the input spec: "git:REV" is a revision of opt.Repo; a
// directory is scanned with opt.Scan; a file is detected by its content.
func Load(ctx context.Context, spec string, opt Options) (*Side, error) {
	if rev, ok := strings.CutPrefix(spec, "git:"); ok {
		return loadRevision(ctx, spec, rev, opt)
	}
	fi, err := os.Stat(spec)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		abs, err := filepath.Abs(spec)
		if err != nil {
			return nil, err
		}
		comps, err := scanDir(ctx, abs, opt)
		if err != nil {
			return nil, err
		}
		return &Side{Label: spec, Components: comps, Dir: abs}, nil
	}
	b, err := readLimited(spec)
	if err != nil {
		return nil, err
	}
	comps, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", spec, err)
	}
	return &Side{Label: spec, Components: comps, Dir: filepath.Dir(spec)}, nil
}

func readLimited(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxInputSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(b) > MaxInputSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, MaxInputSize)
	}
	return b, nil
}

// scanDir inventories dir and makes its paths relative to it, so that two
// trees in different places compare by what is in them.
func scanDir(ctx context.Context, dir string, opt Options) ([]inventory.Component, error) {
	if opt.Scan == nil {
		return nil, fmt.Errorf("%s: no scanner to inventory a directory", dir)
	}
	rep, err := opt.Scan(ctx, dir)
	if err != nil {
		return nil, err
	}
	relativize(rep.Components, dir)
	return rep.Components, nil
}

// relativize rewrites, in every component, the paths under root as paths
// relative to it: IDs, names, locations, edges and property values.
func relativize(cs []inventory.Component, root string) {
	prefix := filepath.ToSlash(filepath.Clean(root)) + "/"
	rel := func(s string) string {
		if s == prefix[:len(prefix)-1] {
			return "."
		}
		return strings.ReplaceAll(s, prefix, "")
	}
	for i := range cs {
		c := &cs[i]
		c.ID, c.Name = rel(c.ID), rel(c.Name)
		for j := range c.Locations {
			c.Locations[j].Path = rel(c.Locations[j].Path)
		}
		for j := range c.DependsOn {
			c.DependsOn[j] = rel(c.DependsOn[j])
		}
		for k, v := range c.Properties {
			c.Properties[k] = rel(v)
		}
	}
}

// Parse reads the components of a chainvet report (chainvet/report/v1), a
// chainvet lock (chainvet/lock/v1), a CycloneDX BOM in JSON or XML, or an
// SPDX 2 JSON document, recognised by content.
func Parse(b []byte) ([]inventory.Component, error) {
	if len(b) > MaxInputSize {
		return nil, fmt.Errorf("larger than %d bytes", MaxInputSize)
	}
	t := bytes.TrimLeft(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")), " \t\r\n")
	switch {
	case bytes.HasPrefix(t, []byte("{")):
		var probe struct {
			Schema      string `json:"schema"`
			BOMFormat   string `json:"bomFormat"`
			SPDXVersion string `json:"spdxVersion"`
		}
		if err := json.Unmarshal(t, &probe); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUnknownInput, err)
		}
		switch {
		case probe.Schema == inventory.Schema:
			var r inventory.Report
			if err := json.Unmarshal(t, &r); err != nil {
				return nil, fmt.Errorf("chainvet report: %w", err)
			}
			return checkCount(r.Components)
		case probe.Schema == lock.Schema:
			lf, err := lock.Parse(t)
			if err != nil {
				return nil, err
			}
			return checkCount(lf.Components())
		case probe.BOMFormat == "CycloneDX":
			return decodeCycloneDX(t, cdx.BOMFileFormatJSON)
		case strings.HasPrefix(probe.SPDXVersion, "SPDX-2."):
			return fromSPDX(t)
		}
	case bytes.HasPrefix(t, []byte("<")) && bytes.Contains(t[:min(len(t), 4096)], []byte("cyclonedx.org/schema/bom")):
		return decodeCycloneDX(t, cdx.BOMFileFormatXML)
	}
	return nil, ErrUnknownInput
}

func checkCount(cs []inventory.Component) ([]inventory.Component, error) {
	if len(cs) > MaxComponents {
		return nil, fmt.Errorf("%d components, more than %d", len(cs), MaxComponents)
	}
	return cs, nil
}

func decodeCycloneDX(b []byte, format cdx.BOMFileFormat) ([]inventory.Component, error) {
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(bytes.NewReader(b), format).Decode(&bom); err != nil {
		return nil, fmt.Errorf("cyclonedx: %w", err)
	}
	return fromCycloneDX(&bom)
}

// fromCycloneDX maps a BOM's components and services, nested ones
// included, to components. chainvet's own properties (chainvet:kind,
// chainvet:dependency, chainvet:<key>) are read back as written; other
// BOMs' components get a kind from their type (libraries and anything
// else unknown are packages) and are direct when the BOM's subject
// depends on them, transitive otherwise.
func fromCycloneDX(bom *cdx.BOM) ([]inventory.Component, error) {
	m := cdxMapper{ids: map[string]bool{}}
	if bom.Components != nil {
		if err := m.components(*bom.Components, 0); err != nil {
			return nil, err
		}
	}
	if bom.Services != nil {
		if err := m.services(*bom.Services, 0); err != nil {
			return nil, err
		}
	}
	deps := map[string][]string{}
	if bom.Dependencies != nil {
		for _, d := range *bom.Dependencies {
			if d.Dependencies != nil {
				deps[d.Ref] = append(deps[d.Ref], *d.Dependencies...)
			}
		}
	}
	root := ""
	if bom.Metadata != nil && bom.Metadata.Component != nil {
		root = bom.Metadata.Component.BOMRef
	}
	direct := map[string]bool{}
	for _, id := range deps[root] {
		direct[id] = true
	}
	for i := range m.out {
		c := &m.out[i]
		for _, d := range deps[m.refs[i]] {
			if m.ids[d] {
				c.DependsOn = append(c.DependsOn, d)
			}
		}
		if !m.own[i] && root != "" && len(direct) > 0 {
			c.Dependency = inventory.Transitive
			if direct[c.ID] {
				c.Dependency = inventory.Direct
			}
		}
	}
	return m.out, nil
}

type cdxMapper struct {
	out  []inventory.Component
	refs []string // the bom-ref of each of out
	own  []bool   // whether each of out was written by chainvet
	ids  map[string]bool
}

// cdxKinds maps CycloneDX component types to kinds.
var cdxKinds = map[cdx.ComponentType]inventory.Kind{
	cdx.ComponentTypeMachineLearningModel: inventory.KindModel,
	cdx.ComponentTypeData:                 inventory.KindDataset,
	cdx.ComponentTypeContainer:            inventory.KindContainer,
}

func (m *cdxMapper) add(c inventory.Component, ref string, own bool) error {
	if len(m.out) >= MaxComponents {
		return fmt.Errorf("cyclonedx: more than %d components", MaxComponents)
	}
	if c.ID == "" {
		c.ID = ref
	}
	if c.ID == "" {
		c.ID = c.PURL
	}
	if c.ID == "" {
		c.ID = string(c.Kind) + ":" + c.Name
		if c.Version != "" {
			c.ID += "@" + c.Version
		}
	}
	if ref == "" {
		ref = c.ID
	}
	m.ids[c.ID] = true
	m.out = append(m.out, c)
	m.refs = append(m.refs, ref)
	m.own = append(m.own, own)
	return nil
}

func (m *cdxMapper) components(list []cdx.Component, depth int) error {
	if depth > maxNesting {
		return fmt.Errorf("cyclonedx: components nested more than %d deep", maxNesting)
	}
	for _, x := range list {
		c := inventory.Component{ID: x.BOMRef, Name: x.Name, Version: x.Version, PURL: x.PackageURL}
		if x.Group != "" && x.PackageURL == "" {
			c.Name = x.Group + "/" + x.Name
		}
		c.Kind = cdxKinds[x.Type]
		if c.Kind == "" {
			c.Kind = inventory.KindPackage
		}
		own := readProperties(&c, x.Properties)
		if x.Hashes != nil {
			for _, h := range *x.Hashes {
				c.Digests = append(c.Digests, inventory.Digest{Algorithm: hashName(h.Algorithm), Value: strings.ToLower(h.Value)})
			}
		}
		if x.Evidence != nil && x.Evidence.Occurrences != nil {
			for _, o := range *x.Evidence.Occurrences {
				l := inventory.Location{Path: o.Location}
				if o.Line != nil {
					l.Line = *o.Line
				}
				c.Locations = append(c.Locations, l)
			}
		}
		if err := m.add(c, x.BOMRef, own); err != nil {
			return err
		}
		if x.Components != nil {
			if err := m.components(*x.Components, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *cdxMapper) services(list []cdx.Service, depth int) error {
	if depth > maxNesting {
		return fmt.Errorf("cyclonedx: services nested more than %d deep", maxNesting)
	}
	for _, x := range list {
		c := inventory.Component{ID: x.BOMRef, Kind: inventory.KindService, Name: x.Name, Version: x.Version}
		if c.ID == "" {
			c.ID = "service:" + x.Name
		}
		c.Properties = map[string]string{}
		if x.Provider != nil && x.Provider.Name != "" {
			c.Properties["provider"] = x.Provider.Name
		}
		if x.Endpoints != nil {
			c.Properties["endpoints"] = strings.Join(*x.Endpoints, ",")
		}
		own := readProperties(&c, x.Properties)
		c.Kind = inventory.KindService
		if err := m.add(c, x.BOMRef, own); err != nil {
			return err
		}
		if x.Services != nil {
			if err := m.services(*x.Services, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// readProperties reads chainvet's own properties back, and reports
// whether there was a chainvet:kind (chainvet wrote the component); others'
// properties are left out, as tools add volatile ones (scan times, file
// counts).
func readProperties(c *inventory.Component, props *[]cdx.Property) (own bool) {
	if props == nil {
		return false
	}
	for _, p := range *props {
		k, ok := strings.CutPrefix(p.Name, "chainvet:")
		if !ok {
			continue
		}
		switch k {
		case "kind":
			c.Kind, own = inventory.Kind(p.Value), true
		case "dependency":
			c.Dependency = p.Value
		case "location":
			path, line := p.Value, 0
			if i := strings.LastIndexByte(p.Value, ':'); i > 0 {
				if n, err := strconv.Atoi(p.Value[i+1:]); err == nil && n > 0 {
					path, line = p.Value[:i], n
				}
			}
			c.Locations = append(c.Locations, inventory.Location{Path: path, Line: line})
		default:
			if c.Properties == nil {
				c.Properties = map[string]string{}
			}
			c.Properties[k] = p.Value
		}
	}
	return own
}

// hashName is chainvet's name for a CycloneDX hash algorithm: "SHA-256"
// is "sha256", "SHA3-256" is "sha3-256".
func hashName(a cdx.HashAlgorithm) string {
	s := strings.ToLower(string(a))
	if rest, ok := strings.CutPrefix(s, "sha-"); ok {
		return "sha" + rest
	}
	return s
}
