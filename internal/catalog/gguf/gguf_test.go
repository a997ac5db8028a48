package gguf

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chainvet/chainvet/internal/catalog/archives"
	"github.com/chainvet/chainvet/internal/catalog/manifest"
	"github.com/chainvet/chainvet/internal/catalog/models"
	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/modelfile/archive"
	"github.com/chainvet/chainvet/internal/modelfile/gguf"
	"github.com/chainvet/chainvet/internal/modelfile/pickle"
	"github.com/google/go-cmp/cmp"
)

const fixtures = "../../../testdata/gguf"

func scan(t testing.TB, targets ...string) *inventory.Report {
	t.Helper()
	r, err := inventory.Scan(context.Background(), targets, inventory.Options{
		Catalogers: []inventory.Cataloger{
			archives.Archives{Limits: archive.DefaultLimits},
			models.Pickle{Limits: pickle.DefaultLimits},
			GGUF{Limits: gguf.DefaultLimits},
		},
		MaxDepth: 4,
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func dump(r *inventory.Report) string {
	var b strings.Builder
	for _, f := range r.Findings {
		b.WriteString("  " + f.Severity.String() + " " + f.Rule + " " + f.Path + ": " + f.Evidence + "\n")
	}
	return b.String()
}

// TestManifest scans every fixture and checks its findings against what the
// generator says it is.
func TestManifest(t *testing.T) {
	rows, err := manifest.Read(filepath.Join(fixtures, "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 30 {
		t.Fatalf("only %d rows", len(rows))
	}
	for _, rw := range rows {
		t.Run(strings.ReplaceAll(rw.Path, "/", "_"), func(t *testing.T) {
			p := filepath.Join(fixtures, rw.Path)
			r := scan(t, p)
			for _, problem := range rw.Check(r) {
				t.Errorf("%s: %s\n%s", rw.Description, problem, manifest.Dump(r))
			}
			c := r.Component(inventory.FileComponentID(inventory.KindModel, p))
			if c == nil || c.Kind != inventory.KindModel {
				t.Fatalf("no model component: %+v", r.Components)
			}
			for _, f := range r.Findings {
				if strings.HasPrefix(f.Rule, "gguf/") && (f.Component != c.ID || f.Path != p) {
					t.Errorf("finding on %q at %q, want %q at %q", f.Component, f.Path, c.ID, p)
				}
			}
		})
	}
}

// TestIdentity checks the properties of the benign fixtures.
func TestIdentity(t *testing.T) {
	llama := map[string]string{
		"format": "gguf", "framework": "ggml", "architecture": "llama", "model-name": "chainvet tiny llama",
		"license": "apache-2.0", "quantization": "Q8_0", "context-length": "2048",
		"base-model": "chainvet-fixtures/tiny-base",
		"datasets":   "chainvet-fixtures/tiny-corpus,chainvet-fixtures/tiny-chat",
		"tensors":    "4", "parameters": "1152", "dtype": "F16,F32,Q8_0",
	}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range llama {
			m[a] = b
		}
		m[k] = v
		return m
	}
	tests := []struct {
		file string
		want map[string]string
	}{
		{"llama_v3.gguf", llama},
		{"llama_v2.gguf", llama},
		{"llama_v1.gguf", llama},
		{"llama_v3_big_endian.gguf", llama},
		{"aligned_64.gguf", with("quantization", "F16")},
		{"vocab_only.gguf", map[string]string{
			"format": "gguf", "framework": "ggml", "architecture": "llama", "model-name": "chainvet tiny llama",
			"license": "apache-2.0", "quantization": "Q8_0", "context-length": "2048",
			"base-model": "chainvet-fixtures/tiny-base",
			"datasets":   "chainvet-fixtures/tiny-corpus,chainvet-fixtures/tiny-chat",
			"tensors":    "0", "parameters": "0",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			p := filepath.Join(fixtures, "benign", tc.file)
			r := scan(t, p)
			if len(r.Findings) != 0 {
				t.Errorf("findings on a benign file:\n%s", dump(r))
			}
			c := r.Component(inventory.FileComponentID(inventory.KindModel, p))
			if c == nil {
				t.Fatal("no component")
			}
			if d := cmp.Diff(tc.want, c.Properties); d != "" {
				t.Errorf("properties (-want +got):\n%s", d)
			}
		})
	}
}

// TestTemplateFindings checks that template problems are reported on the
// GGUF component, name their key, and point into the template's bytes.
func TestTemplateFindings(t *testing.T) {
	tests := []struct {
		file, key string
	}{
		{"template_dunder.gguf", "tokenizer.chat_template"},
		{"template_cycler.gguf", "tokenizer.chat_template"},
		{"template_joiner_import.gguf", "tokenizer.chat_template"},
		{"template_attr_concat.gguf", "tokenizer.chat_template"},
		{"template_attr_dynamic.gguf", "tokenizer.chat_template"},
		{"template_named_key.gguf", "tokenizer.chat_template.tool_use"},
		{"template_other_key.gguf", "custom.prompt_template"},
		{"duplicate_template_key.gguf", "tokenizer.chat_template"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			p := filepath.Join(fixtures, "malicious", tc.file)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			file, err := gguf.Read(context.Background(), bytes.NewReader(b), int64(len(b)), gguf.Limits{}, IsTemplate)
			if err != nil {
				t.Fatal(err)
			}
			r := scan(t, p)
			n := 0
			for _, f := range r.Findings {
				if !strings.HasPrefix(f.Rule, "template/") {
					continue
				}
				n++
				if f.Severity < inventory.High || f.Component != inventory.FileComponentID(inventory.KindModel, p) {
					t.Errorf("finding %+v", f)
				}
				if !strings.HasPrefix(f.Evidence, tc.key+": ") {
					t.Errorf("evidence %q does not name %s", f.Evidence, tc.key)
				}
				if !inTemplate(file, tc.key, *f.Offset) {
					t.Errorf("offset %d is not inside %s", *f.Offset, tc.key)
				}
			}
			if n == 0 {
				t.Errorf("no template findings:\n%s", dump(r))
			}
		})
	}
}

func inTemplate(file *gguf.File, key string, off int64) bool {
	for _, kv := range file.KVs {
		if kv.Key == key && off >= kv.Value.Offset && off < kv.Value.Offset+int64(len(kv.Value.Str)) {
			return true
		}
	}
	return false
}

// TestTemplateTooLong checks that a template longer than the string limit
// is a scan/limit finding, never a pass.
func TestTemplateTooLong(t *testing.T) {
	p := filepath.Join(fixtures, "benign", "chatml_v3.gguf")
	r, err := inventory.Scan(context.Background(), []string{p}, inventory.Options{
		Catalogers: []inventory.Cataloger{GGUF{Limits: gguf.Limits{String: 64}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range r.Findings {
		found = found || f.Rule == inventory.RuleScanLimit && strings.HasPrefix(f.Evidence, "tokenizer.chat_template: ")
	}
	if !found {
		t.Errorf("no scan/limit finding for the template:\n%s", dump(r))
	}
}

func TestWants(t *testing.T) {
	file := func(name string, head []byte) *inventory.File {
		return &inventory.File{Name: name, Path: name, Size: int64(len(head)), Head: head}
	}
	tests := []struct {
		name string
		f    *inventory.File
		want bool
	}{
		{"by_content", file("model.bin", []byte("GGUF\x03\x00\x00\x00")), true},
		{"by_name", file("model.gguf", []byte("garbage header")), true},
		{"pickle_by_name", file("model.gguf", []byte("\x80\x02cos\nsystem\nq\x00.")), false},
		{"safetensors_by_name", file("model.gguf", append(binary.LittleEndian.AppendUint64(nil, 2), "{}"...)), false},
		{"text", file("notes.txt", []byte("hello world")), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := (GGUF{}).Wants(tc.f); got != tc.want {
				t.Errorf("Wants = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRepo(t *testing.T) {
	tests := map[string]string{
		"https://huggingface.co/meta-llama/Llama-3.1-8B":           "meta-llama/Llama-3.1-8B",
		"https://huggingface.co/meta-llama/Llama-3.1-8B/tree/main": "meta-llama/Llama-3.1-8B",
		"https://huggingface.co/datasets/org/corpus":               "org/corpus",
		"https://github.com/org/model":                             "https://github.com/org/model",
		"":                                                         "",
	}
	for in, want := range tests {
		if got := repo(in); got != want {
			t.Errorf("repo(%q) = %q, want %q", in, got, want)
		}
	}
}
