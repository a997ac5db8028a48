package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chainvet/chainvet/internal/inventory"
)

// plainHTTP is an MCP config whose only finding is mcp/plain-http, on line 5.
const plainHTTP = `{
  "servers": {
    "lab": {
      "type": "http",
      "url": "http://10.1.2.3/mcp"
    }
  }
}
`

func TestSuppression(t *testing.T) {
	tests := []struct {
		name       string
		ignore     string // .chainvet-ignore.yaml; none when empty
		config     string // .vscode/mcp.json; plainHTTP when empty
		flags      []string
		code       int
		findings   []string // rules left
		suppressed []string // kinds of the suppressions
		inStderr   string
	}{
		{name: "no_suppression", code: 1, findings: []string{"mcp/plain-http"}},
		{name: "ignore_file", ignore: "ignore:\n  - rule: mcp/plain-http\n    path: .vscode/*.json\n    reason: lab network\n    expires: 2999-12-31\n",
			code: 0, suppressed: []string{"file"}},
		{name: "expired_entry", ignore: "ignore:\n  - rule: mcp/plain-http\n    reason: lab network\n    expires: 2020-01-31\n",
			code: 1, findings: []string{"mcp/plain-http", "suppress/expired"}},
		{name: "unused_entry_is_info", ignore: "ignore:\n  - rule: mcp/plain-http\n    reason: lab\n  - rule: pickle/*\n    reason: none here\n",
			code: 0, findings: []string{"suppress/unused"}, suppressed: []string{"file"}},
		{name: "no_ignore", ignore: "ignore:\n  - rule: mcp/plain-http\n    reason: lab network\n", flags: []string{"--no-ignore"},
			code: 1, findings: []string{"mcp/plain-http"}},
		{name: "missing_reason", ignore: "ignore:\n  - rule: mcp/plain-http\n", code: 2, inStderr: ".chainvet-ignore.yaml:2: entry for rule \"mcp/plain-http\" has no reason"},
		{name: "inline_above", config: strings.Replace(plainHTTP, `      "url"`, "      // chainvet:ignore mcp/plain-http lab network, no TLS there\n      \"url\"", 1),
			code: 0, suppressed: []string{"inline"}},
		{name: "inline_without_reason", config: strings.Replace(plainHTTP, `      "url"`, "      // chainvet:ignore mcp/plain-http\n      \"url\"", 1),
			code: 1, findings: []string{"mcp/plain-http", "suppress/invalid"}},
		{name: "both_flags", flags: []string{"--no-ignore", "--ignore-file", "x.yaml"}, code: 2, inStderr: "exclude each other"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.MkdirAll(filepath.Join(dir, ".vscode"), 0o755); err != nil {
				t.Fatal(err)
			}
			config := tc.config
			if config == "" {
				config = plainHTTP
			}
			if err := os.WriteFile(filepath.Join(dir, ".vscode", "mcp.json"), []byte(config), 0o644); err != nil {
				t.Fatal(err)
			}
			if tc.ignore != "" {
				if err := os.WriteFile(filepath.Join(dir, ".chainvet-ignore.yaml"), []byte(tc.ignore), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			args := append([]string{"scan", "-o", "json", "--no-advisories"}, tc.flags...)
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), append(args, dir), &stdout, &stderr)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstderr: %s", code, tc.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.inStderr) {
				t.Errorf("stderr %q does not contain %q", stderr.String(), tc.inStderr)
			}
			if code == 2 {
				return
			}
			var rep inventory.Report
			if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
				t.Fatal(err)
			}
			var rules, kinds []string
			for _, f := range rep.Findings {
				rules = append(rules, f.Rule)
			}
			for _, s := range rep.Suppressed {
				kinds = append(kinds, s.Kind)
				if s.Rule != "mcp/plain-http" || s.Reason == "" || s.Source == "" {
					t.Errorf("suppressed %+v", s)
				}
			}
			if strings.Join(rules, ",") != strings.Join(tc.findings, ",") || strings.Join(kinds, ",") != strings.Join(tc.suppressed, ",") {
				t.Errorf("findings %q suppressed %q; want %q and %q", rules, kinds, tc.findings, tc.suppressed)
			}
		})
	}
}

// TestSuppressionTable checks that the table says how many findings were
// suppressed.
func TestSuppressionTable(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, ".vscode"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".vscode", "mcp.json"), []byte(plainHTTP), 0o644); err != nil {
		t.Fatal(err)
	}
	ignore := filepath.Join(t.TempDir(), "accepted.yaml")
	if err := os.WriteFile(ignore, []byte("ignore:\n  - rule: mcp/*\n    reason: lab\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"scan", "--no-advisories", "--ignore-file", ignore, dir}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "1 finding suppressed (see -o json)") {
		t.Errorf("table:\n%s", stdout.String())
	}
}
