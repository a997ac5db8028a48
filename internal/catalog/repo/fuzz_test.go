package repo

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/modelfile/archive"
)

// fuzzNames are the names the fuzzed bytes are given in a repository
// folder: each takes Repo down another path.
var fuzzNames = []string{
	"config.json", "tokenizer_config.json", "model_index.json", "model.safetensors.index.json",
	"README.md", "modeling.py", "demo.ipynb", "chat_template.jinja", "setup.sh", "model.safetensors",
	"tokenizer.json", "lib.so",
}

// addSeeds adds every fixture of the repository tests under each name
// index, so that each path starts from real input.
func addSeeds(f *testing.F, pattern string, names int) {
	files, _ := filepath.Glob(pattern)
	for _, p := range files {
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() || fi.Size() > 64<<10 {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		for i := range names {
			f.Add(uint8(i), b)
		}
	}
}

// checkFindings fails on findings that name no rule, path or message.
func checkFindings(t *testing.T, s *sink) {
	t.Helper()
	for _, fd := range s.findings {
		if fd.Rule == "" || fd.Path == "" || fd.Message == "" {
			t.Fatalf("incomplete finding %+v", fd)
		}
	}
	for _, c := range s.comps {
		if c.ID == "" {
			t.Fatalf("component without an ID: %+v", c)
		}
	}
}

// FuzzRepo runs Repo over any bytes under each of the names it treats
// specially, in a folder that is a model repository.
func FuzzRepo(f *testing.F) {
	for _, dir := range []string{"remote_code", "sharded", "notebook", "bad_config", "evil_template", "lfs_pointer", "mismatch"} {
		addSeeds(f, filepath.Join(fixtures, dir, "*"), len(fuzzNames))
	}
	cfg, err := os.ReadFile(filepath.Join(fixtures, "sharded_ok", "config.json"))
	if err != nil {
		f.Fatal(err)
	}
	lim := Limits{JSON: 1 << 20}
	f.Fuzz(func(t *testing.T, which uint8, b []byte) {
		name := fuzzNames[int(which)%len(fuzzNames)]
		dir := t.TempDir()
		if name != "config.json" {
			os.WriteFile(filepath.Join(dir, "config.json"), cfg, 0o644)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		file := memFile(t, p, b, 0)
		if !(Repo{}).Wants(file) {
			return
		}
		s := &sink{}
		if err := (Repo{Limits: lim}).Catalog(context.Background(), file, s); err != nil {
			t.Fatal(err)
		}
		checkFindings(t, s)
	})
}

// marFuzzLimits keep each input cheap: the archive layer's defaults let
// one member inflate to gigabytes, which a fuzzer finds and then spends its
// time on.
var marFuzzLimits = archive.Limits{Entries: 200, Decompressed: 8 << 20, MemBuffer: 1 << 20, Window: 8 << 20}

// FuzzMar runs Mar over any bytes named .mar.
func FuzzMar(f *testing.F) {
	addSeeds(f, filepath.Join(fixtures, "mar", "*.mar"), 1)
	m := Mar{Archive: marFuzzLimits}
	f.Fuzz(func(t *testing.T, _ uint8, b []byte) {
		file := memFile(t, "m.mar", b, 0)
		if !m.Wants(file) {
			return
		}
		s := &sink{}
		if err := m.Catalog(context.Background(), file, s); err != nil {
			t.Fatal(err)
		}
		checkFindings(t, s)
	})
}

// FuzzOCI runs OCI over a layout whose index.json (which 0) or whose
// single manifest (which 1) is the fuzzed bytes.
func FuzzOCI(f *testing.F) {
	for _, dir := range []string{"docker-model", "modelpack", "modelpack-bad"} {
		addSeeds(f, filepath.Join(fixtures, "oci", dir, "index.json"), 1)
		addSeeds(f, filepath.Join(fixtures, "oci", dir, "blobs", "sha256", "*"), 2)
	}
	const manifest = "0000000000000000000000000000000000000000000000000000000000000000"
	f.Fuzz(func(t *testing.T, which uint8, b []byte) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion": "1.0.0"}`), 0o644)
		index := b
		if which%2 == 1 {
			index = []byte(`{"manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:` + manifest + `", "size": 1}]}`)
			os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755)
			os.WriteFile(filepath.Join(dir, "blobs", "sha256", manifest), b, 0o644)
		}
		os.WriteFile(filepath.Join(dir, "index.json"), index, 0o644)
		p := filepath.Join(dir, "oci-layout")
		head, _ := os.ReadFile(p)
		s := &sink{}
		if err := (OCI{}).Catalog(context.Background(), memFile(t, p, head, 0), s); err != nil {
			t.Fatal(err)
		}
		checkFindings(t, s)
		for _, c := range s.comps {
			if c.Kind != inventory.KindModel {
				t.Fatalf("component of kind %q", c.Kind)
			}
		}
	})
}
