package diff

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/chainvet/chainvet/internal/inventory"
)

const fixtures = "../../testdata/diff"

// load parses a fixture file.
func load(t testing.TB, rel string) []inventory.Component {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures, rel))
	if err != nil {
		t.Fatal(err)
	}
	cs, err := Parse(b)
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return cs
}

// brief is a change in one comparable line: type, kind, key and what
// about it changed.
func brief(c Change) string {
	f := []string{string(c.Type), string(c.Kind), c.Key}
	if c.Jump != "" {
		f = append(f, "jump="+string(c.Jump))
	}
	if c.RedFlag() {
		f = append(f, "redflag")
	} else if c.DigestChanged {
		f = append(f, "content")
	}
	for _, p := range c.Properties {
		if p.Source {
			f = append(f, "source="+p.Key)
		} else {
			f = append(f, "prop="+p.Key)
		}
	}
	for _, p := range c.Digests {
		f = append(f, "digest="+p.Key)
	}
	if c.Type == Changed && c.Old.Dependency != c.New.Dependency {
		f = append(f, "dependency="+c.New.Dependency)
	}
	if len(c.Via) > 0 {
		f = append(f, "via="+strings.Join(c.Via, ","))
	}
	return strings.Join(f, " ")
}

func briefs(r *Result) []string {
	var out []string
	for _, c := range r.Changes {
		out = append(out, brief(c))
	}
	return out
}

func TestCompareReports(t *testing.T) {
	r := Compare("old.json", load(t, "reports/old.json"), "new.json", load(t, "reports/new.json"))
	want := []string{
		"added model model:models/new.safetensors",
		"added package pkg:npm/path-to-regexp via=pkg:npm/express@4.21.2",
		"added package pkg:pypi/accelerate",
		"added plugin plugin:.mcp.json#github",
		"added service service:anthropic",
		"removed dataset dataset:data/train.parquet",
		"removed package pkg:npm/left-pad",
		"changed container pkg:docker/python jump=minor",
		"changed container pkg:docker/ubuntu jump=revision",
		"changed dataset dataset:huggingface/acme/tickets jump=revision",
		"changed model model:models/classifier.pt content",
		"changed model pkg:huggingface/google-bert/bert-base-uncased jump=revision",
		"changed package pkg:golang/golang.org/x/net jump=minor",
		"changed package pkg:npm/express jump=patch",
		"changed package pkg:pypi/filelock dependency=direct",
		"changed package pkg:pypi/numpy jump=major",
		"changed package pkg:pypi/requests jump=downgrade",
		"changed package pkg:pypi/safetensors source=index",
		"changed package pkg:pypi/tokenizers jump=prerelease",
		"changed package pkg:pypi/torch jump=minor",
		"changed package pkg:pypi/transformers redflag digest=hashes",
		"changed plugin plugin:.mcp.json#filesystem prop=command",
		"changed service service:openai source=endpoints",
		"changed workflow pkg:github/actions/checkout jump=revision",
		"changed workflow pkg:github/actions/setup-python jump=major",
	}
	if diff := cmp.Diff(want, briefs(r)); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	wantSum := Summary{Added: 5, Removed: 2, Changed: 18, Major: 2, Minor: 3, Patch: 1, Prerelease: 1,
		Downgrade: 1, Revision: 4, DigestChanged: 1, SourceChanged: 2, NewTransitive: 1}
	if diff := cmp.Diff(wantSum, r.Summary); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	// The same inventory on both sides is no change at all.
	if same := Compare("a", load(t, "reports/new.json"), "b", load(t, "reports/new.json")); len(same.Changes) != 0 {
		t.Errorf("identical inputs differ: %v", briefs(same))
	}
}

// TestCompareOtherBOM reads a CycloneDX BOM written by another tool:
// bom-refs that are not purls, direct dependencies known only from the
// root's entry, hashes named SHA-256.
func TestCompareOtherBOM(t *testing.T) {
	r := Compare("old", load(t, "cyclonedx/old.cdx.json"), "new", load(t, "cyclonedx/new.cdx.json"))
	want := []string{
		"added package pkg:pypi/blinker via=pkg:pypi/flask@3.0.3?package-id=b87aa527",
		"changed package pkg:pypi/flask jump=major",
		"changed package pkg:pypi/jinja2 redflag",
		"changed package pkg:pypi/werkzeug jump=major",
	}
	if diff := cmp.Diff(want, briefs(r)); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
}

