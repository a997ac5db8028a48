package mcp

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/chainvet/chainvet/internal/catalog/manifest"
	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

const (
	fixtures = "../../../testdata/bom/mcp"
	// agentFixtures are the configs of the mcp/ rules, with benign twins.
	agentFixtures = "../../../testdata/agent"
)

func scan(t testing.TB, target string) *inventory.Report {
	t.Helper()
	rep, err := inventory.Scan(context.Background(), []string{target},
		inventory.Options{Catalogers: []inventory.Cataloger{Plugins{}}})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestGolden(t *testing.T) {
	rep := scan(t, fixtures)
	got, err := json.MarshalIndent(struct {
		Components []inventory.Component
		Findings   []inventory.Finding
	}{rep.Components, rep.Findings}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = []byte(strings.ReplaceAll(string(got), fixtures+"/", ""))
	golden := filepath.Join("testdata", "golden.json")
	manifest.Golden(t, golden, got, *update)
	for _, secret := range []string{"ghp_F", "hunter2", "secretvalue", "fake-bearer", "sk-fake", "abc123", "alice", "FAKE"} {
		if strings.Contains(string(got), secret) {
			t.Errorf("report contains %q from a URL", secret)
		}
	}
}

// TestManifest checks every fixture against its row; in testdata/agent
// the rules reported must be exactly the row's.
func TestManifest(t *testing.T) {
	for _, dir := range []string{fixtures, agentFixtures} {
		rows, err := manifest.Read(filepath.Join(dir, "MANIFEST.tsv"))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			t.Run(filepath.Join(filepath.Base(dir), r.Path), func(t *testing.T) {
				rep := scan(t, filepath.Join(dir, r.Path))
				for _, p := range r.Check(rep) {
					t.Errorf("%s\n%s", p, manifest.Dump(rep))
				}
				if dir != agentFixtures {
					return
				}
				got := map[string]bool{}
				for _, f := range rep.Findings {
					got[f.Rule] = true
				}
				want := map[string]bool{}
				for _, id := range r.Rules {
					want[id] = true
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("rules (-want +got):\n%s\n%s", diff, manifest.Dump(rep))
				}
			})
		}
	}
}

func TestComponents(t *testing.T) {
	rep := scan(t, fixtures)
	p := func(s string) string { return "plugin:" + fixtures + "/" + s }
	tests := []struct {
		id        string
		props     map[string]string
		dependsOn []string
	}{
		{p("proj/.mcp.json#filesystem"),
			map[string]string{"client": "claude-code", "format": "mcp-server", "transport": "stdio", "command": "npx",
				"args": "-y @modelcontextprotocol/server-filesystem@2025.1.14 /srv/data"},
			[]string{"pkg:npm/%40modelcontextprotocol/server-filesystem@2025.1.14"}},
		{p("proj/.mcp.json#github"),
			map[string]string{"client": "claude-code", "format": "mcp-server", "transport": "stdio", "command": "docker",
				"args": "run -i --rm -e GITHUB_PERSONAL_ACCESS_TOKEN ghcr.io/github/github-mcp-server:v0.4.0", "env": "GITHUB_PERSONAL_ACCESS_TOKEN"},
			[]string{"pkg:docker/github/github-mcp-server@v0.4.0?repository_url=ghcr.io"}},
		{p("proj/.mcp.json#fetch"),
			map[string]string{"client": "claude-code", "format": "mcp-server", "transport": "stdio", "command": "uvx",
				"args": "mcp-server-fetch==2025.4.7 --api-key REDACTED"},
			[]string{"pkg:pypi/mcp-server-fetch@2025.4.7"}},
		{p("proj/.mcp.json#remote"),
			map[string]string{"client": "claude-code", "format": "mcp-server", "transport": "http",
				"url": "https://mcp.example.com/mcp?key=REDACTED", "headers": "Authorization"}, nil},
		{p("proj/.vscode/mcp.json#sqlite"),
			map[string]string{"client": "vscode", "format": "mcp-server", "transport": "stdio", "command": "uvx",
				"args": "--from mcp-server-sqlite>=0.6 mcp-server-sqlite --db-path db.sqlite"},
			[]string{"pkg:pypi/mcp-server-sqlite"}},
		{p("proj/.vscode/mcp.json#events"),
			map[string]string{"client": "vscode", "format": "mcp-server", "transport": "sse", "url": "http://localhost:8080/sse"}, nil},
		{p("proj/.cursor/mcp.json#browser"),
			map[string]string{"client": "cursor", "format": "mcp-server", "transport": "stdio", "command": "npx",
				"args": "@playwright/mcp@latest", "env": "DISPLAY"},
			[]string{"pkg:npm/%40playwright/mcp"}},
		{p("proj/.claude/settings.json#code-review@claude-plugins"),
			map[string]string{"client": "claude-code", "format": "claude-plugin", "enabled": "true", "marketplace": "claude-plugins"}, nil},
		{p("proj/.claude/settings.json#old-helper@team-market"),
			map[string]string{"client": "claude-code", "format": "claude-plugin", "enabled": "false", "marketplace": "team-market"}, nil},
		{p("proj/.gemini/settings.json#weather"),
			map[string]string{"client": "gemini", "format": "mcp-server", "transport": "http", "url": "https://weather.example.com/mcp", "headers": "X-Api-Key"}, nil},
		{p("proj/.gemini/settings.json#local"),
			map[string]string{"client": "gemini", "format": "mcp-server", "transport": "stdio", "command": "/usr/local/bin/local-mcp",
				"args": "--token=REDACTED --port 9000"}, nil},
		{p("desktop/claude_desktop_config.json#time"),
			map[string]string{"client": "claude-desktop", "format": "mcp-server", "transport": "stdio", "command": "pipx", "args": "run mcp-server-time"},
			[]string{"pkg:pypi/mcp-server-time"}},
		{p("windsurf/mcp_config.json#docs"),
			map[string]string{"client": "windsurf", "format": "mcp-server", "transport": "sse", "url": "https://docs.example.com/sse"}, nil},
		{p("other/agents.json#search"),
			map[string]string{"client": "generic", "format": "mcp-server", "transport": "stdio", "command": "bunx", "args": "search-mcp@1.2.3", "enabled": "false"},
			[]string{"pkg:npm/search-mcp@1.2.3"}},
	}
	for _, tc := range tests {
		c := rep.Component(tc.id)
		if c == nil {
			t.Errorf("%s: missing", tc.id)
			continue
		}
		if diff := cmp.Diff(tc.props, c.Properties); diff != "" {
			t.Errorf("%s: properties (-want +got):\n%s", tc.id, diff)
		}
		if diff := cmp.Diff(tc.dependsOn, c.DependsOn); diff != "" {
			t.Errorf("%s: dependsOn (-want +got):\n%s", tc.id, diff)
		}
		for _, d := range c.DependsOn {
			if rep.Component(d) == nil {
				t.Errorf("%s: depends on %s, which is not in the report", tc.id, d)
			}
		}
		if c.Locations[0].Line == 0 {
			t.Errorf("%s: no line", tc.id)
		}
	}
}

func TestRedactArgs(t *testing.T) {
	tests := []struct{ in, want []string }{
		{[]string{"--password", "p", "--port", "80"}, []string{"--password", "REDACTED", "--port", "80"}},
		{[]string{"API_KEY=x", "--auth-token=y", "--mode=fast"}, []string{"API_KEY=REDACTED", "--auth-token=REDACTED", "--mode=fast"}},
		{[]string{"hf_abcdefghij", "0123456789abcdef0123456789abcdef01", "/path/to/dir"}, []string{"REDACTED", "REDACTED", "/path/to/dir"}},
		{[]string{"postgres://u:pw@db:5432/x"}, []string{"postgres://db:5432/x"}},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, RedactArgs(tc.in)); diff != "" {
			t.Errorf("RedactArgs(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestStripJSONC(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"a": 1}`, `{"a": 1}`},
		{"{\"a\": 1, // c\n}", "{\"a\": 1      \n}"},
		{`{"a": "//not", "b": [1,],}`, `{"a": "//not", "b": [1 ] }`},
		{`{/* x */"a":"\"/*"}`, `{       "a":"\"/*"}`},
	}
	for _, tc := range tests {
		if got := string(StripJSONC([]byte(tc.in))); got != tc.want {
			t.Errorf("StripJSONC(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

type sink struct {
	comps    []inventory.Component
	findings []inventory.Finding
}

func (s *sink) Component(c inventory.Component)       { s.comps = append(s.comps, c) }
func (s *sink) Finding(f inventory.Finding)           { s.findings = append(s.findings, f) }
func (s *sink) Scan(context.Context, *inventory.File) {}

// shownRE is the end of an inline-secret finding's evidence: an optional
// Authorization scheme, then at most a quoted prefix and the length.
var shownRE = regexp.MustCompile(`: (?:\S+ )?(?:("(?:[^"\\]|\\.)*")… \(\d+ chars\)|a literal of \d+ chars)$`)

// redacted reports whether evidence shows no more of a secret than its
// first four characters and its length.
func redacted(evidence string) bool {
	m := shownRE.FindStringSubmatch(evidence)
	if m == nil {
		return false
	}
	if m[1] == "" {
		return true
	}
	p, err := strconv.Unquote(m[1])
	return err == nil && utf8.RuneCountInString(p) <= 4
}

func FuzzPlugins(f *testing.F) {
	for _, dir := range []string{fixtures, agentFixtures} {
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(p, ".json") {
				b, err := os.ReadFile(p)
				if err != nil {
					f.Fatal(err)
				}
				f.Add(b)
			}
			return nil
		})
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(StripJSONC(b)) != len(b) {
			t.Fatal("StripJSONC changed the length")
		}
		file, err := inventory.NewFile(".mcp.json", strings.NewReader(string(b)), int64(len(b)), nil)
		if err != nil {
			t.Fatal(err)
		}
		var s sink
		if err := (Plugins{}).Catalog(context.Background(), file, &s); err != nil {
			t.Fatal(err)
		}
		for _, c := range s.comps {
			if c.ID == "" {
				t.Errorf("component without ID: %+v", c)
			}
		}
		for _, fd := range s.findings {
			if fd.Rule == RuleSecret && !redacted(fd.Evidence) {
				t.Errorf("evidence shows more than four characters of a value: %q", fd.Evidence)
			}
		}
	})
}
