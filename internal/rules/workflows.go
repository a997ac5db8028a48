package rules

import "github.com/chainvet/chainvet/internal/inventory"

// workflowRules are the rules of CI pipelines: GitHub Actions workflows and
// composite actions, and GitLab CI files (catalog/workflows). The
// workflow/ rules about shell commands apply to GitLab script lines too.
var workflowRules = []Rule{
	{"workflow/unpinned-action", inventory.High,
		"A workflow uses an action, reusable workflow or docker:// image by tag or branch, not by full commit SHA or digest.",
		"Tags and branches can be moved to new code, as in the tj-actions/changed-files compromise. Medium for GitHub's own actions/ and github/ actions and for docker:// images with a tag. Pin the 40-hex commit and keep the tag as a comment: uses: owner/repo@<sha> # v4."},
	{"workflow/untrusted-checkout", inventory.Critical,
		"A workflow triggered by pull_request_target, workflow_run or issue_comment checks out the pull request's code.",
		"These triggers run with secrets and a write token; the pull request's code, build scripts and test hooks are written by an outsider. High when no step follows the checkout. Run untrusted code only under pull_request, and publish its results from a separate workflow that never runs it."},
	{"workflow/script-injection", inventory.High,
		"A run: or github-script script expands a context an outsider writes (title, body, branch name, commit message).",
		"The text is pasted into the script before it runs, so quotes and ; in it become code. Critical under pull_request_target, workflow_run, issue_comment, issues and discussion triggers. Pass the value through env: and use \"$VAR\" in the script."},
	{"workflow/permissions", inventory.Medium,
		"A workflow declares no permissions, grants write-all, or grants write scopes on a trigger outsiders cause.",
		"Without a permissions: block the GITHUB_TOKEN gets the repository default, which may be write-all. High for write scopes on pull_request_target, workflow_run, issue_comment, issues and discussion triggers. Declare the least needed, e.g. permissions: { contents: read }."},
	{"workflow/secrets-inherit", inventory.Medium,
		"A reusable workflow call passes every secret with secrets: inherit.",
		"The called workflow, and every action it uses, can read all repository and organisation secrets. Pass only the secrets it needs, by name."},
	{"workflow/persist-credentials", inventory.Low,
		"actions/checkout runs without persist-credentials: false.",
		"The GITHUB_TOKEN stays in .git/config for every later step, and in any artifact made of the workspace. Add with: { persist-credentials: false } and give the token only to the step that pushes."},
	{"workflow/unpinned-install", inventory.Medium,
		"A CI script installs packages without exact versions (pip install X, npm install, npx X, pip install git+… without a commit).",
		"Each run may take a newly published, possibly malicious, release. High when secrets are in the step's environment. Pin exact versions, install from a hashed lock (pip install --require-hashes -r …, npm ci), pin VCS installs to a commit."},
	{"workflow/curl-pipe-shell", inventory.High,
		"A CI script downloads code and runs it at once (curl … piped to sh, bash <(curl …), iex (iwr …)).",
		"Whatever the server sends that day runs with the job's secrets and token. Download to a file, check its sha256, then run it; or install a pinned package."},
	{"workflow/unpinned-model-download", inventory.Medium,
		"A CI script downloads a model by branch: hub download without --revision <commit>, a hub git clone without a commit checkout, a /resolve/main/ URL.",
		"The model's files, and any code or pickles in them, change when the repository does. Pass --revision <40-hex commit>, check out a commit after cloning, or use /resolve/<commit>/ URLs."},
	{"workflow/self-hosted-public", inventory.High,
		"A job runs on a self-hosted runner for pull_request, pull_request_target, issue_comment or other triggers outsiders cause.",
		"On a public repository anyone can then run code on that machine, which keeps state between jobs and often reaches the internal network. Use GitHub-hosted runners for these triggers, or ephemeral isolated runners on private repositories only."},
	{"gitlab/unpinned-image", inventory.Medium,
		"A GitLab CI image or service is not pinned by digest.",
		"The tag can be moved to other bytes. High for latest or no tag. Pin the digest: image: name:tag@sha256:<digest>."},
	{"gitlab/unpinned-include", inventory.High,
		"A GitLab CI include can change without a commit here: a remote URL, a project include not at a commit, a component version that is not a commit.",
		"Whoever controls the included file controls the jobs, their variables and their secrets. Include local files, or projects and components at a 40-hex commit; template: includes are GitLab's own and are not reported."},
}