func TestKey(t *testing.T) {
	tests := []struct {
		name string
		c    inventory.Component
		want string
	}{
		{"purl", inventory.Component{Kind: "package", ID: "pkg:pypi/torch@2.5.1", PURL: "pkg:pypi/torch@2.5.1"}, "package pkg:pypi/torch"},
		{"purl_qualifiers", inventory.Component{Kind: "container", ID: "x", PURL: "pkg:docker/org/app@1.0?repository_url=ghcr.io"}, "container pkg:docker/org/app"},
		{"purl_subpath_kept", inventory.Component{Kind: "workflow", PURL: "pkg:gitlab/g/ci@1.0#docker.yml"}, "workflow pkg:gitlab/g/ci#docker.yml"},
		{"id_is_purl", inventory.Component{Kind: "package", ID: "pkg:conda/numpy"}, "package pkg:conda/numpy"},
		{"id_with_version", inventory.Component{Kind: "dataset", ID: "dataset:huggingface/acme/t@abc", Version: "abc"}, "dataset dataset:huggingface/acme/t"},
		{"ollama_tag", inventory.Component{Kind: "model", ID: "model:ollama/llama3.1:8b", Version: "8b"}, "model model:ollama/llama3.1"},
		{"file", inventory.Component{Kind: "model", ID: "model:models/a.pt"}, "model model:models/a.pt"},
		{"kind_separates", inventory.Component{Kind: "container", ID: "pkg:pypi/torch@2.5.1", PURL: "pkg:pypi/torch@2.5.1"}, "container pkg:pypi/torch"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Key(&tc.c); got != tc.want {
				t.Errorf("Key = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestGrade(t *testing.T) {
	sha := func(c byte) string { return strings.Repeat(string(c), 40) }
	pypi := &inventory.Component{PURL: "pkg:pypi/x@1"}
	npm := &inventory.Component{PURL: "pkg:npm/x@1"}
	gomod := &inventory.Component{PURL: "pkg:golang/example.com/x@v1.0.0"}
	action := &inventory.Component{PURL: "pkg:github/actions/checkout@v4"}
	image := &inventory.Component{PURL: "pkg:docker/python@3.12"}
	other := &inventory.Component{ID: "model:ollama/llama3.1:8b"}
	tests := []struct {
		name     string
		c        *inventory.Component
		old, new string
		want     Jump
	}{
		{"pypi_major", pypi, "1.26.4", "2.0", Major},
		{"pypi_minor", pypi, "2.4.1", "2.5.1", Minor},
		{"pypi_patch", pypi, "2.5.0", "2.5.1", Patch},
		{"pypi_fourth_number", pypi, "1.2.3.4", "1.2.3.5", Patch},
		{"pypi_same_spelled_differently", pypi, "1.0", "1.0.0", ""},
		{"pypi_prerelease", pypi, "2.0rc1", "2.0", Prerelease},
		{"pypi_post", pypi, "2.0", "2.0.post1", Patch},
		{"pypi_downgrade", pypi, "2.32.3", "2.32.2", Downgrade},
		{"pypi_epoch", pypi, "2024.1", "1!1.0", Major},
		{"pypi_invalid", pypi, "1.0", "banana", Other},
		{"npm_minor", npm, "4.17.21", "4.18.0", Minor},
		{"npm_prerelease", npm, "1.0.0-beta.1", "1.0.0-beta.2", Prerelease},
		{"npm_downgrade_prerelease", npm, "1.0.0", "1.0.0-rc.1", Downgrade},
		{"go_patch", gomod, "v0.30.0", "v0.30.1", Patch},
		{"go_pseudo", gomod, "v0.0.0-20240101000000-abcdefabcdef", "v0.0.0-20240201000000-abcdefabcdef", Prerelease},
		{"go_incompatible_same", gomod, "v2.0.0+incompatible", "v2.0.0", ""},
		{"action_major", action, "v3", "v4", Major},
		{"action_sha", action, sha('a'), sha('b'), Revision},
		{"action_tag_to_sha", action, "v4", sha('b'), Other},
		{"image_tag", image, "3.11-slim", "3.12-slim", Minor},
		{"image_digest", image, "sha256:" + strings.Repeat("a", 64), "sha256:" + strings.Repeat("b", 64), Revision},
		{"image_latest", image, "latest", "3.12", Other},
		{"unpinned_to_pinned", pypi, "", "1.0", Other},
		{"ollama_tag", other, "7b", "8b", Other},
		{"short_digits_not_revision", image, "2024010", "2024011", Major},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Grade(tc.c, tc.old, tc.new); got != tc.want {
				t.Errorf("Grade(%q, %q) = %q, want %q", tc.old, tc.new, got, tc.want)
			}
		})
	}
}

// TestPairVersions: two versions of one package on each side pair by ID
// first, then in version order.
func TestPairVersions(t *testing.T) {
	p := func(v string) inventory.Component {
		id := "pkg:npm/lodash@" + v
		return inventory.Component{ID: id, Kind: "package", Name: "lodash", Version: v, PURL: id}
	}
	old := []inventory.Component{p("3.10.1"), p("4.17.20")}
	cases := []struct {
		name string
		new  []inventory.Component
		want []string
	}{
		{"one_bumped", []inventory.Component{p("3.10.1"), p("4.17.21")}, []string{"changed package pkg:npm/lodash jump=patch"}},
		{"one_dropped", []inventory.Component{p("4.17.20")}, []string{"removed package pkg:npm/lodash"}},
		{"both_bumped_and_one_more", []inventory.Component{p("3.10.2"), p("4.17.21"), p("5.0.0")}, []string{
			"added package pkg:npm/lodash",
			"changed package pkg:npm/lodash jump=patch",
			"changed package pkg:npm/lodash jump=patch",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := Compare("old", old, "new", tc.new)
			if diff := cmp.Diff(tc.want, briefs(r)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestDigests: a red flag needs a shared algorithm with no shared value;
// a wheel hash added beside the old one is not one.
func TestDigests(t *testing.T) {
	c := func(props map[string]string, ds ...inventory.Digest) inventory.Component {
		return inventory.Component{ID: "pkg:pypi/x@1.0", Kind: "package", Version: "1.0", PURL: "pkg:pypi/x@1.0", Properties: props, Digests: ds}
	}
	d := func(alg, v string) inventory.Digest { return inventory.Digest{Algorithm: alg, Value: v} }
	tests := []struct {
		name     string
		old, new inventory.Component
		red      bool
	}{
		{"digest_replaced", c(nil, d("sha256", "aa")), c(nil, d("sha256", "bb")), true},
		{"digest_added", c(nil), c(nil, d("sha256", "bb")), false},
		{"other_algorithm", c(nil, d("sha256", "aa")), c(nil, d("sha512", "bb")), false},
		{"hash_added_to_list", c(map[string]string{"hashes": "sha256:aa"}), c(map[string]string{"hashes": "sha256:aa,sha256:bb"}), false},
		{"hash_list_replaced", c(map[string]string{"hashes": "sha256:aa,sha256:cc"}), c(map[string]string{"hashes": "sha256:bb"}), true},
		{"case_only", c(nil, d("SHA256", "AA")), c(nil, d("sha256", "aa")), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Compare("o", []inventory.Component{tc.old}, "n", []inventory.Component{tc.new})
			red := len(r.Changes) == 1 && r.Changes[0].RedFlag()
			if red != tc.red {
				t.Errorf("red flag = %v, want %v; changes %v", red, tc.red, briefs(r))
			}
		})
	}
}

// TestVia: a new transitive dependency names every direct one whose graph
// reaches it, through intermediate ones, and survives cycles.
func TestVia(t *testing.T) {
	c := func(id, dep string, on ...string) inventory.Component {
		return inventory.Component{ID: id, Kind: "package", PURL: id, Dependency: dep, DependsOn: on}
	}
	new := []inventory.Component{
		c("pkg:npm/a@1", inventory.Direct, "pkg:npm/m@1"),
		c("pkg:npm/b@1", inventory.Direct, "pkg:npm/m@1"),
		c("pkg:npm/c@1", inventory.Direct),
		c("pkg:npm/m@1", inventory.Transitive, "pkg:npm/leaf@1"),
		c("pkg:npm/leaf@1", inventory.Transitive, "pkg:npm/m@1"), // a cycle
	}
	r := Compare("o", nil, "n", new)
	got := map[string][]string{}
	for _, ch := range r.Changes {
		got[ch.New.ID] = ch.Via
	}
	want := map[string][]string{
		"pkg:npm/a@1": nil, "pkg:npm/b@1": nil, "pkg:npm/c@1": nil,
		"pkg:npm/m@1":    {"pkg:npm/a@1", "pkg:npm/b@1"},
		"pkg:npm/leaf@1": {"pkg:npm/a@1", "pkg:npm/b@1"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("via (-want +got):\n%s", diff)
	}

	// Twenty direct dependencies at the top of long chains that meet: the
	// first sixteen by name are shown, and that there are more.
	new = nil
	var wantVia []string
	for i := range 20 {
		top := fmt.Sprintf("pkg:npm/d%02d@1", i)
		next := fmt.Sprintf("pkg:npm/chain%02d-0@1", i)
		new = append(new, c(top, inventory.Direct, next))
		for j := range 50 {
			id, on := fmt.Sprintf("pkg:npm/chain%02d-%d@1", i, j), fmt.Sprintf("pkg:npm/chain%02d-%d@1", i, j+1)
			if j == 49 {
				on = "pkg:npm/shared@1"
			}
			new = append(new, c(id, inventory.Transitive, on))
		}
		if i < maxVia {
			wantVia = append(wantVia, top)
		}
	}
	new = append(new, c("pkg:npm/shared@1", inventory.Transitive))
	r = Compare("o", nil, "n", new)
	for _, ch := range r.Changes {
		if ch.New.ID == "pkg:npm/shared@1" {
			if diff := cmp.Diff(append(wantVia, "…"), ch.Via); diff != "" {
				t.Errorf("capped via (-want +got):\n%s", diff)
			}
		}
	}
}

func TestRelativize(t *testing.T) {
	cs := []inventory.Component{{
		ID: "model:/tmp/x/models/a.pt", Name: "/tmp/x/models/a.pt",
		Locations:  []inventory.Location{{Path: "/tmp/x/models/a.pt"}, {Path: "/tmp/x"}},
		DependsOn:  []string{"dataset:/tmp/x/data.csv"},
		Properties: map[string]string{"manifest": "/tmp/x/req.txt", "other": "/tmp/xy/z"},
	}}
	relativize(cs, "/tmp/x")
	want := inventory.Component{
		ID: "model:models/a.pt", Name: "models/a.pt",
		Locations:  []inventory.Location{{Path: "models/a.pt"}, {Path: "."}},
		DependsOn:  []string{"dataset:data.csv"},
		Properties: map[string]string{"manifest": "req.txt", "other": "/tmp/xy/z"},
	}
	if diff := cmp.Diff(want, cs[0]); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// BenchmarkCompare diffs two inventories of 100,000 packages each, a
// tenth of them bumped, added or removed, with a dependency graph.
func BenchmarkCompare(b *testing.B) {
	const n = 100000
	mk := func(shift int) []inventory.Component {
		cs := make([]inventory.Component, 0, n)
		for i := range n {
			v := "1.0.0"
			if i%10 == shift {
				v = "1.1.0"
			}
			name := fmt.Sprintf("p%d", i+shift*(i%20/19)) // some names differ
			id := "pkg:npm/" + name + "@" + v
			c := inventory.Component{ID: id, Kind: "package", Name: name, Version: v, PURL: id, Dependency: inventory.Transitive}
			if i%100 == 0 {
				c.Dependency = inventory.Direct
			}
			if i+1 < n {
				c.DependsOn = []string{fmt.Sprintf("pkg:npm/p%d@1.0.0", i+1)}
			}
			cs = append(cs, c)
		}
		return cs
	}
	old, new := mk(0), mk(1)
	b.ResetTimer()
	for range b.N {
		Compare("old", old, "new", new)
	}
}
