package repo

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/modelfile/jinja"
)

// torchDtypes maps config.json's torch_dtype names to the dtype names model
// components use (safetensors' spelling).
var torchDtypes = map[string]string{
	"float16": "F16", "half": "F16", "bfloat16": "BF16", "float32": "F32", "float": "F32",
	"float64": "F64", "double": "F64", "int8": "I8", "uint8": "U8", "float8_e4m3fn": "F8_E4M3",
	"float8_e5m2": "F8_E5M2",
}

// contextKeys are the config keys that give a model's context length, in
// order of preference.
var contextKeys = []string{"max_position_embeddings", "n_positions", "max_sequence_length", "seq_length", "n_ctx", "max_seq_len"}

// config reads one of the JSON configs a loader reads.
func (x *cat) config() error {
	var cfg map[string]any
	if ok, err := x.decodeJSON(&cfg, x.f.Name); !ok || err != nil {
		return err
	}
	name := strings.ToLower(x.f.Name)
	if name == "config.json" && x.repo != nil {
		x.s.Component(inventory.Component{ID: x.repo.id, Properties: modelProperties(cfg)})
	}
	x.remoteCode(cfg)
	if name == "model_index.json" {
		x.customComponents(cfg)
	}
	if t, ok := cfg["chat_template"]; ok {
		x.chatTemplates(t)
	}
	return nil
}

// modelProperties are what config.json says of the model; multimodal
// configs keep the language model's figures in text_config.
func modelProperties(cfg map[string]any) map[string]string {
	p := map[string]string{}
	text, _ := cfg["text_config"].(map[string]any)
	get := func(k string) any {
		if v, ok := cfg[k]; ok && v != nil {
			return v
		}
		if text != nil {
			return text[k]
		}
		return nil
	}
	if a, ok := cfg["architectures"].([]any); ok && len(a) > 0 {
		if s, ok := a[0].(string); ok {
			p[PropArchitecture] = s
		}
	}
	if s, ok := cfg["model_type"].(string); ok {
		p["model-type"] = s
		if p[PropArchitecture] == "" {
			p[PropArchitecture] = s
		}
	}
	if s, ok := cfg["_class_name"].(string); ok && p[PropArchitecture] == "" {
		p[PropArchitecture] = s // diffusers
	}
	for _, k := range []string{"torch_dtype", "dtype"} {
		if s, ok := get(k).(string); ok {
			if d, ok := torchDtypes[strings.TrimPrefix(s, "torch.")]; ok {
				p[PropDtype] = d
				break
			}
		}
	}
	for _, k := range contextKeys {
		if n, ok := get(k).(float64); ok && n > 0 && n == float64(int64(n)) {
			p[PropContext] = strconv.FormatInt(int64(n), 10)
			break
		}
	}
	if n, ok := get("vocab_size").(float64); ok && n > 0 && n == float64(int64(n)) {
		p["vocab-size"] = strconv.FormatInt(int64(n), 10)
	}
	if _, ok := cfg["transformers_version"]; ok {
		p[PropFramework] = "transformers"
	}
	if _, ok := cfg["_diffusers_version"]; ok {
		p[PropFramework] = "diffusers"
	}
	return p
}

