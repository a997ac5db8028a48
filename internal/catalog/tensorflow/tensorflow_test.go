package tensorflow

import (
	"archive/zip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chainvet/chainvet/internal/catalog/archives"
	"github.com/chainvet/chainvet/internal/catalog/manifest"
	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/modelfile/protowire"
	"github.com/chainvet/chainvet/internal/modelfile/tflite"
	"github.com/chainvet/chainvet/internal/modelfile/tfsaved"
	"github.com/google/go-cmp/cmp"
)

const fixtures = "../../../testdata/tensorflow"

func catalogers() []inventory.Cataloger { return []inventory.Cataloger{SavedModel{}, TFLite{}} }

func scan(t testing.TB, cats []inventory.Cataloger, targets ...string) *inventory.Report {
	t.Helper()
	r, err := inventory.Scan(context.Background(), targets, inventory.Options{Catalogers: cats, MaxDepth: 4})
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

var ourRules = map[string]bool{
	RulePythonOp: true, RuleIOOp: true, RuleCustomOp: true, RuleAssetPath: true, RuleTFLiteOp: true,
	ruleMalformed: true, inventory.RuleScanLimit: true,
}

func hasRule(r *inventory.Report, id string) bool {
	for _, f := range r.Findings {
		if f.Rule == id {
			return true
		}
	}
	return false
}

func hasEvidence(r *inventory.Report, s string, min inventory.Severity) bool {
	for _, f := range r.Findings {
		if f.Severity >= min && strings.Contains(f.Evidence, s) {
			return true
		}
	}
	return false
}

// TestManifest scans every fixture the generator wrote and holds the
// findings to what MANIFEST.tsv says the file is.
func TestManifest(t *testing.T) {
	rows, err := manifest.Read(filepath.Join(fixtures, "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 20 {
		t.Fatalf("only %d rows in the manifest", len(rows))
	}
	for _, row := range rows {
		t.Run(strings.ReplaceAll(row.Path, "/", "_"), func(t *testing.T) {
			r := scan(t, catalogers(), filepath.Join(fixtures, row.Path))
			t.Log("\n" + manifest.Dump(r))
			// Here the evidence must be in a finding's Evidence, not only
			// its Message, so it is checked below rather than by Check.
			loose := row
			loose.Evidence = ""
			for _, p := range loose.Check(r) {
				t.Errorf("%s: %s\n%s", row.Description, p, manifest.Dump(r))
			}
			if row.Evidence != "" && !hasEvidence(r, row.Evidence, row.Min) {
				t.Errorf("no finding at %s or above shows %q\n%s", row.Min, row.Evidence, manifest.Dump(r))
			}
			for _, fd := range r.Findings {
				if !ourRules[fd.Rule] || fd.Message == "" || fd.Evidence == "" || fd.Component == "" {
					t.Errorf("finding breaks the contract: %+v", fd)
				}
			}
			if len(r.Components) != 1 || r.Components[0].Kind != inventory.KindModel {
				t.Errorf("components = %+v, want one model", r.Components)
			}
		})
	}
}

// TestSavedModelFolder scans a whole SavedModel folder: one component,
// its side files folded in, no findings.
func TestSavedModelFolder(t *testing.T) {
	dir := filepath.Join(fixtures, "benign", "saved_model")
	r := scan(t, catalogers(), dir)
	if len(r.Findings) != 0 {
		t.Errorf("findings on a benign SavedModel:\n%s", dump(r))
	}
	want := []inventory.Component{{
		ID: inventory.FileComponentID(inventory.KindModel, filepath.Join(dir, "saved_model.pb")), Kind: inventory.KindModel,
		Name: "saved_model", Locations: []inventory.Location{{Path: filepath.Join(dir, "saved_model.pb")}},
		Properties: map[string]string{
			"format": "tf-savedmodel", "framework": "tensorflow", "producer": "tensorflow 2.15.0",
			"tags": "serve", "signatures": "serving_default", "parameters": "10", "tensors": "2",
			"dtype": "F32", "nodes": "24", "functions": "3",
			"architecture": "Sequential", "keras-version": "2.15.0", "keras-objects": "2",
			"saved-model-checksum": "1311862289879068417",
		},
	}}
	if diff := cmp.Diff(want, r.Components); diff != "" {
		t.Errorf("components (-want +got):\n%s", diff)
	}
}

func TestIdentity(t *testing.T) {
	tests := []struct {
		file string
		want map[string]string
	}{
		{"benign/frozen_graph.pb", map[string]string{
			"format": "tf-graphdef", "framework": "tensorflow", "parameters": "4", "nodes": "4",
			"functions": "0", "dtype": "F32",
		}},
		{"benign/model.tflite", map[string]string{
			"format": "tflite", "framework": "tensorflow-lite", "producer": "MLIR Converted.",
			"parameters": "16", "tensors": "2", "operators": "2", "dtype": "F32",
		}},
	}
	for _, tc := range tests {
		t.Run(filepath.Base(tc.file), func(t *testing.T) {
			p := filepath.Join(fixtures, tc.file)
			r := scan(t, catalogers(), p)
			c := r.Component(inventory.FileComponentID(inventory.KindModel, p))
			if c == nil {
				t.Fatalf("no component: %+v", r.Components)
			}
			if diff := cmp.Diff(tc.want, c.Properties); diff != "" {
				t.Errorf("properties (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAssetSymlink links an innocently named asset to a file outside the
// SavedModel.
func TestAssetSymlink(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "model")
	if err := os.MkdirAll(filepath.Join(dir, "assets"), 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(fixtures, "benign", "saved_model", "saved_model.pb"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "saved_model.pb"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(root, "secret.txt")
	if err := os.WriteFile(secret, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(dir, "assets", "vocab.txt")); err != nil {
		t.Skipf("symlinks: %v", err)
	}
	r := scan(t, catalogers(), filepath.Join(dir, "saved_model.pb"))
	if !hasRule(r, RuleAssetPath) {
		t.Errorf("no %s finding for an asset linked outside\n%s", RuleAssetPath, dump(r))
	}
}

// TestArchiveMember scans SavedModels inside a zip, as they are shipped.
func TestArchiveMember(t *testing.T) {
	out := filepath.Join(t.TempDir(), "models.zip")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	w := zip.NewWriter(f)
	for _, name := range []string{"malicious/eager_pyfunc_in_function/saved_model.pb", "benign/saved_model/saved_model.pb", "benign/saved_model/keras_metadata.pb"} {
		b, err := os.ReadFile(filepath.Join(fixtures, name))
		if err != nil {
			t.Fatal(err)
		}
		m, _ := w.Create(name)
		m.Write(b)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	r := scan(t, append([]inventory.Cataloger{archives.Archives{}}, catalogers()...), out)
	var got []string
	for _, fd := range r.Findings {
		got = append(got, fd.Rule+" "+fd.Severity.String()+" "+strings.TrimPrefix(fd.Path, out))
	}
	want := []string{"tensorflow/python-op critical !malicious/eager_pyfunc_in_function/saved_model.pb"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if len(r.Components) != 3 {
		t.Errorf("%d components, want 3: %+v", len(r.Components), r.Components)
	}
}

func TestLimits(t *testing.T) {
	tests := []struct {
		name string
		cat  inventory.Cataloger
		file string
	}{
		{"nodes", SavedModel{Limits: tfsaved.Limits{Nodes: 5}}, "benign/saved_model/saved_model.pb"},
		{"functions", SavedModel{Limits: tfsaved.Limits{Functions: 1}}, "benign/saved_model/saved_model.pb"},
		{"fields", SavedModel{Limits: tfsaved.Limits{Wire: protowire.Limits{Fields: 30}}}, "benign/saved_model/saved_model.pb"},
		{"tflite_tensors", TFLite{Limits: tflite.Limits{Tensors: 1}}, "benign/model.tflite"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := scan(t, []inventory.Cataloger{tc.cat}, filepath.Join(fixtures, tc.file))
			if !hasRule(r, inventory.RuleScanLimit) {
				t.Errorf("no scan/limit finding\n%s", dump(r))
			}
		})
	}
}

func TestWants(t *testing.T) {
	read := func(p string) []byte {
		b, err := os.ReadFile(filepath.Join(fixtures, p))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	sm := read("benign/saved_model/saved_model.pb")
	gd := read("benign/frozen_graph.pb")
	tests := []struct {
		name string
		head []byte
		want bool
	}{
		{"renamed.bin", sm, true},
		{"graph.pb", gd, true},
		{"graph.bin", gd, false}, // a GraphDef's structure is too generic without the name
		{"model.onnx", []byte("\x08\x08\x12\x07pytorch\x1a\x032.1\x3a\x80\x80\x04"), false},
		{"keras_metadata.pb", []byte("x"), true},
		{"data.pb", []byte("\x0a\x02hi"), false},
	}
	for _, tc := range tests {
		f := &inventory.File{Name: tc.name, Path: tc.name, Head: tc.head, Size: int64(len(tc.head))}
		if got := (SavedModel{}).Wants(f); got != tc.want {
			t.Errorf("Wants(%s) = %v, want %v", tc.name, got, tc.want)
		}
	}
}
