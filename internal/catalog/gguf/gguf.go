// Package gguf catalogs GGUF model files: one model component per file,
// identified from its metadata (architecture, quantisation, parameters,
// context length, licence, base model, datasets), a finding for each way
// the header disagrees with the file, and the findings of a static check
// of every template in the metadata, which loaders render as Jinja.
//
// Templates are parsed by package jinja, never rendered. Tensor data is
// never read.
package gguf

import (
	"cmp"
	"context"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	stcat "github.com/chainvet/chainvet/internal/catalog/safetensors"
	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/modelfile/gguf"
	"github.com/chainvet/chainvet/internal/modelfile/jinja"
)

// GGUF catalogs GGUF files.
type GGUF struct {
	Limits gguf.Limits
	// Template bounds the parse of each template; zero fields take
	// jinja.DefaultLimits.
	Template jinja.Limits
}

// Name implements inventory.Cataloger.
func (GGUF) Name() string { return "models/gguf" }

// Wants implements inventory.Cataloger: files that start with GGUF's magic,
// and files named .gguf that no other format claims, so that a damaged
// header is reported rather than passed over.
func (GGUF) Wants(f *inventory.File) bool {
	if gguf.Is(f.Head) {
		return true
	}
	return strings.EqualFold(path.Ext(f.Name), ".gguf") && !stcat.Claimed(f)
}

// IsTemplate reports whether a metadata key holds a template a loader may
// render: tokenizer.chat_template, its named variants
// (tokenizer.chat_template.tool_use, …), and any key that says template.
func IsTemplate(key string) bool {
	return strings.Contains(strings.ToLower(key), "template")
}

// Catalog implements inventory.Cataloger.
func (c GGUF) Catalog(ctx context.Context, f *inventory.File, s inventory.Sink) error {
	file, err := gguf.Read(ctx, f, f.Size, c.Limits, IsTemplate)
	if err != nil {
		return fmt.Errorf("%s: %w", f.Path, err)
	}
	id := stcat.Component(s, f, properties(file))
	for _, p := range file.Problems {
		s.Finding(inventory.Finding{
			Rule: p.Rule, Severity: p.Severity, Component: id, Path: f.Path, Offset: inventory.At(p.Offset),
			Evidence: p.Evidence, Message: p.Message, Remediation: remediation[p.Rule],
		})
	}
	for _, kv := range file.KVs {
		if !IsTemplate(kv.Key) {
			continue
		}
		if kv.Value.Type == gguf.TypeString {
			c.template(s, f, id, kv.Key, kv.Value)
			continue
		}
		for i, it := range kv.Value.Items {
			if it.Type == gguf.TypeString {
				c.template(s, f, id, fmt.Sprintf("%s[%d]", kv.Key, i), it)
			}
		}
	}
	return nil
}

// template checks one template and reports what it finds, at its place in
// the file.
func (c GGUF) template(s inventory.Sink, f *inventory.File, id, key string, v gguf.Value) {
	if v.Cut {
		s.Finding(inventory.Finding{
			Rule: inventory.RuleScanLimit, Severity: inventory.High, Component: id, Path: f.Path, Offset: inventory.At(v.Offset),
			Evidence:    fmt.Sprintf("%s: template longer than the %d bytes kept", key, len(v.Str)),
			Message:     "the template is longer than the string limit and was not checked: it is not known to be safe",
			Remediation: "review the template by hand, or raise the limit if it is legitimate",
		})
		return
	}
	for _, p := range jinja.Check(v.Str, c.Template) {
		s.Finding(inventory.Finding{
			Rule: p.Rule, Severity: inventory.Severity(p.Severity), Component: id, Path: f.Path,
			Offset: inventory.At(v.Offset + int64(p.Offset)), Line: p.Line,
			Evidence: key + ": " + p.Evidence, Message: p.Message,
			Remediation: cmp.Or(p.Remediation, "do not load this model in a program that renders its chat template; "+
				"replace the template with the one its original publisher ships"),
		})
	}
}

