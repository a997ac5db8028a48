// Package manifest reads the fixture manifests under testdata/ — what each
// fixture is meant to be — and checks scan reports against them; tests use it.
package manifest

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/chainvet/chainvet/internal/inventory"
)

// Row is one line of a MANIFEST.tsv: what the fixture generator meant a
// file to be.
type Row struct {
	// Path is the fixture's path, relative to the manifest's folder.
	Path string
	// Verdict is "benign" or "malicious".
	Verdict string
	// Min and Max bound the severity of the worst finding.
	Min, Max inventory.Severity
	// Rules are rule ids that must each be reported at least once.
	Rules []string
	// Evidence, when set, must appear in the evidence or message of a
	// finding at Min or above.
	Evidence string
	// Description says what the fixture is.
	Description string
}

// columns is the number of tab-separated columns of a row.
const columns = 7

// Read reads a manifest: a header line, then one row per line. Blank lines
// and lines starting with '#' are skipped. Errors name file:line.
func Read(file string) ([]Row, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rows []Row
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if line == 1 || strings.TrimSpace(text) == "" || strings.HasPrefix(text, "#") {
			continue
		}
		col := strings.Split(text, "\t")
		if len(col) != columns {
			return nil, fmt.Errorf("%s:%d: %d columns, want %d", file, line, len(col), columns)
		}
		if col[1] != "benign" && col[1] != "malicious" {
			return nil, fmt.Errorf("%s:%d: verdict %q, want benign or malicious", file, line, col[1])
		}
		lo, err := inventory.ParseSeverity(col[2])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: min severity: %v", file, line, err)
		}
		hi, err := inventory.ParseSeverity(col[3])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: max severity: %v", file, line, err)
		}
		r := Row{Path: col[0], Verdict: col[1], Min: lo, Max: hi, Evidence: col[5], Description: col[6]}
		if col[4] != "" {
			r.Rules = strings.Split(col[4], ",")
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	return rows, nil
}

// Check holds a scan report to the row and returns what does not match,
// one sentence each; none when the report is what the row says.
func (r Row) Check(rep *inventory.Report) []string {
	var problems []string
	worst, any := rep.Max()
	if !any {
		worst = inventory.Info
	}
	if worst < r.Min || worst > r.Max {
		problems = append(problems, fmt.Sprintf("worst finding %s, want %s..%s", worst, r.Min, r.Max))
	}
	if r.Verdict == "malicious" && !any {
		problems = append(problems, "no findings")
	}
	for _, want := range r.Rules {
		if !hasRule(rep, want) {
			problems = append(problems, fmt.Sprintf("no %s finding", want))
		}
	}
	if r.Evidence != "" && !hasEvidence(rep, r.Evidence, r.Min) {
		problems = append(problems, fmt.Sprintf("no finding at %s or above shows %q", r.Min, r.Evidence))
	}
	return problems
}

func hasRule(rep *inventory.Report, id string) bool {
	for _, f := range rep.Findings {
		if f.Rule == id {
			return true
		}
	}
	return false
}

func hasEvidence(rep *inventory.Report, s string, min inventory.Severity) bool {
	for _, f := range rep.Findings {
		if f.Severity >= min && strings.Contains(f.Evidence+" "+f.Message, s) {
			return true
		}
	}
	return false
}

// Dump lists a report's findings, one indented line each: severity, rule,
// path and evidence.
func Dump(rep *inventory.Report) string {
	var b strings.Builder
	for _, f := range rep.Findings {
		b.WriteString("  " + f.Severity.String() + " " + f.Rule + " " + f.Path + ": " + f.Evidence + "\n")
	}
	return b.String()
}

// Golden compares got with the golden file; with update set it first
// rewrites the file (go test -update). Catalogers' golden tests share it.
func Golden(t testing.TB, file string, got []byte, update bool) {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s (-want +got; rerun with -update if intended):\n%s", file, d)
	}
}
