package manifest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/google/go-cmp/cmp"
)

const header = "path\tverdict\tmin_severity\tmax_severity\trules\tevidence\tdescription\n"

func TestRead(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    []Row
		wantErr string // substring of the error; "" for none
	}{
		{
			name: "good",
			body: header +
				"benign/a.pt\tbenign\tinfo\tlow\t\t\ta plain file\n" +
				"\n" +
				"# a comment\n" +
				"malicious/b.pt\tmalicious\thigh\tcritical\tpickle/dangerous-call,pickle/format\tos.system\tcalls os.system\n",
			want: []Row{
				{Path: "benign/a.pt", Verdict: "benign", Min: inventory.Info, Max: inventory.Low, Description: "a plain file"},
				{Path: "malicious/b.pt", Verdict: "malicious", Min: inventory.High, Max: inventory.Critical,
					Rules: []string{"pickle/dangerous-call", "pickle/format"}, Evidence: "os.system", Description: "calls os.system"},
			},
		},
		{name: "header_only", body: header},
		{name: "too_few_columns", body: header + "a.pt\tbenign\tinfo\tlow\t\t\n", wantErr: "MANIFEST.tsv:2: 6 columns, want 7"},
		{name: "too_many_columns", body: header + "\n" + "a.pt\tbenign\tinfo\tlow\t\t\tx\ty\n", wantErr: "MANIFEST.tsv:3: 8 columns, want 7"},
		{name: "bad_min_severity", body: header + "a.pt\tbenign\tsevere\tlow\t\t\tx\n", wantErr: "MANIFEST.tsv:2: min severity"},
		{name: "bad_max_severity", body: header + "a.pt\tbenign\tinfo\t\t\t\tx\n", wantErr: "MANIFEST.tsv:2: max severity"},
		{name: "bad_verdict", body: header + "a.pt\tmalicous\tinfo\tlow\t\t\tx\n", wantErr: "MANIFEST.tsv:2: verdict"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "MANIFEST.tsv")
			if err := os.WriteFile(file, []byte(tc.body), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := Read(file)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Read: error %v, want one with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := Read(filepath.Join(t.TempDir(), "missing.tsv")); err == nil {
		t.Error("Read of a missing file: no error")
	}
}

func TestCheck(t *testing.T) {
	finding := func(sev inventory.Severity, rule, evidence, message string) inventory.Finding {
		return inventory.Finding{Rule: rule, Severity: sev, Path: "x", Evidence: evidence, Message: message}
	}
	malicious := Row{Path: "m.pt", Verdict: "malicious", Min: inventory.High, Max: inventory.Critical,
		Rules: []string{"pickle/dangerous-call"}, Evidence: "os.system"}
	benign := Row{Path: "b.pt", Verdict: "benign", Min: inventory.Info, Max: inventory.Low}
	tests := []struct {
		name     string
		row      Row
		findings []inventory.Finding
		want     []string
	}{
		{name: "benign_clean", row: benign},
		{name: "benign_low", row: benign, findings: []inventory.Finding{finding(inventory.Low, "model/x", "e", "m")}},
		{name: "benign_too_high", row: benign, findings: []inventory.Finding{finding(inventory.Medium, "model/x", "e", "m")},
			want: []string{"worst finding medium, want info..low"}},
		{name: "no_findings_is_info", row: Row{Verdict: "benign", Min: inventory.Low, Max: inventory.Low},
			want: []string{"worst finding info, want low..low"}},
		{name: "malicious_match", row: malicious,
			findings: []inventory.Finding{finding(inventory.Critical, "pickle/dangerous-call", "os.system via REDUCE", "calls")}},
		{name: "evidence_in_message", row: malicious,
			findings: []inventory.Finding{finding(inventory.High, "pickle/dangerous-call", "REDUCE", "calls os.system")}},
		{name: "malicious_no_findings", row: malicious, want: []string{
			"worst finding info, want high..critical", "no findings", "no pickle/dangerous-call finding",
			`no finding at high or above shows "os.system"`}},
		{name: "malicious_info_only_range", row: Row{Verdict: "malicious", Min: inventory.Info, Max: inventory.Critical},
			want: []string{"no findings"}},
		{name: "missing_rule", row: malicious,
			findings: []inventory.Finding{finding(inventory.High, "pickle/format", "os.system", "m")},
			want:     []string{"no pickle/dangerous-call finding"}},
		{name: "missing_one_of_two_rules",
			row:      Row{Verdict: "malicious", Min: inventory.Low, Max: inventory.High, Rules: []string{"a/x", "b/y"}},
			findings: []inventory.Finding{finding(inventory.Low, "a/x", "e", "m")},
			want:     []string{"no b/y finding"}},
		{name: "evidence_below_min", row: malicious,
			findings: []inventory.Finding{
				finding(inventory.High, "pickle/dangerous-call", "something else", "m"),
				finding(inventory.Low, "pickle/format", "os.system", "m"),
			},
			want: []string{`no finding at high or above shows "os.system"`}},
		{name: "too_severe", row: Row{Verdict: "malicious", Min: inventory.Low, Max: inventory.Medium},
			findings: []inventory.Finding{finding(inventory.Critical, "a/x", "e", "m")},
			want:     []string{"worst finding critical, want low..medium"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.row.Check(&inventory.Report{Findings: tc.findings})
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDump(t *testing.T) {
	r := &inventory.Report{Findings: []inventory.Finding{
		{Rule: "pickle/dangerous-call", Severity: inventory.Critical, Path: "m.pt", Evidence: "os.system", Message: "m"},
		{Rule: "scan/limit", Severity: inventory.Low, Path: "big.bin", Evidence: "size"},
	}}
	want := "  critical pickle/dangerous-call m.pt: os.system\n  low scan/limit big.bin: size\n"
	if got := Dump(r); got != want {
		t.Errorf("Dump = %q, want %q", got, want)
	}
	if got := Dump(&inventory.Report{}); got != "" {
		t.Errorf("Dump of no findings = %q, want empty", got)
	}
}
