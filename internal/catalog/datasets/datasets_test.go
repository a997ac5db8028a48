package datasets

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chainvet/chainvet/internal/catalog/manifest"
	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

const fixtures = "../../../testdata/bom/datasets"

func scanDir(t testing.TB, dir string) *inventory.Report {
	t.Helper()
	r, err := inventory.Scan(context.Background(), []string{dir}, inventory.Options{Catalogers: []inventory.Cataloger{Files{}}})
	if err != nil {
		t.Fatal(err)
	}
	return r
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
	got = []byte(strings.ReplaceAll(string(got), fixtures+"/", "") + "\n")
	golden := filepath.Join("testdata", "datasets.golden.json")
	manifest.Golden(t, golden, got, *update)
}

// TestComponents checks each fixture's component apart from the golden
// file, so a golden rewritten by mistake still fails here.
func TestComponents(t *testing.T) {
	r := scanDir(t, fixtures)
	const commit = "a3f4c1b2d5e6f708192a3b4c5d6e7f8091a2b3c4"
	tests := []struct {
		id     string // with "dataset:" + fixture-relative path for files
		props  map[string]string
		digest string
	}{
		{id: "dataset:local/train.parquet", props: map[string]string{"format": "parquet"}},
		{id: "dataset:local/train.arrow", props: map[string]string{"format": "arrow"}},
		{id: "dataset:local/shard-00000.tfrecord", props: map[string]string{"format": "tfrecord"}},
		{id: "dataset:local/reviews.jsonl", props: map[string]string{"format": "jsonl"}},
		{id: "dataset:local/reviews.csv", props: map[string]string{"format": "csv"}},
		{id: "dataset:dvc/data/raw.csv", props: map[string]string{"source": "dvc", "size": "5120"}, digest: "md5:3ac7d40ae4cc4c5bbd4b7d0a5f1e0c11"},
		{id: "dataset:dvc/data/images", props: map[string]string{"dvc-md5": "9b3d2b3c4f7a1e2d6c5b4a39281706f5.dir", "files": "120"}},
		{id: "dataset:dvc/data/faq.csv", props: map[string]string{"source-url": "https://data.example.com/exports/faq.csv"}, digest: "md5:00112233445566778899aabbccddeeff"},
		{id: "dataset:huggingface/acme/support-tickets@" + commit, props: map[string]string{
			"license": "cc-by-4.0", "task-categories": "text-classification", "pinned": "true", "revision": commit, "format": "parquet"}},
		{id: "dataset:huggingface/stanfordnlp/imdb", props: map[string]string{"referenced-by": "model-card", "pinned": "false"}},
		{id: "dataset:huggingface/acme/support-tickets", props: map[string]string{"hub": "huggingface"}},
		{id: "dataset:cards/my-dataset", props: map[string]string{"license": "mit", "task-categories": "question-answering", "source-datasets": "squad"}},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			c := r.Component(tt.id)
			if c == nil {
				c = r.Component(strings.Replace(tt.id, "dataset:", "dataset:"+fixtures+"/", 1))
			}
			if c == nil {
				t.Fatalf("no component %s", tt.id)
			}
			if c.Kind != inventory.KindDataset {
				t.Errorf("kind = %s", c.Kind)
			}
			for k, v := range tt.props {
				if c.Properties[k] != v {
					t.Errorf("property %s = %q, want %q", k, c.Properties[k], v)
				}
			}
			var ds []string
			for _, d := range c.Digests {
				ds = append(ds, d.Algorithm+":"+d.Value)
			}
			if tt.digest != "" && !slices.Contains(ds, tt.digest) || tt.digest == "" && len(ds) > 0 {
				t.Errorf("digests = %q, want %q", ds, tt.digest)
			}
		})
	}
	var ids []string
	for _, c := range r.Components {
		ids = append(ids, strings.TrimPrefix(c.ID, "dataset:"+fixtures+"/"))
		if strings.Contains(c.ID+c.Properties["source-url"], "secret") || strings.Contains(c.ID, "passwd") {
			t.Errorf("component %s leaks a credential or escapes the tree", c.ID)
		}
	}
	for _, no := range []string{"local/not_jsonl.jsonl", "local/not_csv.csv", "cards/plain", "cards/sentiment-model"} {
		if slices.Contains(ids, no) {
			t.Errorf("unexpected component for %s", no)
		}
	}
	var got []string
	for _, f := range r.Findings {
		got = append(got, strings.TrimPrefix(f.Path, fixtures+"/")+" "+f.Rule+" "+f.Severity.String())
	}
	want := []string{
		"cards/broken/README.md bom/malformed low",
		"dvc/broken.dvc bom/malformed low",
		"dvc/escape.dvc bom/malformed low",
		"local/bad_footer.parquet bom/malformed low",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

func TestReadsOnlyHeads(t *testing.T) {
	dir := t.TempDir()
	body := make([]byte, 8<<20) // a big Parquet file: only head and tail are read
	copy(body, "PAR1")
	copy(body[len(body)-8:], []byte{16, 0, 0, 0, 'P', 'A', 'R', '1'})
	if err := os.WriteFile(filepath.Join(dir, "big.parquet"), body, 0o644); err != nil {
		t.Fatal(err)
	}
	r := scanDir(t, dir)
	if len(r.Components) != 1 || r.Components[0].Properties["format"] != "parquet" {
		t.Fatalf("components = %+v, want one parquet", r.Components)
	}
	if r.Stats.BytesRead > inventory.HeadSize+inventory.TailSize {
		t.Errorf("read %d bytes of a data file, want head and tail only", r.Stats.BytesRead)
	}
}

func TestLimit(t *testing.T) {
	dir := t.TempDir()
	big := "outs:\n" + strings.Repeat("# padding line\n", maxDVC/15+1)
	if err := os.WriteFile(filepath.Join(dir, "big.dvc"), []byte(big), 0o644); err != nil {
		t.Fatal(err)
	}
	r := scanDir(t, dir)
	if len(r.Findings) != 1 || r.Findings[0].Rule != inventory.RuleScanLimit || r.Findings[0].Severity != inventory.High {
		t.Errorf("findings = %+v, want one high scan/limit", r.Findings)
	}
}

// TestManifest checks every row of the fixtures' MANIFEST.tsv against a
// scan of that file alone.
func TestManifest(t *testing.T) {
	rows, err := manifest.Read(filepath.Join(fixtures, "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, row := range rows {
		seen[row.Path] = true
		t.Run(strings.ReplaceAll(row.Path, "/", "_"), func(t *testing.T) {
			r := scanDir(t, filepath.Join(fixtures, row.Path))
			for _, p := range row.Check(r) {
				t.Errorf("%s (%s): %s\n%s", row.Path, row.Description, p, manifest.Dump(r))
			}
		})
	}
	if len(seen) < 10 {
		t.Errorf("only %d rows", len(seen))
	}
}
