package containers

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/google/go-cmp/cmp"
)

func TestDockerfileRisks(t *testing.T) {
	digest := "@sha256:" + strings.Repeat("ab", 32)
	base := "FROM python:3.12" + digest + "\n"
	tests := []struct {
		name, text string
		want       []string // "rule severity line:column"
	}{
		{name: "pinned", text: base + "RUN make\n"},
		{name: "tag", text: "FROM --platform=linux/amd64 python:3.12 AS b\n",
			want: []string{"docker/unpinned-base medium 1:29"}},
		{name: "latest_and_stage", text: "FROM alpine:latest AS b\nFROM b\nFROM scratch\n",
			want: []string{"docker/unpinned-base high 1:6"}},
		{name: "arg_default", text: "ARG IMG=node\nFROM ${IMG}\n",
			want: []string{"docker/unpinned-base high 2:6"}},
		{name: "arg_unknown", text: "ARG IMG\nFROM ${IMG}\n"},
		{name: "syntax_directive", text: "# syntax=docker/dockerfile:1.7\n" + base,
			want: []string{"docker/unpinned-base low 1:10"}},
		{name: "syntax_after_instruction", text: base + "# syntax=docker/dockerfile:1.7\n"},
		{name: "continued_pipe", text: base + "RUN set -e; \\\n  # comment\n  wget -qO- https://x \\\n   | sh\n",
			want: []string{"docker/curl-pipe-shell high 4:3"}},
		{name: "mount_flag", text: base + "RUN --mount=type=cache,target=/root/.cache pip install torch\n",
			want: []string{"docker/unpinned-install medium 2:44"}},
		{name: "heredoc", text: base + "RUN <<EOT bash\n  echo hi\n  curl https://x | bash\nEOT\nRUN make\n",
			want: []string{"docker/curl-pipe-shell high 4:3"}},
		{name: "add_url", text: base + "ADD --chown=1 https://u:p@x/t.tgz /opt/\n",
			want: []string{"docker/add-url medium 2:15"}},
		{name: "add_checksum", text: base + "ADD --checksum=sha256:" + strings.Repeat("0", 64) + " https://x/t.tgz /opt/\n"},
		{name: "add_local_and_copy_url", text: base + "ADD a.tgz /opt/\nCOPY https://x /opt/\n"},
		{name: "apt_not_judged", text: base + "RUN apt-get install -y curl && npm ci\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file, err := inventory.NewFile("Dockerfile", strings.NewReader(tc.text), int64(len(tc.text)), nil)
			if err != nil {
				t.Fatal(err)
			}
			var s sink
			if err := (Dockerfile{}).Catalog(context.Background(), file, &s); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range s.findings {
				got = append(got, fmt.Sprintf("%s %s %d:%d", f.Rule, f.Severity, f.Line, f.Column))
				if strings.Contains(f.Evidence+f.Message+f.Remediation, "u:p@") {
					t.Errorf("credentials in finding %+v", f)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWants(t *testing.T) {
	tests := []struct {
		name, head string
		want       bool
	}{
		{"Dockerfile", "", true},
		{"build.dockerfile", "", true},
		{"Containerfile.dev", "", true},
		{"base", "# comment\nARG X=1\nFROM alpine:3.20\n", true},
		{"app.py", "from os import path\n", false},
		{"Modelfile", "FROM llama3.1:8b\n", false},
		{"assistant", "FROM llama3.1:8b\nPARAMETER temperature 0.2\n", false},
		{"notes", "FROM here on, read on\n", false},
	}
	for _, tc := range tests {
		f, err := inventory.NewFile(tc.name, strings.NewReader(tc.head), int64(len(tc.head)), nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := (Dockerfile{}).Wants(f); got != tc.want {
			t.Errorf("Wants(%q, %q) = %v, want %v", tc.name, tc.head, got, tc.want)
		}
	}
}
