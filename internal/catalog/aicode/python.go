package aicode

import (
	"regexp"
	"slices"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/modelfile/pysource"
)

// locator turns a line of the scanned source into a place in the tree.
type locator func(line int) inventory.Location

// dataset builders load_dataset takes by name that read local files, not a
// repository on the hub.
var localBuilders = map[string]bool{
	"csv": true, "json": true, "parquet": true, "arrow": true, "text": true,
	"imagefolder": true, "audiofolder": true, "videofolder": true, "webdataset": true, "pandas": true, "sql": true,
}

// environRE finds os.environ["NAME"]: a subscript, which pysource does not
// report as a call.
var environRE = regexp.MustCompile(`environ\s*\[\s*["']([A-Za-z_][A-Za-z0-9_]{0,127})["']\s*\]`)

// python reads the references of one scanned Python source into r, and
// returns the hub models and datasets it loads, for code/hub-unpinned.
func python(res *pysource.Result, src []byte, loc locator, r *refs) []hubRef {
	used := map[string]*service{}
	use := func(id, sdk string, l inventory.Location) *service {
		s := used[id]
		if s == nil {
			s = &service{}
			used[id] = s
		}
		if sdk != "" && !slices.Contains(s.sdks, sdk) {
			s.sdks = append(s.sdks, sdk)
		}
		if !slices.Contains(s.locs, l) {
			s.locs = append(s.locs, l)
		}
		return s
	}
	for _, im := range res.Imports {
		if p, ok := sdkOf(im.Target()); ok {
			// from openai import AzureOpenAI: the class says which service.
			if c, known := clients[im.Name]; known && c.provider != "" {
				p = c.provider
			}
			use(p, rootModule(im.Module), loc(im.Line))
		}
	}
	var env []string
	var hubs []hubRef
	for _, c := range res.Calls {
		if !c.Called {
			continue
		}
		l := loc(c.Line)
		addModel := func(kind inventory.Kind, repo, revision, loader string, l inventory.Location) {
			if m, ok := hfModel(kind, repo, revision, loader); ok {
				r.add(m, l)
				hubs = append(hubs, hubRef{c, m})
			}
		}
		name := c.Resolved
		last := name[strings.LastIndexByte(name, '.')+1:]
		switch {
		case last == "from_pretrained":
			if repo := arg(c, 0, "pretrained_model_name_or_path"); repo != "" {
				addModel(inventory.KindModel, repo, kw(c, "revision"), "from_pretrained", l)
			}
		case last == "hf_hub_download" || last == "snapshot_download":
			kind := inventory.KindModel
			if kw(c, "repo_type") == "dataset" {
				kind = inventory.KindDataset
			}
			if repo := arg(c, 0, "repo_id"); repo != "" && kw(c, "repo_type") != "space" {
				addModel(kind, repo, kw(c, "revision"), last, l)
			}
		case name == "transformers.pipeline" || name == "pipeline":
			if repo := kw(c, "model"); repo != "" {
				addModel(inventory.KindModel, repo, kw(c, "revision"), "pipeline", l)
			}
		case strings.HasSuffix(name, "SentenceTransformer") || strings.HasSuffix(name, "CrossEncoder"):
			if repo := arg(c, 0, "model_name_or_path"); repo != "" {
				addModel(inventory.KindModel, repo, kw(c, "revision"), last, l)
			}
		case name == "vllm.LLM":
			if repo := arg(c, 0, "model"); repo != "" {
				addModel(inventory.KindModel, repo, kw(c, "revision"), "vllm", l)
			}
		case name == "torch.hub.load":
			if kw(c, "source") != "local" {
				if m, ok := torchHub(arg(c, 0, "repo_or_dir"), arg(c, 1, "model")); ok {
					r.add(m, l)
				}
			}
		case name == "datasets.load_dataset" || name == "load_dataset":
			if repo := arg(c, 0, "path"); repo != "" && !localBuilders[repo] {
				addModel(inventory.KindDataset, repo, kw(c, "revision"), "load_dataset", l)
			}
		case strings.HasPrefix(name, "ollama.") && slices.Contains([]string{"pull", "chat", "generate", "embed", "embeddings", "show", "create"}, last):
			if m, ok := ollamaModel(arg(c, 0, "model"), "ollama."+last); ok {
				r.add(m, l)
			}
			use("ollama", "ollama", l)
		}
		if (name == "boto3.client" || strings.HasSuffix(name, ".client")) && bedrockServices[arg(c, 0, "service_name")] {
			s := use("aws-bedrock", "boto3", l)
			if ep := cleanEndpoint(kw(c, "endpoint_url")); ep != "" {
				s.endpoints = appendNew(s.endpoints, ep)
			} else if region := kw(c, "region_name"); regionRE.MatchString(region) {
				s.endpoints = appendNew(s.endpoints, "https://bedrock-runtime."+region+".amazonaws.com")
			}
			if kw(c, "aws_access_key_id") != "" || hasKw(c, "aws_access_key_id") {
				s.keyed = true
			}
		}
		if strings.HasPrefix(name, "litellm.") && (last == "completion" || last == "acompletion" || last == "embedding") {
			model := arg(c, 0, "model")
			if prefix, _, ok := strings.Cut(model, "/"); ok && litellmProviders[prefix] != "" {
				s := use(litellmProviders[prefix], "litellm", l)
				if ep := cleanEndpoint(kw(c, "api_base")); ep != "" {
					s.endpoints = appendNew(s.endpoints, ep)
				}
			}
		}
		if p, urlArg, ok := clientProvider(name); ok {
			s := use(p, rootModule(name), l)
			if urlArg != "" {
				if ep := cleanEndpoint(kw(c, urlArg)); ep != "" {
					s.endpoints = appendNew(s.endpoints, ep)
				}
			}
			if hasKw(c, "api_key") || hasKw(c, "token") {
				s.keyed = true
			}
		}
		if name == "os.getenv" || name == "os.environ.get" || name == "os.environ.setdefault" {
			if v := arg(c, 0, "key"); envName.MatchString(v) {
				env = appendNew(env, v)
			}
		}
	}
	for _, m := range environRE.FindAllSubmatch(src, -1) {
		env = appendNew(env, string(m[1]))
	}
	ids := map[string]bool{}
	for id := range used {
		ids[id] = true
	}
	for _, e := range env {
		if id := envProvider(e, ids); id != "" && credentialLike(e) {
			used[id].env = appendNew(used[id].env, e)
			used[id].keyed = true
		}
	}
	// Services in a fixed order: map iteration is random.
	var order []string
	for id := range used {
		order = append(order, id)
	}
	slices.Sort(order)
	for _, id := range order {
		s := used[id]
		c := s.component(id)
		r.add(c, s.locs[0])
		for _, l := range s.locs[1:] {
			r.add(inventory.Component{ID: c.ID}, l)
		}
	}
	return hubs
}

var regionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]$`)

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)

// credentialLike says whether a variable's name suggests it holds a key
// or says where the service is, as opposed to, say, a model name.
func credentialLike(name string) bool {
	n := strings.ToUpper(name)
	for _, w := range []string{"KEY", "TOKEN", "SECRET", "CREDENTIAL", "PASSWORD"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

func addModel(r *refs, kind inventory.Kind, repo, revision, loader string, l inventory.Location) {
	if c, ok := hfModel(kind, repo, revision, loader); ok {
		r.add(c, l)
	}
}

func rootModule(name string) string {
	root, _, _ := strings.Cut(name, ".")
	return root
}

func appendNew(list []string, v string) []string {
	if v == "" || slices.Contains(list, v) {
		return list
	}
	return append(list, v)
}

// arg returns the literal value of the argument at position i or named
// kwName; "" when it is absent or not a literal.
func arg(c pysource.Call, i int, kwName string) string {
	if v := kw(c, kwName); v != "" {
		return v
	}
	n := 0
	for _, a := range c.Args {
		if a.Keyword != "" {
			continue
		}
		if n == i {
			if a.Literal {
				return a.Value
			}
			return ""
		}
		n++
	}
	return ""
}

func kw(c pysource.Call, name string) string {
	for _, a := range c.Args {
		if a.Keyword == name && a.Literal {
			return a.Value
		}
	}
	return ""
}

func hasKw(c pysource.Call, name string) bool {
	for _, a := range c.Args {
		if a.Keyword == name {
			return true
		}
	}
	return false
}
