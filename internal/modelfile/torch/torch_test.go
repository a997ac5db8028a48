package torch

import (
	"archive/zip"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const fixtures = "../../../testdata/models/benign/torch"

// names lists the members of a real torch archive from the fixtures.
func names(t *testing.T, file string) []string {
	t.Helper()
	z, err := zip.OpenReader(filepath.Join(fixtures, file))
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	var out []string
	for _, f := range z.File {
		out = append(out, f.Name)
	}
	return out
}

func TestZip(t *testing.T) {
	tests := []struct {
		file    string
		format  string
		storage []string // members that are raw tensor bytes
	}{
		{"state_dict_f32_zip.pt", FormatZip, []string{"archive/data/0", "archive/data/1", "archive/data/2", "archive/data/3"}},
		{"whole_model_zip.pt", FormatZip, nil},
		{"torchscript.pt", FormatTorchScript, nil},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			ns := names(t, tc.file)
			l, ok := Zip(ns)
			if !ok || l.Format != tc.format || l.Prefix == "" {
				t.Fatalf("Zip(%v) = %+v, %v; want %s", ns, l, ok, tc.format)
			}
			var storage []string
			for _, n := range ns {
				if l.Storage(n) {
					storage = append(storage, n)
				}
				if filepath.Ext(n) == ".pkl" && l.Storage(n) {
					t.Errorf("pickle %s counted as storage", n)
				}
			}
			if tc.storage != nil {
				if d := cmp.Diff(tc.storage, storage); d != "" {
					t.Errorf("storage (-want +got):\n%s", d)
				}
			} else if len(storage) == 0 {
				t.Error("no storage members found")
			}
		})
	}
}

// TestZipPT2 uses the member names torch.export.save writes (torch 2.x; the
// fixtures' torch 1.13 has no torch.export).
func TestZipPT2(t *testing.T) {
	ns := []string{
		"model/version", "model/serialized_exported_program.json", "model/serialized_state_dict.pt",
		"model/serialized_constants.pt", "model/data/weights/weight_0",
	}
	l, ok := Zip(ns)
	if !ok || l.Format != FormatPT2 || l.Prefix != "model/" {
		t.Fatalf("Zip = %+v, %v; want pytorch-pt2 under model/", l, ok)
	}
	if !l.Storage("model/data/weights/weight_0") || l.Storage("model/serialized_state_dict.pt") {
		t.Error("pt2 weights must be storage, its nested .pt files must not")
	}
}

func TestZipNotTorch(t *testing.T) {
	for _, ns := range [][]string{
		{"a.npy", "b.npy"},
		{"data.pkl"}, // no top folder: not what torch writes
		{"x/readme.txt", "x/data/0"},
		nil,
	} {
		if l, ok := Zip(ns); ok {
			t.Errorf("Zip(%q) = %+v, want no layout", ns, l)
		}
	}
	l := Layout{Format: FormatZip, Prefix: "archive/"}
	for _, n := range []string{"archive/data.pkl", "archive/version", "other/data/0", "archive/data/x/0", "archive/data/"} {
		if l.Storage(n) {
			t.Errorf("Storage(%q) = true", n)
		}
	}
}

func TestIsLegacy(t *testing.T) {
	for _, tc := range []struct {
		file string
		want bool
	}{
		{"state_dict_f32_legacy.pt", true},
		{"state_dict_f32_legacy_p4.pt", true},
		{"whole_model_legacy.pt", true},
		{"state_dict_f32_zip.pt", false},
	} {
		b, err := os.ReadFile(filepath.Join(fixtures, tc.file))
		if err != nil {
			t.Fatal(err)
		}
		if got := IsLegacy(b[:min(len(b), 4096)]); got != tc.want {
			t.Errorf("IsLegacy(%s) = %v, want %v", tc.file, got, tc.want)
		}
	}
	if IsLegacy([]byte{0x80}) || IsLegacy(nil) {
		t.Error("IsLegacy of a stub is true")
	}
}

func TestTar(t *testing.T) {
	if !Tar([]string{"sys_info", "pickle", "storages", "tensors"}) {
		t.Error("legacy tar layout not recognised")
	}
	if Tar([]string{"pickle", "storages"}) {
		t.Error("incomplete layout recognised")
	}
}

func TestElementSize(t *testing.T) {
	for _, tc := range []struct {
		name string
		want int64
		ok   bool
	}{
		{"torch.FloatStorage", 4, true},
		{"torch.cuda.HalfStorage", 2, true},
		{"torch.ComplexDoubleStorage", 16, true},
		{"torch.Tensor", 0, false},
		{"mylib.FloatStorage", 0, false},
		{"", 0, false},
	} {
		if got, ok := ElementSize(tc.name); got != tc.want || ok != tc.ok {
			t.Errorf("ElementSize(%q) = %d, %v; want %d, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}
