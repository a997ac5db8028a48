package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chainvet/chainvet/internal/inventory"
)

func TestExitCodes(t *testing.T) {
	clean := filepath.Join("..", "..", "examples", "models", "sentiment")
	bad := filepath.Join("..", "..", "examples", "models", "downloaded")
	tests := []struct {
		name     string
		args     []string
		code     int
		inStderr string
	}{
		{"clean_default", []string{"scan", clean}, 0, ""},
		{"malicious_default", []string{"scan", bad}, 1, ""},
		{"malicious_fail_on_none", []string{"scan", "--fail-on", "none", bad}, 0, ""},
		{"clean_fail_on_low", []string{"scan", "--fail-on", "low", clean}, 1, ""},
		{"json_malicious", []string{"scan", "-o", "json", bad}, 1, "at or above high"},
		{"no_args", []string{"scan"}, 2, "at least one PATH"},
		{"missing_path", []string{"scan", "does-not-exist"}, 2, "does-not-exist"},
		{"bad_format", []string{"scan", "-o", "yaml", clean}, 2, "-o"},
		{"bad_fail_on", []string{"scan", "--fail-on", "severe", clean}, 2, "unknown severity"},
		{"bad_flag", []string{"scan", "--nope", clean}, 2, "unknown flag"},
		{"bad_size", []string{"scan", "--max-decompressed", "lots", clean}, 2, "invalid size"},
		{"unknown_command", []string{"vet"}, 2, "unknown command"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), tc.args, &out, &errb)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.code, errb.String())
			}
			if !strings.Contains(errb.String(), tc.inStderr) {
				t.Errorf("stderr %q does not mention %q", errb.String(), tc.inStderr)
			}
		})
	}
}

func TestScanJSONFile(t *testing.T) {
	out := filepath.Join(t.TempDir(), "report.json")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"scan", "-o", "json", "--file", out, filepath.Join("..", "..", "examples", "models")}, &stdout, &stderr)
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr: %s", code, stderr.String())
	}
	if stdout.Len() != 0 {
		t.Errorf("report also went to stdout: %q", stdout.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var r inventory.Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("report is not JSON: %v", err)
	}
	if r.Schema != inventory.Schema {
		t.Errorf("schema %q, want %q", r.Schema, inventory.Schema)
	}
	var bad []string
	for _, f := range r.Findings {
		if f.Severity >= inventory.High {
			bad = append(bad, f.Path+" "+f.Rule)
		}
	}
	if len(bad) == 0 || !strings.Contains(strings.Join(bad, "\n"), "downloaded/checkpoint.pt!archive/data.pkl") {
		t.Errorf("high findings %q do not name the malicious checkpoint's pickle", bad)
	}
	for _, b := range bad {
		if strings.Contains(b, "sentiment") {
			t.Errorf("benign example flagged: %s", b)
		}
	}
	// The example holds a model of every format chainvet identifies, each
	// with its identity.
	formats := map[string]bool{}
	for _, c := range r.Components {
		formats[c.Properties["format"]] = true
		if c.Kind == inventory.KindModel && c.Name == "" {
			t.Errorf("model %s has no name", c.ID)
		}
	}
	for _, f := range []string{
		"pytorch-zip", "joblib", "numpy-npy", "safetensors", "gguf", "onnx", "tf-savedmodel", "tflite",
		"keras", "keras-h5", "torchserve-mar", "oci-model", "hf-repo",
	} {
		if !formats[f] {
			t.Errorf("no %s model in the example", f)
		}
	}
	hf := false
	for _, c := range r.Components {
		hf = hf || strings.HasPrefix(c.PURL, "pkg:huggingface/acme/tiny-llm@")
	}
	if !hf {
		t.Error("the hub-cache example has no pkg:huggingface purl")
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1024", 1024, true},
		{"512MiB", 512 << 20, true},
		{"8GiB", 8 << 30, true},
		{"2 GB", 2e9, true},
		{"0", 0, false},
		{"-1", 0, false},
		{"lots", 0, false},
		{"99999999999TiB", 0, false},
	}
	for _, tc := range tests {
		got, err := parseSize(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		if tc.ok {
			if back, err := parseSize(formatSize(got)); err != nil || back != got {
				t.Errorf("formatSize(%d) = %q does not read back", got, formatSize(got))
			}
		}
	}
}

// TestLimitsAreFindings checks every limit flag: reaching it is a scan/limit
// finding that fails the scan, never a silent pass.
func TestLimitsAreFindings(t *testing.T) {
	models := filepath.Join("..", "..", "testdata", "models", "benign")
	torchZip := filepath.Join(models, "torch", "state_dict_f32_zip.pt")
	big := filepath.Join(models, "big_9m_ops.pkl.gz")
	tests := []struct {
		name string
		args []string
	}{
		{"opcodes", []string{"--max-opcodes", "10", torchZip}},
		{"memo", []string{"--max-memo", "2", torchZip}},
		{"stack", []string{"--max-stack", "3", torchZip}},
		{"values", []string{"--max-values", "10", torchZip}},
		{"pickle_bytes", []string{"--max-pickle-bytes", "100", torchZip}},
		{"depth", []string{"--max-archive-depth", "0", torchZip}},
		{"entries", []string{"--max-entries", "1", torchZip}},
		{"decompressed", []string{"--max-decompressed", "64KiB", big}},
		{"ratio", []string{"--max-ratio", "2", big}},
		{"time", []string{"--file-timeout", "1ns", big}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			// The same scan without the limit is clean.
			if code := run(context.Background(), []string{"scan", tc.args[len(tc.args)-1]}, &out, &errb); code != 0 {
				t.Fatalf("baseline exit %d: %s", code, out.String())
			}
			out.Reset()
			args := append([]string{"scan", "-o", "json"}, tc.args...)
			code := run(context.Background(), args, &out, &errb)
			var r inventory.Report
			if err := json.Unmarshal(out.Bytes(), &r); err != nil {
				t.Fatalf("exit %d, no report: %v\n%s", code, err, errb.String())
			}
			found := false
			for _, f := range r.Findings {
				found = found || (f.Rule == "scan/limit" && f.Severity >= inventory.High)
			}
			if code != 1 || !found {
				t.Errorf("exit %d, scan/limit found %v; want exit 1 with a high scan/limit\n%s", code, found, out.String())
			}
		})
	}
}

