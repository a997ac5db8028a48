package render

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/google/go-cmp/cmp"
)

// suppressedReport has one finding left and two suppressed, one of each kind.
func suppressedReport() *inventory.Report {
	r := emptyReport()
	r.Findings = []inventory.Finding{{Rule: "mcp/plain-http", Severity: inventory.High, Path: "proj/.mcp.json", Line: 4, Message: "plain http"}}
	r.Suppressed = []inventory.Suppressed{
		{Finding: inventory.Finding{Rule: "mcp/inline-secret", Severity: inventory.High, Path: "proj/.vscode/mcp.json", Line: 7, Message: "secret"},
			Kind: inventory.SuppressInline, Reason: "test key, revoked", Source: "proj/.vscode/mcp.json:6"},
		{Finding: inventory.Finding{Rule: "future/rule", Severity: inventory.Medium, Path: "m.zip!a.pkl", Message: "x", Remediation: "do y"},
			Kind: inventory.SuppressFile, Reason: "vendored\x1b[31m", Expires: "2026-12-31", Owner: "team-ml", Source: ".chainvet-ignore.yaml:3"},
	}
	return r
}

func TestSARIFSuppressed(t *testing.T) {
	out := render(t, "sarif", Options{}, suppressedReport())
	if err := validate(sarifValidator(t), out); err != nil {
		t.Fatalf("suppressed results fail the SARIF schema: %v\n%s", err, out)
	}
	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Rules []struct{ ID string }
				}
			}
			Results []struct {
				RuleID       string
				RuleIndex    int
				Suppressions []struct{ Kind, Status, Justification string }
			}
		}
	}
	if err := json.Unmarshal(out, &log); err != nil {
		t.Fatal(err)
	}
	run := log.Runs[0]
	type res struct {
		Rule, Kind, Justification string
	}
	var got []res
	for _, r := range run.Results {
		if run.Tool.Driver.Rules[r.RuleIndex].ID != r.RuleID {
			t.Errorf("result %s points at rule %s", r.RuleID, run.Tool.Driver.Rules[r.RuleIndex].ID)
		}
		x := res{Rule: r.RuleID}
		if len(r.Suppressions) == 1 {
			x.Kind, x.Justification = r.Suppressions[0].Kind, r.Suppressions[0].Justification
			if r.Suppressions[0].Status != "accepted" {
				t.Errorf("%s: status %q", r.RuleID, r.Suppressions[0].Status)
			}
		}
		got = append(got, x)
	}
	want := []res{
		{Rule: "mcp/plain-http"},
		{"mcp/inline-secret", "inSource", "test key, revoked"},
		{"future/rule", "external", `vendored\x1b[31m`},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
}

func TestTableSuppressed(t *testing.T) {
	out := string(render(t, "table", Options{}, suppressedReport()))
	if !strings.HasSuffix(out, "findings: 1 high\n2 findings suppressed (see -o json)\n") {
		t.Errorf("table does not end with the suppressed count:\n%s", out)
	}
	if strings.Contains(out, "inline-secret") {
		t.Errorf("table lists a suppressed finding:\n%s", out)
	}
	if out := string(render(t, "table", Options{}, sampleReport())); strings.Contains(out, "suppressed") {
		t.Errorf("table without suppressions mentions them:\n%s", out)
	}
}

func TestJSONSuppressed(t *testing.T) {
	var got struct {
		Findings   []inventory.Finding
		Suppressed []inventory.Suppressed
	}
	if err := json.Unmarshal(render(t, "json", Options{}, suppressedReport()), &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(suppressedReport().Suppressed, got.Suppressed); diff != "" {
		t.Errorf("suppressed (-want +got):\n%s", diff)
	}
	if out := render(t, "json", Options{}, sampleReport()); strings.Contains(string(out), `"suppressed"`) {
		t.Error("a report without suppressions has a suppressed key")
	}
}
