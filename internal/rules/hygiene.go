package rules

import "github.com/chainvet/chainvet/internal/inventory"

// hygieneRules are the rules of dependency declaration and locking (package
// rules/hygiene). They are hygiene, not attacks: low or medium.
var hygieneRules = []Rule{
	{"package/no-lockfile", inventory.Medium,
		"A manifest declares dependencies and no lockfile is beside it.",
		"Every install resolves afresh, so builds differ and a newly published malicious release is taken silently. Generate and commit the lockfile (uv lock, poetry lock, pipenv lock, npm install)."},
	{"package/lock-out-of-sync", inventory.Medium,
		"A direct dependency of a manifest is missing from the lockfile beside it.",
		"The lockfile no longer describes what is installed; the missing package is resolved unpinned. Regenerate the lockfile and check it in CI (uv lock --check, poetry check --lock, npm ci)."},
	{"package/unpinned", inventory.Low,
		"A requirements file names a package without an exact == pin.",
		"Each install may take a different release. Pin exact versions with hashes (pip-compile --generate-hashes, uv pip compile --generate-hashes)."},
	{"package/unhashed", inventory.Low,
		"Exact pins in a requirements file carry no --hash.",
		"Without hashes pip verifies nothing it downloads. Add --hash=sha256 to every pin so pip runs in hash-checking mode."},
	{"package/direct-source", inventory.Medium,
		"A package comes from a VCS, URL or local path instead of an index.",
		"No index-side history, yanking or takedown applies and the content can change. Low when pinned to a full commit hash or archive digest, or a local path. Publish it to an index you control, or pin the commit hash or archive sha256."},
	{"package/floating-range", inventory.Medium,
		"An npm dependency accepts any version (*, x, latest or empty).",
		"Whatever is published next under the name is installed. Declare a bounded range and commit the lockfile."},
}