// remoteCode reports auto_map and custom_pipelines: classes transformers
// imports from the repository's own Python files, which it runs when the
// user passes trust_remote_code=True.
func (x *cat) remoteCode(cfg map[string]any) {
	var entries, modules []string
	addRef := func(key, ref string) {
		if ref == "" {
			return
		}
		entries = append(entries, key+"="+ref)
		mod := ref
		if i := strings.LastIndexByte(ref, '.'); i > 0 {
			mod = ref[:i]
		}
		if repo, m, ok := strings.Cut(mod, "--"); ok {
			modules = append(modules, m+".py from the repository "+repo)
			return
		}
		file := strings.ReplaceAll(mod, ".", "/") + ".py"
		if x.f.Depth == 0 {
			if _, err := os.Stat(filepath.Join(filepath.Dir(x.f.Path), filepath.FromSlash(file))); err != nil {
				file += " (not in the folder: fetched from the hub at load)"
			}
		}
		modules = append(modules, file)
	}
	if am, ok := cfg["auto_map"].(map[string]any); ok {
		for _, k := range sortedKeys(am) {
			switch v := am[k].(type) {
			case string:
				addRef(k, v)
			case []any: // AutoTokenizer: [slow, fast]
				for _, e := range v {
					if s, ok := e.(string); ok {
						addRef(k, s)
					}
				}
			}
		}
	}
	if cp, ok := cfg["custom_pipelines"].(map[string]any); ok {
		for _, task := range sortedKeys(cp) {
			if m, ok := cp[task].(map[string]any); ok {
				for _, k := range []string{"impl", "pt", "tf"} {
					switch v := m[k].(type) {
					case string:
						addRef("custom_pipelines."+task+"."+k, v)
					case []any:
						for _, e := range v {
							if s, ok := e.(string); ok {
								addRef("custom_pipelines."+task+"."+k, s)
							}
						}
					}
				}
			}
		}
	}
	if len(entries) == 0 {
		return
	}
	slices.Sort(modules)
	modules = slices.Compact(modules)
	fd := x.finding("repo/remote-code", inventory.High,
		fmt.Sprintf("auto_map %s; code: %s", strings.Join(entries, ", "), strings.Join(modules, ", ")),
		"loading this model needs trust_remote_code=True, which imports and runs the repository's own Python code",
		"review the named Python files (their findings are reported with them), pin the revision, or use a model whose architecture your library implements natively")
	fd.Line = x.lineOf(`"auto_map"`)
	if fd.Line == 0 {
		fd.Line = x.lineOf(`"custom_pipelines"`)
	}
	x.s.Finding(fd)
}

// builtinLibraries are the libraries a diffusers model_index.json may name
// for its components without custom code.
var builtinLibraries = map[string]bool{"diffusers": true, "transformers": true, "": true, "null": true}

// customComponents reports model_index.json components whose library is a
// module of the repository: diffusers imports it to build the pipeline.
func (x *cat) customComponents(cfg map[string]any) {
	var custom []string
	for _, k := range sortedKeys(cfg) {
		pair, ok := cfg[k].([]any)
		if strings.HasPrefix(k, "_") || !ok || len(pair) != 2 {
			continue
		}
		lib, _ := pair[0].(string)
		cls, _ := pair[1].(string)
		if pair[0] == nil || builtinLibraries[lib] {
			continue
		}
		custom = append(custom, fmt.Sprintf("%s=%s.%s", k, lib, cls))
	}
	if cls, ok := cfg["_class_name"].([]any); ok && len(cls) == 2 {
		if lib, _ := cls[0].(string); !builtinLibraries[lib] {
			custom = append(custom, fmt.Sprintf("_class_name=%s", lib))
		}
	}
	if len(custom) == 0 {
		return
	}
	x.s.Finding(x.finding("repo/remote-code", inventory.High,
		"model_index.json components from the repository's code: "+strings.Join(custom, ", "),
		"loading this pipeline imports and runs Python modules the repository ships (trust_remote_code)",
		"review those modules, or use a pipeline built only from diffusers and transformers classes"))
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// chatTemplates checks a chat_template value: one template, or a list of
// {name, template}.
func (x *cat) chatTemplates(v any) {
	switch t := v.(type) {
	case string:
		x.template("chat_template", t, false)
	case []any:
		for i, e := range t {
			m, _ := e.(map[string]any)
			src, _ := m["template"].(string)
			name, _ := m["name"].(string)
			x.template(fmt.Sprintf("chat_template[%d] %q", i, name), src, false)
		}
	}
}

// template reports the problems jinja.Check finds in one template. In a
// JSON file offsets and lines are the template's own, so they go in the
// evidence; in a template file they are the file's.
func (x *cat) template(what, src string, own bool) {
	for _, p := range jinja.Check(src, x.lim.Template) {
		fd := x.finding(p.Rule, inventory.Severity(p.Severity), p.Evidence, p.Message, p.Remediation)
		if fd.Remediation == "" {
			fd.Remediation = "do not render this template; use the template of the model's original publisher"
		}
		if own {
			fd.Offset, fd.Line = inventory.At(int64(p.Offset)), p.Line
		} else {
			fd.Message = fmt.Sprintf("%s (%s, line %d)", p.Message, what, p.Line)
		}
		x.s.Finding(fd)
	}
}
