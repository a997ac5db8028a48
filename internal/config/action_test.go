package config

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The GitHub Action's script lives at the repository root; it is tested
// here, beside the configuration it relies on, with a fake chainvet.
const actionScript = "../../scripts/action/run.sh"

// fakeChainvet records each call's arguments, one per line and "--" after
// the last, writes a canned report for -o markdown and -o sarif, and exits
// with FAKE_EXIT (FAKE_SARIF_EXIT for the SARIF run).
const fakeChainvet = `#!/bin/sh
{ printf '%s\n' "$@"; echo --; } >> "$FAKE_LOG"
fmt= file=
while [ $# -gt 0 ]; do
	case $1 in
	-o) fmt=$2; shift ;;
	--file) file=$2; shift ;;
	esac
	shift
done
echo "fake: gate ran as $fmt" >&2
case $fmt in
markdown) printf '## chainvet gate: canned report\n' > "$file"; exit "${FAKE_EXIT:-0}" ;;
sarif) printf '{"version":"2.1.0","runs":[]}\n' > "$file"; exit "${FAKE_SARIF_EXIT:-${FAKE_EXIT:-0}}" ;;
esac
exit 2
`

func TestActionScript(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	// Opened here so that go test's cache notices when the script changes.
	if _, err := os.ReadFile(actionScript); err != nil {
		t.Fatal(err)
	}
	md := []string{"-o", "markdown", "--file", "$TMP/chainvet/summary.md"}
	sarif := []string{"-o", "sarif", "--file", "$TMP/chainvet/chainvet.sarif"}
	call := func(tail []string, args ...string) []string { return append(append([]string{}, args...), tail...) }
	gate := []string{"gate", ".", "--mode", "enforce", "--policy", "policy.yaml"}
	tests := []struct {
		name       string
		inputs     map[string]string
		fake       map[string]string
		code       int
		calls      [][]string
		outputs    []string
		summary    []string // in the step summary
		notSummary string
		log        string // in stdout
	}{
		{
			name:   "enforce_pass",
			inputs: map[string]string{"INPUT_POLICY": "policy.yaml"},
			code:   0,
			calls:  [][]string{call(md, gate...), call(sarif, gate...)},
			outputs: []string{"result=pass", "exit-code=0", "summary-file=$TMP/chainvet/summary.md",
				"sarif-file=$TMP/chainvet/chainvet.sarif"},
			summary:    []string{"## chainvet gate: canned report"},
			notSummary: "report mode",
			log:        "gate passed",
		},
		{
			name:    "enforce_fail",
			inputs:  map[string]string{"INPUT_POLICY": "policy.yaml", "INPUT_MODE": "enforce"},
			fake:    map[string]string{"FAKE_EXIT": "1"},
			code:    1,
			calls:   [][]string{call(md, gate...), call(sarif, gate...)},
			outputs: []string{"result=fail", "exit-code=1", "summary-file=$TMP/chainvet/summary.md", "sarif-file=$TMP/chainvet/chainvet.sarif"},
			summary: []string{"## chainvet gate: canned report"},
			log:     "::error title=chainvet::the gate failed",
		},
		{
			name:    "report_fail_passes_the_job",
			inputs:  map[string]string{"INPUT_POLICY": "policy.yaml", "INPUT_MODE": "report"},
			fake:    map[string]string{"FAKE_EXIT": "1"},
			code:    0,
			calls:   [][]string{call(md, gate...), call(sarif, gate...)},
			outputs: []string{"result=fail", "exit-code=1", "summary-file=$TMP/chainvet/summary.md", "sarif-file=$TMP/chainvet/chainvet.sarif"},
			summary: []string{"report mode", "## chainvet gate: canned report"},
			log:     "::warning title=chainvet::the gate would fail (report mode)",
		},
		{
			name:       "error_fails_even_in_report_mode",
			inputs:     map[string]string{"INPUT_POLICY": "policy.yaml", "INPUT_MODE": "report"},
			fake:       map[string]string{"FAKE_EXIT": "2"},
			code:       2,
			calls:      [][]string{call(md, gate...)},
			outputs:    []string{"result=error", "exit-code=2", "summary-file=$TMP/chainvet/summary.md"},
			summary:    []string{"## chainvet gate: error", "fake: gate ran as markdown"},
			notSummary: "canned report",
			log:        "::error title=chainvet::chainvet gate could not run (exit 2)",
		},
		{
			name:    "sarif_run_error",
			inputs:  map[string]string{"INPUT_POLICY": "policy.yaml"},
			fake:    map[string]string{"FAKE_SARIF_EXIT": "2"},
			code:    2,
			calls:   [][]string{call(md, gate...), call(sarif, gate...)},
			outputs: []string{"result=error", "exit-code=2", "summary-file=$TMP/chainvet/summary.md"},
			summary: []string{"## chainvet gate: error"},
		},
		{
			name:    "no_sarif_base_path_with_space",
			inputs:  map[string]string{"INPUT_PATH": "ml app", "INPUT_UPLOAD_SARIF": "false", "INPUT_BASE": "origin/main"},
			code:    0,
			calls:   [][]string{call(md, "gate", "ml app", "--mode", "enforce", "--base", "origin/main")},
			outputs: []string{"result=pass", "exit-code=0", "summary-file=$TMP/chainvet/summary.md"},
			summary: []string{"canned report"},
		},
		{
			name:   "bad_mode",
			inputs: map[string]string{"INPUT_MODE": "audit"},
			code:   2,
			log:    "::error title=chainvet::input mode must be enforce or report, not 'audit'",
		},
		{
			name:   "bad_upload_sarif",
			inputs: map[string]string{"INPUT_UPLOAD_SARIF": "yes"},
			code:   2,
			log:    "input upload-sarif must be true or false",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			bin, ws := filepath.Join(tmp, "bin"), filepath.Join(tmp, "workspace")
			for _, d := range []string{bin, ws} {
				if err := os.Mkdir(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(filepath.Join(bin, "chainvet"), []byte(fakeChainvet), 0o755); err != nil {
				t.Fatal(err)
			}
			logFile, summaryFile, outputFile := filepath.Join(tmp, "calls"), filepath.Join(tmp, "summary"), filepath.Join(tmp, "output")
			cmd := exec.Command(bash, actionScript)
			cmd.Env = []string{
				"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"),
				"GITHUB_WORKSPACE=" + ws,
				"GITHUB_STEP_SUMMARY=" + summaryFile,
				"GITHUB_OUTPUT=" + outputFile,
				"RUNNER_TEMP=" + tmp,
				"FAKE_LOG=" + logFile,
			}
			for _, m := range []map[string]string{tc.inputs, tc.fake} {
				for k, v := range m {
					cmd.Env = append(cmd.Env, k+"="+v)
				}
			}
			out, err := cmd.CombinedOutput()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.code {
				t.Errorf("exit %d, want %d; output:\n%s", code, tc.code, out)
			}
			expand := func(s string) string { return strings.ReplaceAll(s, "$TMP", tmp) }
			if !strings.Contains(string(out), tc.log) {
				t.Errorf("output does not contain %q:\n%s", tc.log, out)
			}
			var calls [][]string
			if b, err := os.ReadFile(logFile); err == nil {
				var cur []string
				for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
					if l == "--" {
						calls, cur = append(calls, cur), nil
						continue
					}
					cur = append(cur, l)
				}
			}
			var want [][]string
			for _, c := range tc.calls {
				var w []string
				for _, a := range c {
					w = append(w, expand(a))
				}
				want = append(want, w)
			}
			if diff := cmp.Diff(want, calls); diff != "" {
				t.Errorf("chainvet calls (-want +got):\n%s", diff)
			}
			var outputs []string
			if b, err := os.ReadFile(outputFile); err == nil {
				outputs = strings.Split(strings.TrimSpace(string(b)), "\n")
			}
			var wantOut []string
			for _, o := range tc.outputs {
				wantOut = append(wantOut, expand(o))
			}
			if diff := cmp.Diff(wantOut, outputs); diff != "" {
				t.Errorf("GITHUB_OUTPUT (-want +got):\n%s", diff)
			}
			summary, _ := os.ReadFile(summaryFile)
			for _, s := range tc.summary {
				if !strings.Contains(string(summary), s) {
					t.Errorf("step summary does not contain %q:\n%s", s, summary)
				}
			}
			if tc.notSummary != "" && strings.Contains(string(summary), tc.notSummary) {
				t.Errorf("step summary contains %q:\n%s", tc.notSummary, summary)
			}
		})
	}
}
