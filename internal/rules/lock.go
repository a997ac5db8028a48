package rules

import "github.com/chainvet/chainvet/internal/inventory"

// lockRules are reported by chainvet verify (internal/lock): each is a
// difference between chainvet.lock and the tree it pins.
var lockRules = []Rule{
	{"lock/changed", inventory.High,
		"A locked model, dataset or file has different content (sha256 or size) from the lock.",
		"The bytes that will be loaded are not the ones that were reviewed: the file was replaced, re-downloaded from a moved revision, or tampered with. Find out why; once the new file is reviewed, run chainvet lock --update PATH."},
	{"lock/missing", inventory.Medium,
		"A locked file, or a locked package, action, image or hub reference, is no longer there.",
		"Something pinned was removed or is no longer used. If that was intended, run chainvet lock --update PATH (or lock again) to drop it."},
	{"lock/added", inventory.Low,
		"A model or dataset file, or a dependency, is present that the lock does not pin.",
		"Unpinned artifacts escape verification. Review it, then pin it with chainvet lock --update PATH."},
	{"lock/renamed", inventory.Low,
		"A locked file is at another path with the same content (matched by sha256 and size).",
		"Loaders pick shards and weights by name: a renamed shard changes what is loaded even with the same bytes. If the move was intended, run chainvet lock --update OLD NEW."},
	{"lock/revision-changed", inventory.Medium,
		"A locked hub revision, git commit of a cloned model, package version, action commit or image digest is now another one.",
		"A different revision is different code or weights. Review what changed between the two, then run chainvet lock --update with the pin's ID."},
	{"lock/package-hash-changed", inventory.High,
		"A package's version is the locked one but the hashes its lockfile records differ.",
		"The same version with other bytes is what a compromised index or a republished artifact looks like. Do not install it until you know why; then accept with chainvet lock --update and the package's ID."},
	{"lock/folder-changed", inventory.Medium,
		"A model or dataset folder's root digest differs from the lock.",
		"A file inside the folder changed, appeared or went away; the file findings say which. Review them, then run chainvet lock --update on the folder."},
}
