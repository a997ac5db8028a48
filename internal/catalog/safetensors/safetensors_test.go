package safetensors

import (
	"archive/zip"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chainvet/chainvet/internal/catalog/archives"
	"github.com/chainvet/chainvet/internal/catalog/manifest"
	"github.com/chainvet/chainvet/internal/catalog/models"
	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/modelfile/archive"
	"github.com/chainvet/chainvet/internal/modelfile/pickle"
	st "github.com/chainvet/chainvet/internal/modelfile/safetensors"
	"github.com/google/go-cmp/cmp"
)

const fixtures = "../../../testdata/safetensors"

func scan(t testing.TB, targets ...string) *inventory.Report {
	t.Helper()
	r, err := inventory.Scan(context.Background(), targets, inventory.Options{
		Catalogers: []inventory.Cataloger{
			archives.Archives{Limits: archive.DefaultLimits},
			models.Pickle{Limits: pickle.DefaultLimits},
			Safetensors{Limits: st.DefaultLimits},
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
	if len(rows) < 15 {
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
				if strings.HasPrefix(f.Rule, "safetensors/") && (f.Component != c.ID || f.Path != p) {
					t.Errorf("finding on %q at %q, want %q at %q", f.Component, f.Path, c.ID, p)
				}
			}
		})
	}
}

// TestIdentity checks the properties of the benign fixtures.
func TestIdentity(t *testing.T) {
	tests := []struct {
		file string
		want map[string]string
	}{
		{"linear_f32.safetensors", map[string]string{
			"format": "safetensors", "framework": "pytorch", "tensors": "2", "parameters": "10",
			"dtype": "F32", "metadata.format": "pt"}},
		{"multi_dtype.safetensors", map[string]string{
			"format": "safetensors", "framework": "pytorch", "tensors": "6", "parameters": "29",
			"dtype": "BF16,BOOL,F16,F64,I64,U8", "metadata.format": "pt", "metadata.model_type": "tiny",
			"metadata.source": "chainvet fixture"}},
		{"no_metadata.safetensors", map[string]string{
			"format": "safetensors", "tensors": "2", "parameters": "10", "dtype": "F32"}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			p := filepath.Join(fixtures, "benign", tc.file)
			r := scan(t, p)
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

func TestWants(t *testing.T) {
	file := func(name string, head []byte) *inventory.File {
		return &inventory.File{Name: name, Path: name, Size: int64(len(head)), Head: head}
	}
	good, err := os.ReadFile(filepath.Join(fixtures, "benign", "linear_f32.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		f    *inventory.File
		want bool
	}{
		{"by_content", file("weights.bin", good), true},
		{"by_name", file("model.safetensors", []byte("garbage header")), true},
		{"name_upper_case", file("MODEL.SAFETENSORS", []byte("garbage header")), true},
		{"pickle_by_name", file("model.safetensors", []byte("\x80\x02cos\nsystem\nq\x00.")), false},
		{"zip_by_name", file("model.safetensors", []byte("PK\x03\x04\x14\x00\x00\x00\x00\x00")), false},
		{"text", file("notes.txt", []byte("hello world, this is text")), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := (Safetensors{}).Wants(tc.f); got != tc.want {
				t.Errorf("Wants = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestMember checks that a safetensors file inside a zip is found and its
// findings point at the member.
func TestMember(t *testing.T) {
	evil, err := os.ReadFile(filepath.Join(fixtures, "malicious", "gap_pickle.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "bundle.zip")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	w := zip.NewWriter(f)
	m, _ := w.Create("weights/model.safetensors")
	m.Write(evil)
	w.Close()
	f.Close()
	r := scan(t, p)
	member := p + "!weights/model.safetensors"
	c := r.Component(inventory.FileComponentID(inventory.KindModel, member))
	if c == nil || c.Properties["format"] != "safetensors" {
		t.Fatalf("no safetensors component for the member: %+v", r.Components)
	}
	found := false
	for _, f := range r.Findings {
		found = found || f.Rule == st.RuleHiddenData && f.Path == member && f.Severity == inventory.High
	}
	if !found {
		t.Errorf("no high hidden-data finding on %s:\n%s", member, dump(r))
	}
}

// sparse writes a safetensors file of one F32 tensor filling size bytes:
// the header, then a hole, so that the file takes no disk space.
func sparse(t testing.TB, dir string, size int64) string {
	t.Helper()
	n := (size - 8 - 128) / 4
	hdr := `{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[` + itoa(n) + `],"data_offsets":[0,` + itoa(n*4) + `]}}`
	hdr += strings.Repeat(" ", 128-len(hdr))
	p := filepath.Join(dir, "big.safetensors")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(append(binary.LittleEndian.AppendUint64(nil, uint64(len(hdr))), hdr...)); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(8 + 128 + n*4); err != nil {
		t.Fatal(err)
	}
	return p
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestTensorDataUnread checks that a large file is judged from its header:
// bytes read stay far below 1% of its size.
func TestTensorDataUnread(t *testing.T) {
	p := sparse(t, t.TempDir(), 64<<20)
	r := scan(t, p)
	if len(r.Findings) != 0 {
		t.Errorf("findings on a valid file:\n%s", dump(r))
	}
	// The pipeline reads every file's head and tail; the cataloger reads
	// the header, which the head holds.
	if r.Stats.BytesRead > inventory.HeadSize+inventory.TailSize {
		t.Errorf("read %d of %d bytes", r.Stats.BytesRead, r.Stats.Bytes)
	}
	if c := r.Component(inventory.FileComponentID(inventory.KindModel, p)); c == nil || c.Properties["parameters"] != itoa((64<<20-136)/4) {
		t.Errorf("component = %+v", c)
	}
}
