package aicode

import (
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/package-url/packageurl-go"
)

// refs gathers what one file references, keyed by component ID so that a
// model loaded twice is one component with two locations.
type refs struct {
	comps map[string]*inventory.Component
	order []string
}

func newRefs() *refs { return &refs{comps: map[string]*inventory.Component{}} }

func (r *refs) add(c inventory.Component, loc inventory.Location) *inventory.Component {
	have, ok := r.comps[c.ID]
	if !ok {
		c.Locations = []inventory.Location{loc}
		if c.Properties == nil {
			c.Properties = map[string]string{}
		}
		r.comps[c.ID] = &c
		r.order = append(r.order, c.ID)
		return &c
	}
	if !slices.Contains(have.Locations, loc) {
		have.Locations = append(have.Locations, loc)
	}
	for k, v := range c.Properties {
		setList(have.Properties, k, v)
	}
	return have
}

func (r *refs) emit(s inventory.Sink) {
	for _, id := range r.order {
		s.Component(*r.comps[id])
	}
}

// setList adds v to the comma-separated list under k.
func setList(p map[string]string, k, v string) {
	if v == "" {
		return
	}
	old := p[k]
	if old == "" {
		p[k] = v
		return
	}
	if slices.Contains(strings.Split(old, ","), v) {
		return
	}
	p[k] = old + "," + v
}

// repoID matches a hub repository id: "name" or "org/name", no path tricks.
var repoID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,95}(/[A-Za-z0-9][A-Za-z0-9._-]{0,95})?$`)

var commitRE = regexp.MustCompile(`^[0-9a-f]{40}$`)

// hfModel makes the component of a Hugging Face repository a file refers
// to by id. kind is model or dataset.
func hfModel(kind inventory.Kind, repo, revision, loader string) (inventory.Component, bool) {
	repo = strings.TrimPrefix(repo, "hf.co/")
	repo = strings.TrimPrefix(repo, "huggingface.co/")
	if !repoID.MatchString(repo) || strings.Contains(repo, "..") {
		return inventory.Component{}, false
	}
	props := map[string]string{"loader": loader, "hub": "huggingface", "pinned": "false"}
	if revision != "" {
		props["revision"] = revision
	}
	if commitRE.MatchString(revision) {
		props["pinned"] = "true"
	}
	c := inventory.Component{Kind: kind, Name: repo, Version: revision, Properties: props}
	if kind == inventory.KindDataset {
		// The purl spec's huggingface type covers models only.
		c.ID = "dataset:huggingface/" + repo
		if revision != "" {
			c.ID += "@" + revision
		}
		return c, true
	}
	ns, name, ok := strings.Cut(repo, "/")
	if !ok {
		ns, name = "", repo
	}
	c.PURL = packageurl.NewPackageURL(packageurl.TypeHuggingface, ns, name, revision, nil, "").ToString()
	c.ID = c.PURL
	return c, true
}

// ollamaModel makes the component of a model in the Ollama library.
func ollamaModel(ref, loader string) (inventory.Component, bool) {
	ref = strings.TrimPrefix(ref, "registry.ollama.ai/")
	ref = strings.TrimPrefix(ref, "library/")
	name, tag, _ := strings.Cut(ref, ":")
	if !repoID.MatchString(name) || strings.ContainsAny(tag, "/ ") {
		return inventory.Component{}, false
	}
	return inventory.Component{
		ID: "model:ollama/" + ref, Kind: inventory.KindModel, Name: name, Version: tag,
		// Library tags move: only a digest would pin one.
		Properties: map[string]string{"loader": loader, "hub": "ollama", "pinned": "false"},
	}, true
}

// torchHub makes the component of a torch.hub.load("owner/repo[:ref]", …).
func torchHub(repo, entry string) (inventory.Component, bool) {
	repo, ref, _ := strings.Cut(repo, ":")
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || !repoID.MatchString(repo) {
		return inventory.Component{}, false
	}
	p := packageurl.NewPackageURL(packageurl.TypeGithub, owner, name, ref, nil, "").ToString()
	props := map[string]string{"loader": "torch.hub.load", "hub": "torch-hub", "pinned": "false"}
	if ref != "" {
		props["revision"] = ref
	}
	if commitRE.MatchString(ref) {
		props["pinned"] = "true"
	}
	if entry != "" {
		props["entrypoint"] = entry
	}
	return inventory.Component{ID: p, PURL: p, Kind: inventory.KindModel, Name: repo, Version: ref, Properties: props}, true
}

// service gathers what a file shows of one provider.
type service struct {
	endpoints []string
	env       []string
	keyed     bool // an api key argument or credential variable was seen
	sdks      []string
	locs      []inventory.Location
}

func (s *service) component(id string) inventory.Component {
	p := providers[id]
	props := map[string]string{"provider": id, "data-flow": "outbound"}
	eps := s.endpoints
	if len(eps) == 0 && p.endpoint != "" {
		eps = []string{p.endpoint}
	}
	env := s.env
	if len(env) == 0 && !p.keyless {
		env = p.env
	}
	props["endpoints"] = strings.Join(eps, ",")
	props["credential-env"] = strings.Join(env, ",")
	props["authenticated"] = "false"
	if s.keyed || len(env) > 0 {
		props["authenticated"] = "true"
	}
	props["sdk"] = strings.Join(s.sdks, ",")
	maps.DeleteFunc(props, func(_, v string) bool { return v == "" })
	return inventory.Component{
		ID: "service:" + id, Kind: inventory.KindService, Name: id,
		Properties: props, Locations: s.locs,
	}
}

// cleanEndpoint drops credentials, query and fragment from a URL; it
// returns "" for anything that is not an absolute http(s) URL.
func cleanEndpoint(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	u.User = nil
	u.RawQuery, u.Fragment, u.RawFragment = "", "", ""
	return u.String()
}
