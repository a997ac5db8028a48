package typosquat

import (
	"context"
	"fmt"

	"github.com/chainvet/chainvet/internal/inventory"
)

// Rule is the id of the findings the Analyzer reports.
const Rule = "package/typosquat"

// Analyzer checks the name of every PyPI and npm package component against
// the popular lists.
type Analyzer struct{}

// Name implements inventory.Analyzer.
func (Analyzer) Name() string { return "packages/typosquat" }

// Analyze implements inventory.Analyzer: one finding per component and
// popular name it imitates.
func (Analyzer) Analyze(ctx context.Context, r *inventory.Report) ([]inventory.Finding, error) {
	var out []inventory.Finding
	for i := range r.Components {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("typosquat: %w", err)
			}
		}
		c := &r.Components[i]
		eco := c.Properties["ecosystem"]
		if c.Kind != inventory.KindPackage || (eco != "pypi" && eco != "npm") || ownPackage(c) {
			continue
		}
		var loc inventory.Location
		if len(c.Locations) > 0 {
			loc = c.Locations[0]
		}
		for _, m := range Check(eco, c.Name) {
			out = append(out, inventory.Finding{
				Rule: Rule, Severity: inventory.High, Component: c.ID,
				Path: loc.Path, Line: loc.Line,
				Evidence: fmt.Sprintf("%q %s %q (rank %d)", c.Name, m.Detail, m.Target, m.Rank),
				Message: fmt.Sprintf("%s package %q is named like the popular package %q (%s): a typosquat installs the attacker's code in its place",
					eco, c.Name, m.Target, m.Kind),
				Remediation: fmt.Sprintf("check the name; did you mean %s?", m.Target),
			})
		}
	}
	return out, nil
}

// ownPackage reports whether c is the project itself or one of its local
// parts, whose name nobody else can squat.
func ownPackage(c *inventory.Component) bool {
	switch c.Properties["source"] {
	case "workspace", "editable", "path", "local", "file", "directory":
		return true
	}
	return c.Properties["main"] == "true"
}