var remediation = map[string]string{
	gguf.RuleMalformed:      "re-create the file with llama.cpp's tools from weights you trust, or reject it",
	gguf.RuleDuplicate:      "reject the file: llama.cpp refuses it, and other readers pick different values",
	gguf.RuleOutOfRange:     "do not load the file; fetch it again from a source you trust and compare digests",
	gguf.RuleMisaligned:     "re-create the file with llama.cpp's tools from weights you trust, or reject it",
	gguf.RuleOverlap:        "do not load the file; re-create it with llama.cpp's tools from weights you trust",
	gguf.RuleHiddenData:     "do not use the file: inspect the unclaimed bytes at the offset shown, and obtain the model from a source you trust",
	inventory.RuleScanLimit: "raise the limit if the file is legitimate, or reject it",
}

// maxListed bounds the base models and datasets listed in a property.
const maxListed = 16

// properties gives a GGUF file's identity as component properties.
func properties(file *gguf.File) map[string]string {
	props := map[string]string{"format": "gguf", "framework": "ggml"}
	set := func(k, v string) {
		if v != "" {
			props[k] = stcat.Clean(v)
		}
	}
	str := func(key string) string {
		v, ok := file.Get(key)
		if !ok || v.Type != gguf.TypeString {
			return ""
		}
		return v.Str
	}
	arch := str("general.architecture")
	set("architecture", arch)
	set("model-name", str("general.name"))
	set("license", cmp.Or(str("general.license"), str("general.license.name")))
	if v, ok := file.Get("general.file_type"); ok {
		if n, ok := v.Unsigned(); ok {
			set("quantization", cmp.Or(gguf.FileTypeName(n), "file_type "+strconv.FormatUint(n, 10)))
		}
	}
	if arch != "" {
		if v, ok := file.Get(arch + ".context_length"); ok {
			if n, ok := v.Unsigned(); ok {
				set("context-length", strconv.FormatUint(n, 10))
			}
		}
	}
	set("base-model", strings.Join(parents(file, "general.base_model", str), ","))
	datasets := []string{}
	if v, ok := file.Get("general.datasets"); ok {
		datasets = v.Strings()
	}
	datasets = append(datasets, parents(file, "general.dataset", str)...)
	set("datasets", strings.Join(compact(datasets), ","))
	set("repository", cmp.Or(str("general.source.huggingface.repository"),
		repo(str("general.repo_url")), repo(str("general.source.repo_url"))))
	if file.Complete {
		set("tensors", strconv.Itoa(len(file.Tensors)))
		set("parameters", strconv.FormatUint(file.Parameters, 10))
		set("dtype", strings.Join(file.TensorTypes(), ","))
	}
	return props
}

// parents lists the models or datasets recorded under prefix.count and
// prefix.N.repo_url / .organization / .name, as "org/name" where the URL
// says so.
func parents(file *gguf.File, prefix string, str func(string) string) []string {
	v, ok := file.Get(prefix + ".count")
	if !ok {
		return nil
	}
	n, _ := v.Unsigned()
	var out []string
	for i := range min(n, maxListed) {
		p := prefix + "." + strconv.FormatUint(i, 10)
		name := cmp.Or(repo(str(p+".repo_url")), str(p+".name"))
		if org := str(p + ".organization"); name != "" && !strings.Contains(name, "/") && org != "" {
			name = org + "/" + name
		}
		if name != "" {
			out = append(out, name)
		}
	}
	return out
}

// repo turns a Hugging Face URL into "org/name"; other URLs stay whole.
func repo(url string) string {
	for _, host := range []string{"https://huggingface.co/", "http://huggingface.co/", "https://hf.co/"} {
		if rest, ok := strings.CutPrefix(url, host); ok {
			if parts := strings.Split(strings.Trim(rest, "/"), "/"); len(parts) >= 2 && parts[0] != "datasets" {
				return parts[0] + "/" + parts[1]
			} else if len(parts) >= 3 {
				return parts[1] + "/" + parts[2]
			}
		}
	}
	return url
}

func compact(xs []string) []string {
	var out []string
	for _, x := range xs {
		if x != "" && !slices.Contains(out, x) && len(out) < maxListed {
			out = append(out, x)
		}
	}
	return out
}
