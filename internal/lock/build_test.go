package lock

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/chainvet/chainvet/internal/inventory"
)

// tree writes files under a new folder and returns it.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestBuild(t *testing.T) {
	dir := tree(t, map[string]string{
		"m/config.json": "{}", "m/w.safetensors": "weights", "m/.git/HEAD": "0123456789012345678901234567890123456789",
		"solo.gguf": "gguf", "chainvet.lock": "{}", "notes.txt": "not a model",
	})
	j := func(p string) string { return filepath.Join(dir, p) }
	rep := &inventory.Report{Components: []inventory.Component{
		{ID: "model:" + j("m"), Kind: inventory.KindModel, Name: "org/m", Locations: []inventory.Location{{Path: j("m")}}},
		{ID: "model:" + j("m/w.safetensors"), Kind: inventory.KindModel, Name: "w.safetensors",
			Locations: []inventory.Location{{Path: j("m/w.safetensors")}}, Properties: map[string]string{"part-of": "model:" + j("m")}},
		{ID: "model:" + j("solo.gguf"), Kind: inventory.KindModel, Name: "solo.gguf", Locations: []inventory.Location{{Path: j("solo.gguf")}}},
		{ID: "model:" + j("solo.gguf!inner"), Kind: inventory.KindModel, Locations: []inventory.Location{{Path: j("solo.gguf!inner")}}},
		// A range in a manifest that a lockfile settles, and one it does not.
		{ID: "pkg:pypi/torch", Kind: inventory.KindPackage, Name: "torch", PURL: "pkg:pypi/torch",
			Locations: []inventory.Location{{Path: j("pyproject.toml")}}, Properties: map[string]string{"pinned": "false"}},
		{ID: "pkg:pypi/torch@2.5.1", Kind: inventory.KindPackage, Name: "torch", Version: "2.5.1", PURL: "pkg:pypi/torch@2.5.1",
			Locations: []inventory.Location{{Path: j("uv.lock")}}, Properties: map[string]string{"pinned": "true"}},
		{ID: "pkg:pypi/numpy", Kind: inventory.KindPackage, Name: "numpy", PURL: "pkg:pypi/numpy",
			Locations: []inventory.Location{{Path: j("pyproject.toml")}}, Properties: map[string]string{"pinned": "false"}},
		{ID: "pkg:github/actions/checkout@v4", Kind: inventory.KindPackage, Name: "actions/checkout", Version: "v4",
			PURL: "pkg:github/actions/checkout@v4", Properties: map[string]string{"pinned": "false", "ecosystem": "github"}},
		{ID: "pkg:golang/example.com/app", Kind: inventory.KindPackage, Properties: map[string]string{"main": "true"}},
		{ID: "container:" + j("Dockerfile"), Kind: inventory.KindContainer, Locations: []inventory.Location{{Path: j("Dockerfile")}}},
		{ID: "service:openai", Kind: inventory.KindService},
		{ID: "dataset:huggingface/org/d", Kind: inventory.KindDataset, Properties: map[string]string{"pinned": "false", "referenced-by": "model-card"}},
	}}
	lf, unpinned, err := Build(context.Background(), rep, dir, BuildOptions{Skip: []string{Name}})
	if err != nil {
		t.Fatal(err)
	}
	var files, pins, un []string
	for _, a := range lf.Files {
		files = append(files, a.Path+" "+a.ID+" "+a.PartOf)
	}
	for _, p := range lf.Pins {
		pins = append(pins, p.ID)
	}
	for _, u := range unpinned {
		un = append(un, u.ID)
	}
	wantFiles := []string{
		"m/config.json  model:m",
		"m/w.safetensors model:m/w.safetensors model:m",
		"solo.gguf model:solo.gguf ",
	}
	if !slices.Equal(files, wantFiles) {
		t.Errorf("files %q, want %q", files, wantFiles)
	}
	wantPins := []string{"dataset:huggingface/org/d", "pkg:github/actions/checkout@v4", "pkg:golang/example.com/app", "pkg:pypi/numpy", "pkg:pypi/torch@2.5.1"}
	if !slices.Equal(pins, wantPins) {
		t.Errorf("pins %q, want %q", pins, wantPins)
	}
	if want := []string{"pkg:github/actions/checkout@v4", "pkg:pypi/numpy"}; !slices.Equal(un, want) {
		t.Errorf("unpinned %q, want %q", un, want)
	}
	if len(lf.Folders) != 1 || lf.Folders[0].Files != 2 || lf.Folders[0].Git != "0123456789012345678901234567890123456789" {
		t.Errorf("folders %+v", lf.Folders)
	}
	if _, err := Parse(lf.Marshal()); err != nil {
		t.Errorf("Build made a lock Parse refuses: %v", err)
	}

	// Prehashed digests give the same lock, and are used as they are.
	opt := BuildOptions{Skip: []string{Name}, Prior: lf}
	hashed, err := Prehash(context.Background(), dir, opt)
	if err != nil || len(hashed) != 3 {
		t.Fatalf("Prehash: %v, %v", hashed, err)
	}
	again, _, err := Build(context.Background(), rep, dir, BuildOptions{Skip: []string{Name}, Hashed: hashed})
	if err != nil || !bytes.Equal(again.Marshal(), lf.Marshal()) {
		t.Errorf("a build from prehashed digests differs: %v\n%s", err, again.Marshal())
	}
	fake := hashed["solo.gguf"]
	fake.SHA256 = sumA
	hashed["solo.gguf"] = fake
	again, _, _ = Build(context.Background(), rep, dir, BuildOptions{Skip: []string{Name}, Hashed: hashed})
	if i := slices.IndexFunc(again.Files, func(a Artifact) bool { return a.Path == "solo.gguf" }); again.Files[i].SHA256 != sumA {
		t.Error("Build re-hashed a prehashed file")
	}

	// Update keeps what is not named.
	os.WriteFile(j("solo.gguf"), []byte("new gguf"), 0o644)
	os.WriteFile(j("m/config.json"), []byte(`{"x":1}`), 0o644)
	up, _, err := Build(context.Background(), rep, dir, BuildOptions{Skip: []string{Name}, Prior: lf,
		Keep: func(p string, _ []string) bool { return p != "solo.gguf" }})
	if err != nil {
		t.Fatal(err)
	}
	ds := Compare(lf, up, Filter{})
	if len(ds) != 1 || ds[0].Path != "solo.gguf" || ds[0].Rule != RuleChanged {
		t.Errorf("update re-pinned more than it was told: %+v", ds)
	}
}
