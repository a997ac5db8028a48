package render

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// sampleReport is a report with one of each shape a renderer must handle:
// findings of every severity, with and without offsets and lines, in files
// on disk and in archive members, an absolute path, a path with a space,
// a rule the rule list does not know, long evidence and evidence holding
// terminal escapes.
func sampleReport() *inventory.Report {
	return &inventory.Report{
		Schema:  inventory.Schema,
		Tool:    inventory.Tool{Name: "chainvet", Version: "0.3.0-dev"},
		Targets: []string{"models", "a.zip", ".github"},
		Components: []inventory.Component{
			{
				ID:   "model:models/evil.pkl",
				Kind: inventory.KindModel,
				Name: "evil.pkl",
				Digests: []inventory.Digest{
					{Algorithm: "sha256", Value: "9f2c3a0e5b1d4c7e8f60718293a4b5c6d7e8f90112233445566778899aabbccd"},
				},
				Locations:  []inventory.Location{{Path: "models/evil.pkl"}},
				Properties: map[string]string{"format": "pickle", "pickle-protocol": "4"},
			},
			{
				ID:         "model:a.zip",
				Kind:       inventory.KindModel,
				Name:       "a.zip",
				Locations:  []inventory.Location{{Path: "a.zip"}, {Path: "mirror/a.zip"}},
				Properties: map[string]string{"framework": "pytorch", "format": "pytorch-zip"},
			},
			{
				ID:        "package:pkg:pypi/torch@2.5.1",
				Kind:      inventory.KindPackage,
				Name:      "torch",
				Version:   "2.5.1",
				PURL:      "pkg:pypi/torch@2.5.1",
				Locations: []inventory.Location{{Path: "requirements.txt", Line: 3}},
			},
		},
		Findings: []inventory.Finding{
			{
				Rule: "pickle/format", Severity: inventory.Low,
				Component: "model:models/legacy.bin", Path: "models/legacy.bin",
				Message: "legacy.bin is a pickle-based PyTorch file.",
			},
			{
				Rule: "pickle/unknown-import", Severity: inventory.Medium,
				Component: "model:a.zip", Path: "a.zip!archive/data.pkl", Offset: inventory.At(0x40),
				Evidence: "__main__.Net via GLOBAL at 0x40",
				Message:  "The pickle imports __main__.Net, which is not on the safe list.",
			},
			{
				Rule: "pickle/dangerous-call", Severity: inventory.Critical,
				Component: "model:models/evil.pkl", Path: "models/evil.pkl", Offset: inventory.At(0x1f),
				Evidence:    "os.system via STACK_GLOBAL at 0x1f, REDUCE at 0x2a",
				Message:     "The pickle calls os.system.",
				Remediation: "Delete models/evil.pkl; fetch the model as safetensors from its publisher.",
			},
			{
				Rule: "archive/crc-mismatch", Severity: inventory.High,
				Component: "model:a.zip", Path: "a.zip!archive/data.pkl",
				Evidence: "stored crc 0x1234abcd, computed 0xdeadbeef",
				Message:  "The member's CRC-32 does not match its bytes.",
			},
			{
				Rule: "pickle/malformed", Severity: inventory.High,
				Component: "model:a.zip", Path: "a.zip!archive/data.pkl", Offset: inventory.At(0x9a),
				Evidence: "unknown opcode 0xff after REDUCE at 0x90",
				Message:  "The pickle breaks after a call.",
			},
			{
				// A rule this version does not know, as a report from a
				// newer chainvet may hold.
				Rule: "workflow/from-a-newer-version", Severity: inventory.Medium,
				Path: ".github/workflows/ci.yml", Line: 12,
				Evidence:    "uses: actions/checkout@v4",
				Message:     "An action is used by tag, not by commit.",
				Remediation: "Pin actions/checkout to a full commit SHA.",
			},
			{
				Rule: "scan/limit", Severity: inventory.High,
				Path: "models/big model.bin",
				Evidence: "pickle opcode limit (10000000) reached at 0x5f5e100 while reading the memo of " +
					"a stream that keeps going with long runs of BINPUT and BINGET that never end",
				Message: "The scan was cut short.",
			},
			{
				Rule: "scan/error", Severity: inventory.High,
				Path:     "/opt/models/x.gguf",
				Evidence: "read /opt/models/x.gguf: input/output error",
				Message:  "The file could not be read.",
			},
			{
				Rule: "model/extension-mismatch", Severity: inventory.High,
				Path: "models/notes.txt", Offset: inventory.At(0),
				Evidence: "pickle protocol 2 (\\x80\\x02) at 0x0",
				Message:  "A pickle is named .txt.",
			},
			{
				Rule: "pickle/dangerous-import", Severity: inventory.High,
				Path: "models/trick.pkl", Offset: inventory.At(0x3),
				Evidence: "\x1b[2Jbuiltins.eval\t\u202egnp.elif\nnext line",
				Message:  "The pickle imports builtins.eval.",
			},
		},
		Stats: inventory.Stats{Files: 7, Members: 3, Bytes: 123456789, BytesRead: 45678, DurationMS: 321},
	}
}

// emptyReport is a scan of nothing that found nothing.
func emptyReport() *inventory.Report {
	return &inventory.Report{Schema: inventory.Schema, Tool: inventory.Tool{Name: "chainvet", Version: "0.3.0-dev"}}
}

// render runs the named format on r.
func render(t testing.TB, name string, opt Options, r *inventory.Report) []byte {
	t.Helper()
	rd, err := New(name, opt)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := rd.Render(&buf, r); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return buf.Bytes()
}

// golden compares got with testdata/file, or rewrites the file with -update.
func golden(t *testing.T, file string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", file)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got), rerun with -update if intended:\n%s", p, diff)
	}
}

func TestNew(t *testing.T) {
	for _, name := range Names() {
		rd, err := New(name, Options{})
		if err != nil {
			t.Fatalf("New(%q): %v", name, err)
		}
		if rd.Name() != name {
			t.Errorf("New(%q).Name() = %q", name, rd.Name())
		}
	}
	_, err := New("xml", Options{})
	if err == nil {
		t.Fatal(`New("xml") succeeded`)
	}
	for _, name := range Names() {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name the choice %q", err, name)
		}
	}
}

func TestNames(t *testing.T) {
	if diff := cmp.Diff([]string{"table", "json", "sarif", "cyclonedx-json", "cyclonedx-xml", "spdx-json"}, Names()); diff != "" {
		t.Errorf("Names() (-want +got):\n%s", diff)
	}
}

func TestNilReport(t *testing.T) {
	for _, name := range Names() {
		rd, _ := New(name, Options{})
		var buf bytes.Buffer
		if err := rd.Render(&buf, nil); err == nil {
			t.Errorf("%s: rendering a nil report succeeded", name)
		}
	}
}

// Rendering must not change the report (the table sorts, but a copy).
func TestRenderLeavesReport(t *testing.T) {
	for _, name := range Names() {
		r := sampleReport()
		render(t, name, Options{Color: true}, r)
		if diff := cmp.Diff(sampleReport(), r); diff != "" {
			t.Errorf("%s changed the report (-want +got):\n%s", name, diff)
		}
	}
}

// errWriter fails every write.
type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

func TestWriteError(t *testing.T) {
	for _, name := range Names() {
		rd, _ := New(name, Options{})
		if err := rd.Render(errWriter{}, sampleReport()); err == nil {
			t.Errorf("%s: a failed write was not reported", name)
		}
	}
}
