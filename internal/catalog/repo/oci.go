package repo

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/chainvet/chainvet/internal/inventory"
)

// OCI catalogs model artifacts in OCI image layouts on disk (oras, skopeo
// and docker model write them): the oci-layout file marks the folder,
// index.json lists manifests, blobs/<algorithm>/<hex> holds them. A
// manifest whose artifact type, config or layers have a model media type
// becomes one component; its digests come from the manifest, which is
// hashed and checked, while layers are only checked to exist with the size
// the manifest gives: they are weights, and the other catalogers read them
// as the files they are.
type OCI struct {
	Limits Limits
}

// Name implements inventory.Cataloger.
func (OCI) Name() string { return "models/oci" }

// Wants implements inventory.Cataloger: the oci-layout file of a layout on
// disk.
func (OCI) Wants(f *inventory.File) bool {
	return f.Depth == 0 && f.Name == "oci-layout" && jsonObject(f.Head) && strings.Contains(string(f.Head), "imageLayoutVersion")
}

// A descriptor points at a blob.
type descriptor struct {
	MediaType    string            `json:"mediaType"`
	ArtifactType string            `json:"artifactType"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	Annotations  map[string]string `json:"annotations"`
}

// A manifest is an image manifest or an image index: both are read into
// one struct and told apart by what they hold.
type manifest struct {
	MediaType    string            `json:"mediaType"`
	ArtifactType string            `json:"artifactType"`
	Config       *descriptor       `json:"config"`
	Layers       []descriptor      `json:"layers"`
	Manifests    []descriptor      `json:"manifests"`
	Annotations  map[string]string `json:"annotations"`
}

// maxIndexDepth bounds nested image indexes.
const maxIndexDepth = 4

// maxManifestBlob bounds a manifest or config blob read: the OCI
// distribution spec lets registries refuse manifests over 4 MiB.
const maxManifestBlob = 4 << 20

// modelMedia reports media types of model artifacts: CNCF ModelPack
// (vnd.cncf.model.* and its earlier vnd.cnai.model.*), Docker Model Runner
// (vnd.docker.ai.*), Ollama (vnd.ollama.image.*), KitOps (vnd.kitops.*),
// and any other type that says "model".
func modelMedia(mt string) bool {
	mt = strings.ToLower(mt)
	for _, p := range []string{"application/vnd.docker.ai.", "application/vnd.ollama.image.", "application/vnd.kitops.", "application/vnd.cncf.model.", "application/vnd.cnai.model."} {
		if strings.HasPrefix(mt, p) {
			return true
		}
	}
	return strings.Contains(mt, "model")
}

// weightMedia reports layer media types that hold weights.
func weightMedia(mt string) bool {
	mt = strings.ToLower(mt)
	for _, s := range []string{".weight.", "gguf", "safetensors", "ollama.image.model", "onnx", "ollama.image.projector", ".model.weights"} {
		if strings.Contains(mt, s) {
			return true
		}
	}
	return false
}

// digestRE is the digest grammar of the OCI image spec.
var digestRE = regexp.MustCompile(`^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$`)

type ociCat struct {
	ctx   context.Context
	f     *inventory.File
	s     inventory.Sink
	lim   Limits
	dir   string
	seen  map[string]bool
	count int
}

// Catalog implements inventory.Cataloger.
func (o OCI) Catalog(ctx context.Context, f *inventory.File, s inventory.Sink) error {
	x := &ociCat{ctx: ctx, f: f, s: s, lim: o.Limits.withDefaults(), dir: filepath.Dir(f.Path), seen: map[string]bool{}}
	var layout struct {
		Version string `json:"imageLayoutVersion"`
	}
	if err := json.Unmarshal(f.Head, &layout); err != nil || layout.Version == "" {
		x.bad(f.Path, "oci-layout is not {\"imageLayoutVersion\": ...}", "the layout marker is malformed")
		return nil
	}
	idxPath := filepath.Join(x.dir, "index.json")
	b, err := readFile(idxPath, maxManifestBlob)
	if err != nil {
		x.bad(idxPath, err.Error(), "the layout's index.json cannot be read: its models cannot be listed")
		return nil
	}
	var idx manifest
	if err := json.Unmarshal(b, &idx); err != nil {
		x.bad(idxPath, err.Error(), "the layout's index.json is not valid JSON")
		return nil
	}
	return x.index(idxPath, idx, 0)
}

func (x *ociCat) bad(p, evidence, message string) {
	x.s.Finding(inventory.Finding{
		Rule: "repo/malformed", Severity: inventory.Medium, Path: p, Evidence: evidence, Message: message,
		Remediation: "re-create the layout with the tool that wrote it (oras, skopeo, docker model), or reject it",
	})
}

// index follows the manifests an image index lists.
func (x *ociCat) index(from string, idx manifest, depth int) error {
	for _, d := range idx.Manifests {
		if err := x.ctx.Err(); err != nil {
			return err
		}
		if x.seen[d.Digest] {
			continue
		}
		x.seen[d.Digest] = true
		if x.count++; x.count > x.lim.Manifests {
			x.s.Finding(inventory.Finding{
				Rule: inventory.RuleScanLimit, Severity: inventory.High, Path: from,
				Evidence:    fmt.Sprintf("more than %d manifests", x.lim.Manifests),
				Message:     "the layout lists more manifests than the limit: the rest were not checked",
				Remediation: "scan the layout in parts, or raise the limit",
			})
			return nil
		}
		p, ok := x.blob(from, "", d)
		if !ok {
			continue
		}
		b, ok := x.read(from, "", p, d)
		if !ok {
			continue
		}
		var m manifest
		if err := json.Unmarshal(b, &m); err != nil {
			x.bad(p, err.Error(), "a manifest the index lists is not valid JSON")
			continue
		}
		if len(m.Manifests) > 0 {
			if depth >= maxIndexDepth {
				x.s.Finding(inventory.Finding{
					Rule: inventory.RuleScanLimit, Severity: inventory.High, Path: p,
					Evidence:    fmt.Sprintf("image indexes nested more than %d deep", maxIndexDepth),
					Message:     "the nested index was not followed: what it lists was not checked",
					Remediation: "review the layout by hand",
				})
				continue
			}
			if err := x.index(p, m, depth+1); err != nil {
				return err
			}
			continue
		}
		x.manifest(p, d, m)
	}
	return nil
}

// blob returns the path of the blob d names, reporting a digest that is
// not one, or that would lead outside blobs/, and a blob that is missing
// or has another size. comp is the component the blob belongs to.
func (x *ociCat) blob(from, comp string, d descriptor) (string, bool) {
	alg, enc, ok := strings.Cut(d.Digest, ":")
	if !ok || !digestRE.MatchString(d.Digest) {
		if strings.Contains(d.Digest, "/") || strings.Contains(d.Digest, `\`) || strings.Contains(d.Digest, "..") {
			x.s.Finding(inventory.Finding{
				Rule: "oci/path-traversal", Severity: inventory.High, Component: comp, Path: from,
				Evidence:    fmt.Sprintf("digest %q", d.Digest),
				Message:     "a digest that is a path: tools that join it to blobs/ read or write outside the layout",
				Remediation: "reject the layout",
			})
			return "", false
		}
		x.bad(from, fmt.Sprintf("digest %q", d.Digest), "a descriptor's digest is not a digest: the blob cannot be found or checked")
		return "", false
	}
	p := filepath.Join(x.dir, "blobs", alg, enc)
	fi, err := os.Stat(p)
	switch {
	case err != nil || !fi.Mode().IsRegular():
		x.s.Finding(inventory.Finding{
			Rule: "oci/blob-missing", Severity: inventory.Medium, Component: comp, Path: from,
			Evidence:    fmt.Sprintf("%s (%s, %d bytes) not in blobs/", d.Digest, d.MediaType, d.Size),
			Message:     "a blob the manifest lists is missing: the artifact is incomplete, and was not scanned whole",
			Remediation: "pull the artifact again, completely, and scan it",
		})
		return "", false
	case fi.Size() != d.Size:
		x.s.Finding(inventory.Finding{
			Rule: "oci/blob-mismatch", Severity: inventory.High, Component: comp, Path: p,
			Evidence:    fmt.Sprintf("%s is %d bytes; the manifest says %d", d.Digest, fi.Size(), d.Size),
			Message:     "the blob is not the one the manifest names: its digest cannot match, so it was altered or replaced",
			Remediation: "pull the artifact again from its registry, by digest, and compare",
		})
	}
	return p, true
}

// read reads a manifest or config blob and checks its digest.
func (x *ociCat) read(from, comp, p string, d descriptor) ([]byte, bool) {
	b, err := readFile(p, maxManifestBlob)
	if err != nil {
		x.bad(p, err.Error(), "a manifest or config blob cannot be read")
		return nil, false
	}
	alg, want, _ := strings.Cut(d.Digest, ":")
	if alg == "sha256" {
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != want {
			x.s.Finding(inventory.Finding{
				Rule: "oci/blob-mismatch", Severity: inventory.High, Component: comp, Path: p,
				Evidence:    fmt.Sprintf("content hashes to sha256:%s, not %s", got, d.Digest),
				Message:     "the blob is not the one its digest names: it was altered or replaced",
				Remediation: "pull the artifact again from its registry, by digest, and compare",
			})
		}
	}
	return b, true
}

// manifest reports one image manifest, when it is a model artifact.
func (x *ociCat) manifest(p string, d descriptor, m manifest) {
	isModel := modelMedia(m.ArtifactType) || modelMedia(d.ArtifactType) || m.Config != nil && modelMedia(m.Config.MediaType)
	for _, l := range m.Layers {
		isModel = isModel || modelMedia(l.MediaType)
	}
	if !isModel {
		return // an ordinary image: containers are catalogued elsewhere
	}
	id := inventory.FileComponentID(inventory.KindModel, p)
	_, hexDigest, _ := strings.Cut(d.Digest, ":")
	props := map[string]string{PropFormat: "oci-model", "layers": strconv.Itoa(len(m.Layers))}
	props["media-type"] = cmp.Or(m.ArtifactType, cmp.Or(d.ArtifactType, configType(m)))
	comp := inventory.Component{
		ID: id, Kind: inventory.KindModel,
		Locations: []inventory.Location{{Path: p}},
		Digests:   []inventory.Digest{{Algorithm: "sha256", Value: hexDigest}},
	}
	ref := cmp.Or(d.Annotations["org.opencontainers.image.ref.name"], m.Annotations["org.opencontainers.image.ref.name"])
	comp.Name = cmp.Or(m.Annotations["org.opencontainers.image.title"], cmp.Or(m.Annotations["org.cnai.model.name"], ref))
	comp.Version = cmp.Or(m.Annotations["org.opencontainers.image.version"], cmp.Or(m.Annotations["org.cnai.model.version"], tag(ref)))
	if repo := refRepository(ref); repo != "" && strings.HasPrefix(d.Digest, "sha256:") {
		q := packageurl.QualifiersFromMap(map[string]string{"repository_url": repo})
		if t := tag(ref); t != "" {
			q = packageurl.QualifiersFromMap(map[string]string{"repository_url": repo, "tag": t})
		}
		comp.PURL = packageurl.NewPackageURL(packageurl.TypeOCI, "", repo[strings.LastIndexByte(repo, '/')+1:], d.Digest, q, "").ToString()
		comp.Name = cmp.Or(comp.Name, repo)
	}
	comp.Name = cmp.Or(comp.Name, filepath.Base(x.dir)+"@"+d.Digest[:min(len(d.Digest), 19)])

	if m.Config != nil {
		if cp, ok := x.blob(p, id, *m.Config); ok {
			comp.Locations = append(comp.Locations, inventory.Location{Path: cp})
			if b, ok := x.read(p, id, cp, *m.Config); ok {
				for k, v := range configProperties(b) {
					props[k] = v
				}
			}
		}
	}
	for i, l := range m.Layers {
		name := cmp.Or(l.Annotations["org.cnai.model.filepath"], l.Annotations["org.opencontainers.image.title"])
		if why := escapes(name); name != "" && why != "" {
			x.s.Finding(inventory.Finding{
				Rule: "oci/path-traversal", Severity: inventory.High, Component: id, Path: p,
				Evidence:    fmt.Sprintf("layer %d (%s) unpacks to %q: %s", i, l.Digest, name, why),
				Message:     "a layer's file path leaves the model's folder: pulling the model writes that file",
				Remediation: "reject the artifact",
			})
		}
		lp, ok := x.blob(p, id, l)
		if !ok {
			continue
		}
		comp.Locations = append(comp.Locations, inventory.Location{Path: lp})
		if !weightMedia(l.MediaType) {
			continue
		}
		_, lhex, _ := strings.Cut(l.Digest, ":")
		lc := inventory.Component{
			ID: inventory.FileComponentID(inventory.KindModel, lp), Kind: inventory.KindModel,
			Name:       cmp.Or(name, filepath.Base(lp)),
			Locations:  []inventory.Location{{Path: lp}},
			Properties: map[string]string{PropPartOf: id, "media-type": l.MediaType},
		}
		if strings.HasPrefix(l.Digest, "sha256:") {
			lc.Digests = []inventory.Digest{{Algorithm: "sha256", Value: lhex}}
		}
		x.s.Component(lc)
	}
	comp.Properties = props
	x.s.Component(comp)
}

func configType(m manifest) string {
	if m.Config != nil {
		return m.Config.MediaType
	}
	return ""
}

// refRepository is the repository part of a full image reference
// (registry/ns/name:tag), or "" when ref is only a tag.
func refRepository(ref string) string {
	if !strings.Contains(ref, "/") {
		return ""
	}
	ref, _, _ = strings.Cut(ref, "@")
	if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		ref = ref[:i]
	}
	return ref
}

// tag is the tag of a reference: all of it when it is only a tag.
func tag(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	if !strings.Contains(ref, "/") {
		return ref
	}
	if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		return ref[i+1:]
	}
	return ""
}

// configProperties reads a model config blob — ModelPack, Docker Model
// Runner or Ollama — for the model's identity.
func configProperties(b []byte) map[string]string {
	var root map[string]any
	if json.Unmarshal(b, &root) != nil {
		return nil
	}
	cfg, _ := root["config"].(map[string]any)
	desc, _ := root["descriptor"].(map[string]any)
	str := func(ms []map[string]any, keys ...string) string {
		for _, m := range ms {
			for _, k := range keys {
				switch v := m[k].(type) {
				case string:
					if v != "" {
						return v
					}
				case float64:
					return strconv.FormatFloat(v, 'f', -1, 64)
				}
			}
		}
		return ""
	}
	both := []map[string]any{cfg, root}
	p := map[string]string{}
	set := func(k, v string) {
		if v != "" {
			p[k] = v
		}
	}
	set(PropArchitecture, str(both, "architecture", "model_family"))
	set(PropQuantization, str(both, "quantization", "file_type"))
	set("model-format", str(both, "format", "model_format"))
	set(PropContext, str(both, "context_size", "contextSize", "context_length"))
	if ps := str(both, "paramSize", "parameters", "param_size", "model_type"); ps != "" {
		if _, err := strconv.ParseInt(ps, 10, 64); err == nil {
			p[PropParameters] = ps
		} else {
			p["parameter-size"] = ps
		}
	}
	if d := str(both, "precision", "dtype", "torch_dtype"); d != "" {
		if t, ok := torchDtypes[strings.ToLower(d)]; ok {
			d = t
		}
		p[PropDtype] = d
	}
	if desc != nil {
		if ls, ok := desc["licenses"].([]any); ok {
			var names []string
			for _, l := range ls {
				if s, ok := l.(string); ok {
					names = append(names, s)
				}
			}
			set(PropLicense, strings.Join(names, ","))
		}
		set("model-name", str([]map[string]any{desc}, "name"))
	}
	return p
}

// readFile reads a small file whole, refusing one over limit bytes.
func readFile(p string, limit int64) ([]byte, error) {
	fh, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: more than %d bytes: %w", filepath.Base(p), limit, errTooBig)
	}
	return b, nil
}
