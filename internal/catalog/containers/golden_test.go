package containers

import (
	"context"
	"encoding/json"
	"flag"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chainvet/chainvet/internal/catalog/manifest"
	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

const fixtures = "../../../testdata/bom/containers"

// scanGolden scans the fixtures and compares the components and findings
// with testdata/golden.json.
func TestGolden(t *testing.T) {
	rep, err := inventory.Scan(context.Background(), []string{fixtures},
		inventory.Options{Catalogers: []inventory.Cataloger{Dockerfile{}}})
	if err != nil {
		t.Fatal(err)
	}
	type out struct {
		Components []inventory.Component
		Findings   []inventory.Finding
	}
	got, err := json.MarshalIndent(out{rep.Components, rep.Findings}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = []byte(strings.ReplaceAll(string(got), fixtures+"/", ""))
	golden := filepath.Join("testdata", "golden.json")
	manifest.Golden(t, golden, got, *update)
	// Secrets in the fixtures must never reach the report.
	if strings.Contains(string(got), "s3cret") {
		t.Error("report contains a credential from an index URL")
	}
}

func TestManifest(t *testing.T) {
	rows, err := manifest.Read(filepath.Join(fixtures, "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		t.Run(r.Path, func(t *testing.T) {
			rep, err := inventory.Scan(context.Background(), []string{filepath.Join(fixtures, r.Path)},
				inventory.Options{Catalogers: []inventory.Cataloger{Dockerfile{}}})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range r.Check(rep) {
				t.Errorf("%s\n%s", p, manifest.Dump(rep))
			}
		})
	}
}

func TestComponents(t *testing.T) {
	rep, err := inventory.Scan(context.Background(), []string{fixtures},
		inventory.Options{Catalogers: []inventory.Cataloger{Dockerfile{}}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range rep.Components {
		ids = append(ids, c.ID)
	}
	slices.Sort(ids)
	want := []string{
		"container:" + fixtures + "/app/Dockerfile",
		"container:" + fixtures + "/svc/Containerfile",
		"container:" + fixtures + "/svc/worker.dockerfile",
		"pkg:apk/alpine/curl@8.5.0-r0",
		"pkg:apk/alpine/tini",
		"pkg:deb/debian/build-essential@12.9",
		"pkg:deb/debian/git",
		"pkg:deb/ubuntu/curl@8.5.0-2ubuntu10",
		"pkg:docker/distroless/python3-debian12@sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9?repository_url=gcr.io",
		"pkg:docker/node@20-alpine",
		"pkg:docker/python@3.12-slim",
		"pkg:docker/ubuntu@24.04",
		"pkg:npm/%40modelcontextprotocol/server-filesystem@2025.1.14",
		"pkg:npm/express@4.21.1",
		"pkg:npm/left-pad",
		"pkg:pypi/safetensors@0.4.5",
		"pkg:pypi/torch@2.5.1",
		"pkg:pypi/transformers",
	}
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("component IDs (-want +got):\n%s", diff)
	}
	if c := rep.Component("pkg:pypi/torch@2.5.1"); c == nil || c.Properties["index"] != "https://pypi.example.com/simple" || c.Locations[0].Line != 10 {
		t.Errorf("torch component %+v: want index without credentials, line 10", c)
	}
}

func TestIsDockerfileName(t *testing.T) {
	for n, want := range map[string]bool{
		"dockerfile": true, "containerfile": true, "app.dockerfile": true, "dockerfile.gpu": true,
		"containerfile.cuda12": true, "dockerfile.go": false, "dockerfile.md": false, "dockerfile_test.go": false,
		"dockerfiles": false, "readme.md": false,
	} {
		if got := IsDockerfileName(n); got != want {
			t.Errorf("IsDockerfileName(%q) = %v, want %v", n, got, want)
		}
	}
}
