package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chainvet/chainvet/internal/server"
	"github.com/chainvet/chainvet/internal/server/store"
)

// osvRecord is an OSV record of a PyPI package.
func osvRecord(id, pkg string) string {
	return fmt.Sprintf(`{"id": %q, "modified": "2026-11-01T00:00:00Z", "summary": "test",
 "affected": [{"package": {"ecosystem": "PyPI", "name": %q}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "9.0"}]}]}]}`, id, pkg)
}

func TestDBPush(t *testing.T) {
	base, admin := adminServer(t)
	dir := t.TempDir()
	zipFile := filepath.Join(dir, "all.zip")
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	for name, body := range map[string]string{
		"GHSA-aaaa.json": osvRecord("GHSA-aaaa", "requests"),
		"GHSA-bbbb.json": osvRecord("GHSA-bbbb", "numpy"),
		"broken.json":    "{",
	} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	junk := filepath.Join(dir, "notes.txt")
	for name, body := range map[string][]byte{zipFile: zb.Bytes(), junk: []byte("not an advisory")} {
		if err := os.WriteFile(name, body, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	code, webAdmin, errOut := cli(t, admin, "token", "create", "--server", base, "--name", "web-admin", "--scope", "admin", "--project", "web")
	if code != 0 {
		t.Fatalf("token create: exit %d: %s", code, errOut)
	}
	webAdmin = strings.TrimSpace(webAdmin)
	record := "../../examples/fleet/advisory.json"
	missing := filepath.Join(dir, "missing.zip")

	tests := []struct {
		name     string
		token    string
		args     []string
		code     int
		rows     []string // stdout lines, after the header (table), or substrings (json)
		stderr   []string
		noStdout bool
		json     bool // -o json: stdout is an array of one object per file
	}{
		{name: "record", token: admin, args: []string{record},
			rows: []string{record + "  1        1      0          0          0        0       0"}},
		{name: "zip", token: admin, args: []string{zipFile},
			rows:   []string{zipFile + "  3        2      0          0          1        0       0"},
			stderr: []string{"chainvet: warning: " + zipFile + ": broken.json"}},
		{name: "again_json", token: admin, args: []string{zipFile, record, "-o", "json"}, json: true,
			rows: []string{`"file": "` + zipFile + `"`, `"records": 3`, `"unchanged": 2`, `"unchanged": 1`, `"errors": [`}},
		{name: "refused_file", token: admin, args: []string{junk, record}, code: 2,
			rows:   []string{record + "  1        0      1          0          0        0       0"},
			stderr: []string{"db push " + junk + ": 400 Bad Request: not an OSV all.zip or JSON record", "fix: give an OSV all.zip"}},
		{name: "missing_file", token: admin, args: []string{missing}, code: 2, noStdout: true,
			stderr: []string{"db push " + missing + ": open ", "fix: check the FILE path"}},
		{name: "directory", token: admin, args: []string{dir}, code: 2, noStdout: true, stderr: []string{"not a regular file"}},
		{name: "two_failures", token: admin, args: []string{junk, missing}, code: 2, noStdout: true,
			stderr: []string{"chainvet: error: db push " + junk, "chainvet: error: db push " + missing, "2 of 2 files not imported"}},
		{name: "project_admin", token: webAdmin, args: []string{record}, code: 2, noStdout: true,
			stderr: []string{"403", "fix: advisories are the whole fleet's"}},
		{name: "no_token", token: "", args: []string{record}, code: 2, noStdout: true, stderr: []string{"db push needs a token"}},
		{name: "wrong_token", token: "cvt_nope", args: []string{record, zipFile}, code: 2, noStdout: true,
			stderr: []string{"401", "fix: set CHAINVET_TOKEN"}},
		{name: "wrong_server", token: admin, args: []string{"--server", closedURL(t), record}, code: 2, noStdout: true,
			stderr: []string{"connection refused"}},
		{name: "no_file", token: admin, args: nil, code: 2, noStdout: true, stderr: []string{"db push: no FILE"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"db", "push", "--server", base}, tc.args...)
			code, out, errOut := cli(t, tc.token, args...)
			if code != tc.code {
				t.Fatalf("exit %d; want %d\nstdout: %s\nstderr: %s", code, tc.code, out, errOut)
			}
			if tc.noStdout && out != "" {
				t.Errorf("stdout = %q; want nothing", out)
			}
			if tc.json {
				var v []advisoryImport
				if err := json.Unmarshal([]byte(out), &v); err != nil || len(v) != len(tc.args)-2 {
					t.Errorf("-o json: %v; want an array of %d:\n%s", err, len(tc.args)-2, out)
				}
				for _, w := range tc.rows {
					if !strings.Contains(out, w) {
						t.Errorf("stdout lacks %q:\n%s", w, out)
					}
				}
			} else if len(tc.rows) > 0 {
				lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
				if !strings.HasPrefix(lines[0], "FILE ") || strings.Join(lines[1:], "\n") != strings.Join(tc.rows, "\n") {
					t.Errorf("stdout:\n%s\nwant rows:\n%s", out, strings.Join(tc.rows, "\n"))
				}
			}
			for _, w := range tc.stderr {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
}

// TestDBPushTooBig checks that a file over the server's limit is reported
// with the server's 413, not as a broken connection: the server answers
// before it has read the whole upload.
func TestDBPushTooBig(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, "file:"+filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	secret, rec, err := server.NewToken("admin", store.ScopeAdmin, "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AddToken(ctx, rec); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(server.New(st, server.Options{MaxAdvisories: 1 << 10}))
	t.Cleanup(ts.Close)
	big := filepath.Join(t.TempDir(), "all.zip")
	if err := os.WriteFile(big, bytes.Repeat([]byte("PK\x03\x04"), 2<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := cli(t, secret, "db", "push", "--server", ts.URL, big, "../../examples/fleet/advisory.json")
	if code != 2 || !strings.Contains(errOut, "413") || !strings.Contains(errOut, "advisories larger than 1024 bytes") ||
		!strings.Contains(out, "advisory.json  1 ") {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s\nwant 2, the server's 413, and the other file imported", code, out, errOut)
	}
}
