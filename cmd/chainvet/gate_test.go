package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chainvet/chainvet/internal/policy"
)

// gateNow is the time the tests judge exceptions at.
var gateNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// execGate runs chainvet with a gate command whose clock is gateNow, and
// returns the exit code as run would.
func execGate(t *testing.T, checker policy.SignatureChecker, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	root := newRoot(&out, &errb)
	if c, _, err := root.Find([]string{"gate"}); err == nil && c != root {
		root.RemoveCommand(c)
	}
	root.AddCommand(newGateWith(&out, &errb, func() time.Time { return gateNow }, checker))
	root.SetArgs(args)
	switch err := root.ExecuteContext(context.Background()); {
	case errors.Is(err, errFailOn):
		code = 1
	case err != nil:
		errb.WriteString("chainvet: error: " + err.Error() + "\n")
		code = 2
	}
	return code, out.String(), errb.String()
}

var examples = filepath.Join("..", "..", "examples")

// TestGateExamplePolicies runs both example policies over ./examples.
// strict fails, naming the malicious checkpoint and why; balanced fails
// on that checkpoint only: every other control is a warning or passes.
func TestGateExamplePolicies(t *testing.T) {
	tests := []struct {
		name   string
		policy string
		code   int
		want   []string // in the table
		fail   []string // ids of the controls that must fail, exactly
	}{
		{"strict", "strict.yaml", 1,
			[]string{"FAIL no-pickle:", "checkpoint.pt is pytorch-zip", "pickle/unknown-call (high)", "builtins.print",
				"FAIL pinned:", "actions/setup-python is used at v5", "fix:"},
			[]string{"no-pickle", "findings", "pinned"}},
		{"balanced", "balanced.yaml", 1,
			[]string{"FAIL findings:", "pickle/unknown-call (high)", "WARN pickle-models:"},
			[]string{"findings"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pol := filepath.Join(examples, "policies", tt.policy)
			code, out, errs := execGate(t, nil, "gate", "--no-advisories", "--policy", pol, examples)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tt.code, out, errs)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			code, js, _ := execGate(t, nil, "gate", "--no-advisories", "-o", "json", "--policy", pol, examples)
			var res policy.Result
			if err := json.Unmarshal([]byte(js), &res); err != nil {
				t.Fatal(err)
			}
			var failed []string
			for _, c := range res.Controls {
				if c.Status == policy.Fail {
					failed = append(failed, c.ID)
				}
			}
			if strings.Join(failed, ",") != strings.Join(tt.fail, ",") || res.Schema != policy.ResultSchema {
				t.Errorf("failed controls %v, want %v (schema %s)\n%s", failed, tt.fail, res.Schema, out)
			}
		})
	}
}

func TestGateModesAndOutputs(t *testing.T) {
	pol := filepath.Join(examples, "policies", "strict.yaml")
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"report_never_fails", []string{"--mode", "report"}, 0, "WOULD FAIL (report mode)"},
		{"explain_lists_every_control", []string{"--explain", "--mode", "report"}, 0, "licences"},
		{"junit", []string{"-o", "junit"}, 1, "<testsuites"},
		{"markdown", []string{"-o", "markdown"}, 1, "## chainvet gate: FAIL"},
		{"sarif", []string{"-o", "sarif"}, 1, `"ruleId": "gate/no-pickle"`},
		{"bad_mode", []string{"--mode", "lenient"}, 2, ""},
		{"bad_output", []string{"-o", "yaml"}, 2, ""},
		{"bom_written", []string{"--bom", filepath.Join(dir, "bom.cdx.json"), "--mode", "report"}, 0, "WOULD FAIL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"gate", "--no-advisories", "--policy", pol}, tt.args...)
			code, out, errs := execGate(t, nil, append(args, examples)...)
			if code != tt.code || !strings.Contains(out, tt.want) {
				t.Fatalf("exit %d (want %d), output lacks %q:\n%s%s", code, tt.code, tt.want, out, errs)
			}
		})
	}
	if b, err := os.ReadFile(filepath.Join(dir, "bom.cdx.json")); err != nil || !bytes.Contains(b, []byte(`"bomFormat"`)) {
		t.Errorf("--bom wrote no CycloneDX BOM: %v", err)
	}
	// JUnit: one testcase per control, failures counted.
	_, out, _ := execGate(t, nil, "gate", "--no-advisories", "-o", "junit", "--policy", pol, examples)
	var suites struct {
		Failures int `xml:"failures,attr"`
		Suite    []struct {
			Cases []struct {
				Name    string    `xml:"name,attr"`
				Failure *struct{} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal([]byte(out), &suites); err != nil {
		t.Fatal(err)
	}
	if len(suites.Suite) != 1 || len(suites.Suite[0].Cases) != 7 || suites.Failures != 3 {
		t.Errorf("junit: %+v", suites)
	}
}

func TestGatePolicyErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "p.yaml")
	os.WriteFile(bad, []byte("version: 1\ncontrols:\n  - id: c\n    type: cel\n    message: m\n    deny: components.size() > \"x\"\n"), 0o644)
	code, _, errs := execGate(t, nil, "gate", "--no-advisories", "--policy", bad, examples)
	if code != 2 || !strings.Contains(errs, "control c: CEL: line 6") {
		t.Errorf("exit %d: %s", code, errs)
	}
	code, _, errs = execGate(t, nil, "gate", "--no-advisories", "--policy", filepath.Join(dir, "none.yaml"), examples)
	if code != 2 || !strings.Contains(errs, "none.yaml") {
		t.Errorf("missing policy: exit %d: %s", code, errs)
	}
}

