package repo

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/chainvet/chainvet/internal/catalog/archives"
	fixture "github.com/chainvet/chainvet/internal/catalog/manifest"
	"github.com/chainvet/chainvet/internal/catalog/models"
	"github.com/chainvet/chainvet/internal/inventory"
	rulemodels "github.com/chainvet/chainvet/internal/rules/models"
)

const fixtures = "../../../testdata/repo"

// catalogers is the pipeline of the scan command, as far as this package's
// files need it: the archive layer and the pickle catalogers, so that
// members of .mar archives and blobs of OCI layouts are judged by content.
func catalogers() []inventory.Cataloger {
	return []inventory.Cataloger{archives.Archives{}, models.Pickle{}, models.Numpy{}, Repo{}, Mar{}, OCI{}}
}

func scan(t testing.TB, targets ...string) *inventory.Report {
	t.Helper()
	r, err := inventory.Scan(context.Background(), targets, inventory.Options{
		Catalogers: catalogers(),
		Analyzers:  []inventory.Analyzer{rulemodels.Format{}},
		MaxDepth:   8,
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// knownRulePrefixes are the areas whose rules the scan of these fixtures
// may report.
var knownRulePrefixes = []string{"repo/", "oci/", "model/", "pickle/", "template/", "archive/", "scan/"}

// TestManifest scans every fixture as the generator describes it: benign
// ones stay at or below low; the others reach their severity with the
// rules and evidence named.
func TestManifest(t *testing.T) {
	rows, err := fixture.Read(filepath.Join(fixtures, "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 15 {
		t.Fatalf("only %d rows", len(rows))
	}
	for _, row := range rows {
		t.Run(strings.ReplaceAll(row.Path, "/", "_"), func(t *testing.T) {
			r := scan(t, filepath.Join(fixtures, row.Path))
			for _, p := range row.Check(r) {
				t.Errorf("%s (%s)\n%s", p, row.Description, fixture.Dump(r))
			}
			for _, f := range r.Findings {
				if !knownPrefix(f.Rule) || f.Path == "" || f.Message == "" {
					t.Errorf("finding %+v: unknown rule area, or no path or message", f)
				}
			}
		})
	}
}

func knownPrefix(rule string) bool {
	for _, p := range knownRulePrefixes {
		if strings.HasPrefix(rule, p) {
			return true
		}
	}
	return false
}

func hasRule(r *inventory.Report, id string) bool {
	for _, f := range r.Findings {
		if f.Rule == id {
			return true
		}
	}
	return false
}

func dump(r *inventory.Report) string {
	var b strings.Builder
	for _, f := range r.Findings {
		b.WriteString("  " + f.Severity.String() + " " + f.Rule + " " + f.Path + ": " + f.Evidence + "\n")
	}
	return b.String()
}

// identity is the part of a component TestIdentity compares.
type identity struct {
	Name, Version, PURL string
	Digests             []inventory.Digest
	Properties          map[string]string
}

func identityOf(c *inventory.Component) *identity {
	if c == nil {
		return nil
	}
	return &identity{c.Name, c.Version, c.PURL, c.Digests, c.Properties}
}

const commit = "c47c36c3a11cd047b349c6bb36ce56d9d3b6846f"

// TestIdentity checks what the hub cache, config.json and the model card
// say about the model, on the repository's component and its weights.
func TestIdentity(t *testing.T) {
	snap := filepath.Join(fixtures, "hfcache", "models--acme--tiny-llm", "snapshots", commit)
	r := scan(t, filepath.Join(fixtures, "hfcache"))
	repoID := inventory.FileComponentID(inventory.KindModel, snap)
	tests := []struct {
		id   string
		want *identity
	}{
		{repoID, &identity{
			Name: "acme/tiny-llm", Version: commit, PURL: "pkg:huggingface/acme/tiny-llm@" + commit,
			Properties: map[string]string{
				"format": "hf-repo", "framework": "transformers", "architecture": "LlamaForCausalLM",
				"model-type": "llama", "dtype": "F32", "context-length": "128", "vocab-size": "8",
				"license": "apache-2.0", "base-model": "acme/base-llm", "datasets": "acme/chat-mix,acme/code-mix",
				"tags": "text-generation,tiny", "language": "en", "pipeline-tag": "text-generation",
				"repository": "acme/tiny-llm", "revision": commit,
			},
		}},
		{inventory.FileComponentID(inventory.KindModel, filepath.Join(snap, "model.safetensors")), &identity{
			Name:    "model.safetensors",
			Digests: []inventory.Digest{{Algorithm: "sha256", Value: "d8e5a07d8a030f5605bf7080de6fa4cd1c517cf8111178193b6da948be609432"}},
			Properties: map[string]string{
				"part-of": repoID, "repository": "acme/tiny-llm", "revision": commit,
			},
		}},
	}
	for _, tc := range tests {
		got := identityOf(r.Component(tc.id))
		if got != nil {
			// Other catalogers add their own properties (format, tensors):
			// compare only those this package sets.
			for k := range got.Properties {
				if _, ok := tc.want.Properties[k]; !ok {
					delete(got.Properties, k)
				}
			}
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.id, diff)
		}
	}
	if worst, _ := r.Max(); worst > inventory.Low {
		t.Errorf("benign cache rated %s:\n%s", worst, dump(r))
	}
	// The blobs are not models of their own to this package: only the
	// snapshot's view of them is linked.
	for _, c := range r.Components {
		if strings.Contains(c.ID, "blobs") && c.Properties["part-of"] != "" {
			t.Errorf("blob linked to a repository: %+v", c)
		}
	}
}

// TestShardedCheckpoint checks that an index becomes one model listing its
// shards, each shard's component part of it, the index part of the
// repository.
func TestShardedCheckpoint(t *testing.T) {
	dir := filepath.Join(fixtures, "sharded_ok")
	r := scan(t, dir)
	idx := r.Component(inventory.FileComponentID(inventory.KindModel, filepath.Join(dir, "model.safetensors.index.json")))
	if idx == nil {
		t.Fatal("no component for the index")
	}
	var locs []string
	for _, l := range idx.Locations {
		locs = append(locs, filepath.Base(l.Path))
	}
	want := []string{"model.safetensors.index.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}
	if diff := cmp.Diff(want, locs); diff != "" {
		t.Errorf("index locations (-want +got):\n%s", diff)
	}
	if got := idx.Properties["part-of"]; got != inventory.FileComponentID(inventory.KindModel, dir) {
		t.Errorf("index part-of = %q", got)
	}
	if idx.Properties["format"] != "safetensors-sharded" || idx.Properties["shards"] != "2" || idx.Properties["tensors"] != "2" {
		t.Errorf("index properties = %v", idx.Properties)
	}
	for _, s := range want[1:] {
		c := r.Component(inventory.FileComponentID(inventory.KindModel, filepath.Join(dir, s)))
		if c == nil || c.Properties["part-of"] != idx.ID {
			t.Errorf("shard %s: %+v, want part of %s", s, c, idx.ID)
		}
	}
}

// TestMarMembers checks a TorchServe archive end to end: the archive is one
// component, its handler is judged as code, and its serialized model is
// still judged by the pickle cataloger as a member, linked to the archive.
func TestMarMembers(t *testing.T) {
	p := filepath.Join(fixtures, "mar", "custom_handler.mar")
	r := scan(t, p)
	id := inventory.FileComponentID(inventory.KindModel, p)
	c := r.Component(id)
	if c == nil {
		t.Fatal("no component for the archive")
	}
	got := identityOf(c)
	want := &identity{Name: "tiny-custom", Version: "2.0", Properties: map[string]string{
		"format": "torchserve-mar", "framework": "pytorch", "handler": "handler.py", "runtime": "python",
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("archive component (-want +got):\n%s", diff)
	}
	member := r.Component(inventory.FileComponentID(inventory.KindModel, p+"!model.pt"))
	if member == nil || member.Properties["part-of"] != id || member.Properties["serialization"] != "pickle" {
		t.Errorf("serialized model component = %+v; want a pickle part of the archive", member)
	}
	var sawPickle, sawHandler bool
	for _, f := range r.Findings {
		sawPickle = sawPickle || f.Rule == "pickle/dangerous-call" && f.Path == p+"!model.pt"
		sawHandler = sawHandler || f.Rule == "repo/code-exec" && f.Path == p+"!handler.py" && f.Line == 7 && f.Component == id
	}
	if !sawPickle || !sawHandler {
		t.Errorf("pickle finding %v, handler finding %v:\n%s", sawPickle, sawHandler, dump(r))
	}
}

// TestOCIArtifact checks the model component an OCI layout yields, and that
// its layer blobs are judged by content as files of their own.
func TestOCIArtifact(t *testing.T) {
	dir := filepath.Join(fixtures, "oci", "modelpack")
	r := scan(t, dir)
	var model *inventory.Component
	for i, c := range r.Components {
		if c.Properties["format"] == "oci-model" {
			model = &r.Components[i]
		}
	}
	if model == nil {
		t.Fatalf("no oci-model component among %d", len(r.Components))
	}
	got := identityOf(model)
	digest := strings.TrimPrefix(filepath.Base(model.ID), "")
	want := &identity{
		Name: "tiny-llm", Version: "1.0",
		PURL:    "pkg:oci/tiny-llm@sha256:" + digest + "?repository_url=registry.example%2Facme%2Ftiny-llm&tag=1.0",
		Digests: []inventory.Digest{{Algorithm: "sha256", Value: digest}},
		Properties: map[string]string{
			"format": "oci-model", "layers": "2", "media-type": "application/vnd.cncf.model.manifest.v1+json",
			"architecture": "transformer", "model-format": "safetensors", "parameters": "6", "dtype": "F32",
			"license": "Apache-2.0", "model-name": "tiny-llm",
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("model (-want +got):\n%s", diff)
	}
	if len(model.Locations) != 4 { // manifest, config, two layers
		t.Errorf("locations = %v", model.Locations)
	}
	var layers, pickles int
	for _, c := range r.Components {
		if c.Properties["part-of"] != model.ID {
			continue
		}
		layers++
		if len(c.Digests) != 1 || c.Digests[0].Value != filepath.Base(c.Locations[0].Path) {
			t.Errorf("layer %s: digests %v", c.ID, c.Digests)
		}
		if c.Properties["serialization"] == "pickle" {
			pickles++ // the pickle cataloger read the blob
		}
	}
	if layers != 2 || pickles != 1 {
		t.Errorf("%d weight layers (want 2), %d judged as pickles (want 1)", layers, pickles)
	}
	if !hasRule(r, "pickle/format") {
		t.Errorf("the pickle layer was not judged:\n%s", dump(r))
	}
}

// TestWeightsUnread builds a repository around 16 MiB of weights (a valid
// safetensors header, then zeros) and an OCI layout with a 16 MiB layer,
// and checks that this package's catalogers read headers, configs and
// manifests only.
func TestWeightsUnread(t *testing.T) {
	dir := t.TempDir()
	const big = 16 << 20
	write := func(p string, b []byte) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	header := `{"w":{"dtype":"F32","shape":[4194304],"data_offsets":[0,16777216]}}`
	st := make([]byte, 8+len(header)+big)
	st[0] = byte(len(header))
	copy(st[8:], header)
	write(filepath.Join(dir, "repo", "model.safetensors"), st)
	cfg, _ := os.ReadFile(filepath.Join(fixtures, "sharded_ok", "config.json"))
	write(filepath.Join(dir, "repo", "config.json"), cfg)
	if err := os.CopyFS(filepath.Join(dir, "oci"), os.DirFS(filepath.Join(fixtures, "oci", "docker-model"))); err != nil {
		t.Fatal(err)
	}
	// Grow the GGUF layer past the size the manifest gives: the size check
	// must come from a stat, not a read.
	layers, _ := filepath.Glob(filepath.Join(dir, "oci", "blobs", "sha256", "*"))
	for _, l := range layers {
		b, _ := os.ReadFile(l)
		if strings.HasPrefix(string(b), "GGUF") {
			write(l, append(b, make([]byte, big)...))
		}
	}
	r, err := inventory.Scan(context.Background(), []string{dir}, inventory.Options{Catalogers: []inventory.Cataloger{Repo{}, Mar{}, OCI{}}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Stats.Bytes < 2*big || r.Stats.BytesRead > 512<<10 {
		t.Errorf("read %d of %d bytes; want heads, tails and metadata only (< 512 KiB)", r.Stats.BytesRead, r.Stats.Bytes)
	}
	if !hasRule(r, "oci/blob-mismatch") {
		t.Errorf("grown layer not reported:\n%s", dump(r))
	}
	c := r.Component(inventory.FileComponentID(inventory.KindModel, filepath.Join(dir, "repo", "model.safetensors")))
	if c == nil || c.Properties["part-of"] != inventory.FileComponentID(inventory.KindModel, filepath.Join(dir, "repo")) {
		t.Errorf("weights not linked to the repository: %+v", c)
	}
}
