// Package containers inventories container images: the base images and the
// packages a Dockerfile installs, and the image references other catalogers
// (CI workflows, MCP server launches) meet.
//
// A Dockerfile is read as text, never built: instructions are joined across
// backslash continuations, FROM lines give container components (ARG
// defaults that are literal are substituted; earlier stage names are not
// images), and RUN lines are split into shell commands whose pip, npm,
// apt-get and apk installs give package components with the names and
// versions as written.
//
// The same reading reports risks (risks.go): base images without a digest,
// ADD of URLs without --checksum, and in RUN lines and RUN heredocs the
// risky commands ScanShell finds — downloads piped to a shell, pip and npm
// installs without exact versions. ScanShell is shared with the CI
// cataloger; it lexes text and never runs it.
package containers

import (
	"regexp"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/package-url/packageurl-go"
)

// dockerHub is the registry an image reference names when it names none.
const dockerHub = "docker.io"

// An Image is a parsed image reference: registry/path[:tag][@digest].
type Image struct {
	Registry string // "" for Docker Hub
	Path     string // "library/python" is written "python"
	Tag      string
	Digest   string // "sha256:…"
}

var digestRE = regexp.MustCompile(`^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[0-9a-fA-F]{32,}$`)

// ParseImage reads an image reference as docker writes them. It reports
// false for what cannot be one: empty, containing spaces or variables.
func ParseImage(ref string) (Image, bool) {
	ref = strings.TrimPrefix(ref, "docker://")
	if ref == "" || strings.ContainsAny(ref, " \t$\"'{}") || strings.HasPrefix(ref, "-") {
		return Image{}, false
	}
	var im Image
	if i := strings.IndexByte(ref, '@'); i >= 0 {
		im.Digest = ref[i+1:]
		ref = ref[:i]
		if !digestRE.MatchString(im.Digest) {
			return Image{}, false
		}
	}
	if i := strings.LastIndexByte(ref, ':'); i >= 0 && !strings.Contains(ref[i:], "/") {
		im.Tag = ref[i+1:]
		ref = ref[:i]
		if im.Tag == "" {
			return Image{}, false
		}
	}
	// The first element is a registry when it looks like a host name.
	if i := strings.IndexByte(ref, '/'); i >= 0 {
		first := ref[:i]
		if strings.ContainsAny(first, ".:") || first == "localhost" {
			im.Registry = first
			ref = ref[i+1:]
		}
	}
	if im.Registry == dockerHub || im.Registry == "index.docker.io" {
		im.Registry = ""
	}
	ref = strings.TrimPrefix(ref, "library/")
	if ref == "" || strings.HasSuffix(ref, "/") || strings.Contains(ref, "//") {
		return Image{}, false
	}
	im.Path = strings.ToLower(ref)
	return im, true
}

// Pinned reports whether the reference names exact bytes: a digest.
func (im Image) Pinned() bool { return im.Digest != "" }

// Ref is the version as written: the digest when there is one, else the tag.
func (im Image) Ref() string {
	if im.Digest != "" {
		return im.Digest
	}
	return im.Tag
}

// PURL follows the purl spec's docker type: the namespace is the path
// before the name, the version the digest or tag, and repository_url names
// a registry other than Docker Hub.
func (im Image) PURL() string {
	ns, name := "", im.Path
	if i := strings.LastIndexByte(im.Path, '/'); i >= 0 {
		ns, name = im.Path[:i], im.Path[i+1:]
	}
	var q packageurl.Qualifiers
	if im.Registry != "" {
		q = packageurl.QualifiersFromMap(map[string]string{"repository_url": im.Registry})
	}
	return packageurl.NewPackageURL("docker", ns, name, im.Ref(), q, "").ToString()
}

// Name is the image's name with its registry, as a user would write it.
func (im Image) Name() string {
	if im.Registry != "" {
		return im.Registry + "/" + im.Path
	}
	return im.Path
}

// Component is the container component for the image, declared at loc.
// Its ID is the purl, so that one image used in many places is one component.
func (im Image) Component(loc inventory.Location) inventory.Component {
	p := im.PURL()
	props := map[string]string{
		"ecosystem": "docker",
		"pinned":    boolString(im.Pinned()),
		"manifest":  loc.Path,
	}
	if r := im.Ref(); r != "" {
		props["ref"] = r
	}
	if im.Tag != "" && im.Digest != "" {
		props["tag"] = im.Tag
	}
	if im.Registry != "" {
		props["index"] = im.Registry
	}
	return inventory.Component{
		ID: p, Kind: inventory.KindContainer, Name: im.Name(), Version: im.Ref(), PURL: p,
		Locations: []inventory.Location{loc}, Properties: props, Dependency: inventory.Direct,
	}
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
