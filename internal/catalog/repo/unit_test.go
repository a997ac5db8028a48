package repo

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/modelfile/pysource"
)

// memFile makes a File of b named name, depth levels deep in archives.
func memFile(t testing.TB, name string, b []byte, depth int) *inventory.File {
	t.Helper()
	f, err := inventory.NewFile(name, bytes.NewReader(b), int64(len(b)), nil)
	if err != nil {
		t.Fatal(err)
	}
	f.Depth = depth
	return f
}

var (
	elf          = append([]byte("\x7fELF\x02\x01\x01"), make([]byte, 57)...)
	machO        = []byte{0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1}
	fatMachO     = []byte{0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2}
	javaClass    = []byte{0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52}
	pe           = peHeader()
	zipBytes     = []byte("PK\x03\x04" + strings.Repeat("\x00", 26))
	stHeader     = []byte("\x0e\x00\x00\x00\x00\x00\x00\x00{\"__metadata__\"")
	lfsPtr       = []byte("version https://git-lfs.github.com/spec/v1\noid sha256:" + strings.Repeat("a", 64) + "\nsize 12\n")
	pickleBytes  = []byte("\x80\x02}q\x00X\x01\x00\x00\x00aq\x01K\x01s.")
	pickleText   = []byte("cos\nsystem\n(S'true'\ntR.")
	notebookJSON = []byte(`{"cells": [], "nbformat": 4}`)
)

func peHeader() []byte {
	b := make([]byte, 0x80)
	copy(b, "MZ")
	b[0x3c] = 0x40
	copy(b[0x40:], "PE\x00\x00")
	return b
}

