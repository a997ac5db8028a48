package mcp

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/render"
)

func TestLiteralSecret(t *testing.T) {
	tests := []struct {
		name, value string
		want        bool
	}{
		{"OPENAI_API_KEY", "sk-proj-abcdefgh12345678", true},
		{"API_KEY", "s3cr3tvalue", true},
		{"DB_PASSWORD", "hunter2", true},
		{"Authorization", "Bearer abcdef123456", true},
		{"Authorization", "Basic dXNlcjpwYXNz", true},
		{"GH", "ghp_0123456789abcdefABCDEF", true}, // known prefix under any name
		{"X-Custom", "Bearer abcdef123456", true},  // a scheme says it is a credential
		{"OPENAI_API_KEY", "${input:openai-key}", false},
		{"GITHUB_TOKEN", "${env:GITHUB_TOKEN}", false},
		{"HF_TOKEN", "$HF_TOKEN", false},
		{"API_KEY", "%API_KEY%", false},
		{"Authorization", "Bearer ${input:token}", false},
		{"API_KEY", "", false},
		{"API_KEY", "<your-api-key>", false},
		{"API_KEY", "YOUR_API_KEY", false},
		{"API_KEY", "your-key-here", false},
		{"API_KEY", "xxxxxxxx", false},
		{"X-Api-Key", "fake", false}, // shorter than minSecret
		{"TOKEN_LIMIT", "4096", false},
		{"AUTH_ENABLED", "true", false},
		{"KEY_FILE", "/run/secrets/key", false},
		{"KEY_FILE", "C:\\keys\\k.json", false},
		{"AUTH_URL", "https://login.example.com/oauth", false},
		{"LOG_LEVEL", "debug-verbose", false},
		{"DISPLAY", ":0", false},
	}
	for _, tc := range tests {
		if _, _, got := literalSecret(tc.name, tc.value); got != tc.want {
			t.Errorf("literalSecret(%q, %q) = %v, want %v", tc.name, tc.value, got, tc.want)
		}
	}
}

