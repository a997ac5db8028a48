package rules

import "github.com/chainvet/chainvet/internal/inventory"

// containerRules are the rules of Dockerfiles and Containerfiles
// (catalog/containers).
var containerRules = []Rule{
	{"docker/unpinned-base", inventory.Medium,
		"A FROM image (or the # syntax= frontend) is not pinned by digest.",
		"A tag can be moved to other bytes, so a rebuild may take a different image. High for latest or no tag; low for the syntax frontend. ARG defaults are substituted; scratch and earlier stages are not images. Pin the digest: FROM name:tag@sha256:<digest>."},
	{"docker/curl-pipe-shell", inventory.High,
		"A RUN line or RUN heredoc downloads code and runs it at once (curl … piped to sh, bash <(curl …)).",
		"Whatever the server sends at build time goes into the image unverified. Download to a file, check its sha256, then run it; or install a pinned package."},
	{"docker/add-url", inventory.Medium,
		"ADD fetches a URL without --checksum.",
		"The image gets whatever the server sends at build time. Add --checksum=sha256:<digest> to the ADD, or download and verify in a RUN step."},
	{"docker/unpinned-install", inventory.Medium,
		"A RUN line installs pip or npm packages without exact versions.",
		"Each build may take a newly published, possibly malicious, release. Pin exact versions or install from a hashed lock (pip install --require-hashes -r …, npm ci). apt-get, apt and apk installs are listed in the inventory but not reported: they come from the distribution's signed repositories, and exact pins break builds when mirrors drop old versions."},
}
