package lock

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/dirhash"

	"github.com/chainvet/chainvet/internal/inventory"
)

func TestCompare(t *testing.T) {
	const c1, c2 = "1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222"
	base := func() *File {
		return &File{Schema: Schema,
			Files: []Artifact{
				{Path: "m/model-00001-of-00002.safetensors", Kind: inventory.KindModel, Size: 10, SHA256: sumA},
				{Path: "m/model-00002-of-00002.safetensors", Kind: inventory.KindModel, Size: 10, SHA256: sumB},
				{Path: "data/train.csv", Kind: inventory.KindDataset, Size: 5, SHA256: sumC},
			},
			Folders: []Folder{{Path: "hub/snapshots/" + c1, Kind: inventory.KindModel, ID: "model:hub/snapshots/" + c1, Name: "org/m", Version: c1, Root: "h1:r"}},
			Pins: []Pin{
				{ID: "pkg:pypi/torch@2.5.1", Kind: inventory.KindPackage, Name: "torch", Version: "2.5.1", PURL: "pkg:pypi/torch@2.5.1",
					Digests: []inventory.Digest{{Algorithm: "sha256", Value: sumA}}, Locations: []string{"uv.lock"}},
				{ID: "pkg:huggingface/org/bert@" + c1, Kind: inventory.KindModel, Name: "org/bert", Version: c1, PURL: "pkg:huggingface/org/bert@" + c1, Locations: []string{"app.py"}},
				{ID: "pkg:github/actions/checkout@" + c1, Kind: inventory.KindPackage, Name: "actions/checkout", Version: c1, PURL: "pkg:github/actions/checkout@" + c1},
			},
		}
	}
	tests := []struct {
		name   string
		edit   func(*File)
		filter Filter
		want   []string // rule path
	}{
		{"same", func(*File) {}, Filter{}, nil},
		{"flipped_byte", func(f *File) { f.Files[0].SHA256 = sumC }, Filter{}, []string{"lock/changed m/model-00001-of-00002.safetensors"}},
		{"grown", func(f *File) { f.Files[2].Size++ }, Filter{}, []string{"lock/changed data/train.csv"}},
		{"renamed_shard", func(f *File) { f.Files[0].Path = "m/model-00003-of-00003.safetensors" }, Filter{},
			[]string{"lock/renamed m/model-00003-of-00003.safetensors"}},
		{"swapped_shards", func(f *File) { f.Files[0].SHA256, f.Files[1].SHA256 = sumB, sumA }, Filter{},
			[]string{"lock/changed m/model-00001-of-00002.safetensors", "lock/changed m/model-00002-of-00002.safetensors"}},
		{"missing", func(f *File) { f.Files = f.Files[1:] }, Filter{}, []string{"lock/missing m/model-00001-of-00002.safetensors"}},
		{"added", func(f *File) {
			f.Files = append(f.Files, Artifact{Path: "m/extra.bin", Kind: inventory.KindModel, Size: 1, SHA256: sumC})
		}, Filter{}, []string{"lock/added m/extra.bin"}},
		{"swapped_revision", func(f *File) {
			f.Pins[1] = Pin{ID: "pkg:huggingface/org/bert@" + c2, Kind: inventory.KindModel, Name: "org/bert", Version: c2, PURL: "pkg:huggingface/org/bert@" + c2}
		}, Filter{}, []string{"lock/revision-changed pkg:huggingface/org/bert@" + c1}},
		{"action_commit", func(f *File) {
			f.Pins[2].ID, f.Pins[2].Version, f.Pins[2].PURL = "pkg:github/actions/checkout@v4", "v4", "pkg:github/actions/checkout@v4"
		}, Filter{}, []string{"lock/revision-changed pkg:github/actions/checkout@" + c1}},
		{"package_hash", func(f *File) { f.Pins[0].Digests[0].Value = sumB }, Filter{}, []string{"lock/package-hash-changed pkg:pypi/torch@2.5.1"}},
		{"package_gone", func(f *File) { f.Pins = f.Pins[1:] }, Filter{}, []string{"lock/missing pkg:pypi/torch@2.5.1"}},
		{"folder_revision", func(f *File) {
			f.Folders[0].Path, f.Folders[0].Version = "hub/snapshots/"+c2, c2
		}, Filter{}, []string{"lock/revision-changed hub/snapshots/" + c2}},
		{"folder_root", func(f *File) { f.Folders[0].Root = "h1:s" }, Filter{}, []string{"lock/folder-changed hub/snapshots/" + c1}},
		{"filter_kind", func(f *File) { f.Files[0].SHA256, f.Files[2].SHA256 = sumC, sumA }, Filter{Kinds: []inventory.Kind{inventory.KindDataset}},
			[]string{"lock/changed data/train.csv"}},
		{"filter_path", func(f *File) { f.Files[0].SHA256, f.Files[2].SHA256 = sumC, sumA }, Filter{Paths: []string{"m"}},
			[]string{"lock/changed m/model-00001-of-00002.safetensors"}},
		{"filter_glob", func(f *File) { f.Files[0].SHA256, f.Files[2].SHA256 = sumC, sumA }, Filter{Paths: []string{"data/*.csv"}},
			[]string{"lock/changed data/train.csv"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			now := base()
			tc.edit(now)
			var got []string
			for _, d := range Compare(base(), now, tc.filter) {
				got = append(got, d.Rule+" "+d.Path)
				if !strings.HasPrefix(d.Accept, "chainvet lock --update ") {
					t.Errorf("%s: accept %q", d.Path, d.Accept)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCompareShards(t *testing.T) {
	lf := &File{Files: []Artifact{{Path: "w.bin", Size: ShardSize + 1, SHA256: sumA, Shards: []string{sumB, sumC}}}}
	tests := []struct {
		name   string
		shards []string
		size   int64
		want   bool
	}{
		{"same", []string{sumB, sumC}, ShardSize + 1, true},
		{"second_shard", []string{sumB, sumA}, ShardSize + 1, false},
		{"fewer", []string{sumB}, ShardSize + 1, false},
		{"size", []string{sumB, sumC}, ShardSize + 2, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			now := &File{Files: []Artifact{{Path: "w.bin", Size: tc.size, Shards: tc.shards}}}
			if got := len(Compare(lf, now, Filter{})) == 0; got != tc.want {
				t.Errorf("same = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestFolderRoot(t *testing.T) {
	dir := t.TempDir()
	names := []string{"config.json", "sub/b.bin", "a b.txt", "model.safetensors"}
	var files []Artifact
	for i, n := range names {
		p := filepath.Join(dir, "m", filepath.FromSlash(n))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(strings.Repeat("x", i)), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, Artifact{Path: "m/" + n, SHA256: sha(strings.Repeat("x", i))})
	}
	files = append(files, Artifact{Path: "other/x", SHA256: sumA})
	got, n := FolderRoot(files, "m")
	want, err := dirhash.Hash1(names, func(n string) (io.ReadCloser, error) { return os.Open(filepath.Join(dir, "m", n)) })
	if err != nil {
		t.Fatal(err)
	}
	if got != want || n != len(names) {
		t.Errorf("FolderRoot = %s (%d files), dirhash.Hash1 = %s", got, n, want)
	}
}

func TestPinKey(t *testing.T) {
	tests := []struct{ purl, want string }{
		{"pkg:pypi/torch@2.5.1", "package|pkg:pypi/torch"},
		{"pkg:npm/%40scope/x@1.0.0", "package|pkg:npm/%40scope/x"},
		{"pkg:docker/py@sha256:ab?repository_url=gcr.io", "package|pkg:docker/py?repository_url=gcr.io"},
		{"pkg:github/github/codeql-action@v3#init", "package|pkg:github/github/codeql-action#init"},
		{"pkg:pypi/torch", "package|pkg:pypi/torch"},
	}
	for _, tc := range tests {
		if got := PinKey(Pin{Kind: inventory.KindPackage, PURL: tc.purl}); got != tc.want {
			t.Errorf("PinKey(%s) = %s, want %s", tc.purl, got, tc.want)
		}
	}
}
