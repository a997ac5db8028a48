package lock

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/chainvet/chainvet/internal/inventory"
)

var (
	sumA = strings.Repeat("a", 64)
	sumB = strings.Repeat("b", 64)
	sumC = strings.Repeat("c", 64)
)

// sample is a lock with one of everything, deliberately out of order.
func sample() *File {
	return &File{
		Schema:  Schema,
		Options: Options{Shards: true},
		Files: []Artifact{
			{Path: "models/bert/tokenizer.json", Kind: inventory.KindModel, Size: 3, SHA256: sumB, PartOf: "model:models/bert"},
			{Path: "models/bert/model.safetensors", Kind: inventory.KindModel, Size: ShardSize + 1, SHA256: sumA,
				Shards: []string{sumB, sumC}, ID: "model:models/bert/model.safetensors", Name: "model.safetensors", PartOf: "model:models/bert"},
		},
		Folders: []Folder{{Path: "models/bert", Kind: inventory.KindModel, ID: "model:models/bert", Name: "org/bert",
			Version: "0123456789012345678901234567890123456789", PURL: "pkg:huggingface/org/bert@0123456789012345678901234567890123456789",
			Root: "h1:x", Files: 2}},
		Pins: []Pin{
			{ID: "pkg:pypi/torch@2.5.1", Kind: inventory.KindPackage, Name: "torch", Version: "2.5.1", PURL: "pkg:pypi/torch@2.5.1",
				Source: "https://pypi.org/simple", Digests: []inventory.Digest{{Algorithm: "sha256", Value: sumC}, {Algorithm: "sha256", Value: sumA}},
				Locations: []string{"uv.lock", "pyproject.toml"}},
			{ID: "pkg:docker/python@3.12", Kind: inventory.KindContainer, Name: "python", Version: "3.12", Unpinned: true, Locations: []string{"Dockerfile"}},
		},
	}
}

func TestMarshalParse(t *testing.T) {
	lf := sample()
	b := lf.Marshal()
	if !bytes.Equal(b, sample().Marshal()) {
		t.Fatal("Marshal is not deterministic")
	}
	got, err := Parse(b)
	if err != nil {
		t.Fatalf("Parse(Marshal()): %v\n%s", err, b)
	}
	want := sample()
	want.Sort()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if !bytes.Equal(got.Marshal(), b) {
		t.Error("Marshal(Parse(b)) != b")
	}
	// One entry a line, sorted: the lines a diff shows.
	lines := strings.Split(string(b), "\n")
	if !strings.HasPrefix(lines[4], `    {"path":"models/bert/model.safetensors"`) ||
		!strings.HasPrefix(lines[5], `    {"path":"models/bert/tokenizer.json"`) {
		t.Errorf("files are not one a line in path order:\n%s", b)
	}
	if lf.Files[0].Path != "models/bert/tokenizer.json" {
		t.Error("Marshal sorted its receiver")
	}
}

func TestParseRejects(t *testing.T) {
	good := string(sample().Marshal())
	tests := []struct {
		name, old, new string
	}{
		{"other_schema", `"chainvet/lock/v1"`, `"chainvet/lock/v2"`},
		{"unknown_key", `"options": {`, `"extra": 1, "options": {`},
		{"escaping_path", `"path":"models/bert/tokenizer.json"`, `"path":"../etc/passwd"`},
		{"absolute_path", `"path":"models/bert/tokenizer.json"`, `"path":"/etc/passwd"`},
		{"unclean_path", `"path":"models/bert/tokenizer.json"`, `"path":"models//bert/tokenizer.json"`},
		{"upper_hex", `"sha256":"` + sumB, `"sha256":"` + strings.ToUpper(sumB)},
		{"short_hex", `"sha256":"` + sumB, `"sha256":"` + sumB[:10]},
		{"duplicate_file", `"path":"models/bert/tokenizer.json"`, `"path":"models/bert/model.safetensors"`},
		{"shard_count", `"shards":["` + sumB + `",`, `"shards":["` + sumB + `","` + sumB + `",`},
		{"bad_root", `"root":"h1:x"`, `"root":"md5:x"`},
		{"duplicate_pin", `"id":"pkg:pypi/torch@2.5.1"`, `"id":"pkg:docker/python@3.12"`},
		{"trailing", "}\n", "}\n{}"},
		{"not_json", `{`, `[`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bad := strings.Replace(good, tc.old, tc.new, 1)
			if bad == good {
				t.Fatalf("%q is not in the lock", tc.old)
			}
			if _, err := Parse([]byte(bad)); !errors.Is(err, ErrMalformed) {
				t.Errorf("Parse accepted it (err %v)", err)
			}
		})
	}
}

func TestRead(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, Name)
	if _, err := Read(p); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing lock: %v, want ErrNotExist", err)
	}
	if err := os.WriteFile(p, sample().Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	if lf, err := Read(p); err != nil || len(lf.Files) != 2 {
		t.Errorf("Read: %v, %+v", err, lf)
	}
}

func TestComponents(t *testing.T) {
	cs := sample().Components()
	byID := map[string]inventory.Component{}
	for _, c := range cs {
		byID[c.ID] = c
	}
	if len(byID) != len(cs) {
		t.Errorf("duplicate component IDs: %v", cs)
	}
	tests := []struct {
		id, name, version string
		digest            string
		prop, val         string
	}{
		{"model:models/bert/model.safetensors", "model.safetensors", "", sumA, "part-of", "model:models/bert"},
		{"model:models/bert/tokenizer.json", "tokenizer.json", "", sumB, "part-of", "model:models/bert"},
		{"model:models/bert", "org/bert", "0123456789012345678901234567890123456789", "", "root-digest", "h1:x"},
		{"pkg:pypi/torch@2.5.1", "torch", "2.5.1", sumA, "pinned", "true"},
		{"pkg:docker/python@3.12", "python", "3.12", "", "pinned", "false"},
	}
	for _, tc := range tests {
		c, ok := byID[tc.id]
		if !ok {
			t.Errorf("no component %s", tc.id)
			continue
		}
		if c.Name != tc.name || c.Version != tc.version || c.Properties[tc.prop] != tc.val {
			t.Errorf("%s: got %+v", tc.id, c)
		}
		if tc.digest != "" && (len(c.Digests) == 0 || c.Digests[0].Value != tc.digest) {
			t.Errorf("%s: digests %v, want first %s", tc.id, c.Digests, tc.digest)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(sample().Marshal())
	f.Add([]byte(`{"schema":"chainvet/lock/v1","options":{},"files":[],"folders":[],"pins":[]}`))
	f.Add([]byte(`{"schema":"chainvet/lock/v1","files":[{"path":"../x","sha256":""}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		lf, err := Parse(b)
		if err != nil {
			return
		}
		// Whatever parses must survive its own round trip unchanged.
		again, err := Parse(lf.Marshal())
		if err != nil {
			t.Fatalf("a parsed lock does not re-parse: %v", err)
		}
		if !bytes.Equal(again.Marshal(), lf.Marshal()) {
			t.Fatal("round trip changed the lock")
		}
		for _, a := range lf.Files {
			if strings.HasPrefix(a.Path, "/") || strings.HasPrefix(a.Path, "..") {
				t.Fatalf("path %q escapes", a.Path)
			}
		}
	})
}