func TestProgress(t *testing.T) {
	var b bytes.Buffer
	p := newProgress(&b)
	p.clear()
	if b.Len() != 0 {
		t.Errorf("clear before any update wrote %q", b.String())
	}
	p.update(1, 3)
	p.update(2, 3) // within 100ms of the last: skipped
	p.update(3, 3) // the last is always drawn
	p.clear()
	want := "\r\x1b[Kchainvet: scanned 1 of 3 files\r\x1b[Kchainvet: scanned 3 of 3 files\r\x1b[K"
	if b.String() != want {
		t.Errorf("progress wrote %q, want %q", b.String(), want)
	}
	if terminal(&b) {
		t.Error("a buffer is not a terminal")
	}
}

func TestDigests(t *testing.T) {
	p := filepath.Join("..", "..", "examples", "models", "zoo", "linear.safetensors")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"scan", "-o", "json", p}, ""},
		{[]string{"scan", "-o", "json", "--digests", p}, hex.EncodeToString(sum[:])},
	} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), tc.args, &out, &errb); code != 0 {
			t.Fatalf("%v: exit %d: %s", tc.args, code, errb.String())
		}
		var r inventory.Report
		if err := json.Unmarshal(out.Bytes(), &r); err != nil || len(r.Components) != 1 {
			t.Fatalf("%v: %v, %d components", tc.args, err, len(r.Components))
		}
		got := ""
		for _, d := range r.Components[0].Digests {
			if d.Algorithm == "sha256" {
				got = d.Value
			}
		}
		if got != tc.want {
			t.Errorf("%v: sha256 %q, want %q", tc.args, got, tc.want)
		}
	}
}