func TestSniff(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		want content
	}{
		{"elf", elf, cELF},
		{"macho", machO, cMachO},
		{"fat_macho", fatMachO, cMachO},
		{"java_class_is_not_macho", javaClass, cBinary},
		{"pe", pe, cPE},
		{"mz_without_pe", append([]byte("MZ"), make([]byte, 100)...), cBinary},
		{"zip", zipBytes, cZip},
		{"safetensors", append(stHeader, make([]byte, 16)...), cSafetensors},
		{"safetensors_header_too_long", []byte("\xff\xff\x00\x00\x00\x00\x00\x00{}"), cBinary},
		{"lfs", lfsPtr, cLFS},
		{"gguf", []byte("GGUF\x03\x00\x00\x00"), cGGUF},
		{"hdf5", []byte("\x89HDF\r\n\x1a\n"), cHDF5},
		{"gzip", []byte{0x1f, 0x8b, 8, 0}, cGzip},
		{"7z", []byte{'7', 'z', 0xbc, 0xaf, 0x27, 0x1c}, c7z},
		{"tflite", []byte("\x1c\x00\x00\x00TFL3"), cTFLite},
		{"utf16_text", []byte{0xff, 0xfe, 'a', 0}, cText},
		{"text", []byte("hello"), cText},
		{"empty", nil, cUnknown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := sniff(memFile(t, "x", tc.b, 0)); got != tc.want {
				t.Errorf("sniff = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestMismatch(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		want content // cUnknown: no mismatch reported here
	}{
		{"config.json", zipBytes, cZip},
		{"tokenizer.json", []byte("{\x00}"), cBinary},
		{"tokenizer.json", []byte(`{"a": 1}`), cUnknown},
		{"pytorch_model.bin", elf, cELF},
		{"pytorch_model.bin", zipBytes, cUnknown},
		{"model.pt", pickleBytes, cUnknown},
		{"model.safetensors", zipBytes, cZip},
		{"model.safetensors", append(stHeader, make([]byte, 16)...), cUnknown},
		{"model.safetensors", lfsPtr, cUnknown},      // repo/lfs-pointer instead
		{"model.safetensors", pickleBytes, cUnknown}, // the pickle cataloger reports it
		{"vocab.json", pickleBytes, cUnknown},        // likewise
		{"modeling.py", pickleBytes, cPickle},        // not under a name the pickle cataloger checks
		{"model.keras", pickleText, cPickle},         // likewise
		{"modeling.py", []byte("import os\n"), cUnknown},
		{"libx.so", elf, cUnknown},
		{"weights.gguf", []byte("GGUF"), cUnknown},
		{"weights.gguf", machO, cMachO},
		{"model.onnx", []byte{8, 7, 0x12, 0}, cUnknown},
		{"model.onnx", pe, cPE},
		{"readme.unknownext", elf, cUnknown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := memFile(t, tc.name, tc.b, 0)
			got, ok := mismatch(f, sniff(f))
			if !ok {
				got = cUnknown
			}
			if got != tc.want {
				t.Errorf("mismatch = %v (%v), want %v", got, ok, tc.want)
			}
		})
	}
}

func TestWants(t *testing.T) {
	tests := []struct {
		name  string
		b     []byte
		depth int
		repo  bool // Repo
		mar   bool // Mar
		oci   bool // OCI
	}{
		{"config.json", []byte(` {"model_type": "x"}`), 0, true, false, false},
		{"config.json", []byte(`not json`), 0, false, false, false},
		{"model.safetensors.index.json", []byte(`{"weight_map": {}}`), 1, true, false, false},
		{"README.md", []byte("---\nlicense: mit\n---\n"), 0, true, false, false},
		{"README.md", []byte("---\nlicense: mit\n---\n"), 1, false, false, false},
		{"modeling.py", []byte("import os\n"), 0, true, false, false},
		{"modeling.py", []byte("import os\n"), 1, true, false, false}, // only for a pickle in disguise
		{"run", []byte("#!/usr/bin/env python3\nimport os\n"), 0, true, false, false},
		{"demo.ipynb", notebookJSON, 0, true, false, false},
		{"setup.sh", []byte("#!/bin/sh\n"), 0, true, false, false},
		{"chat_template.jinja", []byte("{{ x }}"), 0, true, false, false}, // only for a pickle in disguise: package templates checks it
		{"anything", lfsPtr, 1, true, false, false},
		{"anything", elf, 1, true, false, false},
		{"notes.txt", []byte("hello"), 0, false, false, false},
		{"image.png", []byte("\x89PNG"), 0, false, false, false},
		{"oci-layout", []byte(`{"imageLayoutVersion": "1.0.0"}`), 0, false, false, true},
		{"oci-layout", []byte(`{"imageLayoutVersion": "1.0.0"}`), 1, false, false, false},
		{"model.mar", zipBytes, 0, true, true, false}, // Repo links it to its repository
		{"model.zip", append(append([]byte{}, zipBytes...), []byte(marManifest)...), 0, false, true, false},
		{"model.zip", zipBytes, 0, false, false, false},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s_depth%d", tc.name, tc.depth), func(t *testing.T) {
			f := memFile(t, tc.name, tc.b, tc.depth)
			got := [3]bool{Repo{}.Wants(f), Mar{}.Wants(f), OCI{}.Wants(f)}
			if want := [3]bool{tc.repo, tc.mar, tc.oci}; got != want {
				t.Errorf("Wants (repo, mar, oci) = %v, want %v", got, want)
			}
		})
	}
}

// sink collects what a cataloger reports.
type sink struct {
	comps    []inventory.Component
	findings []inventory.Finding
}

func (s *sink) Component(c inventory.Component)                  { s.comps = append(s.comps, c) }
func (s *sink) Finding(f inventory.Finding)                      { s.findings = append(s.findings, f) }
func (s *sink) Scan(ctx context.Context, member *inventory.File) {}

// judged renders findings as "rule severity line".
func (s *sink) judged() []string {
	var out []string
	for _, f := range s.findings {
		out = append(out, fmt.Sprintf("%s %s %d", f.Rule, f.Severity, f.Line))
	}
	return out
}

