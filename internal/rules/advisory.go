package rules

import "github.com/chainvet/chainvet/internal/inventory"

// advisoryRules are reported by the OSV advisory matcher
// (internal/rules/advisories).
var advisoryRules = []Rule{
	{ID: "package/vulnerable", Severity: inventory.High,
		Summary: "A pinned package version is affected by a known advisory (OSV: GHSA, PYSEC, GO, CVE)",
		Help: "The severity is the advisory's: its CVSS v3 base score, else the database's rating, else medium. " +
			"Records naming the same issue are merged into one finding. Upgrade to the version the remediation names: " +
			"the smallest one clear of every known advisory of the package."},
	{ID: "package/malicious", Severity: inventory.Critical,
		Summary: "A package version, a range admitting one, or a locked file digest is reported as malicious (OSV MAL- record)",
		Help: "Malicious-package reports mean the published code itself is hostile, usually on install. " +
			"Remove the package and treat any machine that installed it as compromised."},
	{ID: "package/vulnerable-range", Severity: inventory.Medium,
		Summary: "An unpinned version range admits a version affected by a known advisory",
		Help: "Reported one severity below the advisory. The check tries the advisory's listed and introduced versions " +
			"and the range's own bounds; pin the dependency in a lockfile to a fixed version."},
	{ID: "package/advisory-unknown", Severity: inventory.Low,
		Summary: "An advisory for the package could not be evaluated against its version or range",
		Help: "The version scheme or range syntax was not understood, so the package is not known to be clear. " +
			"Pin an exact version or check the advisory by hand."},
}
