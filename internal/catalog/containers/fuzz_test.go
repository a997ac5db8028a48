package containers

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/chainvet/chainvet/internal/inventory"
)

type sink struct {
	comps    []inventory.Component
	findings []inventory.Finding
}

func (s *sink) Component(c inventory.Component)       { s.comps = append(s.comps, c) }
func (s *sink) Finding(f inventory.Finding)           { s.findings = append(s.findings, f) }
func (s *sink) Scan(context.Context, *inventory.File) {}

func FuzzDockerfile(f *testing.F) {
	for _, p := range []string{"app/Dockerfile", "svc/Containerfile", "svc/worker.dockerfile"} {
		b, err := os.ReadFile(filepath.Join(fixtures, p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("FROM a\\\n"))
	more, _ := filepath.Glob("../../../testdata/ci/docker/*/Dockerfile")
	for _, p := range more {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := inventory.NewFile("Dockerfile", strings.NewReader(string(b)), int64(len(b)), nil)
		if err != nil {
			t.Fatal(err)
		}
		var s sink
		if err := (Dockerfile{}).Catalog(context.Background(), file, &s); err != nil {
			t.Fatal(err)
		}
		for _, x := range s.findings {
			if x.Line <= 0 || x.Column <= 0 || x.Remediation == "" || len(x.Evidence) > MaxEvidence+len("…") {
				t.Errorf("bad finding %+v", x)
			}
		}
		for _, c := range s.comps {
			if c.ID == "" || (c.Kind == inventory.KindPackage && !utf8.ValidString(c.Name)) {
				t.Errorf("bad component %+v", c)
			}
		}
	})
}

func TestParseImage(t *testing.T) {
	tests := []struct {
		in   string
		purl string
		ok   bool
	}{
		{"python", "pkg:docker/python", true},
		{"docker.io/library/python:3.12", "pkg:docker/python@3.12", true},
		{"ghcr.io/org/img:v1", "pkg:docker/org/img@v1?repository_url=ghcr.io", true},
		{"localhost:5000/img", "pkg:docker/img?repository_url=localhost:5000", true},
		{"docker://alpine:3.20", "pkg:docker/alpine@3.20", true},
		{"img@sha256:abc", "", false},
		{"${IMAGE}", "", false},
		{"", "", false},
		{"img:", "", false},
	}
	for _, tc := range tests {
		im, ok := ParseImage(tc.in)
		if ok != tc.ok {
			t.Errorf("ParseImage(%q) ok = %v, want %v", tc.in, ok, tc.ok)
			continue
		}
		if ok && im.PURL() != tc.purl {
			t.Errorf("ParseImage(%q).PURL() = %q, want %q", tc.in, im.PURL(), tc.purl)
		}
	}
}

func TestInstalls(t *testing.T) {
	tests := []struct {
		line string
		want []string // purls
	}{
		{"pip install -r req.txt -e . ./local.whl numpy==2.1.0", []string{"pkg:pypi/numpy@2.1.0"}},
		{"uv pip install Foo_Bar>=1", []string{"pkg:pypi/foo-bar"}},
		{"npm ci", nil},
		{"npm i -g git+https://x/y.git @a/b", []string{"pkg:npm/%40a/b"}},
		{"echo pip install x", nil},
		{"apt-get -y install curl", []string{"pkg:deb/debian/curl"}},
	}
	for _, tc := range tests {
		var got []string
		for _, r := range installs(tc.line, "debian") {
			got = append(got, r.PURL())
		}
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("installs(%q) = %q, want %q", tc.line, got, tc.want)
		}
	}
}
