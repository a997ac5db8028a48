package rules

import "github.com/chainvet/chainvet/internal/inventory"

// confusionRules are the rules of package-index configuration (package
// rules/confusion).
var confusionRules = []Rule{
	{"package/dependency-confusion", inventory.High,
		"pip is given an extra index beside PyPI, so a public package can take the place of a private one of the same name.",
		"pip installs the highest version any index offers (the torchtriton compromise). Use a single --index-url that proxies PyPI; with uv mark the index `explicit = true` and pin private packages in [tool.uv.sources]; with Poetry use `priority = \"explicit\"` and per-package `source`."},
	{"package/npm-registry-override", inventory.Medium,
		"npm's default registry is moved to a non-public one, so every unscoped name resolves through it.",
		"A private registry that proxies npmjs serves a public package in place of an unpublished private name. Publish private packages under a scope and route only the scope: `@org:registry=`."},
}
