package render

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/chainvet/chainvet/internal/catalog"
	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/ownership"
)

// TestExampleAppBOM builds the BOM of examples/app, the bundled AI
// application, checks it component by component, and validates its
// CycloneDX rendering against the official schema.
func TestExampleAppBOM(t *testing.T) {
	app := filepath.Join("..", "..", "examples", "app")
	cfg := catalog.DefaultConfig()
	r, err := inventory.Scan(context.Background(), []string{app}, inventory.Options{
		Catalogers: catalog.Catalogers(cfg), Analyzers: catalog.Analyzers(cfg), MaxDepth: 8,
	})
	if err != nil {
		t.Fatal(err)
	}
	catalog.Link(r)
	own, err := ownership.Find(app)
	if err != nil || own == nil {
		t.Fatalf("examples/app/.chainvet.yaml: %v", err)
	}
	own.Apply(r)
	rel := func(p string) string { return filepath.Join(app, p) }
	want := []struct {
		id    string
		kind  inventory.Kind
		props map[string]string
	}{
		// The service's models, dataset and AI APIs.
		{"pkg:huggingface/distilbert/distilbert-base-uncased-finetuned-sst-2-english@714eb0fa89d2f80546fda750413ed43d93601a13", inventory.KindModel,
			map[string]string{"loader": "from_pretrained", "pinned": "true"}},
		{"dataset:huggingface/acme/support-faq", inventory.KindDataset, nil},
		{"service:openai", inventory.KindService, map[string]string{"credential-env": "OPENAI_API_KEY", "authenticated": "true"}},
		{"service:anthropic", inventory.KindService, map[string]string{"credential-env": "ANTHROPIC_API_KEY"}},
		// Python packages from requirements.txt, pyproject.toml and poetry.lock.
		{"pkg:pypi/torch@2.5.1", inventory.KindPackage, map[string]string{"markers": `platform_system == "Linux"`, "owner": "team-platform"}},
		{"pkg:pypi/sentence-transformers", inventory.KindPackage, map[string]string{"version-range": ">=3.0", "pinned": "false"}},
		{"pkg:pypi/openai@1.51.0", inventory.KindPackage, map[string]string{"hashes": "true"}},
		{"pkg:pypi/httpx@0.27.2", inventory.KindPackage, nil},
		// The notebook's model and install.
		{"pkg:huggingface/cardiffnlp/twitter-roberta-base-sentiment-latest", inventory.KindModel, map[string]string{"pinned": "false"}},
		{"pkg:pypi/pandas@2.2.3", inventory.KindPackage, map[string]string{"source": "notebook-install"}},
		// The npm front end, from its lockfile.
		{"pkg:npm/react@18.3.1", inventory.KindPackage, nil},
		{"pkg:npm/loose-envify@1.4.0", inventory.KindPackage, nil},
		// CI, agent plugins, container.
		{"workflow:" + rel(".github/workflows/ci.yml"), inventory.KindWorkflow, nil},
		{"pkg:github/actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683", inventory.KindPackage, map[string]string{"pinned": "true"}},
		{"pkg:github/actions/setup-python@v5", inventory.KindPackage, map[string]string{"pinned": "false"}},
		{"plugin:" + rel(".mcp.json") + "#docs", inventory.KindPlugin, map[string]string{"transport": "stdio"}},
		{"pkg:npm/%40modelcontextprotocol/server-filesystem@2025.1.14", inventory.KindPackage, nil},
		{"pkg:pypi/mcp-server-fetch@2025.4.7", inventory.KindPackage, nil},
		{"pkg:docker/python@sha256:2b0079146a74e23bf4ae8f6a28e1b484c6292f6fb904cbb51825b4a19812fcd8", inventory.KindContainer, map[string]string{"pinned": "true"}},
		{"pkg:pypi/gunicorn@23.0.0", inventory.KindPackage, map[string]string{"source": "dockerfile"}},
		// The model in hub-cache layout, owned through .chainvet.yaml, and its data.
		{"model:" + rel("models/models--acme--tiny-llm/snapshots/c47c36c3a11cd047b349c6bb36ce56d9d3b6846f"), inventory.KindModel,
			map[string]string{"format": "hf-repo", "owner": "team-ml", "criticality": "tier1"}},
		{"dataset:" + rel("data/faq.parquet"), inventory.KindDataset, map[string]string{"format": "parquet"}},
	}
	for _, w := range want {
		c := r.Component(w.id)
		if c == nil {
			t.Errorf("no component %s", w.id)
			continue
		}
		if c.Kind != w.kind {
			t.Errorf("%s: kind %s, want %s", w.id, c.Kind, w.kind)
		}
		for k, v := range w.props {
			if c.Properties[k] != v {
				t.Errorf("%s: property %s = %q, want %q", w.id, k, c.Properties[k], v)
			}
		}
	}
	if o := r.Component("pkg:pypi/openai@1.51.0"); o == nil || !slices.Contains(o.DependsOn, "pkg:pypi/httpx@0.27.2") {
		t.Errorf("openai does not depend on httpx from the lockfile: %+v", o)
	}
	hub := r.Component("model:" + rel("models/models--acme--tiny-llm/snapshots/c47c36c3a11cd047b349c6bb36ce56d9d3b6846f"))
	if hub != nil && hub.PURL != "pkg:huggingface/acme/tiny-llm@c47c36c3a11cd047b349c6bb36ce56d9d3b6846f" {
		t.Errorf("hub model purl %q", hub.PURL)
	}
	// The example keeps a few references unpinned on purpose, to show them
	// in the BOM; nothing else above low may appear.
	var above []string
	for _, f := range r.Findings {
		if f.Severity > inventory.Low {
			above = append(above, f.Rule+" "+strings.TrimPrefix(f.Path, app+string(filepath.Separator)))
		}
	}
	slices.Sort(above)
	wantAbove := []string{
		"code/hub-unpinned notebooks/explore.ipynb",
		"code/hub-unpinned service.py",
		"workflow/unpinned-action .github/workflows/ci.yml",
	}
	if diff := cmp.Diff(wantAbove, above); diff != "" {
		t.Errorf("findings above low (-want +got):\n%s", diff)
	}

	rd, err := New("cyclonedx-json", Options{Version: "0.0.0-test"})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := rd.Render(&buf, r); err != nil {
		t.Fatal(err)
	}
	validateCycloneDX(t, buf.Bytes())
	var doc struct {
		Components []struct {
			Type      string `json:"type"`
			ModelCard *struct {
				ModelParameters *struct {
					Datasets []json.RawMessage `json:"datasets"`
				} `json:"modelParameters"`
			} `json:"modelCard"`
		} `json:"components"`
		Services []struct {
			Name string `json:"name"`
		} `json:"services"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	types := map[string]int{}
	withDatasets := 0
	for _, c := range doc.Components {
		types[c.Type]++
		if c.ModelCard != nil && c.ModelCard.ModelParameters != nil && len(c.ModelCard.ModelParameters.Datasets) > 0 {
			withDatasets++
		}
	}
	for _, ty := range []string{"library", "machine-learning-model", "data", "application", "container"} {
		if types[ty] == 0 {
			t.Errorf("CycloneDX has no %s component: %v", ty, types)
		}
	}
	if withDatasets == 0 {
		t.Error("no model card references its datasets")
	}
	if len(doc.Services) != 2 {
		t.Errorf("CycloneDX services = %+v, want openai and anthropic", doc.Services)
	}
}
