package diff

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func addSeeds(f *testing.F, glob string) {
	files, err := filepath.Glob(filepath.Join(fixtures, glob))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds for %s: %v", glob, err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzParse: any bytes parse or fail with an error, and whatever parses
// can be compared with itself (no change) and with nothing, and rendered.
func FuzzParse(f *testing.F) {
	addSeeds(f, "*/*.json")
	f.Add([]byte(`<bom xmlns="http://cyclonedx.org/schema/bom/1.6"><components><component type="library"><name>x</name></component></components></bom>`))
	f.Add([]byte(`{"schema": "chainvet/lock/v1", "files": [], "folders": [], "pins": [{"id": "pkg:pypi/x@1", "kind": "package", "name": "x"}]}`))
	f.Add([]byte(`{"spdxVersion": "SPDX-2.3", "documentDescribes": ["r"], "packages": [{"SPDXID": "r"}, {"SPDXID": "a", "name": "x", "comment": "chainvet:kind: model\nchainvet:format: gguf"}], "relationships": [{"spdxElementId": "r", "relationshipType": "DEPENDS_ON", "relatedSpdxElement": "a"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		cs, err := Parse(b)
		if err != nil {
			return
		}
		if r := Compare("a", cs, "b", cs); len(r.Changes) != 0 {
			t.Fatalf("an input differs from itself: %v", briefs(r))
		}
		r := Compare("a", nil, "b", cs)
		r.Apply(nil, time.Time{})
		if len(r.Unapproved()) != r.Summary.Added {
			t.Fatalf("%d additions but %d unapproved", r.Summary.Added, len(r.Unapproved()))
		}
		for _, format := range Formats {
			var out bytes.Buffer
			if err := Render(&out, r, format); err != nil {
				t.Fatal(err)
			}
		}
		if md := Markdown(r, MarkdownLimit); len(md) > MarkdownLimit {
			t.Fatalf("markdown of %d bytes", len(md))
		}
	})
}

// FuzzApprovals: any bytes parse or fail with ErrApprovals, and a parsed
// file can be applied.
func FuzzApprovals(f *testing.F) {
	addSeeds(f, "approvals/*.yaml")
	f.Add([]byte("approvals:\n  - {component: '*', versions: '>=1,<2,!=1.5', approved_by: a, reason: r, expires: 2026-01-01}\n"))
	f.Add([]byte("approvals: &a [*a]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseApprovals("f.yaml", b)
		if err != nil {
			if !errors.Is(err, ErrApprovals) {
				t.Fatalf("error %v is not ErrApprovals", err)
			}
			return
		}
		r := Compare("a", load(t, "reports/old.json"), "b", load(t, "reports/new.json"))
		r.Apply(a, fixtureNow)
	})
}
