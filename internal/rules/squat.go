package rules

import "github.com/chainvet/chainvet/internal/inventory"

// squatRules are reported by the typosquat analyzer
// (internal/rules/typosquat) over PyPI and npm package components.
var squatRules = []Rule{
	{"package/typosquat", inventory.High,
		"A PyPI or npm dependency is named like a popular package: one edit or swap away, separators moved, a py/python/node/js affix changed, look-alike characters, or the @types scope folded into the name.",
		"Typosquats carry the attacker's code under a name one slip away from the real one, and install scripts run it at once. Check the name against the package you meant (the evidence names it); if the dependency is right, pin it and note why it is not the popular package."},
}
