package jinja

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

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

// manifestRow is one line of testdata/templates/MANIFEST.tsv.
type manifestRow struct {
	path, verdict  string
	min, max       inventory.Severity
	rules          []string
	evidence, desc string
}

func readManifest(t *testing.T) []manifestRow {
	t.Helper()
	f, err := os.Open(filepath.Join(fixtures, "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []manifestRow
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		if line == 1 || strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		col := strings.Split(sc.Text(), "\t")
		if len(col) != 7 {
			t.Fatalf("MANIFEST.tsv:%d: %d columns, want 7", line, len(col))
		}
		lo, err1 := inventory.ParseSeverity(col[2])
		hi, err2 := inventory.ParseSeverity(col[3])
		if err1 != nil || err2 != nil {
			t.Fatalf("MANIFEST.tsv:%d: %v %v", line, err1, err2)
		}
		r := manifestRow{path: col[0], verdict: col[1], min: lo, max: hi, evidence: col[5], desc: col[6]}
		if col[4] != "" {
			r.rules = strings.Split(col[4], ",")
		}
		rows = append(rows, r)
	}
	return rows
}

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
	rows := readManifest(t)
	if len(rows) < 30 {
		t.Fatalf("only %d fixtures in the manifest", len(rows))
	}
	for _, row := range rows {
		name := strings.TrimSuffix(filepath.Base(row.path), ".jinja")
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(fixtures, row.path))
			if err != nil {
				t.Fatal(err)
			}
			ps := Check(string(b), DefaultLimits)
			if w := worst(ps); w < row.min || w > row.max {
				t.Errorf("%s (%s): worst problem %s, want %s..%s\n%s", row.path, row.desc, w, row.min, row.max, dump(ps))
			}
			if row.verdict == "malicious" && len(ps) == 0 {
				t.Errorf("%s (%s): no problems", row.path, row.desc)
			}
			if row.verdict == "benign" && len(ps) != 0 {
				t.Errorf("%s (%s): problems in a benign template\n%s", row.path, row.desc, dump(ps))
			}
			got := rulesOf(ps)
			for _, want := range row.rules {
				if !slices.Contains(got, want) {
					t.Errorf("%s (%s): no %s problem\n%s", row.path, row.desc, want, dump(ps))
				}
			}
			if row.evidence != "" && !slices.ContainsFunc(ps, func(p Problem) bool {
				return inventory.Severity(p.Severity) >= row.min && strings.Contains(p.Evidence+" "+p.Message, row.evidence)
			}) {
				t.Errorf("%s (%s): no problem at %s or above shows %q\n%s", row.path, row.desc, row.min, row.evidence, dump(ps))
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
