package diff

import (
	"regexp"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/chainvet/chainvet/internal/advisory/version"
	"github.com/chainvet/chainvet/internal/inventory"
)

// ecosystems maps purl types (and ecosystem properties) to the OSV
// ecosystem names whose version ordering package version implements.
var ecosystems = map[string]string{
	"pypi":   "PyPI",
	"npm":    "npm",
	"golang": "Go",
	"github": "GitHub Actions",
	"cargo":  "crates.io",
}

// genericScheme orders versions of other ecosystems (images, conda, deb,
// apk, hub tags): semver that tolerates short forms such as "3.12" or
// "v4". Versions it cannot read are graded "changed", never guessed at.
const genericScheme = "GitHub Actions"

// ecosystem is the version ordering for c.
func ecosystem(c *inventory.Component) string {
	typ := ""
	if p, err := packageurl.FromString(c.PURL); c.PURL != "" && err == nil {
		typ = p.Type
	} else if t, ok := strings.CutPrefix(c.ID, "pkg:"); ok {
		typ, _, _ = strings.Cut(t, "/")
	}
	if typ == "" {
		typ = c.Properties["ecosystem"]
	}
	if e, ok := ecosystems[strings.ToLower(typ)]; ok {
		return e
	}
	return genericScheme
}

// compareVersions orders a and b as c's ecosystem does, and false when
// either does not parse.
func compareVersions(c *inventory.Component, a, b string) (int, bool) {
	if a == "" || b == "" {
		return 0, false
	}
	if d, err := version.Compare(ecosystem(c), a, b); err == nil {
		return d, true
	}
	// Short forms ("5" in an approval's range, "3.12-slim" as an image
	// tag) are read as semver with the missing numbers zero.
	d, err := version.Compare(genericScheme, padded(a), padded(b))
	return d, err == nil
}

// padded writes a short version with a suffix ("3.12-slim", an image tag)
// as full semver ("3.12.0-slim"), which the generic ordering reads.
func padded(v string) string {
	s := strings.TrimLeft(v, "=v")
	nums := leadingNumbers(s)
	rest := strings.TrimLeft(s, "0123456789.")
	if len(nums) == 0 || len(nums) >= 3 || rest == "" || strings.Count(s[:len(s)-len(rest)], ".") != len(nums)-1 {
		return v
	}
	for len(nums) < 3 {
		nums = append(nums, "0")
	}
	return strings.Join(nums, ".") + rest
}

// revisionRE matches a commit (7 to 64 hex digits) or a digest
// ("sha256:…").
var revisionRE = regexp.MustCompile(`^(?:[a-z0-9]+[+._-]?[a-z0-9]*:)?[0-9a-fA-F]{7,128}$`)

// isRevision reports whether v names exact bytes rather than a release:
// a commit or a digest. A short all-digit string is a version.
func isRevision(v string) bool {
	if !revisionRE.MatchString(v) {
		return false
	}
	return strings.Contains(v, ":") || len(v) >= 40 || strings.ContainsAny(strings.ToLower(v), "abcdef")
}

// Grade classifies the change of c's version from old to new; it returns
// "" when the two name the same version (1.0 and 1.0.0 in PyPI).
func Grade(c *inventory.Component, old, new string) Jump {
	if old == new {
		return ""
	}
	if isRevision(old) && isRevision(new) {
		return Revision
	}
	d, ok := compareVersions(c, old, new)
	switch {
	case !ok:
		return Other
	case d == 0:
		return ""
	case d > 0:
		return Downgrade
	}
	eo, ro, po := release(ecosystem(c), old)
	en, rn, pn := release(ecosystem(c), new)
	if eo != en {
		return Major // a new epoch restarts the numbering
	}
	for i := range max(len(ro), len(rn)) {
		if at(ro, i) == at(rn, i) {
			continue
		}
		switch i {
		case 0:
			return Major
		case 1:
			return Minor
		}
		return Patch
	}
	if po || pn {
		return Prerelease
	}
	return Patch // a post-release or a rebuild
}

// at is the i-th release number of r, "0" past its end.
func at(r []string, i int) string {
	if i < len(r) {
		return r[i]
	}
	return "0"
}

// release is v's epoch (PyPI only), its release numbers without leading
// zeros, and whether v is a pre-release.
func release(eco, v string) (epoch string, nums []string, pre bool) {
	if eco == "PyPI" {
		p, err := version.ParsePEP440(v)
		if err != nil {
			return "", nil, false
		}
		s := p.String()
		epoch = "0"
		if e, rest, ok := strings.Cut(s, "!"); ok {
			epoch, s = e, rest
		}
		return epoch, leadingNumbers(s), p.IsPrerelease()
	}
	s := strings.TrimLeft(strings.TrimSpace(v), "=v")
	nums = leadingNumbers(s)
	rest := strings.TrimLeft(s, "0123456789.")
	return "", nums, strings.HasPrefix(rest, "-")
}

// leadingNumbers splits the dotted numbers that begin s.
func leadingNumbers(s string) []string {
	end := 0
	for end < len(s) && (s[end] == '.' || '0' <= s[end] && s[end] <= '9') {
		end++
	}
	var out []string
	for n := range strings.SplitSeq(strings.Trim(s[:end], "."), ".") {
		if n == "" {
			continue
		}
		if t := strings.TrimLeft(n, "0"); t != "" {
			n = t
		} else {
			n = "0"
		}
		out = append(out, n)
	}
	return out
}
