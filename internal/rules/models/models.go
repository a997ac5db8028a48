// Package models holds the analyzers that judge model components as a
// whole, after every file has been catalogued.
package models

import (
	"context"

	"github.com/chainvet/chainvet/internal/inventory"
)

// Format notes, for each model whose loading unpickles and in which nothing
// worse was found, that its format can run code: the low finding that
// keeps a clean pickle from passing as safe.
type Format struct{}

// Name implements inventory.Analyzer.
func (Format) Name() string { return "models/format" }

// Analyze implements inventory.Analyzer.
func (Format) Analyze(ctx context.Context, r *inventory.Report) ([]inventory.Finding, error) {
	worse := map[string]bool{}
	for _, f := range r.Findings {
		if f.Severity >= inventory.Medium {
			worse[f.Component] = true
		}
	}
	var out []inventory.Finding
	for _, c := range r.Components {
		if c.Kind != inventory.KindModel || c.Properties["serialization"] != "pickle" || worse[c.ID] {
			continue
		}
		path := c.ID
		if len(c.Locations) > 0 {
			path = c.Locations[0].Path
		}
		out = append(out, inventory.Finding{
			Rule: "pickle/format", Severity: inventory.Low, Component: c.ID, Path: path,
			Evidence:    "format " + c.Properties["format"],
			Message:     "nothing dangerous was found, but loading this format unpickles, which can run code",
			Remediation: "prefer safetensors; in PyTorch load with torch.load(..., weights_only=True)",
		})
	}
	return out, nil
}