// TestGateBaseApprovals gates a temporary repository against its first
// commit: the torch jump needs an approval, which a second run has.
func TestGateBaseApprovals(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	repo := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"}, args...)...)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(repo, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pol := filepath.Join(t.TempDir(), "policy.yaml")
	os.WriteFile(pol, []byte("version: 1\ncontrols:\n  - id: approved\n    type: approvals\n    require-base: true\n"), 0o644)
	write("requirements.txt", "torch==2.4.0\n")
	git("init", "-q")
	git("add", ".")
	git("commit", "-q", "-m", "base")
	write("requirements.txt", "torch==2.5.1\n")

	code, _, errs := execGate(t, nil, "gate", "--no-advisories", "--policy", pol, repo)
	if code != 1 {
		t.Errorf("without --base: exit %d, want 1 (require-base)\n%s", code, errs)
	}
	code, out, errs := execGate(t, nil, "gate", "--no-advisories", "--policy", pol, "--base", "HEAD", repo)
	if code != 1 || !strings.Contains(out, "pkg:pypi/torch 2.4.0 → 2.5.1 (minor): no approval") {
		t.Fatalf("unapproved jump: exit %d\n%s%s", code, out, errs)
	}
	write("chainvet-approvals.yaml", "approvals:\n  - component: pkg:pypi/torch\n    versions: \">=2.5,<2.6\"\n    approved_by: alice\n    reason: tested\n    expires: 2026-06-30\n")
	code, out, errs = execGate(t, nil, "gate", "--no-advisories", "--policy", pol, "--base", "HEAD", repo)
	if code != 0 {
		t.Fatalf("approved jump: exit %d\n%s%s", code, out, errs)
	}
}

// TestGateLock locks a folder, changes a model, and gates it: the
// pinning control names the file, both digests and the command that
// accepts the change.
func TestGateLock(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join(examples, "models", "zoo", "linear.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "linear.safetensors"), src, 0o644)
	pol := filepath.Join(t.TempDir(), "policy.yaml")
	os.WriteFile(pol, []byte("version: 1\ncontrols:\n  - id: locked\n    type: pinning\n    lock: required\n"), 0o644)

	code, out, _ := execGate(t, nil, "gate", "--no-advisories", "--policy", pol, dir)
	if code != 1 || !strings.Contains(out, "the project has no lock") {
		t.Fatalf("no lock: exit %d\n%s", code, out)
	}
	var lout, lerr bytes.Buffer
	root := newRoot(&lout, &lerr)
	if c, _, err := root.Find([]string{"lock"}); err != nil || c == root {
		root.AddCommand(newLock(&lout, &lerr))
	}
	root.SetArgs([]string{"lock", dir})
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatalf("lock: %v\n%s", err, lerr.String())
	}
	if code, out, errs := execGate(t, nil, "gate", "--no-advisories", "--policy", pol, dir); code != 0 {
		t.Fatalf("verified lock: exit %d\n%s%s", code, out, errs)
	}
	changed := append([]byte(nil), src...)
	changed[len(changed)-1] ^= 0xff
	os.WriteFile(filepath.Join(dir, "linear.safetensors"), changed, 0o644)
	code, out, _ = execGate(t, nil, "gate", "--no-advisories", "--policy", pol, dir)
	if code != 1 || !strings.Contains(out, "linear.safetensors differs from") || !strings.Contains(out, "chainvet lock --update") {
		t.Fatalf("drift: exit %d\n%s", code, out)
	}
}