func TestCode(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{"clean", "import torch\nx = torch.zeros(3)\n", nil},
		{"system", "import os\nos.system('x')\n", []string{"repo/code-exec critical 2"}},
		{"subprocess_alias", "import subprocess as s\ns.Popen(['a'])\n", []string{"repo/code-exec critical 2"}},
		{"reference_only", "import os\nrun = os.system\n", []string{"repo/code-exec high 2"}},
		{"star_import", "from os import *\nsystem('x')\n", []string{"repo/code-exec critical 2"}},
		{"exec_literal", "exec('print(1)')\n", []string{"repo/code-exec high 1"}},
		{"exec_variable", "exec(code)\n", []string{"repo/code-exec critical 1"}},
		{"eval_decoded", "import base64\neval(base64.b64decode(b'MQ=='))\n", []string{"repo/code-exec critical 2"}},
		{"builtins_getattr", "getattr(__builtins__, 'ex' + 'ec')\ngetattr(__builtins__, 'exec')(s)\n", []string{"repo/code-exec critical 2"}},
		{"dunder_import_chain", "__import__('os').popen('id')\n", []string{"repo/code-import medium 1", "repo/code-exec critical 1"}},
		{"import_module_variable", "import importlib\nimportlib.import_module(name)\n", []string{"repo/code-import high 2"}},
		{"sys_path", "import sys\nsys.path.insert(0, '/opt/x')\n", []string{"repo/code-import high 2"}},
		{"pickle_loads", "import pickle\npickle.loads(blob)\n", []string{"repo/code-exec high 2"}},
		{"ctypes_import_only", "import ctypes\n", []string{"repo/code-import medium 1"}},
		{"ctypes_call", "import ctypes\nctypes.CDLL('libx.so')\n", []string{"repo/code-exec high 2"}},
		{"network", "import requests\nrequests.post(u, data=d)\n", []string{"repo/code-network high 2"}},
		{"urllib", "from urllib.request import urlopen\nurlopen(u)\n", []string{"repo/code-network high 2"}},
		{"open_write_home", "open('~/.ssh/authorized_keys', 'a')\n", []string{"repo/code-file high 1"}},
		{"open_read_etc", "open('/etc/passwd')\n", []string{"repo/code-file medium 1"}},
		{"open_mode_keyword", "open('/etc/x', mode='wb')\n", []string{"repo/code-file high 1"}},
		{"open_relative", "open('vocab.txt', 'w')\n", nil},
		{"open_tmp", "open('/tmp/cache.bin', 'wb')\n", nil},
		{"open_parent", "open('../../x', 'w')\n", []string{"repo/code-file high 1"}},
		{"rmtree_home", "import shutil\nshutil.rmtree(os.path.expanduser('~'))\n", []string{"repo/code-file high 2"}},
		{"remove_relative", "import os\nos.remove('cache.bin')\n", nil},
		{"syntax_error_then_resync", "x = 'open\nos.system(1)\n", []string{"repo/malformed medium 1", "repo/code-exec critical 2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &sink{}
			c := &code{s: s, path: "m.py", lines: true, lim: pysource.DefaultLimits}
			if err := c.judge(context.Background(), []byte(tc.src)); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, s.judged()); diff != "" {
				t.Errorf("findings (-want +got):\n%s\n%+v", diff, s.findings)
			}
		})
	}
}

func TestSplitMagics(t *testing.T) {
	src := "!pip install x\nimport os\nfiles = !ls\n%matplotlib inline\n%pip install y\nd = {'a': '!b'}\n"
	py, shell := splitMagics(src)
	want := []shellLine{{1, "!pip install x"}, {3, "files = !ls"}, {5, "%pip install y"}}
	if diff := cmp.Diff(want, shell, cmp.AllowUnexported(shellLine{})); diff != "" {
		t.Errorf("shell lines (-want +got):\n%s", diff)
	}
	if wantPy := "\nimport os\n\n\n\nd = {'a': '!b'}\n"; py != wantPy {
		t.Errorf("python = %q, want %q", py, wantPy)
	}
	py, shell = splitMagics("%%bash\nrm -rf /tmp/x\n")
	if strings.TrimSpace(py) != "" || len(shell) != 1 {
		t.Errorf("cell magic: python %q, shell %v", py, shell)
	}
	py, shell = splitMagics("%%timeit\nx = 1\n")
	if strings.TrimSpace(py) != "" || len(shell) != 0 {
		t.Errorf("other cell magic: python %q, shell %v", py, shell)
	}
}

func TestParseLFS(t *testing.T) {
	p, err := parseLFS(lfsPtr)
	if err != nil || p.oid != strings.Repeat("a", 64) || p.size != 12 {
		t.Errorf("parseLFS = %+v, %v", p, err)
	}
	for _, bad := range []string{
		"version https://git-lfs.github.com/spec/v1\nsize 12\n",
		"version https://git-lfs.github.com/spec/v1\noid md5:abc\nsize 1\n",
		"version https://git-lfs.github.com/spec/v1\noid sha256:" + strings.Repeat("a", 64) + "\nsize -1\n",
	} {
		if _, err := parseLFS([]byte(bad)); err == nil {
			t.Errorf("parseLFS(%q) accepted", bad)
		}
	}
}

