package diff

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
)

// spdxDoc is the part of an SPDX 2.x JSON document diff reads.
type spdxDoc struct {
	SPDXVersion       string        `json:"spdxVersion"`
	DocumentDescribes []string      `json:"documentDescribes"`
	Packages          []spdxPackage `json:"packages"`
	Relationships     []struct {
		A    string `json:"spdxElementId"`
		Type string `json:"relationshipType"`
		B    string `json:"relatedSpdxElement"`
	} `json:"relationships"`
}

type spdxPackage struct {
	ID           string `json:"SPDXID"`
	Name         string `json:"name"`
	Version      string `json:"versionInfo"`
	Purpose      string `json:"primaryPackagePurpose"`
	Comment      string `json:"comment"`
	SourceInfo   string `json:"sourceInfo"`
	ExternalRefs []struct {
		Type    string `json:"referenceType"`
		Locator string `json:"referenceLocator"`
	} `json:"externalRefs"`
	Checksums []struct {
		Algorithm string `json:"algorithm"`
		Value     string `json:"checksumValue"`
	} `json:"checksums"`
}

// spdxKinds maps primaryPackagePurpose to kinds; anything else is a
// package.
var spdxKinds = map[string]inventory.Kind{
	"CONTAINER": inventory.KindContainer,
}

// fromSPDX maps an SPDX 2.x JSON document's packages to components. A
// package is identified by its purl, else by kind, name and version (SPDX
// ids are renamed freely between documents). chainvet's own documents
// carry the kind, dependency scope and properties in the package comment
// as "chainvet:<key>: <value>" lines, and are read back from it. The
// packages the document describes are the subject, not components; the
// packages they depend on are direct when the comment does not say.
func fromSPDX(b []byte) ([]inventory.Component, error) {
	var doc spdxDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("spdx: %w", err)
	}
	if len(doc.Packages) > MaxComponents {
		return nil, fmt.Errorf("spdx: %d packages, more than %d", len(doc.Packages), MaxComponents)
	}
	roots := map[string]bool{}
	for _, id := range doc.DocumentDescribes {
		roots[id] = true
	}
	deps := map[string][]string{}
	for _, r := range doc.Relationships {
		switch r.Type {
		case "DESCRIBES":
			if r.A == "SPDXRef-DOCUMENT" {
				roots[r.B] = true
			}
		case "DEPENDS_ON":
			deps[r.A] = append(deps[r.A], r.B)
		case "DEPENDENCY_OF":
			deps[r.B] = append(deps[r.B], r.A)
		}
	}
	direct := map[string]bool{}
	for root := range roots {
		for _, d := range deps[root] {
			direct[d] = true
		}
	}
	ids := map[string]string{} // SPDX id to component ID
	var out []inventory.Component
	var own []bool
	var spdxIDs []string
	for _, p := range doc.Packages {
		if roots[p.ID] {
			continue
		}
		c := inventory.Component{Kind: inventory.KindPackage, Name: p.Name, Version: p.Version}
		if k, ok := spdxKinds[p.Purpose]; ok {
			c.Kind = k
		}
		for _, r := range p.ExternalRefs {
			if r.Type == "purl" && c.PURL == "" {
				c.PURL = r.Locator
			}
		}
		for _, cs := range p.Checksums {
			c.Digests = append(c.Digests, inventory.Digest{Algorithm: strings.ToLower(cs.Algorithm), Value: strings.ToLower(cs.Value)})
		}
		mine := readComment(&c, p.Comment)
		c.ID = c.PURL
		if c.ID == "" {
			c.ID = string(c.Kind) + ":" + c.Name
			if c.Version != "" {
				c.ID += "@" + c.Version
			}
		}
		ids[p.ID] = c.ID
		out = append(out, c)
		own = append(own, mine)
		spdxIDs = append(spdxIDs, p.ID)
	}
	for i := range out {
		c := &out[i]
		for _, d := range deps[spdxIDs[i]] {
			if id, ok := ids[d]; ok {
				c.DependsOn = append(c.DependsOn, id)
			}
		}
		if !own[i] && len(direct) > 0 {
			c.Dependency = inventory.Transitive
			if direct[spdxIDs[i]] {
				c.Dependency = inventory.Direct
			}
		}
	}
	return out, nil
}

// readComment reads "chainvet:<key>: <value>" lines, and reports whether
// there was a kind among them (chainvet wrote the package).
func readComment(c *inventory.Component, comment string) (own bool) {
	for line := range strings.SplitSeq(comment, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "chainvet:")
		if !ok {
			continue
		}
		k, v, ok := strings.Cut(rest, ": ")
		if !ok {
			continue
		}
		switch k {
		case "kind":
			kind, _, _ := strings.Cut(v, " ")
			c.Kind, own = inventory.Kind(kind), true
		case "dependency":
			c.Dependency = v
		default:
			if c.Properties == nil {
				c.Properties = map[string]string{}
			}
			c.Properties[k] = v
		}
	}
	return own
}
