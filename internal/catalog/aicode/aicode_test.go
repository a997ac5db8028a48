package aicode

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chainvet/chainvet/internal/catalog/manifest"
	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

const (
	fixtures     = "../../../testdata/bom/aicode"
	codeFixtures = "../../../testdata/code"
)

func scanDir(t testing.TB, dir string) *inventory.Report {
	t.Helper()
	r, err := inventory.Scan(context.Background(), []string{dir}, inventory.Options{Catalogers: []inventory.Cataloger{References{}}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// relative rewrites the fixture prefix out of every path and ID so that
// golden files do not depend on where the tests run.
func relative(b []byte, prefix string) []byte {
	return []byte(strings.ReplaceAll(string(b), prefix+"/", ""))
}

func TestGolden(t *testing.T) {
	r := scanDir(t, fixtures)
	out := struct {
		Components []inventory.Component `json:"components"`
		Findings   []inventory.Finding   `json:"findings"`
	}{r.Components, r.Findings}
	got, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(relative(got, filepath.ToSlash(fixtures)), '\n')
	golden := filepath.Join("testdata", "aicode.golden.json")
	manifest.Golden(t, golden, got, *update)
}

// TestApp checks the facts the BOM relies on, one component at a time,
// so that a golden rewritten by mistake still fails here.
func TestApp(t *testing.T) {
	r := scanDir(t, fixtures)
	tests := []struct {
		id    string
		kind  inventory.Kind
		props map[string]string // wanted subset
		loc   string            // one wanted location, path suffix:line
	}{
		{"pkg:huggingface/distilbert/distilbert-base-uncased-finetuned-sst-2-english@714eb0fa89d2f80546fda750413ed43d93601a13", inventory.KindModel,
			map[string]string{"loader": "from_pretrained", "pinned": "true", "hub": "huggingface"}, "app/service.py:18"},
		{"pkg:huggingface/sentence-transformers/all-MiniLM-L6-v2", inventory.KindModel,
			map[string]string{"loader": "SentenceTransformer", "pinned": "false"}, "app/service.py:17"},
		{"pkg:huggingface/dslim/bert-base-NER@main", inventory.KindModel,
			map[string]string{"loader": "pipeline", "pinned": "false", "revision": "main"}, "app/service.py:24"},
		{"pkg:huggingface/google-bert/bert-base-uncased", inventory.KindModel,
			map[string]string{"loader": "hf_hub_download"}, "app/service.py:25"},
		{"dataset:huggingface/squad", inventory.KindDataset, map[string]string{"loader": "load_dataset"}, "app/service.py:26"},
		{"service:openai", inventory.KindService, map[string]string{
			"endpoints": "https://llm-gateway.internal.example/v1", "authenticated": "true",
			"credential-env": "OPENAI_API_KEY", "data-flow": "outbound", "sdk": "openai"}, "app/service.py:11"},
		{"service:anthropic", inventory.KindService, map[string]string{
			"endpoints": "https://api.anthropic.com", "credential-env": "ANTHROPIC_API_KEY"}, "app/service.py:15"},
		{"model:ollama/llama3.1:8b", inventory.KindModel, map[string]string{"hub": "ollama", "loader": "ollama"}, "app/Modelfile:2"},
		{"model:app/weights/tiny.gguf", inventory.KindModel, map[string]string{"loader": "ollama"}, "app/Modelfile.local:1"},
		{"pkg:huggingface/mistralai/Mistral-7B-Instruct-v0.3@e0bc86c23ce5aae1db576c8cca6f06f1f73af2db", inventory.KindModel,
			map[string]string{"loader": "vllm", "pinned": "true"}, "app/serve.sh:4"},
		{"pkg:huggingface/Qwen/Qwen2.5-0.5B-Instruct", inventory.KindModel, map[string]string{"loader": "tgi"}, "app/docker-compose.yml:4"},
		{"pkg:pypi/transformers@4.46.3", inventory.KindPackage, map[string]string{"source": "notebook-install", "pinned": "true", "ecosystem": "pypi"}, "app/eval.ipynb#cell-2:1"},
		{"pkg:pypi/datasets", inventory.KindPackage, map[string]string{"version-range": ">=2.19", "pinned": "false"}, "app/eval.ipynb#cell-2:1"},
		{"pkg:pypi/litellm", inventory.KindPackage, nil, "app/eval.ipynb#cell-2:2"},
		{"service:aws-bedrock", inventory.KindService, map[string]string{
			"endpoints": "https://bedrock-runtime.us-east-1.amazonaws.com", "sdk": "boto3"}, "app/eval.ipynb#cell-4:1"},
		{"service:groq", inventory.KindService, nil, "app/eval.ipynb#cell-4:4"},
		{"dataset:huggingface/stanfordnlp/imdb@e6281661ce1c48d982bc483cf8a173c1bbeb5d31", inventory.KindDataset,
			map[string]string{"pinned": "true"}, "app/eval.ipynb#cell-4:2"},
		{"pkg:github/pytorch/vision@v0.10.0", inventory.KindModel, map[string]string{"hub": "torch-hub", "entrypoint": "resnet18"}, "app/eval.ipynb#cell-4:3"},
		{"service:azure-openai", inventory.KindService, map[string]string{
			"endpoints": "https://contoso.openai.azure.com/", "credential-env": "AZURE_OPENAI_API_KEY"}, "cases/providers.py:16"},
		{"service:google", inventory.KindService, map[string]string{"credential-env": "GEMINI_API_KEY,GOOGLE_API_KEY"}, "cases/providers.py:17"},
		{"service:google-vertex-ai", inventory.KindService, nil, "cases/providers.py:4"},
		{"service:ollama", inventory.KindService, map[string]string{
			"endpoints": "http://localhost:11434,http://gpu-box:11434", "authenticated": "false"}, "cases/string_source.ipynb#cell-1:3"},
		{"model:ollama/qwen2.5:0.5b", inventory.KindModel, map[string]string{"loader": "ollama.pull"}, "cases/string_source.ipynb#cell-1:2"},
		{"service:huggingface-inference", inventory.KindService, map[string]string{"credential-env": "HF_TOKEN"}, "cases/providers.py:23"},
		{"pkg:huggingface/stabilityai/stable-diffusion-2-1", inventory.KindModel, nil, "cases/providers.py:24"},
		{"dataset:huggingface/HuggingFaceFW/fineweb-edu@v1.2.0", inventory.KindDataset, map[string]string{"loader": "snapshot_download"}, "cases/providers.py:25"},
		{"service:groq", inventory.KindService, nil, "cases/run_groq:3"},
		{"service:mistral", inventory.KindService, map[string]string{"credential-env": "MISTRAL_API_KEY"}, "cases/providers.py:22"},
		{"service:cohere", inventory.KindService, map[string]string{"credential-env": "CO_API_KEY"}, "cases/providers.py:21"},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			c := r.Component(tt.id)
			if c == nil { // a file's own ID holds the fixture prefix
				c = r.Component(strings.Replace(tt.id, "model:", "model:"+fixtures+"/", 1))
			}
			if c == nil {
				t.Fatalf("no component %s", tt.id)
			}
			if c.Kind != tt.kind {
				t.Errorf("kind = %s, want %s", c.Kind, tt.kind)
			}
			for k, v := range tt.props {
				if c.Properties[k] != v {
					t.Errorf("property %s = %q, want %q", k, c.Properties[k], v)
				}
			}
			var locs []string
			for _, l := range c.Locations {
				s := strings.TrimPrefix(filepath.ToSlash(l.Path), fixtures+"/") + ":" + itoa(l.Line)
				if s == tt.loc {
					return
				}
				locs = append(locs, s)
			}
			t.Errorf("locations = %q, want one at %s", locs, tt.loc)
		})
	}
	for _, c := range r.Components {
		for _, bad := range []string{"hunter2", "user:", "team=search", "./checkpoints", "MODEL_NAME"} {
			if strings.Contains(c.ID+c.Name+c.Properties["endpoints"]+c.Properties["credential-env"], bad) {
				t.Errorf("component %s leaks or invents %q", c.ID, bad)
			}
		}
	}
	for _, id := range []string{"dataset:huggingface/csv", "pkg:huggingface/checkpoints/tok", "service:huggingface-inference@"} {
		if r.Component(id) != nil {
			t.Errorf("unexpected component %s", id)
		}
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestMalformedNotebooks(t *testing.T) {
	r := scanDir(t, filepath.Join(fixtures, "cases"))
	var got []string
	for _, f := range r.Findings {
		if f.Rule == RuleMalformed {
			got = append(got, filepath.Base(f.Path)+" "+f.Rule+" "+f.Severity.String())
		}
	}
	want := []string{"broken.ipynb bom/malformed low", "truncated.ipynb bom/malformed low"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

func TestWants(t *testing.T) {
	tests := []struct {
		name, head string
		want       bool
	}{
		{"app.py", "import os\n", true},
		{"tool", "#!/usr/bin/env python3\nprint(1)\n", true},
		{"model.py", "\x80\x04\x95\x00", false}, // a pickle named .py is not Python text
		{"nb.ipynb", "\n{\"cells\": []}", true},
		{"nb.ipynb", "PK\x03\x04", false},
		{"Modelfile", "FROM llama3\n", true},
		{"serve.sh", "vllm serve x/y\n", true},
		{"Dockerfile", "FROM python:3.12\n", true},
		{"compose.yaml", "services: {}\n", true},
		{"notes.txt", "from_pretrained('a/b')\n", false},
	}
	for _, tt := range tests {
		f := &inventory.File{Path: tt.name, Name: tt.name, Head: []byte(tt.head), Size: int64(len(tt.head))}
		if got := (References{}).Wants(f); got != tt.want {
			t.Errorf("Wants(%s, %q) = %v, want %v", tt.name, tt.head, got, tt.want)
		}
	}
}

func TestLimit(t *testing.T) {
	dir := t.TempDir()
	big := "import openai\n" + strings.Repeat("# padding\n", maxText/10+1)
	if err := os.WriteFile(filepath.Join(dir, "serve.sh"), []byte("vllm serve a/b\n"+big), 0o644); err != nil {
		t.Fatal(err)
	}
	r := scanDir(t, dir)
	if len(r.Findings) != 1 || r.Findings[0].Rule != inventory.RuleScanLimit || r.Findings[0].Severity != inventory.High {
		t.Errorf("findings = %+v, want one high scan/limit", r.Findings)
	}
	if len(r.Components) != 0 {
		t.Errorf("components = %+v, want none from a file not read", r.Components)
	}
}

// TestManifest checks every row of the fixtures' MANIFEST.tsv, and of
// the code rules' testdata/code/MANIFEST.tsv, against a scan of that file
// alone.
func TestManifest(t *testing.T) {
	for _, dir := range []string{fixtures, codeFixtures} {
		rows, err := manifest.Read(filepath.Join(dir, "MANIFEST.tsv"))
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, row := range rows {
			seen[row.Path] = true
			t.Run(strings.ReplaceAll(row.Path, "/", "_"), func(t *testing.T) {
				r := scanDir(t, filepath.Join(dir, row.Path))
				for _, p := range row.Check(r) {
					t.Errorf("%s (%s): %s\n%s", row.Path, row.Description, p, manifest.Dump(r))
				}
			})
		}
		if len(seen) < 10 {
			t.Errorf("%s: only %d rows", dir, len(seen))
		}
	}
}
