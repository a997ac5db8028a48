package containers

import (
	"net/url"
	"regexp"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/package-url/packageurl-go"
)

// A Req is a package requirement as written on a command line.
type Req struct {
	Ecosystem string // pypi, npm, deb, apk
	Namespace string // npm scope with its "@"; distro for deb and apk
	Name      string
	Version   string // exact version when pinned
	Range     string // the specifier as written when not pinned
	Extras    string
	Index     string // index or registry URL when not the default, credentials stripped
}

var (
	pypiRE = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[A-Za-z0-9,._ -]*\])?\s*(.*)$`)
	// exactSemver is an npm version that names one release.
	exactSemver = regexp.MustCompile(`^v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?$`)
	npmNameRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9._~-]*$`)
	debNameRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+$`)
)

// ParsePyPI reads a pip requirement such as "torch==2.5.1" or
// "transformers[torch]>=4". It reports false for URLs, paths and options.
func ParsePyPI(s string) (Req, bool) {
	s = strings.Trim(s, `"'`)
	if s == "" || strings.HasPrefix(s, "-") || strings.Contains(s, "/") || strings.Contains(s, "://") ||
		strings.HasSuffix(s, ".txt") || strings.HasSuffix(s, ".whl") || s == "." {
		return Req{}, false
	}
	if i := strings.IndexByte(s, ';'); i >= 0 { // markers do not name the package
		s = s[:i]
	}
	m := pypiRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return Req{}, false
	}
	r := Req{Ecosystem: "pypi", Name: normPyPI(m[1]), Extras: strings.Trim(m[2], "[]")}
	spec := strings.TrimSpace(m[3])
	if v, ok := strings.CutPrefix(spec, "=="); ok && !strings.ContainsAny(v, "*,<>!=~ ") && v != "" {
		r.Version = v
	} else if v, ok := strings.CutPrefix(spec, "==="); ok && v != "" {
		r.Version = v
	} else {
		r.Range = spec
	}
	return r, true
}

// normPyPI is the PEP 503 normal form, which the purl spec asks for.
func normPyPI(name string) string {
	name = strings.ToLower(name)
	return strings.NewReplacer("_", "-", ".", "-").Replace(name)
}

// ParseNPM reads an npm package spec such as "@scope/pkg@1.2.3" or "pkg@^2".
// It reports false for paths, URLs, git specs and options.
func ParseNPM(s string) (Req, bool) {
	s = strings.Trim(s, `"'`)
	if s == "" || strings.HasPrefix(s, "-") || strings.Contains(s, ":") || strings.HasPrefix(s, ".") {
		return Req{}, false
	}
	r := Req{Ecosystem: "npm"}
	rest := s
	if strings.HasPrefix(rest, "@") {
		i := strings.IndexByte(rest, '/')
		if i < 0 {
			return Req{}, false
		}
		r.Namespace, rest = rest[:i], rest[i+1:]
		if !npmNameRE.MatchString(r.Namespace[1:]) {
			return Req{}, false
		}
	}
	name, ver, _ := strings.Cut(rest, "@")
	if !npmNameRE.MatchString(name) {
		return Req{}, false
	}
	r.Name = name
	if exactSemver.MatchString(ver) {
		r.Version = strings.TrimPrefix(ver, "v")
	} else {
		r.Range = ver
	}
	return r, true
}

// ParseDistro reads a distribution package: "curl" or "curl=7.88.1-10"
// (apt) or "curl=8.5.0-r0" (apk). distro is the purl namespace.
func ParseDistro(eco, distro, s string) (Req, bool) {
	s = strings.Trim(s, `"'`)
	name, ver, _ := strings.Cut(s, "=")
	name, _, _ = strings.Cut(name, ":") // apt's name:arch
	if !debNameRE.MatchString(name) {
		return Req{}, false
	}
	r := Req{Ecosystem: eco, Namespace: distro, Name: name}
	if ver != "" && !strings.ContainsAny(ver, "*") {
		r.Version = ver
	} else {
		r.Range = ver
	}
	return r, true
}

// PURL is the requirement's purl: with the version when pinned.
func (r Req) PURL() string {
	return packageurl.NewPackageURL(r.Ecosystem, r.Namespace, r.Name, r.Version, nil, "").ToString()
}

// Component is the package component for the requirement, declared at loc
// by a source such as "dockerfile" or "mcp". Its ID is the purl, so that
// the same package found in many places merges.
func (r Req) Component(loc inventory.Location, source string) inventory.Component {
	p := r.PURL()
	name := r.Name
	if r.Namespace != "" && r.Ecosystem == "npm" {
		name = r.Namespace + "/" + r.Name
	}
	props := map[string]string{
		"ecosystem": r.Ecosystem,
		"pinned":    boolString(r.Version != ""),
		"source":    source,
		"manifest":  loc.Path,
	}
	if r.Range != "" {
		props["version-range"] = r.Range
	}
	if r.Extras != "" {
		props["extras"] = r.Extras
	}
	if r.Index != "" {
		props["index"] = r.Index
	}
	return inventory.Component{
		ID: p, Kind: inventory.KindPackage, Name: name, Version: r.Version, PURL: p,
		Locations: []inventory.Location{loc}, Properties: props, Dependency: inventory.Direct,
	}
}

// StripURL removes what a URL must not carry into a report: user
// information, query values and fragments. It returns "" for what is not a URL.
func StripURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	u.User = nil
	u.Fragment = ""
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			q[k] = []string{"REDACTED"}
		}
		u.RawQuery = q.Encode()
	}
	return u.String()
}
