package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// adminServer runs chainvet serve on a fresh SQLite database and returns
// its URL and bootstrap admin token.
func adminServer(t *testing.T) (base, admin string) {
	t.Helper()
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "admin.token")
	f := &serveFlags{db: "file:" + filepath.Join(dir, "server.db"), tokenFile: tokenFile, maxUpload: 1 << 20}
	var stderr syncBuffer
	base, _ = startServe(t, f, &stderr)
	waitHealthy(t, base)
	b, err := os.ReadFile(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	return base, strings.TrimSpace(string(b))
}

// cli runs chainvet with args and CHAINVET_TOKEN set to token.
func cli(t *testing.T, token string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	t.Setenv("CHAINVET_TOKEN", token)
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// closedURL is the URL of a port nothing listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + ln.Addr().String()
	ln.Close()
	return u
}

func TestTokenLifecycle(t *testing.T) {
	base, admin := adminServer(t)

	// create with a ttl: the secret alone on stdout, the rest on stderr.
	code, out, errOut := cli(t, admin, "token", "create", "--server", base, "--name", "reader", "--scope", "read", "--ttl", "720h")
	if code != 0 {
		t.Fatalf("token create: exit %d: %s", code, errOut)
	}
	secret := strings.TrimSuffix(out, "\n")
	if !strings.HasPrefix(secret, "cvt_") || strings.ContainsAny(secret, " \n") {
		t.Fatalf("token create stdout = %q; want the secret alone", out)
	}
	if strings.Contains(errOut, secret) || !strings.Contains(errOut, `"reader", scope read, every project, expires `) {
		t.Errorf("token create stderr = %q; want the token described, without its secret", errOut)
	}

	// -o json: the server's whole answer.
	code, out, errOut = cli(t, admin, "token", "create", "--server", base, "--name", "web-ci", "--scope", "push", "--project", "web",
		"--expires", time.Now().Add(48*time.Hour).UTC().Format(time.RFC3339), "-o", "json")
	if code != 0 {
		t.Fatalf("token create -o json: exit %d: %s", code, errOut)
	}
	var made serverToken
	if err := json.Unmarshal([]byte(out), &made); err != nil || !strings.HasPrefix(made.Token, "cvt_") || made.ID == "" ||
		made.Project != "web" || made.Expires.IsZero() {
		t.Fatalf("token create -o json = %s (%v); want token, id, project and expiry", out, err)
	}

	// list: the new tokens with their expiry; the bootstrap token never expires.
	code, out, errOut = cli(t, admin, "token", "list", "--server", base, "-o", "json")
	if code != 0 {
		t.Fatalf("token list -o json: exit %d: %s", code, errOut)
	}
	var listed struct{ Tokens []serverToken }
	if err := json.Unmarshal([]byte(out), &listed); err != nil || len(listed.Tokens) != 3 {
		t.Fatalf("token list -o json = %s (%v); want 3 tokens", out, err)
	}
	var reader serverToken
	for _, tk := range listed.Tokens {
		if tk.Name == "reader" {
			reader = tk
		}
	}
	if d := time.Until(reader.Expires); d < 719*time.Hour || d > 721*time.Hour {
		t.Errorf("reader expires %v; want 720h from now", reader.Expires)
	}
	code, out, errOut = cli(t, admin, "token", "list", "--server", base)
	if code != 0 {
		t.Fatalf("token list: exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "ID  ") {
		t.Fatalf("token list:\n%s", out)
	}
	col := strings.Index(lines[0], "EXPIRES")
	for _, want := range []struct{ name, project, expires, revoked string }{
		{"bootstrap", "-", "never", "-"},
		{"reader", "-", reader.Expires.UTC().Format(time.RFC3339), "-"},
		{"web-ci", "web", made.Expires.UTC().Format(time.RFC3339), "-"},
	} {
		found := false
		for _, l := range lines[1:] {
			if f := strings.Fields(l); f[1] == want.name {
				found = true
				if f[3] != want.project || f[5] != want.expires || f[6] != want.revoked || !strings.HasPrefix(l[col:], want.expires) {
					t.Errorf("token list row %q; want project %s, expires %s, revoked %s, aligned", l, want.project, want.expires, want.revoked)
				}
			}
		}
		if !found {
			t.Errorf("token list lacks %s:\n%s", want.name, out)
		}
	}

	// The new read token works, until it is revoked.
	if code, _, errOut := cli(t, secret, "query", "--server", base, "--name", "torch"); code != 0 {
		t.Fatalf("query with the new token: exit %d: %s", code, errOut)
	}
	code, out, errOut = cli(t, admin, "token", "revoke", "--server", base, reader.ID)
	if code != 0 || !strings.HasPrefix(out, "revoked "+reader.ID+` ("reader"`) {
		t.Fatalf("token revoke: exit %d: %s%s", code, out, errOut)
	}
	code, _, errOut = cli(t, secret, "query", "--server", base, "--name", "torch")
	if code != 2 || !strings.Contains(errOut, "401") || !strings.Contains(errOut, "revoked") {
		t.Errorf("query with a revoked token: exit %d: %s; want 2, 401, revoked", code, errOut)
	}
	code, out, _ = cli(t, admin, "token", "list", "--server", base)
	listedRevoked := false
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) == 7 && f[0] == reader.ID {
			_, err := time.Parse(time.RFC3339, f[6])
			listedRevoked = err == nil
		}
	}
	if code != 0 || !listedRevoked {
		t.Errorf("token list after revoke: exit %d; want %s with the time it was revoked:\n%s", code, reader.ID, out)
	}

	// An unknown id fails, naming it, after the others are revoked.
	unknown := strings.Repeat("0", 16)
	code, out, errOut = cli(t, admin, "token", "revoke", "--server", base, unknown, made.ID)
	if code != 2 || !strings.Contains(errOut, unknown) || !strings.Contains(errOut, "404") || !strings.Contains(out, "revoked "+made.ID) {
		t.Errorf("token revoke of an unknown and a known id: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	code, _, errOut = cli(t, admin, "token", "revoke", "--server", base, unknown, "../projects")
	if code != 2 || !strings.Contains(errOut, "chainvet: error: token revoke "+unknown) ||
		!strings.Contains(errOut, `"../projects" is not a token id`) || !strings.Contains(errOut, "2 of 2 tokens not revoked") {
		t.Errorf("token revoke of two bad ids: exit %d: %s", code, errOut)
	}
}

func TestTokenErrors(t *testing.T) {
	base, admin := adminServer(t)
	// An admin of project web.
	code, webAdmin, errOut := cli(t, admin, "token", "create", "--server", base, "--name", "web-admin", "--scope", "admin", "--project", "web")
	if code != 0 {
		t.Fatalf("token create: exit %d: %s", code, errOut)
	}
	webAdmin = strings.TrimSpace(webAdmin)
	down := closedURL(t)
	tests := []struct {
		name   string
		token  string
		args   []string
		stderr []string
		notErr string // not in stderr: the server is down, so the second id is not tried
	}{
		{"no_token", "", []string{"token", "list", "--server", base}, []string{"token list needs a token", "fix: set CHAINVET_TOKEN"}, ""},
		{"wrong_token", "cvt_wrong", []string{"token", "list", "--server", base}, []string{"401", "fix: set CHAINVET_TOKEN or --token"}, ""},
		{"no_server", admin, []string{"token", "list"}, []string{`"" is not a server URL`}, ""},
		{"server_down", admin, []string{"token", "list", "--server", down}, []string{"connection refused", "fix: check --server"}, ""},
		{"server_down_revoke", admin, []string{"token", "revoke", "--server", down, strings.Repeat("1", 16), strings.Repeat("2", 16)},
			[]string{"token revoke " + strings.Repeat("1", 16), "connection refused"}, strings.Repeat("2", 16)},
		{"bad_scope", admin, []string{"token", "create", "--server", base, "--name", "x", "--scope", "root"}, []string{`scope "root"`}, ""},
		{"no_name", admin, []string{"token", "create", "--server", base, "--scope", "read"}, []string{"no --name"}, ""},
		{"ttl_and_expires", admin, []string{"token", "create", "--server", base, "--name", "x", "--scope", "read", "--ttl", "1h", "--expires", "2030-01-01T00:00:00Z"},
			[]string{"--ttl and --expires both given"}, ""},
		{"ttl_too_long", admin, []string{"token", "create", "--server", base, "--name", "x", "--scope", "read", "--ttl", "87600h"},
			[]string{"400", "two years", "fix: see 'chainvet token create --help'"}, ""},
		{"other_project", webAdmin, []string{"token", "create", "--server", base, "--name", "x", "--scope", "read", "--project", "api"},
			[]string{"403", "fix: an admin token limited to a project"}, ""},
		{"list_bad_output", admin, []string{"token", "list", "--server", base, "-o", "xml"}, []string{`unknown output "xml"`}, ""},
		{"revoke_no_id", admin, []string{"token", "revoke", "--server", base}, []string{"no token id"}, ""},
		{"list_args", admin, []string{"token", "list", "--server", base, "extra"}, []string{"takes no arguments"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := cli(t, tc.token, tc.args...)
			if code != 2 || out != "" {
				t.Errorf("exit %d, stdout %q; want 2 and nothing", code, out)
			}
			for _, w := range tc.stderr {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
			if tc.notErr != "" && strings.Contains(errOut, tc.notErr) {
				t.Errorf("stderr has %q:\n%s", tc.notErr, errOut)
			}
		})
	}
}
