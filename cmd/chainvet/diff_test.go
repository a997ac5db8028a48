package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chainvet/chainvet/internal/diff"
)

// diffNow is the time the tests judge approvals at.
var diffNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// execDiff runs chainvet with a diff command whose clock is diffNow, and
// returns the exit code as run would.
func execDiff(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	root := newRoot(&out, &errb)
	if c, _, err := root.Find([]string{"diff"}); err == nil && c != root {
		root.RemoveCommand(c)
	}
	root.AddCommand(newDiffAt(&out, &errb, func() time.Time { return diffNow }))
	root.SetArgs(args)
	switch err := root.ExecuteContext(context.Background()); {
	case errors.Is(err, errFailOn):
		code = 1
	case err != nil:
		errb.WriteString("chainvet: error: " + err.Error() + "\n")
		var h hinted
		if errors.As(err, &h) {
			errb.WriteString("chainvet: fix: " + h.hint + "\n")
		}
		code = 2
	}
	return code, out.String(), errb.String()
}

var diffData = filepath.Join("..", "..", "testdata", "diff")

func TestDiffExitCodes(t *testing.T) {
	old, new := filepath.Join(diffData, "reports", "old.json"), filepath.Join(diffData, "reports", "new.json")
	approvals := filepath.Join(diffData, "approvals", diff.ApprovalsName)
	tests := []struct {
		name     string
		args     []string
		code     int
		inStdout []string
		inStderr []string
	}{
		{"red_flag_fails", []string{"diff", old, new}, 1,
			[]string{"Same version, different digest (red flag) (1)", "pkg:pypi/transformers"},
			[]string{"pkg:pypi/transformers 4.44.0 has a different digest at the same version: no approval", "1 change(s) need approval"}},
		{"red_flag_reported_only", []string{"diff", "--fail-on-digest-change=false", old, new}, 0,
			[]string{"Same version, different digest"}, nil},
		{"same_input", []string{"diff", new, new}, 0, []string{"0 added, 0 removed, 0 changed"}, nil},
		{"require_approval", []string{"diff", "--require-approval", "--approvals", approvals, old, new}, 1,
			[]string{"approved by alice@example.com until 2026-12-31"},
			[]string{"added pkg:pypi/accelerate 1.0.0: no approval", "pkg:pypi/numpy 1.26.4 → 2.1.0 (major): approval expired on 2026-01-31",
				"16 change(s) need approval", "fix: review each"}},
		{"one_arg", []string{"diff", old}, 2, nil, []string{"diff needs OLD and NEW"}},
		{"missing_input", []string{"diff", old, "nope.json"}, 2, nil, []string{"nope.json", "fix: check the path"}},
		{"not_an_inventory", []string{"diff", old, filepath.Join(diffData, "trees", "old", "requirements.txt")}, 2, nil,
			[]string{"not a chainvet report", "fix: give a chainvet report"}},
		{"bad_format", []string{"diff", "-o", "sarif", old, new}, 2, nil, []string{"unknown diff format", "table, json, markdown"}},
		{"bad_approvals", []string{"diff", "--approvals", old, old, new}, 2, nil, []string{"fix: fix the approvals file"}},
		{"missing_approvals", []string{"diff", "--approvals", "none.yaml", old, new}, 2, nil, []string{"none.yaml"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := execDiff(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.code, stderr)
			}
			for _, s := range tc.inStdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout)
				}
			}
			for _, s := range tc.inStderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
		})
	}
}

// briefChanges reads a JSON diff into "type key old→new jump" lines.
func briefChanges(t *testing.T, js string) (*diff.Result, []string) {
	t.Helper()
	var r diff.Result
	if err := json.Unmarshal([]byte(js), &r); err != nil {
		t.Fatalf("%v:\n%s", err, js)
	}
	var out []string
	for _, c := range r.Changes {
		s := string(c.Type) + " " + c.Key
		if c.Jump != "" {
			s += " " + c.Old.Version + "→" + c.New.Version + " " + string(c.Jump)
		}
		out = append(out, s)
	}
	return &r, out
}

// treeChanges are what testdata/diff/trees/new changes from .../old.
var treeChanges = []string{
	"added pkg:pypi/accelerate",
	"changed pkg:docker/python 3.11-slim→3.12-slim minor",
	"changed pkg:npm/%40modelcontextprotocol/server-filesystem 2025.1.14→2025.3.28 minor",
	"changed pkg:pypi/torch 2.4.1→2.5.1 minor",
}

func TestDiffDirectories(t *testing.T) {
	code, stdout, stderr := execDiff(t, "diff", "-o", "json", filepath.Join(diffData, "trees", "old"), filepath.Join(diffData, "trees", "new"))
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	_, got := briefChanges(t, stdout)
	for _, want := range treeChanges {
		if !slices.Contains(got, want) {
			t.Errorf("changes lack %q: %q", want, got)
		}
	}
}

// TestDiffGit diffs two commits of a temporary repository, with the
// approvals file committed in the newer one.
func TestDiffGit(t *testing.T) {
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
	copyTree := func(from string) {
		for _, name := range []string{"requirements.txt", "Dockerfile", ".mcp.json"} {
			b, err := os.ReadFile(filepath.Join(diffData, "trees", from, name))
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(repo, name), b, 0o644)
		}
	}
	git("init", "-q")
	copyTree("old")
	git("add", ".")
	git("commit", "-q", "-m", "old")
	copyTree("new")
	os.WriteFile(filepath.Join(repo, diff.ApprovalsName), []byte(`approvals:
  - component: pkg:pypi/torch
    versions: ">=2.5,<2.6"
    approved_by: alice
    reason: tested on the staging cluster
    expires: 2026-06-30
`), 0o644)
	git("add", ".")
	git("commit", "-q", "-m", "new")

	code, stdout, stderr := execDiff(t, "diff", "-o", "json", "--require-approval", "--repo", repo, "git:HEAD~1", "git:HEAD")
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, stderr)
	}
	r, got := briefChanges(t, stdout)
	for _, want := range treeChanges {
		if !slices.Contains(got, want) {
			t.Errorf("changes lack %q: %q", want, got)
		}
	}
	if r.Old != "git:HEAD~1" || r.New != "git:HEAD" || r.Summary.Approved != 1 {
		t.Errorf("old %q new %q summary %+v", r.Old, r.New, r.Summary)
	}
	if !strings.Contains(stderr, "added pkg:pypi/accelerate 1.0.0: no approval") || strings.Contains(stderr, "pkg:pypi/torch") {
		t.Errorf("stderr should name accelerate, not the approved torch:\n%s", stderr)
	}

	code, _, stderr = execDiff(t, "diff", "--repo", repo, "git:HEAD~1", "git:no-such-branch")
	if code != 2 || !strings.Contains(stderr, `"no-such-branch": not found`) || !strings.Contains(stderr, "fix: name a commit") {
		t.Errorf("missing revision: exit %d, stderr:\n%s", code, stderr)
	}
}

func TestDiffMarkdownFile(t *testing.T) {
	out := filepath.Join(t.TempDir(), "comment.md")
	code, stdout, stderr := execDiff(t, "diff", "-o", "markdown", "--file", out, "--fail-on-digest-change=false",
		filepath.Join(diffData, "cyclonedx", "old.cdx.json"), filepath.Join(diffData, "cyclonedx", "new.cdx.json"))
	if code != 0 || stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<details><summary>New transitive dependencies (1)</summary>", "| `package` | `pkg:pypi/blinker` | `1.8.2` |"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("markdown lacks %q:\n%s", want, b)
		}
	}
}