// tree writes files into a new folder and returns it.
func tree(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for name, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func catalog(t *testing.T, c inventory.Cataloger, p string) *sink {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	f := memFile(t, p, b, 0)
	s := &sink{}
	if !c.Wants(f) {
		t.Fatalf("%s does not want %s", c.Name(), p)
	}
	if err := c.Catalog(context.Background(), f, s); err != nil {
		t.Fatal(err)
	}
	return s
}

func rulesOf(s *sink) []string {
	var out []string
	for _, f := range s.findings {
		out = append(out, f.Rule)
	}
	slices.Sort(out)
	return out
}

// TestScope checks that Python, scripts and notebooks are judged only
// beside weights or in a repository: a project's own code is not a model's.
func TestScope(t *testing.T) {
	src := []byte("import os\nos.system('x')\n")
	lone := tree(t, map[string][]byte{"tool.py": src, "config.json": []byte(`{"name": "app"}`), "README.md": []byte("---\ntitle: x\ntitle: y\n---\n")})
	for _, name := range []string{"tool.py", "config.json", "README.md"} {
		if s := catalog(t, Repo{}, filepath.Join(lone, name)); len(s.findings) != 0 || len(s.comps) != 0 {
			t.Errorf("%s outside a model repository: %v %v", name, s.judged(), s.comps)
		}
	}
	bare := tree(t, map[string][]byte{"tool.py": src, "model.pt": pickleBytes})
	if got := rulesOf(catalog(t, Repo{}, filepath.Join(bare, "tool.py"))); !slices.Equal(got, []string{"repo/code-exec", "repo/script"}) {
		t.Errorf("beside weights: %v", got)
	}
}

func TestLimits(t *testing.T) {
	cfg := []byte(`{"model_type": "x", "pad": "` + strings.Repeat("x", 2048) + `"}`)
	dir := tree(t, map[string][]byte{
		"config.json":   cfg,
		"modeling.py":   []byte(strings.Repeat("x = 1\n", 1000)),
		"README.md":     []byte("---\ntags: [" + strings.Repeat("a, ", 100) + "b]\n---\n"),
		"m.index.json":  []byte(`{"weight_map": {"a": "x.safetensors"}}`),
		"tokenizer.txt": nil,
	})
	lim := Limits{JSON: 1024, Source: pysource.Limits{Bytes: 100}}
	lim.Card.Nodes = 10
	tests := []struct{ file, want string }{
		{"config.json", fmt.Sprintf("config.json of %d bytes > limit 1024", len(cfg))},
		{"modeling.py", "more than the limit of 100"},
		{"README.md", "more than 10 values"},
	}
	for _, tc := range tests {
		s := catalog(t, Repo{Limits: lim}, filepath.Join(dir, tc.file))
		found := false
		for _, f := range s.findings {
			found = found || f.Rule == inventory.RuleScanLimit && f.Severity == inventory.High && strings.Contains(f.Evidence, tc.want)
		}
		if !found {
			t.Errorf("%s: no scan/limit finding with %q: %+v", tc.file, tc.want, s.findings)
		}
	}
}

// marOf writes a .mar with the given members (the manifest among them).
func marOf(t *testing.T, members map[string]string) string {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	names := make([]string, 0, len(members))
	for n := range members {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fw, err := w.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write([]byte(members[n]))
	}
	w.Close()
	dir := tree(t, map[string][]byte{"m.mar": buf.Bytes()})
	return filepath.Join(dir, "m.mar")
}

func TestMarErrors(t *testing.T) {
	tests := []struct {
		name    string
		members map[string]string
		lim     Limits
		want    []string
	}{
		{"no_manifest", map[string]string{"model.pt": "x"}, Limits{}, []string{"repo/malformed"}},
		{"bad_json", map[string]string{marManifest: "{"}, Limits{}, []string{"repo/malformed"}},
		{"missing_files", map[string]string{marManifest: `{"model": {"serializedFile": "w.pt", "handler": "h.py"}}`}, Limits{},
			[]string{"repo/malformed", "repo/malformed"}},
		{"module_handler", map[string]string{marManifest: `{"model": {"handler": "svc:handle"}}`, "svc.py": "import os\nos.popen('x')\n"}, Limits{},
			[]string{"repo/code-exec", "repo/script"}},
		{"member_limit", map[string]string{marManifest: `{"model": {}}`, "a.py": "", "b.py": "", "c.py": ""}, Limits{Members: 2},
			[]string{"scan/limit"}},
		{"source_limit", map[string]string{marManifest: `{"model": {}}`, "a.py": strings.Repeat("#", 200)}, Limits{Source: pysource.Limits{Bytes: 100}},
			[]string{"scan/limit"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := catalog(t, Mar{Limits: tc.lim}, marOf(t, tc.members))
			if diff := cmp.Diff(tc.want, rulesOf(s)); diff != "" {
				t.Errorf("rules (-want +got):\n%s\n%+v", diff, s.findings)
			}
		})
	}
}

func TestOCIErrors(t *testing.T) {
	layout := []byte(`{"imageLayoutVersion": "1.0.0"}`)
	tests := []struct {
		name  string
		files map[string][]byte
		lim   Limits
		want  []string
	}{
		{"no_index", map[string][]byte{}, Limits{}, []string{"repo/malformed"}},
		{"bad_index", map[string][]byte{"index.json": []byte("[")}, Limits{}, []string{"repo/malformed"}},
		{"digest_traversal", map[string][]byte{"index.json": []byte(`{"manifests": [{"digest": "sha256:../../../etc/passwd", "size": 1}]}`)}, Limits{},
			[]string{"oci/path-traversal"}},
		{"digest_garbage", map[string][]byte{"index.json": []byte(`{"manifests": [{"digest": "nonsense", "size": 1}]}`)}, Limits{},
			[]string{"repo/malformed"}},
		{"manifest_missing", map[string][]byte{"index.json": []byte(`{"manifests": [{"digest": "sha256:` + strings.Repeat("0", 64) + `", "size": 1}]}`)}, Limits{},
			[]string{"oci/blob-missing"}},
		{"manifest_altered", map[string][]byte{
			"index.json": []byte(`{"manifests": [{"digest": "sha256:` + strings.Repeat("0", 64) + `", "size": 2}]}`),
			"blobs/sha256/" + strings.Repeat("0", 64): []byte("{}"),
		}, Limits{}, []string{"oci/blob-mismatch"}},
		{"manifest_limit", map[string][]byte{"index.json": []byte(`{"manifests": [{"digest": "sha256:` + strings.Repeat("0", 64) + `"}, {"digest": "sha256:` + strings.Repeat("1", 64) + `"}]}`)},
			Limits{Manifests: 1}, []string{"oci/blob-missing", "scan/limit"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.files["oci-layout"] = layout
			dir := tree(t, tc.files)
			s := catalog(t, OCI{Limits: tc.lim}, filepath.Join(dir, "oci-layout"))
			if diff := cmp.Diff(tc.want, rulesOf(s)); diff != "" {
				t.Errorf("rules (-want +got):\n%s\n%+v", diff, s.findings)
			}
		})
	}
}

func TestRefParts(t *testing.T) {
	tests := []struct{ ref, repo, tag string }{
		{"docker.io/ai/smollm2:360M", "docker.io/ai/smollm2", "360M"},
		{"localhost:5000/m:1", "localhost:5000/m", "1"},
		{"localhost:5000/m", "localhost:5000/m", ""},
		{"latest", "", "latest"},
		{"reg/m@sha256:abc", "reg/m", ""},
	}
	for _, tc := range tests {
		if r, g := refRepository(tc.ref), tag(tc.ref); r != tc.repo || g != tc.tag {
			t.Errorf("%q: repository %q tag %q, want %q %q", tc.ref, r, g, tc.repo, tc.tag)
		}
	}
}

func TestRemoteCode(t *testing.T) {
	tests := []struct {
		name     string
		files    map[string][]byte
		file     string
		evidence string // "" for no finding
		line     int
	}{
		{"auto_map_local", map[string][]byte{
			"config.json":   []byte("{\n  \"model_type\": \"x\",\n  \"auto_map\": {\"AutoModel\": \"modeling_x.XModel\"}\n}"),
			"modeling_x.py": []byte("import torch\n"),
		}, "config.json", "auto_map AutoModel=modeling_x.XModel; code: modeling_x.py", 3},
		{"auto_map_fetched", map[string][]byte{
			"config.json": []byte(`{"model_type": "x", "auto_map": {"AutoConfig": "configuration_x.XConfig"}}`),
		}, "config.json", "code: configuration_x.py (not in the folder: fetched from the hub at load)", 1},
		{"auto_map_other_repo", map[string][]byte{
			"config.json": []byte(`{"model_type": "x", "auto_map": {"AutoModel": "acme/code--modeling_x.XModel"}}`),
		}, "config.json", "code: modeling_x.py from the repository acme/code", 1},
		{"tokenizer_pair", map[string][]byte{
			"config.json":           []byte(`{"model_type": "x"}`),
			"tokenizer_config.json": []byte(`{"auto_map": {"AutoTokenizer": ["tok.XTokenizer", null]}}`),
			"tok.py":                []byte(""),
		}, "tokenizer_config.json", "auto_map AutoTokenizer=tok.XTokenizer; code: tok.py", 1},
		{"custom_pipeline", map[string][]byte{
			"config.json": []byte(`{"model_type": "x", "custom_pipelines": {"text-x": {"impl": "pipe.XPipeline"}}}`),
		}, "config.json", "custom_pipelines.text-x.impl=pipe.XPipeline", 1},
		{"diffusers_custom", map[string][]byte{
			"model_index.json": []byte(`{"_class_name": "StableDiffusionPipeline", "unet": ["diffusers", "UNet2DConditionModel"], "scheduler": ["my_scheduler", "MyScheduler"], "safety_checker": [null, null]}`),
		}, "model_index.json", "scheduler=my_scheduler.MyScheduler", 0},
		{"diffusers_plain", map[string][]byte{
			"model_index.json": []byte(`{"_class_name": "StableDiffusionPipeline", "unet": ["diffusers", "UNet2DConditionModel"]}`),
		}, "model_index.json", "", 0},
		{"no_auto_map", map[string][]byte{"config.json": []byte(`{"model_type": "llama"}`)}, "config.json", "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := tree(t, tc.files)
			s := catalog(t, Repo{}, filepath.Join(dir, tc.file))
			var got []inventory.Finding
			for _, f := range s.findings {
				if f.Rule == "repo/remote-code" {
					got = append(got, f)
				}
			}
			if tc.evidence == "" {
				if len(got) != 0 {
					t.Errorf("unexpected findings %+v", got)
				}
				return
			}
			if len(got) != 1 || !strings.Contains(got[0].Evidence, tc.evidence) || got[0].Line != tc.line || got[0].Severity != inventory.High {
				t.Errorf("findings %+v, want one high at line %d showing %q", got, tc.line, tc.evidence)
			}
		})
	}
}