func TestDescribe(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ghp_0123456789abcdefXYZ", `"ghp_"… (23 chars)`},
		{"hunter22", "a literal of 8 chars"},
		{"ééééééééééééééééé", `"éééé"… (17 chars)`},
	}
	for _, tc := range tests {
		if got := describe(tc.in); got != tc.want {
			t.Errorf("describe(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestBroadRoot(t *testing.T) {
	tests := []struct {
		dir  string
		want bool
	}{
		{"/", true}, {"~", true}, {"~/", true}, {"$HOME", true}, {"${HOME}", true}, {"${userHome}", true},
		{"/home/alice", true}, {"/home/alice/", true}, {"/Users/alice", true}, {"/root", true},
		{`C:\`, true}, {"C:", true}, {"c:/", true}, {`C:\Users\alice`, true}, {"%USERPROFILE%", true},
		{"/home", true},
		{"/home/alice/src/app", false}, {"/Users/alice/Desktop", false}, {"./data", false},
		{"/srv/data", false}, {`C:\src\app`, false}, {"~/projects", false}, {"", false},
	}
	for _, tc := range tests {
		if got := broadRoot(tc.dir); got != tc.want {
			t.Errorf("broadRoot(%q) = %v, want %v", tc.dir, got, tc.want)
		}
	}
}

func TestDockerSources(t *testing.T) {
	tests := []struct{ fn, in, want string }{
		{"v", "/:/host", "/"},
		{"v", "$HOME:/home/me:ro", "$HOME"},
		{"v", `C:\:/c`, `C:\`},
		{"v", `C:\data:/data`, `C:\data`},
		{"v", "/data", ""}, // an anonymous volume
		{"mount", "type=bind,src=/Users/bob,dst=/projects", "/Users/bob"},
		{"mount", "type=bind,source=~,target=/h", "~"},
		{"mount", "type=volume,src=cache,dst=/cache", ""},
	}
	for _, tc := range tests {
		got := volumeSource(tc.in)
		if tc.fn == "mount" {
			got = mountSource(tc.in)
		}
		if got != tc.want {
			t.Errorf("%s %q: source %q, want %q", tc.fn, tc.in, got, tc.want)
		}
	}
}

func TestLoopback(t *testing.T) {
	tests := []struct {
		host string
		want bool
	}{
		{"localhost", true}, {"LOCALHOST", true}, {"app.localhost", true}, {"127.0.0.1", true}, {"127.1.2.3", true}, {"::1", true},
		{"10.0.0.1", false}, {"0.0.0.0", false}, {"example.com", false}, {"localhost.example.com", false}, {"", false},
	}
	for _, tc := range tests {
		if got := loopback(tc.host); got != tc.want {
			t.Errorf("loopback(%q) = %v, want %v", tc.host, got, tc.want)
		}
	}
}

func TestParseLaunch(t *testing.T) {
	tests := []struct {
		command string
		args    []string
		ok      bool
		pinned  bool
		yes     bool
		rest    string
	}{
		{"npx", []string{"-y", "@scope/pkg@1.2.3", "/srv"}, true, true, true, "/srv"},
		{"npx", []string{"--yes", "pkg@latest"}, true, false, true, ""},
		{"npx", []string{"pkg@^1"}, true, false, false, ""},
		{"npx", []string{"-p", "pkg@1.0.0", "pkg-bin", "--x"}, true, true, false, "--x"},
		{"C:\\Program Files\\nodejs\\npx.cmd", []string{"-y", "pkg"}, true, false, true, ""},
		{"pnpm", []string{"dlx", "pkg@2.0.0"}, true, true, false, ""},
		{"yarn", []string{"dlx", "pkg"}, true, false, false, ""},
		{"uvx", []string{"pkg==1.0"}, true, true, false, ""},
		{"uvx", []string{"pkg@1.0"}, true, true, false, ""},
		{"uvx", []string{"--from", "pkg>=1", "pkg-cli"}, true, false, false, ""},
		{"uv", []string{"tool", "run", "pkg==2", "--flag"}, true, true, false, "--flag"},
		{"uv", []string{"run", "server.py"}, false, false, false, ""},
		{"pipx", []string{"run", "--spec", "pkg==1", "pkg"}, true, true, false, ""},
		{"docker", []string{"run", "-i", "--rm", "-v", "/a:/b", "img:1"}, true, false, false, ""},
		{"docker", []string{"run", "img@sha256:" + strings.Repeat("a", 64), "serve"}, true, true, false, "serve"},
		{"node", []string{"./server.js"}, false, false, false, ""},
		{"python", []string{"server.py"}, false, false, false, ""},
	}
	for _, tc := range tests {
		l := parseLaunch(tc.command, tc.args)
		if l.ok != tc.ok || l.ok && l.pinned() != tc.pinned || l.yes != tc.yes || strings.Join(l.rest, " ") != tc.rest {
			t.Errorf("parseLaunch(%q, %q) = ok %v pinned %v yes %v rest %q; want %v %v %v %q",
				tc.command, tc.args, l.ok, l.ok && l.pinned(), l.yes, l.rest, tc.ok, tc.pinned, tc.yes, tc.rest)
		}
	}
}

// TestSecretsNotRendered renders the reports of every config with
// secrets in it as JSON, table and SARIF and looks for the values.
func TestSecretsNotRendered(t *testing.T) {
	secrets := []string{
		"FAKEFAKEFAKE", "sk-proj-FAKE", "FAKEbearer0123", "hunter2", "secretvalue", "fake-bearer", "sk-fake-0", "abc123", "alice:",
	}
	for _, target := range []string{agentFixtures + "/secret", fixtures} {
		rep, err := inventory.Scan(context.Background(), []string{target},
			inventory.Options{Catalogers: []inventory.Cataloger{Plugins{}}})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, f := range rep.Findings {
			if f.Rule == RuleSecret {
				n++
			}
		}
		if n == 0 {
			t.Fatalf("%s: no %s findings", target, RuleSecret)
		}
		for _, format := range []string{"json", "table", "sarif"} {
			r, err := render.New(format, render.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := r.Render(&b, rep); err != nil {
				t.Fatal(err)
			}
			for _, s := range secrets {
				if strings.Contains(b.String(), s) {
					t.Errorf("%s: %s output contains %q", target, format, s)
				}
			}
		}
	}
}
