package catalog

import (
	"archive/tar"
	"archive/zip"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chainvet/chainvet/internal/catalog/manifest"
	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/rules"
)

const fixtures = "../../testdata/models"

func scan(t testing.TB, targets ...string) *inventory.Report {
	t.Helper()
	cfg := DefaultConfig()
	r, err := inventory.Scan(context.Background(), targets, inventory.Options{
		Catalogers: Catalogers(cfg),
		Analyzers:  Analyzers(cfg),
		MaxDepth:   8,
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestManifest scans every fixture of every testdata/*/MANIFEST.tsv and
// testdata/*/*/MANIFEST.tsv (testdata/bom/..., testdata/pkg/...) and
// checks the findings against what the generator says the file is: benign
// files stay at or below low, malicious ones reach their severity, with the
// rules and evidence named.
func TestManifest(t *testing.T) {
	testdata := filepath.Join(fixtures, "..")
	files, err := filepath.Glob(filepath.Join(testdata, "*", "MANIFEST.tsv"))
	more, err2 := filepath.Glob(filepath.Join(testdata, "*", "*", "MANIFEST.tsv"))
	files = append(files, more...)
	if err != nil || err2 != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v %v", err, err2)
	}
	var rows []manifest.Row
	for _, m := range files {
		rs, err := manifest.Read(m)
		if err != nil {
			t.Fatal(err)
		}
		// Paths in the rows become relative to testdata/.
		dir, _ := filepath.Rel(testdata, filepath.Dir(m))
		for _, r := range rs {
			r.Path = filepath.Join(dir, r.Path)
			rows = append(rows, r)
		}
	}
	if len(rows) < 50 {
		t.Fatalf("only %d fixtures in the manifest", len(rows))
	}
	for _, row := range rows {
		t.Run(strings.ReplaceAll(row.Path, "/", "_"), func(t *testing.T) {
			r := scan(t, filepath.Join(fixtures, "..", row.Path))
			for _, p := range row.Check(r) {
				t.Errorf("%s (%s): %s\n%s", row.Path, row.Description, p, manifest.Dump(r))
			}
			for _, f := range r.Findings {
				if _, ok := rules.Lookup(f.Rule); !ok {
					t.Errorf("finding with unlisted rule %q", f.Rule)
				}
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

func dump(r *inventory.Report) string {
	var b strings.Builder
	for _, f := range r.Findings {
		b.WriteString("  " + f.Severity.String() + " " + f.Rule + " " + f.Path + ": " + f.Evidence + "\n")
	}
	return b.String()
}

// TestTensorDataUnread builds a PyTorch archive around a real data.pkl with
// 64 MiB of tensor storage and checks that the scan reads the pickle and
// the zip's headers, not the storage.
func TestTensorDataUnread(t *testing.T) {
	src, err := zip.OpenReader(filepath.Join(fixtures, "benign", "torch", "state_dict_f32_zip.pt"))
	if err != nil {
		t.Skipf("fixture: %v", err)
	}
	defer src.Close()
	out := filepath.Join(t.TempDir(), "big.pt")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	w := zip.NewWriter(f)
	for _, m := range src.File {
		rc, err := m.Open()
		if err != nil {
			t.Fatal(err)
		}
		hdr := m.FileHeader
		hdr.Method = zip.Store
		dst, err := w.CreateHeader(&hdr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(dst, rc); err != nil {
			t.Fatal(err)
		}
		rc.Close()
	}
	const storage = 64 << 20
	dst, err := w.CreateHeader(&zip.FileHeader{Name: "archive/data/999", Method: zip.Store})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(dst, zeros{}, storage); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	r := scan(t, out)
	if worst, _ := r.Max(); worst > inventory.Low {
		t.Errorf("benign checkpoint rated %s:\n%s", worst, dump(r))
	}
	if r.Stats.Bytes < storage || r.Stats.BytesRead > 1<<20 {
		t.Errorf("read %d of %d bytes; want the pickle and headers only (< 1 MiB)", r.Stats.BytesRead, r.Stats.Bytes)
	}
	c := r.Component(inventory.FileComponentID(inventory.KindModel, out))
	if c == nil || c.Properties["format"] != "pytorch-zip" || c.Properties["framework"] != "pytorch" {
		t.Errorf("component = %+v, want a pytorch-zip model", c)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestTorchTarMalformed checks that a tar in PyTorch's layout whose
// storages member cannot be walked as torch walks it is reported, not
// passed: the bytes after the break might hold pickles torch would run.
func TestTorchTarMalformed(t *testing.T) {
	one := "\x80\x02K\x01."                                                  // 1
	str := "\x80\x02X\x01\x00\x00\x00x."                                     // 'x'
	unknownType := "\x80\x02K\x00X\x03\x00\x00\x00cpucmylib\nStorage\n\x87." // (0, 'cpu', mylib.Storage)
	tests := []struct {
		name, storages string
		rule           string
	}{
		{"count_not_int", str, "model/malformed"},
		{"unknown_storage_type", one + unknownType + "\x01\x00\x00\x00\x00\x00\x00\x00abcd", "model/malformed"},
		{"ends_early", one, "model/malformed"},
		{"truncated_pickle", one[:3], "pickle/malformed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "old.pt")
			f, err := os.Create(p)
			if err != nil {
				t.Fatal(err)
			}
			tw := tar.NewWriter(f)
			for _, m := range []struct{ name, data string }{
				{"sys_info", "\x80\x02}."}, {"pickle", "\x80\x02}."}, {"storages", tc.storages}, {"tensors", "\x80\x02K\x00."},
			} {
				if err := tw.WriteHeader(&tar.Header{Name: m.name, Mode: 0o644, Size: int64(len(m.data))}); err != nil {
					t.Fatal(err)
				}
				if _, err := io.WriteString(tw, m.data); err != nil {
					t.Fatal(err)
				}
			}
			if err := tw.Close(); err != nil {
				t.Fatal(err)
			}
			f.Close()
			r := scan(t, p)
			if !hasRule(r, tc.rule) {
				t.Errorf("no %s finding:\n%s", tc.rule, dump(r))
			}
			if c := r.Component(inventory.FileComponentID(inventory.KindModel, p)); c == nil || c.Properties["format"] != "pytorch-tar" {
				t.Errorf("component = %+v, want a pytorch-tar model", c)
			}
		})
	}
}

// TestTarEndingInZip tells a tarball whose last member is a model archive
// (benign: the zip's directory merely shows in the tar's tail) from a tar
// with a zip appended after its members (a polyglot that zip readers open).
func TestTarEndingInZip(t *testing.T) {
	model, err := os.ReadFile(filepath.Join(fixtures, "benign", "torch", "state_dict_f32_zip.pt"))
	if err != nil {
		t.Fatal(err)
	}
	evil, err := os.ReadFile(filepath.Join(fixtures, "malicious", "torch", "injected_state_dict.pt"))
	if err != nil {
		t.Fatal(err)
	}
	tarOf := func(members ...[2]string) []byte {
		var b strings.Builder
		tw := tar.NewWriter(&b)
		for _, m := range members {
			if err := tw.WriteHeader(&tar.Header{Name: m[0], Mode: 0o644, Size: int64(len(m[1]))}); err != nil {
				t.Fatal(err)
			}
			io.WriteString(tw, m[1])
		}
		tw.Close()
		return []byte(b.String())
	}
	dir := t.TempDir()
	member := filepath.Join(dir, "bundle.tar")
	os.WriteFile(member, tarOf([2]string{"README", "hi"}, [2]string{"model.pt", string(model)}), 0o644)
	appended := filepath.Join(dir, "appended.tar")
	os.WriteFile(appended, append(tarOf([2]string{"README", "hi"}), evil...), 0o644)

	if r := scan(t, member); r.CountAtLeast(inventory.Medium) > 0 {
		t.Errorf("tarball ending in a model archive flagged:\n%s", dump(r))
	}
	r := scan(t, appended)
	if !hasRule(r, "archive/prefix-data") || !hasRule(r, "pickle/dangerous-call") {
		t.Errorf("zip appended to a tar not opened as a polyglot:\n%s", dump(r))
	}
}

func TestLink(t *testing.T) {
	r := &inventory.Report{Components: []inventory.Component{
		{ID: "model:a", Kind: inventory.KindModel, Properties: map[string]string{"datasets": "org/one,org/missing"}},
		{ID: "dataset:huggingface/org/one", Kind: inventory.KindDataset},
		{ID: "service:openai", Kind: inventory.KindService, Properties: map[string]string{"authenticated": "false,true"}},
		{ID: "service:ollama", Kind: inventory.KindService, Properties: map[string]string{"authenticated": "false"}},
	}}
	Link(r)
	if d := r.Components[0].DependsOn; len(d) != 1 || d[0] != "dataset:huggingface/org/one" {
		t.Errorf("model depends on %q, want the one dataset found", d)
	}
	if a := r.Components[2].Properties["authenticated"]; a != "true" {
		t.Errorf("authenticated = %q, want true when any use has a key", a)
	}
	if a := r.Components[3].Properties["authenticated"]; a != "false" {
		t.Errorf("authenticated = %q, want false", a)
	}
}

// TestTyposquatEndToEnd checks the typosquat analyzer sees the packages the
// Python cataloger reads from a requirements file.
func TestTyposquatEndToEnd(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "requirements.txt"), []byte("requests==2.32.3\nreqeusts==2.31.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := scan(t, dir)
	var got []string
	for _, f := range r.Findings {
		if f.Rule == "package/typosquat" {
			got = append(got, f.Component+" "+f.Evidence)
		}
	}
	if len(got) != 1 || !strings.Contains(got[0], "pkg:pypi/reqeusts@2.31.0") || !strings.Contains(got[0], `"requests"`) {
		t.Errorf("typosquat findings = %q, want one for reqeusts naming requests", got)
	}
}