// TestLocalDownload checks the identity huggingface_hub's local_dir
// metadata gives a plain folder: the revision, and the sha256 of LFS files.
func TestLocalDownload(t *testing.T) {
	const rev = "0123456789abcdef0123456789abcdef01234567"
	sha := strings.Repeat("ab", 32)
	st := append(append([]byte{}, stHeader...), make([]byte, 16)...)
	dir := tree(t, map[string][]byte{
		"model.safetensors": st,
		".cache/huggingface/download/model.safetensors.metadata": []byte(rev + "\n" + sha + "\n1700000000.0\n"),
	})
	s := catalog(t, Repo{}, filepath.Join(dir, "model.safetensors"))
	repoID := inventory.FileComponentID(inventory.KindModel, dir)
	want := []inventory.Component{
		{ID: repoID, Kind: inventory.KindModel, Name: filepath.Base(dir), Version: rev,
			Locations:  []inventory.Location{{Path: dir}},
			Properties: map[string]string{"format": "hf-repo", "revision": rev}},
		{ID: inventory.FileComponentID(inventory.KindModel, filepath.Join(dir, "model.safetensors")), Kind: inventory.KindModel,
			Name: "model.safetensors", Digests: []inventory.Digest{{Algorithm: "sha256", Value: sha}},
			Locations:  []inventory.Location{{Path: filepath.Join(dir, "model.safetensors")}},
			Properties: map[string]string{"part-of": repoID, "revision": rev}},
	}
	if diff := cmp.Diff(want, s.comps); diff != "" {
		t.Errorf("components (-want +got):\n%s", diff)
	}
}