func TestBOM(t *testing.T) {
	bad := filepath.Join("..", "..", "examples", "models", "downloaded")
	for _, tc := range []struct {
		format string
		check  func(t *testing.T, out []byte)
	}{
		{"cyclonedx-json", func(t *testing.T, out []byte) {
			var doc struct {
				BOMFormat   string `json:"bomFormat"`
				SpecVersion string `json:"specVersion"`
				Components  []struct {
					Type string `json:"type"`
				} `json:"components"`
			}
			if err := json.Unmarshal(out, &doc); err != nil {
				t.Fatal(err)
			}
			if doc.BOMFormat != "CycloneDX" || doc.SpecVersion != "1.6" || len(doc.Components) != 1 || doc.Components[0].Type != "machine-learning-model" {
				t.Errorf("bom = %+v", doc)
			}
		}},
		{"spdx-json", func(t *testing.T, out []byte) {
			if !bytes.Contains(out, []byte(`"spdxVersion": "SPDX-2.3"`)) {
				t.Errorf("not SPDX 2.3:\n%s", out)
			}
		}},
		{"cyclonedx-xml", func(t *testing.T, out []byte) {
			if !bytes.Contains(out, []byte(`xmlns="http://cyclonedx.org/schema/bom/1.6"`)) {
				t.Errorf("not CycloneDX 1.6 XML:\n%s", out)
			}
		}},
	} {
		t.Run(tc.format, func(t *testing.T) {
			var out, errb bytes.Buffer
			// A BOM lists what is there: findings do not fail it.
			if code := run(context.Background(), []string{"bom", "-o", tc.format, bad}, &out, &errb); code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			tc.check(t, out.Bytes())
		})
	}
}

func TestOwnership(t *testing.T) {
	dir := t.TempDir()
	model, err := os.ReadFile(filepath.Join("..", "..", "examples", "models", "zoo", "linear.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "models"), 0o755)
	os.WriteFile(filepath.Join(dir, "models", "m.safetensors"), model, 0o644)
	os.WriteFile(filepath.Join(dir, ".chainvet.yaml"), []byte("owners:\n  - match: \"models/**\"\n    owner: ml-platform\n    criticality: tier1\n"), 0o644)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"scan", "-o", "json", dir}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var r inventory.Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil || len(r.Components) != 1 {
		t.Fatalf("%v: %+v", err, r.Components)
	}
	if p := r.Components[0].Properties; p["owner"] != "ml-platform" || p["criticality"] != "tier1" {
		t.Errorf("properties = %v, want owner and criticality from .chainvet.yaml", p)
	}
	os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte("owners:\n  - match: x\n    colour: red\n"), 0o644)
	errb.Reset()
	if code := run(context.Background(), []string{"scan", "--config", filepath.Join(dir, "bad.yaml"), dir}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "bad.yaml") {
		t.Errorf("bad config: exit %d, stderr %q; want 2 naming the file", code, errb.String())
	}
}

func TestMain(m *testing.M) {
	// Keep the developer's own advisory database out of the tests.
	dir, err := os.MkdirTemp("", "chainvet-cache")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_CACHE_HOME", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func TestAdvisories(t *testing.T) {
	dir := t.TempDir()
	// An OSV export: a zip of one JSON record per advisory.
	zipPath := filepath.Join(dir, "all.zip")
	zf, err := os.Create(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(zf)
	recs, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "advisory", "osv", "*.json"))
	if len(recs) == 0 {
		t.Fatal("no OSV fixtures")
	}
	for _, r := range recs {
		b, err := os.ReadFile(r)
		if err != nil {
			t.Fatal(err)
		}
		w, _ := zw.Create(filepath.Base(r))
		w.Write(b)
	}
	zw.Close()
	zf.Close()
	db := filepath.Join(dir, "adv.db")
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"db", "update", "--db", db, "--from", zipPath}, &out, &errb); code != 0 {
		t.Fatalf("db update: exit %d: %s", code, errb.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"db", "status", "--db", db}, &out, &errb); code != 0 || !strings.Contains(out.String(), "advisories:") {
		t.Fatalf("db status: exit %d: %s %s", code, out.String(), errb.String())
	}
	proj := filepath.Join(dir, "proj")
	os.MkdirAll(proj, 0o755)
	os.WriteFile(filepath.Join(proj, "requirements.txt"), []byte("torch==1.13.0\n"), 0o644)
	out.Reset()
	errb.Reset()
	code := run(context.Background(), []string{"scan", "-o", "json", "--db", db, proj}, &out, &errb)
	var r inventory.Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("exit %d: %v\n%s", code, err, errb.String())
	}
	found := false
	for _, f := range r.Findings {
		found = found || (f.Rule == "package/vulnerable" && f.Component == "pkg:pypi/torch@1.13.0")
	}
	if code != 1 || !found {
		t.Errorf("exit %d, findings %+v; want a package/vulnerable finding for torch 1.13.0", code, r.Findings)
	}
	// Without a database the scan says packages were not checked.
	errb.Reset()
	run(context.Background(), []string{"scan", "--db", filepath.Join(dir, "none.db"), proj}, &out, &errb)
	if !strings.Contains(errb.String(), "not checked against advisories") {
		t.Errorf("no warning without a database: %q", errb.String())
	}
}
