package onnx

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
	onnxfile "github.com/chainvet/chainvet/internal/modelfile/onnx"
	"github.com/chainvet/chainvet/internal/modelfile/protowire"
	"github.com/google/go-cmp/cmp"
)

const fixtures = "../../../testdata/onnx"

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

// ourRules are the rules this cataloger may report.
var ourRules = map[string]bool{
	RuleExternalPath: true, RuleExternalInvalid: true, RuleExternalMissing: true, RuleCustomDomain: true,
	ruleMalformed: true, inventory.RuleScanLimit: true,
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
			r := scan(t, []inventory.Cataloger{ONNX{}}, filepath.Join(fixtures, row.Path))
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
			if len(r.Components) != 1 || r.Components[0].Properties["format"] != "onnx" {
				t.Errorf("components = %+v, want one onnx model", r.Components)
			}
		})
	}
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

// TestIdentity checks the properties that identify benign models.
func TestIdentity(t *testing.T) {
	tests := []struct {
		file string
		want map[string]string
	}{
		{"benign/mlp.onnx", map[string]string{
			"format": "onnx", "framework": "onnx", "ir-version": "8", "opset": "ai.onnx:17",
			"producer": "chainvet-gen 1.0", "parameters": "67", "tensors": "4", "dtype": "F32", "nodes": "4",
			"inputs": "x:F32[N,4]", "outputs": "y:F32[N,3]",
		}},
		{"benign/if_loop.onnx", map[string]string{
			"format": "onnx", "framework": "onnx", "ir-version": "8", "opset": "ai.onnx:17",
			"producer": "chainvet-gen 1.0", "parameters": "0", "tensors": "0", "nodes": "6",
			"inputs": "c:BOOL[]; x:F32[4]; n:I64[]", "outputs": "z:F32[4]",
		}},
		{"benign/external/model.onnx", map[string]string{
			"format": "onnx", "framework": "onnx", "ir-version": "8", "opset": "ai.onnx:17",
			"producer": "chainvet-gen 1.0", "parameters": "8", "tensors": "1", "dtype": "F32", "nodes": "1",
			"inputs": "x:F32[1,4]", "outputs": "y:F32[1,2]",
		}},
	}
	for _, tc := range tests {
		t.Run(strings.ReplaceAll(tc.file, "/", "_"), func(t *testing.T) {
			p := filepath.Join(fixtures, tc.file)
			r := scan(t, []inventory.Cataloger{ONNX{}}, p)
			c := r.Component(inventory.FileComponentID(inventory.KindModel, p))
			if c == nil {
				t.Fatalf("no component; have %+v", r.Components)
			}
			if diff := cmp.Diff(tc.want, c.Properties); diff != "" {
				t.Errorf("properties (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSymlinkEscape links an external data file to a file outside the
// model's folder: the name is innocent, the target is not.
func TestSymlinkEscape(t *testing.T) {
	root := t.TempDir()
	secret := filepath.Join(root, "secret.bin")
	if err := os.WriteFile(secret, make([]byte, 64), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "model")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(fixtures, "benign/external/model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, "model.onnx")
	if err := os.WriteFile(model, b, 0o600); err != nil {
		t.Fatal(err)
	}
	inside := filepath.Join(dir, "inner.bin")
	if err := os.WriteFile(inside, make([]byte, 64), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, target string
		want         inventory.Severity
		rule         string
	}{
		{"outside", secret, inventory.High, RuleExternalPath},
		{"inside", inside, inventory.Info, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			link := filepath.Join(dir, "weights.bin")
			os.Remove(link)
			if err := os.Symlink(tc.target, link); err != nil {
				t.Skipf("symlinks: %v", err)
			}
			r := scan(t, []inventory.Cataloger{ONNX{}}, model)
			worst, _ := r.Max()
			if worst != tc.want || tc.rule != "" && !hasRule(r, tc.rule) {
				t.Errorf("worst %s, want %s with %q\n%s", worst, tc.want, tc.rule, dump(r))
			}
		})
	}
}

// TestArchiveMember scans ONNX models inside a zip: the location checks
// that need no file system still apply, and a missing neighbour is not
// reported for a member.
func TestArchiveMember(t *testing.T) {
	out := filepath.Join(t.TempDir(), "models.zip")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	w := zip.NewWriter(f)
	for _, name := range []string{"malicious/external_traversal.onnx", "malicious/external_missing.onnx", "benign/mlp.onnx"} {
		b, err := os.ReadFile(filepath.Join(fixtures, name))
		if err != nil {
			t.Fatal(err)
		}
		m, err := w.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		m.Write(b)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	r := scan(t, []inventory.Cataloger{archives.Archives{}, ONNX{}}, out)
	var got []string
	for _, fd := range r.Findings {
		got = append(got, fd.Rule+" "+fd.Severity.String()+" "+strings.TrimPrefix(fd.Path, out))
	}
	want := []string{"onnx/external-data-path high !malicious/external_traversal.onnx"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if len(r.Components) != 3 {
		t.Errorf("%d components, want one per member model", len(r.Components))
	}
}

// TestLimits checks that a limit reached is a scan/limit finding, and that
// what parsed before it is kept.
func TestLimits(t *testing.T) {
	p := filepath.Join(fixtures, "benign/if_loop.onnx")
	tests := []struct {
		name string
		lim  onnxfile.Limits
	}{
		{"nodes", onnxfile.Limits{Nodes: 2}},
		{"fields", onnxfile.Limits{Wire: protowire.Limits{Fields: 20}}},
		{"op_types", onnxfile.Limits{OpTypes: 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := scan(t, []inventory.Cataloger{ONNX{Limits: tc.lim}}, p)
			if !hasRule(r, inventory.RuleScanLimit) {
				t.Errorf("no scan/limit finding\n%s", dump(r))
			}
		})
	}
}

func TestWants(t *testing.T) {
	tests := []struct {
		name string
		head []byte
		size int64
		want bool
	}{
		{"model.onnx", []byte("anything"), 8, true},
		{"model.bin", []byte("\x08\x08\x12\x03abc\x3a\x80\x80\x04"), 1 << 20, true},
		{"model.bin", []byte("\x08\x08\x12\x03abc"), 7, false},                     // no graph or opset seen
		{"saved_model.pb", []byte("\x08\x01\x12\x80\x80\x04\x0a"), 1 << 20, false}, // SavedModel: no graph field
		{"x.bin", []byte("\x08\x00\x3a\x00"), 4, false},                            // ir_version 0
		{"x.bin", []byte("PK\x03\x04"), 4, false},
	}
	for _, tc := range tests {
		f := &inventory.File{Name: tc.name, Path: tc.name, Head: tc.head, Size: tc.size}
		if got := (ONNX{}).Wants(f); got != tc.want {
			t.Errorf("Wants(%s %q) = %v, want %v", tc.name, tc.head, got, tc.want)
		}
	}
}

func TestLocationProblem(t *testing.T) {
	tests := []struct {
		loc  string
		want bool
	}{
		{"weights.bin", false},
		{"data/weights.bin", false},
		{"./data/../weights.bin", false},
		{"/etc/passwd", true},
		{`\\server\share\w.bin`, true},
		{"C:/w.bin", true},
		{"c:w.bin", true},
		{"../w.bin", true},
		{`a\..\..\w.bin`, true},
		{"file:w.bin", true},
		{"s3://bucket/w.bin", true},
		{"w.bin\x00.txt", true},
	}
	for _, tc := range tests {
		if got := LocationProblem(tc.loc) != ""; got != tc.want {
			t.Errorf("LocationProblem(%q) = %q, want a problem: %v", tc.loc, LocationProblem(tc.loc), tc.want)
		}
	}
}
