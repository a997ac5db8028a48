package jinja

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chainvet/chainvet/internal/catalog/manifest"
	"github.com/chainvet/chainvet/internal/inventory"
)

const (
	fixtures = "../../../testdata/templates"
	// shared holds real chat templates of widely used models, kept
	// outside the repository; tests skip when it is absent.
	shared = "../../../../shared/fixtures/chat-templates"
)

var knownRules = []string{RuleDunder, RuleGlobal, RuleInternal, RulePrivate, RuleDynamic,
	RuleDangerous, RuleExternal, RuleMalformed, RuleScanLimit}

func worst(ps []Problem) inventory.Severity {
	w := inventory.Info
	for _, p := range ps {
		w = max(w, inventory.Severity(p.Severity))
	}
	return w
}

func rulesOf(ps []Problem) []string {
	var out []string
	for _, p := range ps {
		if !slices.Contains(out, p.Rule) {
			out = append(out, p.Rule)
		}
	}
	slices.Sort(out)
	return out
}

func dump(ps []Problem) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString("  " + inventory.Severity(p.Severity).String() + " " + p.Rule + " line " +
			strconv.Itoa(p.Line) + ": " + p.Evidence + " — " + p.Message + "\n")
	}
	return b.String()
}

// TestManifest checks every fixture against what the generator says it
// is: the worst problem's severity, the rules, and the name shown.
func TestManifest(t *testing.T) {
	rows, err := manifest.Read(filepath.Join(fixtures, "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 30 {
		t.Fatalf("only %d fixtures in the manifest", len(rows))
	}
	for _, row := range rows {
		name := strings.TrimSuffix(filepath.Base(row.Path), ".jinja")
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(fixtures, row.Path))
			if err != nil {
				t.Fatal(err)
			}
			ps := Check(string(b), DefaultLimits)
			if w := worst(ps); w < row.Min || w > row.Max {
				t.Errorf("%s (%s): worst problem %s, want %s..%s\n%s", row.Path, row.Description, w, row.Min, row.Max, dump(ps))
			}
			if row.Verdict == "malicious" && len(ps) == 0 {
				t.Errorf("%s (%s): no problems", row.Path, row.Description)
			}
			if row.Verdict == "benign" && len(ps) != 0 {
				t.Errorf("%s (%s): problems in a benign template\n%s", row.Path, row.Description, dump(ps))
			}
			got := rulesOf(ps)
			for _, want := range row.Rules {
				if !slices.Contains(got, want) {
					t.Errorf("%s (%s): no %s problem\n%s", row.Path, row.Description, want, dump(ps))
				}
			}
			if row.Evidence != "" && !slices.ContainsFunc(ps, func(p Problem) bool {
				return inventory.Severity(p.Severity) >= row.Min && strings.Contains(p.Evidence+" "+p.Message, row.Evidence)
			}) {
				t.Errorf("%s (%s): no problem at %s or above shows %q\n%s", row.Path, row.Description, row.Min, row.Evidence, dump(ps))
			}
			for _, p := range ps {
				if !slices.Contains(knownRules, p.Rule) {
					t.Errorf("problem with unknown rule %q", p.Rule)
				}
			}
		})
	}
}

// TestShared runs the real chat templates of widely used models: every
// one must parse and come out clean.
func TestShared(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(shared, "*.jinja"))
	if len(files) == 0 {
		t.Skip("no shared chat templates at " + shared)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".jinja"), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			body, err := newParser(string(b), DefaultLimits).parse()
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if len(body) == 0 {
				t.Fatal("empty tree")
			}
			if ps := Check(string(b), DefaultLimits); len(ps) != 0 {
				t.Errorf("problems in a real chat template:\n%s", dump(ps))
			}
		})
	}
}
