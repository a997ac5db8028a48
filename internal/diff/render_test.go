package diff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/chainvet/chainvet/internal/inventory"
)

func fixtureResult(t *testing.T) *Result {
	t.Helper()
	r := Compare("old.json", load(t, "reports/old.json"), "new.json", load(t, "reports/new.json"))
	r.Apply(loadApprovals(t), fixtureNow)
	return r
}

func TestRenderTable(t *testing.T) {
	var b bytes.Buffer
	if err := Render(&b, fixtureResult(t), "table"); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"old.json → new.json: 5 added (1 transitive), 2 removed, 18 changed (2 major, 3 minor, 1 patch, 1 prerelease, 1 downgrade, 4 revision, 2 source); 1 same version with a different digest; 16 need approval, 3 approved",
		"Same version, different digest (red flag) (1)",
		"package  pkg:pypi/transformers  4.44.0   hashes sha256:",
		"New transitive dependencies (1)",
		"pkg:npm/path-to-regexp  0.1.12   pkg:npm/express@4.21.2",
		"pkg:pypi/numpy                   1.26.4     2.1.0      major       approval expired on 2026-01-31",
		"approval expired on 2026-01-31",
		"approved by alice@example.com until 2026-12-31",
		"Source changes (2)",
		"endpoints  https://api.openai.com   https://llm-proxy.example.com/v1",
		"Other changes (2)",
		"dependency transitive → direct",
		"command npx → uvx",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestRenderJSON(t *testing.T) {
	var b bytes.Buffer
	if err := Render(&b, fixtureResult(t), "json"); err != nil {
		t.Fatal(err)
	}
	var back Result
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Schema != Schema || back.Summary.Added != 5 || len(back.Changes) != 25 {
		t.Errorf("schema %q, summary %+v, %d changes", back.Schema, back.Summary, len(back.Changes))
	}
	b.Reset()
	Render(&b, Compare("a", nil, "b", nil), "json")
	if !strings.Contains(b.String(), `"changes": []`) {
		t.Errorf("no changes is not an empty list: %s", b.String())
	}
	if err := Render(&b, &Result{}, "yaml"); err == nil {
		t.Error("an unknown format was accepted")
	}
}

func TestMarkdown(t *testing.T) {
	md := Markdown(fixtureResult(t), MarkdownLimit)
	for _, want := range []string{
		"### chainvet diff: `old.json` → `new.json`",
		"⚠️ 5 added",
		"<details><summary>Same version, different digest (red flag) (1)</summary>",
		"| kind | component | version | digest | approval |",
		"| `package` | `pkg:pypi/transformers` | `4.44.0` |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if n, m := strings.Count(md, "<details>"), strings.Count(md, "</details>"); n != m || n != 9 {
		t.Errorf("%d <details> and %d </details>, want 9 of each", n, m)
	}
	if md := Markdown(Compare("a", nil, "b", nil), MarkdownLimit); !strings.Contains(md, "No changes") {
		t.Errorf("empty diff: %q", md)
	}
}

// TestMarkdownLimit: however many changes, the comment fits, shows how
// many it left out, and keeps its HTML balanced.
func TestMarkdownLimit(t *testing.T) {
	var old, new []inventory.Component
	long := strings.Repeat("x", 5000)
	for i := range 20000 {
		id := fmt.Sprintf("pkg:npm/p%d-%s@1.0.%d", i, long[:i%300], i%7)
		new = append(new, inventory.Component{ID: id, Kind: "package", PURL: id, Version: fmt.Sprintf("1.0.%d", i%7), Dependency: "direct"})
		if i%2 == 0 {
			oid := fmt.Sprintf("pkg:npm/p%d-%s@0.9.0", i, long[:i%300])
			old = append(old, inventory.Component{ID: oid, Kind: "package", PURL: oid, Version: "0.9.0"})
		}
		if i%3 == 0 {
			oid := fmt.Sprintf("pkg:pypi/gone%d@1.0", i)
			old = append(old, inventory.Component{ID: oid, Kind: "package", PURL: oid, Version: "1.0"})
		}
	}
	r := Compare(long, old, long, new)
	for _, limit := range []int{MarkdownLimit, 4000} {
		md := Markdown(r, limit)
		if len(md) > limit {
			t.Errorf("limit %d: markdown of %d bytes", limit, len(md))
		}
		if strings.Count(md, "<details>") != strings.Count(md, "</details>") {
			t.Errorf("limit %d: unbalanced <details>", limit)
		}
		if limit == MarkdownLimit && !strings.Contains(md, "…and ") {
			t.Errorf("limit %d: no \"…and N more\"", limit)
		}
	}
}

// TestMarkdownEscapes: a crafted name cannot break out of its cell, run
// HTML, or mention anyone.
func TestMarkdownEscapes(t *testing.T) {
	name := "evil`</details><img src=x onerror=alert(1)>|@org/team\nnext"
	r := Compare("a", nil, "b", []inventory.Component{{ID: "plugin:" + name, Kind: "plugin", Name: name}})
	md := Markdown(r, MarkdownLimit)
	var row string
	for line := range strings.SplitSeq(md, "\n") {
		if strings.HasPrefix(line, "| `plugin`") {
			row = line
		}
	}
	want := "| `plugin` | `plugin:evil'</details><img src=x onerror=alert(1)>\\|@org/team next` |  |  |"
	if row != want {
		t.Errorf("row\n%q, want\n%q", row, want)
	}
	// Inside a code span, CommonMark renders no HTML: the only section
	// end is the line of our own.
	if strings.Count(md, "\n</details>\n") != 1 {
		t.Errorf("the name closed a section:\n%s", md)
	}
	var b bytes.Buffer
	Render(&b, r, "table")
	if strings.Contains(b.String(), "\nnext") {
		t.Errorf("a newline in a name reached the table:\n%s", b.String())
	}
}
