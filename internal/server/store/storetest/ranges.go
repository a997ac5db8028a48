package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/chainvet/chainvet/internal/advisory/version"
	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/server/store"
)

// pkg is a component of purl type typ, named name, at version v.
func pkg(typ, purlName, name, v string) inventory.Component {
	purl := "pkg:" + typ + "/" + purlName + "@" + v
	return inventory.Component{ID: purl, Kind: inventory.KindPackage, Name: name, Version: v, PURL: purl,
		Locations: []inventory.Location{{Path: "lock"}}}
}

func testRange(t *testing.T, _ string, s store.Store) {
	ctx := context.Background()
	mustAdd(t, s, upload("api", "1.0", "prod", t0, pkg("pypi", "Torch", "Torch", "1.9.0")))
	mustAdd(t, s, upload("api", "1.1", "prod", t0.Add(time.Hour), pkg("pypi", "Torch", "Torch", "2.4.0"), comp("numpy", "2.4.0")))
	mustAdd(t, s, upload("web", "3.0", "prod", t0, comp("torch", "2.5.1"),
		pkg("npm", "%40scope/left-pad", "@scope/left-pad", "1.2.3"),
		pkg("golang", "github.com/foo/bar", "github.com/foo/bar", "v1.4.0")))
	mustAdd(t, s, upload("ml", "0.1", "gpu", t0, comp("torch", "2.3.0rc1")))
	// Versions that do not parse: skipped, and counted once each.
	mustAdd(t, s, upload("odd", "1", "prod", t0, comp("torch", "nightly"), comp("torch", "")))
	mustAdd(t, s, upload("odd", "1", "staging", t0, comp("torch", "nightly")))

	type row struct{ Project, Env, Name, CVersion string }
	tests := []struct {
		name    string
		q       store.ComponentQuery
		want    []row
		skipped int
	}{
		{"pypi_range", store.ComponentQuery{PURL: "pkg:pypi/torch", Range: ">=2.0,<2.5"}, []row{
			{"api", "prod", "Torch", "2.4.0"}, {"ml", "gpu", "torch", "2.3.0rc1"}}, 2},
		{"name_spelt_otherwise", store.ComponentQuery{PURL: "pkg:pypi/TORCH", Range: ">=2.0,<2.5"}, []row{
			{"api", "prod", "Torch", "2.4.0"}, {"ml", "gpu", "torch", "2.3.0rc1"}}, 2},
		{"package_key", store.ComponentQuery{Ecosystem: "PyPI", Package: "torch", Range: "==2.5.1"}, []row{
			{"web", "prod", "torch", "2.5.1"}}, 2},
		{"none_in_range", store.ComponentQuery{PURL: "pkg:pypi/torch", Range: ">=3"}, nil, 2},
		{"history", store.ComponentQuery{PURL: "pkg:pypi/torch", Range: "<2", History: true}, []row{
			{"api", "prod", "Torch", "1.9.0"}}, 2},
		{"latest_only", store.ComponentQuery{PURL: "pkg:pypi/torch", Range: "<2"}, nil, 2},
		{"one_project_skips_only_its_rows", store.ComponentQuery{PURL: "pkg:pypi/torch", Range: ">=2", Project: "ml"}, []row{
			{"ml", "gpu", "torch", "2.3.0rc1"}}, 0},
		{"limit", store.ComponentQuery{PURL: "pkg:pypi/torch", Range: ">=2", Limit: 1}, []row{
			{"api", "prod", "Torch", "2.4.0"}}, 2},
		{"npm_scoped", store.ComponentQuery{PURL: "pkg:npm/%40scope/left-pad", Range: "^1.2.0 || ^3"}, []row{
			{"web", "prod", "@scope/left-pad", "1.2.3"}}, 0},
		{"npm_out_of_range", store.ComponentQuery{PURL: "pkg:npm/%40scope/left-pad", Range: "~1.1.0"}, nil, 0},
		{"go_comparisons", store.ComponentQuery{PURL: "pkg:golang/github.com/foo/bar", Range: ">=v1.3.0, <2.0.0, !=1.4.1"}, []row{
			{"web", "prod", "github.com/foo/bar", "v1.4.0"}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, skipped, err := s.FindComponentsInRange(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			var rows []row
			for _, m := range got {
				rows = append(rows, row{m.Project, m.Env, m.Name, m.CVersion})
			}
			if d := cmp.Diff(tt.want, rows); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
			if skipped != tt.skipped {
				t.Errorf("skipped %d versions, want %d", skipped, tt.skipped)
			}
		})
	}

	for _, tt := range []struct {
		name string
		q    store.ComponentQuery
		want error // nil: any error
	}{
		{"unordered_ecosystem", store.ComponentQuery{PURL: "pkg:huggingface/org/model", Range: ">=1"}, version.ErrUnsupported},
		{"no_ecosystem", store.ComponentQuery{PURL: "pkg:maven/org/lib", Range: ">=1"}, store.ErrNoEcosystem},
		{"bad_range", store.ComponentQuery{PURL: "pkg:pypi/torch", Range: ">=2.0,<<3"}, version.ErrInvalid},
		{"empty_range", store.ComponentQuery{PURL: "pkg:pypi/torch"}, version.ErrInvalid},
		{"purl_with_version", store.ComponentQuery{PURL: "pkg:pypi/torch@2.4.0", Range: ">=2"}, nil},
		{"no_package", store.ComponentQuery{Name: "torch", Range: ">=2"}, nil},
	} {
		_, _, err := s.FindComponentsInRange(ctx, tt.q)
		if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
			t.Errorf("%s: err %v, want %v", tt.name, err, tt.want)
		}
	}
	if _, err := s.FindComponents(ctx, store.ComponentQuery{PURL: "pkg:pypi/torch", Range: ">=2"}); err == nil {
		t.Error("FindComponents ignored a range")
	}
}

// testRangeManyVersions checks a range keeping more versions than one
// IN (…) lists: the package's rows are then filtered as they are read.
func testRangeManyVersions(t *testing.T, _ string, s store.Store) {
	ctx := context.Background()
	cs := []inventory.Component{comp("wide", "0.1.0"), comp("wide", "zzz")}
	for i := range 1200 {
		cs = append(cs, comp("wide", fmt.Sprintf("1.0.%d", i)))
	}
	mustAdd(t, s, upload("web", "1", "prod", t0, cs...))
	for _, tt := range []struct {
		rng   string
		limit int
		first string
		n     int
	}{
		{">=1", 0, "1.0.0", 1200},         // 1,200 versions: filtered as read
		{">=1", 3, "1.0.0", 3},            // and limited
		{">=1.0.700", 0, "1.0.1000", 500}, // 500 versions, listed in IN (…); sorted as text
		{"<1", 0, "0.1.0", 1},
	} {
		got, skipped, err := s.FindComponentsInRange(ctx, store.ComponentQuery{PURL: "pkg:pypi/wide", Range: tt.rng, Limit: tt.limit})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != tt.n || got[0].CVersion != tt.first || skipped != 1 {
			t.Errorf("range %q limit %d: %d matches from %q, %d skipped; want %d from %q, 1 skipped",
				tt.rng, tt.limit, len(got), got[0].CVersion, skipped, tt.n, tt.first)
		}
		for _, m := range got {
			if m.CVersion == "0.1.0" && tt.rng != "<1" || m.CVersion == "zzz" {
				t.Fatalf("range %q matched %s", tt.rng, m.CVersion)
			}
		}
	}
}
