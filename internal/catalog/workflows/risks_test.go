package workflows

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/google/go-cmp/cmp"
)

// catalog runs the CI cataloger on text named name and returns its
// findings as "rule severity line:column".
func catalog(t *testing.T, name, text string) []string {
	t.Helper()
	file, err := inventory.NewFile(name, strings.NewReader(text), int64(len(text)), nil)
	if err != nil {
		t.Fatal(err)
	}
	var s sink
	if err := (CI{}).Catalog(context.Background(), file, &s); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range s.findings {
		out = append(out, fmt.Sprintf("%s %s %d:%d", f.Rule, f.Severity, f.Line, f.Column))
	}
	return out
}

const (
	wf      = ".github/workflows/w.yml"
	sha     = "11bd71901bbe5b1630ceea73d27597364c9af683"
	okSteps = "permissions: {contents: read}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
)

func TestRisks(t *testing.T) {
	tests := []struct {
		name, file, text string
		want             []string
	}{
		{name: "clean", file: wf, text: "on: push\n" + okSteps + "      - run: make\n"},
		{name: "literal_block_position", file: wf, text: "on: push\n" + okSteps +
			"      - run: |\n          make\n            curl -s https://x | sh\n",
			want: []string{"workflow/curl-pipe-shell high 9:13"}},
		{name: "quoted_position", file: wf, text: "on: push\n" + okSteps +
			"      - run: \"echo; npm install\"\n",
			want: []string{"workflow/unpinned-install medium 7:21"}},
		{name: "folded_block", file: wf, text: "on: push\n" + okSteps +
			"      - run: >\n          echo a\n          wget -O- https://x | bash\n",
			want: []string{"workflow/curl-pipe-shell high 9:11"}},
		{name: "short_sha_and_branch", file: wf, text: "on: push\n" + okSteps +
			"      - uses: o/a@11bd719\n      - uses: o/b@main\n      - uses: ./local\n      - uses: docker://alpine@sha256:" + strings.Repeat("ab", 32) + "\n",
			want: []string{"workflow/unpinned-action high 7:15", "workflow/unpinned-action high 8:15"}},
		{name: "github_owned_medium", file: wf, text: "on: push\n" + okSteps + "      - uses: actions/setup-go@v5\n",
			want: []string{"workflow/unpinned-action medium 7:15"}},
		{name: "reusable_workflow_by_tag", file: wf, text: "on: push\npermissions: {}\njobs:\n  r:\n    uses: o/r/.github/workflows/x.yml@v1\n",
			want: []string{"workflow/unpinned-action high 5:11"}},
		{name: "injection_pull_request_high", file: wf, text: "on: pull_request\n" + okSteps +
			"      - run: echo ${{ github.head_ref }}\n",
			want: []string{"workflow/script-injection high 7:19"}},
		{name: "injection_comment_critical", file: wf, text: "on: {issue_comment: {types: [created]}}\n" + okSteps +
			"      - run: echo \"${{ github.event.comment.body }}\"\n",
			want: []string{"workflow/script-injection critical 7:20"}},
		{name: "injection_commits_message", file: wf, text: "on: [push]\n" + okSteps +
			"      - run: echo '${{ github.event.commits[0].message }}'\n",
			want: []string{"workflow/script-injection high 7:20"}},
		{name: "trusted_contexts", file: wf, text: "on: pull_request_target\n" + okSteps +
			"      - run: echo ${{ github.event.pull_request.number }} ${{ github.sha }} ${{ inputs.x }}\n"},
		{name: "checkout_head_no_later_step", file: wf, text: "on: workflow_run\n" + okSteps +
			"      - uses: actions/checkout@" + sha + "\n        with:\n          persist-credentials: false\n          ref: ${{ github.event.workflow_run.head_sha }}\n",
			want: []string{"workflow/untrusted-checkout high 10:20"}},
		{name: "gh_pr_checkout_comment", file: wf, text: "on: issue_comment\n" + okSteps +
			"      - run: gh pr checkout ${{ github.event.issue.number }}\n      - run: make\n",
			want: []string{"workflow/untrusted-checkout critical 7:14"}},
		{name: "checkout_head_on_pull_request", file: wf, text: "on: pull_request\n" + okSteps +
			"      - uses: actions/checkout@" + sha + "\n        with:\n          persist-credentials: false\n          ref: ${{ github.event.pull_request.head.sha }}\n      - run: make\n"},
		{name: "no_permissions", file: wf, text: "on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{run: make}]\n  b:\n    permissions: {}\n    runs-on: x\n    steps: [{run: make}]\n",
			want: []string{"workflow/permissions medium 2:1"}},
		{name: "workflow_call_only", file: wf, text: "on: workflow_call\njobs:\n  a:\n    runs-on: x\n    steps: [{run: make}]\n"},
		{name: "write_all_push", file: wf, text: "on: push\npermissions: write-all\njobs: {}\n",
			want: []string{"workflow/permissions medium 2:14"}},
		{name: "write_on_target", file: wf, text: "on: [pull_request_target]\npermissions:\n  issues: write\njobs: {}\n",
			want: []string{"workflow/permissions high 3:3"}},
		{name: "self_hosted_group_labels", file: wf, text: "on: pull_request\npermissions: {}\njobs:\n  a:\n    runs-on:\n      group: g\n      labels: [self-hosted]\n    steps: [{run: make}]\n",
			want: []string{"workflow/self-hosted-public high 7:16"}},
		{name: "self_hosted_push", file: wf, text: "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: self-hosted\n    steps: [{run: make}]\n"},
		{name: "secret_in_job_env", file: wf, text: "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: x\n    env: {T: '${{ secrets.T }}'}\n    steps: [{run: pip install foo}]\n",
			want: []string{"workflow/unpinned-install high 7:19"}},
		{name: "composite_action", file: "action.yml", text: "runs:\n  using: composite\n  steps:\n    - uses: actions/checkout@" + sha + "\n    - run: echo ${{ github.event.issue.title }}\n      shell: bash\n",
			want: []string{"workflow/persist-credentials low 4:13", "workflow/script-injection high 5:17"}},
		{name: "gitlab_include_string_url", file: ".gitlab-ci.yml", text: "include: 'https://x.example/ci.yml'\n",
			want: []string{"gitlab/unpinned-include high 1:10"}},
		{name: "gitlab_project_no_ref", file: ".gitlab-ci.yml", text: "include:\n  - project: g/p\n    file: a.yml\n",
			want: []string{"gitlab/unpinned-include high 2:14"}},
		{name: "gitlab_nested_script", file: ".gitlab-ci.yml", text: "j:\n  script:\n    - [echo, 'curl -s https://x | sh']\n    - - npm install\n",
			want: []string{"workflow/curl-pipe-shell high 3:15", "workflow/unpinned-install medium 4:9"}},
		{name: "gitlab_no_tag_image", file: ".gitlab-ci.yml", text: "j:\n  image: alpine\n  script: [make]\n",
			want: []string{"gitlab/unpinned-image high 2:10"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := catalog(t, tc.file, tc.text)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEnvName(t *testing.T) {
	for ctx, want := range map[string]string{
		"github.event.issue.title":           "ISSUE_TITLE",
		"github.head_ref":                    "GITHUB_HEAD_REF",
		"github.event.commits[0].message":    "COMMITS0_MESSAGE",
		"github.event.pull_request.head.ref": "HEAD_REF",
	} {
		if got := envName(ctx); got != want {
			t.Errorf("envName(%q) = %q, want %q", ctx, got, want)
		}
	}
}

// BenchmarkWorstCase catalogs a workflow near MaxSize whose one run:
// script is all injections, pipes to a shell and unpinned installs.
func BenchmarkWorstCase(b *testing.B) {
	var w strings.Builder
	w.WriteString("on: pull_request_target\njobs:\n  a:\n    runs-on: self-hosted\n    steps:\n      - run: |\n")
	for w.Len() < MaxSize-200 {
		w.WriteString("          echo ${{ github.head_ref }}; curl x | sh; pip install a b c\n")
	}
	text := w.String()
	for b.Loop() {
		file, err := inventory.NewFile(wf, strings.NewReader(text), int64(len(text)), nil)
		if err != nil {
			b.Fatal(err)
		}
		var s sink
		if err := (CI{}).Catalog(context.Background(), file, &s); err != nil {
			b.Fatal(err)
		}
		if len(s.findings) == 0 {
			b.Fatal("no findings")
		}
	}
}
