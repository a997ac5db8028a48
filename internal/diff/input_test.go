package diff

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/lock"
	"github.com/chainvet/chainvet/internal/render"
)

// TestOwnBOMRoundTrip: a report and the CycloneDX BOM (JSON and XML)
// chainvet writes of it read back as the same inventory, so any two of
// them can be compared.
func TestOwnBOMRoundTrip(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(fixtures, "reports/new.json"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	var rep inventory.Report
	rep.Components = want
	for _, format := range []string{"cyclonedx-json", "cyclonedx-xml"} {
		t.Run(format, func(t *testing.T) {
			r, err := render.New(format, render.Options{Version: "test"})
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := r.Render(&buf, &rep); err != nil {
				t.Fatal(err)
			}
			got, err := Parse(buf.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if res := Compare("report", want, "bom", got); len(res.Changes) != 0 {
				t.Errorf("the BOM differs from its report: %v", briefs(res))
			}
		})
	}
}

func TestParseLock(t *testing.T) {
	lf := &lock.File{Schema: lock.Schema,
		Files: []lock.Artifact{{Path: "models/a.pt", Kind: inventory.KindModel, Size: 3, SHA256: strings.Repeat("a", 64)}},
		Pins:  []lock.Pin{{ID: "pkg:pypi/torch@2.5.1", Kind: inventory.KindPackage, Name: "torch", Version: "2.5.1", PURL: "pkg:pypi/torch@2.5.1"}},
	}
	got, err := Parse(lf.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(lf.Components(), got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := Parse([]byte(`{"schema": "chainvet/lock/v1", "files": [{"path": "../x"}]}`)); err == nil {
		t.Error("a malformed lock was accepted")
	}
}

func TestParseUnknown(t *testing.T) {
	for _, in := range []string{
		"", "   ", "null", "[]", `{"schema": "chainvet/report/v9"}`, `{"spdxVersion": "SPDX-3.0"}`,
		"<html></html>", "torch==2.5.1\n", "{", "\xef\xbb\xbf{}",
	} {
		if _, err := Parse([]byte(in)); !errors.Is(err, ErrUnknownInput) {
			t.Errorf("Parse(%q) = %v, want ErrUnknownInput", in, err)
		}
	}
	if _, err := Parse([]byte(`{"schema": "chainvet/report/v1", "components": 3}`)); err == nil || errors.Is(err, ErrUnknownInput) {
		t.Errorf("a broken report: %v, want an error naming it", err)
	}
}

// TestCycloneDXNesting: nested components are read, up to a depth.
func TestCycloneDXNesting(t *testing.T) {
	nest := func(depth int) string {
		s := `{"type": "library", "name": "leaf", "version": "1.0", "purl": "pkg:pypi/leaf@1.0"}`
		for i := range depth {
			s = `{"type": "library", "name": "n` + string(rune('a'+i%26)) + `", "components": [` + s + `]}`
		}
		return `{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [` + s + `]}`
	}
	cs, err := Parse([]byte(nest(3)))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(cs, func(c inventory.Component) bool { return c.PURL == "pkg:pypi/leaf@1.0" }) || len(cs) != 4 {
		t.Errorf("nested components: %+v", cs)
	}
	if _, err := Parse([]byte(nest(maxNesting + 2))); err == nil || !strings.Contains(err.Error(), "nested") {
		t.Errorf("deep nesting: %v, want an error", err)
	}
}

// TestLoad: files by content, directories through Scan, errors named.
func TestLoad(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "m.pt"), []byte("x"), 0o644)
	var scanned string
	opt := Options{Scan: func(_ context.Context, d string) (*inventory.Report, error) {
		scanned = d
		p := filepath.ToSlash(filepath.Join(d, "m.pt"))
		return &inventory.Report{Components: []inventory.Component{{ID: "model:" + p, Kind: "model", Name: "m.pt", Locations: []inventory.Location{{Path: p}}}}}, nil
	}}
	s, err := Load(ctx, dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(scanned) || len(s.Components) != 1 || s.Components[0].ID != "model:m.pt" || s.Dir != scanned {
		t.Errorf("scanned %q, side %+v", scanned, s)
	}
	s, err = Load(ctx, filepath.Join(fixtures, "reports", "old.json"), opt)
	if err != nil || len(s.Components) == 0 || s.Dir != filepath.Join(fixtures, "reports") {
		t.Errorf("report: %v, %+v", err, s)
	}
	if _, err := Load(ctx, filepath.Join(fixtures, "trees", "old", "requirements.txt"), opt); !errors.Is(err, ErrUnknownInput) {
		t.Errorf("a requirements file: %v, want ErrUnknownInput", err)
	}
	if _, err := Load(ctx, filepath.Join(dir, "nope.json"), opt); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want ErrNotExist", err)
	}
	if _, err := Load(ctx, dir, Options{}); err == nil {
		t.Error("a directory without a scanner was accepted")
	}
}

// TestSPDX: chainvet's own SPDX documents of the two fixture reports give
// the changes the reports give, for components with a purl; the others
// are matched by kind and name.
func TestSPDX(t *testing.T) {
	spdx := func(rel string) []inventory.Component {
		r, err := render.New("spdx-json", render.Options{Version: "test"})
		if err != nil {
			t.Fatal(err)
		}
		rep := inventory.Report{Components: load(t, rel)}
		var buf bytes.Buffer
		if err := r.Render(&buf, &rep); err != nil {
			t.Fatal(err)
		}
		cs, err := Parse(buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		return cs
	}
	got := briefs(Compare("old", spdx("reports/old.json"), "new", spdx("reports/new.json")))
	for _, want := range []string{
		"added package pkg:npm/path-to-regexp via=pkg:npm/express@4.21.2",
		"changed container pkg:docker/python jump=minor",
		"changed package pkg:pypi/filelock dependency=direct",
		"changed package pkg:pypi/requests jump=downgrade",
		"changed package pkg:pypi/safetensors source=index",
		"changed dataset dataset:acme/tickets jump=revision",
		"changed service service:openai source=endpoints",
	} {
		if !slices.Contains(got, want) {
			t.Errorf("changes lack %q:\n%s", want, strings.Join(got, "\n"))
		}
	}
	// Another tool's document: no comments; direct from the root's edges.
	doc := `{"spdxVersion": "SPDX-2.3", "documentDescribes": ["SPDXRef-root"],
	 "packages": [{"SPDXID": "SPDXRef-root", "name": "app"},
	  {"SPDXID": "SPDXRef-a", "name": "flask", "versionInfo": "3.0.3",
	   "externalRefs": [{"referenceType": "purl", "referenceLocator": "pkg:pypi/flask@3.0.3"}],
	   "checksums": [{"algorithm": "SHA256", "checksumValue": "AB"}]},
	  {"SPDXID": "SPDXRef-b", "name": "blinker", "versionInfo": "1.8.2"}],
	 "relationships": [{"spdxElementId": "SPDXRef-root", "relationshipType": "DEPENDS_ON", "relatedSpdxElement": "SPDXRef-a"},
	  {"spdxElementId": "SPDXRef-b", "relationshipType": "DEPENDENCY_OF", "relatedSpdxElement": "SPDXRef-a"}]}`
	cs, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := []inventory.Component{
		{ID: "pkg:pypi/flask@3.0.3", Kind: "package", Name: "flask", Version: "3.0.3", PURL: "pkg:pypi/flask@3.0.3",
			Digests: []inventory.Digest{{Algorithm: "sha256", Value: "ab"}}, Dependency: "direct", DependsOn: []string{"package:blinker@1.8.2"}},
		{ID: "package:blinker@1.8.2", Kind: "package", Name: "blinker", Version: "1.8.2", Dependency: "transitive"},
	}
	if diff := cmp.Diff(want, cs); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
