package rules

import "github.com/chainvet/chainvet/internal/inventory"

// bomRules are reported by the catalogers that read dependency manifests,
// lockfiles and configuration for the AI-BOM (internal/catalog/bom/...).
var bomRules = []Rule{
	{"bom/malformed", inventory.Low,
		"A manifest could not be parsed; components it declares may be missing from the inventory.",
		"The BOM lists only what chainvet could read: a dependency declared in an unparseable manifest, lockfile or configuration is not in it. Fix the file's syntax (the evidence names the place it broke) and scan again."},
}
