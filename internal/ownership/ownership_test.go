package ownership

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/google/go-cmp/cmp"
)

const fixtures = "../../testdata/bom/ownership"

func TestLoad(t *testing.T) {
	c, err := Load(filepath.Join(fixtures, FileName))
	if err != nil {
		t.Fatal(err)
	}
	want := []Rule{
		{Match: "models/**", Owner: "team-ml", Criticality: "tier0", Line: 3},
		{Match: "pkg:pypi/torch", Owner: "team-platform", Criticality: "tier1", Line: 6},
		{Match: "plugin:*#github", Owner: "team-devex", Line: 9},
		{Match: "transformers", Criticality: "tier2", Line: 11},
		{Match: "**", Owner: "team-default", Line: 13},
	}
	if diff := cmp.Diff(want, c.Rules); diff != "" {
		t.Errorf("rules (-want +got):\n%s", diff)
	}
	if c.Dir != fixtures {
		t.Errorf("Dir = %q, want %q", c.Dir, fixtures)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct{ file, want string }{
		{"bad-key.yaml", `bad-key.yaml:4: unknown key "team"`},
		{"bad-criticality.yaml", `bad-criticality.yaml:2: criticality "high"`},
		{"bad-nomatch.yaml", `bad-nomatch.yaml:2: rule has no match`},
		{"bad-syntax.yaml", `bad-syntax.yaml:1: yaml: line 1`},
		{"missing.yaml", "no such file"},
	}
	for _, tc := range tests {
		_, err := Load(filepath.Join(fixtures, tc.file))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Load(%s) error %v, want one containing %q", tc.file, err, tc.want)
		}
	}
}

func TestFind(t *testing.T) {
	if c, err := Find(t.TempDir()); c != nil || err != nil {
		t.Errorf("Find(empty dir) = %v, %v; want nil, nil", c, err)
	}
	if c, err := Find(fixtures); c == nil || err != nil {
		t.Errorf("Find(fixtures) = %v, %v; want a config", c, err)
	}
}

func TestApply(t *testing.T) {
	c, err := Load(filepath.Join(fixtures, FileName))
	if err != nil {
		t.Fatal(err)
	}
	loc := func(p string) []inventory.Location { return []inventory.Location{{Path: p}} }
	tests := []struct {
		name string
		comp inventory.Component
		want map[string]string
	}{
		{"path relative to the config", inventory.Component{ID: "model:" + fixtures + "/models/a.gguf", Name: "a.gguf",
			Locations: loc(fixtures + "/models/a.gguf")},
			map[string]string{"owner": "team-ml", "criticality": "tier0"}},
		{"path as written", inventory.Component{ID: "model:x", Name: "x", Locations: loc("models/sub/x.bin"),
			Properties: map[string]string{"format": "pickle"}},
			map[string]string{"format": "pickle", "owner": "team-ml", "criticality": "tier0"}},
		{"purl prefix beats a later path rule", inventory.Component{ID: "pkg:pypi/torch@2.5.1", PURL: "pkg:pypi/torch@2.5.1", Name: "torch",
			Locations: loc(fixtures + "/models/requirements.txt")},
			map[string]string{"owner": "team-ml", "criticality": "tier0"}},
		{"purl prefix", inventory.Component{ID: "pkg:pypi/torch@2.5.1", PURL: "pkg:pypi/torch@2.5.1", Name: "torch",
			Locations: loc("/elsewhere/requirements.txt")},
			map[string]string{"owner": "team-platform", "criticality": "tier1"}},
		{"prefix does not match a longer name", inventory.Component{ID: "pkg:pypi/torchvision", PURL: "pkg:pypi/torchvision",
			Name: "torchvision", Locations: loc("/elsewhere/r.txt")},
			map[string]string{"owner": "team-default"}},
		{"id wildcard", inventory.Component{ID: "plugin:.mcp.json#github", Name: "github", Locations: loc("/x/.mcp.json")},
			map[string]string{"owner": "team-devex"}},
		{"name glob, first match sets criticality only", inventory.Component{ID: "pkg:pypi/transformers", Name: "transformers"},
			map[string]string{"criticality": "tier2"}},
		{"catch-all", inventory.Component{ID: "pkg:npm/left-pad", Name: "left-pad", Locations: loc("/x/package.json")},
			map[string]string{"owner": "team-default"}},
		{"nothing matches", inventory.Component{ID: "url:https://x", Name: "https://x"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &inventory.Report{Components: []inventory.Component{tc.comp}}
			c.Apply(r)
			if diff := cmp.Diff(tc.want, r.Components[0].Properties); diff != "" {
				t.Errorf("properties (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGlob(t *testing.T) {
	tests := []struct {
		pat, name string
		want      bool
	}{
		{"**", "a/b/c", true},
		{"a/**", "a", true},
		{"a/**/c", "a/b/b/c", true},
		{"a/*", "a/b/c", false},
		{"*.gguf", "x.gguf", true},
		{"*.gguf", "m/x.gguf", false},
		{"**/*.gguf", "m/x.gguf", true},
	}
	for _, tc := range tests {
		if got := Glob(tc.pat, tc.name); got != tc.want {
			t.Errorf("Glob(%q, %q) = %v, want %v", tc.pat, tc.name, got, tc.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"owners:\n  - match: a\n    owner: b\n", "owners: [\n", "{}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err == nil {
			c.Apply(&inventory.Report{Components: []inventory.Component{{ID: "pkg:x/y", Name: "y",
				Locations: []inventory.Location{{Path: "a/b/y"}}}}})
		}
	})
}

func TestParseOtherKeys(t *testing.T) {
	tests := []struct {
		name, src string
		rules     int
		err       string
	}{
		{"defaults_beside_owners", "fail-on: critical\nscan:\n  output: json\nowners:\n  - match: a\n    owner: x\n", 1, ""},
		{"defaults_only", "output: json\n", 0, ""},
		{"owners_not_a_list", "output: json\nowners: team-ml\n", 0, "2: owners: want a list"},
		{"not_a_mapping", "- owners\n", 0, "1: want a mapping"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.src))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Parse error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Rules) != tc.rules {
				t.Errorf("%d rules, want %d", len(c.Rules), tc.rules)
			}
		})
	}
}
