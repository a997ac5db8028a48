package keras

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chainvet/chainvet/internal/catalog/archives"
	"github.com/chainvet/chainvet/internal/catalog/manifest"
	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/google/go-cmp/cmp"
)

const fixtures = "../../../testdata/keras"

func scan(t testing.TB, targets ...string) *inventory.Report {
	t.Helper()
	r, err := inventory.Scan(context.Background(), targets, inventory.Options{
		Catalogers: []inventory.Cataloger{archives.Archives{}, Keras{}},
		MaxDepth:   4,
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

// TestManifest scans every fixture the generator wrote and holds the
// findings to what MANIFEST.tsv says the file is.
func TestManifest(t *testing.T) {
	rows, err := manifest.Read(filepath.Join(fixtures, "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows {
		t.Run(strings.ReplaceAll(row.Path, "/", "_"), func(t *testing.T) {
			r := scan(t, filepath.Join(fixtures, row.Path))
			for _, p := range row.Check(r) {
				t.Errorf("%s (%s): %s\n%s", row.Path, row.Description, p, manifest.Dump(r))
			}
			for _, f := range r.Findings {
				if f.Evidence == "" || f.Message == "" || f.Path == "" {
					t.Errorf("finding lacks evidence, message or path: %+v", f)
				}
				if strings.HasPrefix(f.Rule, "keras/") && r.Component(f.Component) == nil {
					t.Errorf("finding on component %q, which is not in the report", f.Component)
				}
			}
		})
	}
	if len(rows) < 40 {
		t.Errorf("only %d rows in MANIFEST.tsv", len(rows))
	}
}

// TestComponents checks what is said of each model's identity.
func TestComponents(t *testing.T) {
	tests := []struct {
		file string
		id   string // component path when not the file's own
		want map[string]string
	}{
		{file: "benign/sequential.keras", want: map[string]string{
			"format": "keras", "framework": "keras", "framework-version": "3.6.0",
			"architecture": "Sequential(tiny_mlp)", "dtype": "F32"}},
		{file: "benign/functional.keras", want: map[string]string{
			"format": "keras", "framework": "keras", "framework-version": "3.6.0",
			"architecture": "Functional(two_tower)", "dtype": "F32"}},
		{file: "benign/unzipped.keras/config.json", id: "benign/unzipped.keras", want: map[string]string{
			"format": "keras", "framework": "keras", "architecture": "Sequential(tiny_mlp)", "dtype": "F32"}},
		{file: "benign/sequential_h5py2.h5", want: map[string]string{
			"format": "keras-h5", "framework": "keras", "framework-version": "2.13.1", "backend": "tensorflow",
			"architecture": "Sequential(sequential)", "dtype": "F32"}},
		{file: "benign/sequential_dense_attrs.h5", want: map[string]string{
			"format": "keras-h5", "framework": "keras", "framework-version": "2.13.1", "backend": "tensorflow",
			"architecture": "Sequential(sequential)", "dtype": "F32"}},
		{file: "benign/weights_only.h5", want: map[string]string{
			"format": "keras-h5", "framework": "keras", "framework-version": "2.13.1", "backend": "tensorflow"}},
		{file: "malicious/lambda_py27.h5", want: map[string]string{
			"format": "keras-h5", "framework": "keras", "framework-version": "1.2.2", "backend": "tensorflow",
			"architecture": "Sequential(sequential)", "dtype": "F32"}},
		{file: "malicious/truncated.h5", want: map[string]string{"format": "hdf5"}},
	}
	for _, tc := range tests {
		t.Run(strings.ReplaceAll(tc.file, "/", "_"), func(t *testing.T) {
			p := filepath.Join(fixtures, tc.file)
			r := scan(t, p)
			id := p
			if tc.id != "" {
				id = filepath.Join(fixtures, tc.id)
			}
			c := r.Component(inventory.FileComponentID(inventory.KindModel, id))
			if c == nil {
				t.Fatalf("no component for %s among %+v", id, r.Components)
			}
			if diff := cmp.Diff(tc.want, c.Properties); diff != "" {
				t.Errorf("properties (-want +got):\n%s", diff)
			}
			if c.Kind != inventory.KindModel || len(c.Locations) != 1 || c.Locations[0].Path != id {
				t.Errorf("component %+v", c)
			}
		})
	}
}

// TestNotModels checks that HDF5 data, and the weights inside a .keras
// archive, make no component and no finding.
func TestNotModels(t *testing.T) {
	for _, file := range []string{"benign/plain_data.h5", "benign/model.weights.h5"} {
		r := scan(t, filepath.Join(fixtures, file))
		if len(r.Components) != 0 || len(r.Findings) != 0 {
			t.Errorf("%s: components %+v, findings\n%s", file, r.Components, dump(r))
		}
	}
	r := scan(t, filepath.Join(fixtures, "benign/sequential.keras"))
	if len(r.Components) != 1 {
		t.Errorf("sequential.keras: %d components, want the archive's alone: %+v", len(r.Components), r.Components)
	}
}

// TestFindingLocation checks that findings point into config.json (line
// and offset) or, for .h5, at the bytes in the file.
func TestFindingLocation(t *testing.T) {
	p := filepath.Join(fixtures, "malicious/lambda_os_system.keras")
	r := scan(t, p)
	var fd *inventory.Finding
	for i := range r.Findings {
		if r.Findings[i].Rule == "keras/lambda" {
			fd = &r.Findings[i]
		}
	}
	if fd == nil || fd.Path != p+"!config.json" || fd.Line != 1 || fd.Offset == nil {
		t.Fatalf("lambda finding %+v", fd)
	}
	z, err := zip.OpenReader(p)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	for _, m := range z.File {
		if m.Name != "config.json" {
			continue
		}
		rc, _ := m.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.HasPrefix(b[*fd.Offset:], []byte(`"4wEAAA`)) {
			t.Errorf("offset %d in config.json holds %q", *fd.Offset, b[*fd.Offset:min(int(*fd.Offset)+10, len(b))])
		}
	}

	h5 := filepath.Join(fixtures, "malicious/lambda_h5py3.h5")
	r = scan(t, h5)
	b, err := os.ReadFile(h5)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range r.Findings {
		if f.Rule != "keras/lambda" {
			continue
		}
		if f.Offset == nil || !bytes.HasPrefix(b[*f.Offset:], []byte(`"4wEAAA`)) {
			t.Errorf("h5 finding offset %v does not point at the code", f.Offset)
		}
		if !strings.HasPrefix(f.Evidence, "model_config config.layers[1].config.function[0]: ") {
			t.Errorf("evidence %q", f.Evidence)
		}
	}
}

// zipOf builds a zip of the given members in order.
func zipOf(t *testing.T, members ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for i := 0; i+1 < len(members); i += 2 {
		m, err := w.Create(members[i])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(m, members[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func file(t *testing.T, p string, b []byte, depth int) *inventory.File {
	t.Helper()
	f, err := inventory.NewFile(p, bytes.NewReader(b), int64(len(b)), nil)
	if err != nil {
		t.Fatal(err)
	}
	f.Depth = depth
	return f
}

func TestWants(t *testing.T) {
	cfg := `{"module": "keras", "class_name": "Sequential", "config": {"layers": []}}`
	h5 := append([]byte("\x89HDF\r\n\x1a\n"), make([]byte, 100)...)
	big := bytes.Repeat([]byte{'x'}, 10000)
	// A directory too long for the tail to hold config.json's record.
	members := []string{"assets/first", "x", "config.json", cfg}
	for i := range 3000 {
		members = append(members, fmt.Sprintf("assets/vocabulary_%05d.txt", i), "")
	}
	long := zipOf(t, members...)
	tests := []struct {
		name  string
		path  string
		data  []byte
		depth int
		want  bool
	}{
		{"keras_zip_metadata_first", "m.keras", zipOf(t, "metadata.json", "{}", "config.json", cfg), 0, true},
		{"zip_config_later", "m.zip", zipOf(t, "assets/a.txt", "x", "config.json", cfg), 0, true},
		{"zip_without_config", "m.zip", zipOf(t, "a.txt", "x"), 0, false},
		{"long_directory_named_keras", "m.keras", long, 0, true},
		{"long_directory_unnamed", "m.zip", long, 0, false},
		{"not_zip_named_keras", "m.keras", []byte("PK\x03\x04 and nothing more"), 0, false},
		{"hdf5", "x.bin", h5, 0, true},
		{"hdf5_userblock_by_name", "x.h5", append(big, h5...), 0, true},
		{"not_hdf5_small", "x.h5", []byte("not hdf5"), 0, false},
		{"config_on_disk", "m/config.json", []byte(cfg), 0, true},
		{"config_in_folder_member", "a.tar!m/config.json", []byte(cfg), 1, true},
		{"config_top_member", "a.zip!config.json", []byte(cfg), 1, false},
		{"hf_config", "m/config.json", []byte(`{"architectures": ["Bert"], "model_type": "bert"}`), 0, false},
		{"other_json", "m/other.json", []byte(cfg), 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := (Keras{}).Wants(file(t, tc.path, tc.data, tc.depth)); got != tc.want {
				t.Errorf("Wants = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestForeignZip checks that a zip holding a config.json that is not a
// Keras model's is left alone.
func TestForeignZip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "repo.zip")
	if err := os.WriteFile(p, zipOf(t, "config.json", `{"model_type": "bert"}`, "README.md", "hi"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := scan(t, p)
	if len(r.Components) != 0 || len(r.Findings) != 0 {
		t.Errorf("components %+v, findings\n%s", r.Components, dump(r))
	}
}

// bigH5 unpacks the hdf5 package's file with 16 MiB of tensor data.
func bigH5(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("../../modelfile/hdf5/testdata/big_dataset.h5.gz")
	if err != nil {
		t.Fatal(err)
	}
	gz, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "big.h5")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(f, gz); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTensorDataUnread checks that a legacy model is vetted from its root
// group: the scan reads the head and tail every file gets (68 KiB) and a
// few KiB more of a 16 MiB file.
func TestTensorDataUnread(t *testing.T) {
	r := scan(t, bigH5(t))
	if r.Stats.Bytes < 16<<20 || r.Stats.BytesRead > inventory.HeadSize+inventory.TailSize+16<<10 {
		t.Errorf("read %d of %d bytes; want the root group only", r.Stats.BytesRead, r.Stats.Bytes)
	}
	if len(r.Components) != 1 || r.Components[0].Properties["format"] != "keras-h5" {
		t.Errorf("components %+v", r.Components)
	}
}

func BenchmarkScanH5(b *testing.B) {
	p := bigH5(b)
	var read, size int64
	for b.Loop() {
		r := scan(b, p)
		read, size = r.Stats.BytesRead, r.Stats.Bytes
	}
	b.ReportMetric(float64(read), "bytes-read/op")
	b.ReportMetric(float64(size), "file-bytes")
}

func BenchmarkScanKeras(b *testing.B) {
	p := filepath.Join(fixtures, "benign/functional.keras")
	for b.Loop() {
		scan(b, p)
	}
}
