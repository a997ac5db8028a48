package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/server"
	"github.com/chainvet/chainvet/internal/server/store"
)

// queryServer is a chainvet server on a fresh SQLite store holding two
// projects, with a read token of the whole fleet and one of "web".
func queryServer(t *testing.T) (base, fleet, web string) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "file:"+filepath.Join(t.TempDir(), "q.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	tokens := map[string]string{}
	for _, tk := range [][2]string{{"push", ""}, {"read", ""}, {"read-web", "web"}} {
		scope := store.ScopeRead
		if tk[0] == "push" {
			scope = store.ScopePush
		}
		secret, rec, err := server.NewToken(tk[0], scope, tk[1], now)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.AddToken(ctx, rec); err != nil {
			t.Fatal(err)
		}
		tokens[tk[0]] = secret
	}
	ts := httptest.NewServer(server.New(st, server.Options{}))
	t.Cleanup(ts.Close)
	model := inventory.Component{ID: "model:bert", Kind: inventory.KindModel, Name: "bert",
		Digests:   []inventory.Digest{{Algorithm: "sha256", Value: strings.Repeat("ab", 32)}},
		Locations: []inventory.Location{{Path: "models/bert.safetensors"}}}
	torch := func(v string) inventory.Component {
		return inventory.Component{ID: "pkg:pypi/torch@" + v, Kind: inventory.KindPackage, Name: "torch", Version: v,
			PURL: "pkg:pypi/torch@" + v, Locations: []inventory.Location{{Path: "requirements.txt"}}}
	}
	openai := inventory.Component{ID: "service:openai", Kind: inventory.KindService, Name: "openai",
		Properties: map[string]string{"endpoints": "https://api.openai.com/v1"}, Locations: []inventory.Location{{Path: "app.py"}}}
	hostile := torch("2.4.0")
	hostile.Locations[0].Path = "req\x1b[2J.txt"
	for _, p := range []struct {
		meta pushMeta
		cs   []inventory.Component
	}{
		{pushMeta{Project: "web", Version: "1.1", Env: "prod", Owners: []string{"team-web"}, Tier: "1"}, []inventory.Component{torch("2.5.0"), model, openai}},
		// A hostile path: escape sequences must not reach the terminal.
		{pushMeta{Project: "api", Version: "3.0", Env: "staging", Owners: []string{"team-api"}}, []inventory.Component{hostile}},
		// A version no range can be applied to.
		{pushMeta{Project: "odd", Version: "1", Env: "prod"}, []inventory.Component{torch("x")}},
	} {
		rep := &inventory.Report{Components: p.cs, Findings: []inventory.Finding{}}
		if _, err := pushReport(ctx, ts.URL, tokens["push"], rep, p.meta); err != nil {
			t.Fatal(err)
		}
	}
	return ts.URL, tokens["read"], tokens["read-web"]
}

func TestQuery(t *testing.T) {
	base, fleet, web := queryServer(t)
	tests := []struct {
		name    string
		token   string
		args    []string
		wantErr string
		want    []string // lines (table) or substrings (json) of stdout
		notWant string
		stderr  string // a substring of stderr
	}{
		{name: "purl_every_version", token: fleet, args: []string{"pkg:pypi/torch"},
			want: []string{"api      staging  3.0            team-api  torch@2.4.0  req?[2J.txt", "web      prod     1.1      1     team-web  torch@2.5.0  requirements.txt"}, notWant: "\x1b"},
		{name: "name_version", token: fleet, args: []string{"--name", "torch", "--version", "2.4.0"},
			want: []string{"api      staging  3.0"}, notWant: "web"},
		{name: "digest", token: fleet, args: []string{"--digest", "sha256:" + strings.Repeat("ab", 32), "-o", "json"},
			want: []string{`"project": "web"`, `"path": "models/bert.safetensors"`, `"truncated": false`}},
		{name: "project_token_sees_its_own", token: web, args: []string{"pkg:pypi/torch"}, want: []string{"web "}, notWant: "api"},
		{name: "project_token_other_project", token: web, args: []string{"--project", "api", "pkg:pypi/torch"}, wantErr: "403"},
		{name: "nothing", token: fleet, args: []string{"--name", "numpy"}, want: []string{"no deployment runs it"}},
		{name: "bad_token", token: "cvt_nope", args: []string{"pkg:pypi/torch"}, wantErr: "401"},
		{name: "no_token", token: "", args: []string{"pkg:pypi/torch"}, wantErr: "needs a token"},
		{name: "two_subjects", token: fleet, args: []string{"--name", "torch", "pkg:pypi/torch"}, wantErr: "one of PURL"},
		{name: "version_without_name", token: fleet, args: []string{"--version", "1", "--digest", "sha256:00"}, wantErr: "--version needs --name"},
		{name: "range", token: fleet, args: []string{"--range", ">=2.5", "pkg:pypi/Torch"},
			want: []string{"web      prod  1.1      1     team-web  torch@2.5.0  requirements.txt"}, notWant: "api",
			stderr: "warning: 1 stored versions of the package do not parse"},
		{name: "range_json", token: fleet, args: []string{"--range", "<2.5", "-o", "json", "pkg:pypi/torch"},
			want: []string{`"project": "api"`, `"skippedVersions": 1`}, notWant: `"web"`},
		{name: "range_project_token", token: web, args: []string{"--range", "<2.5", "pkg:pypi/torch"}, want: []string{"no deployment runs it"}},
		{name: "range_with_version", token: fleet, args: []string{"--range", ">=2", "pkg:pypi/torch@2.5.0"}, wantErr: "--range needs a purl without a version"},
		{name: "range_with_name", token: fleet, args: []string{"--range", ">=2", "--name", "torch"}, wantErr: "--range needs a purl without a version"},
		{name: "range_unordered", token: fleet, args: []string{"--range", ">=1", "pkg:huggingface/org/model"}, wantErr: "cannot order the versions of ecosystem HuggingFace"},
		{name: "range_invalid", token: fleet, args: []string{"--range", ">=2,<<3", "pkg:pypi/torch"}, wantErr: "400"},
		{name: "endpoint_host", token: fleet, args: []string{"--endpoint", "API.openai.com"},
			want: []string{"PROJECT  ENV   RELEASE  TIER  OWNERS    COMPONENT  PATH    ENDPOINT", "web      prod  1.1      1     team-web  openai     app.py  https://api.openai.com/v1"}},
		{name: "endpoint_url_json", token: fleet, args: []string{"--endpoint", "https://api.openai.com:443/v2", "-o", "json"},
			want: []string{`"project": "web"`, `"endpoint": "https://api.openai.com/v1"`}},
		{name: "endpoint_none", token: fleet, args: []string{"--endpoint", "api.anthropic.com"}, want: []string{"no deployment runs it"}},
		{name: "endpoint_bad", token: fleet, args: []string{"--endpoint", "not a host"}, wantErr: "400"},
		{name: "endpoint_and_name", token: fleet, args: []string{"--endpoint", "api.openai.com", "--name", "openai"}, wantErr: "one of PURL"},
		{name: "no_endpoint_column", token: fleet, args: []string{"--name", "torch", "--version", "2.5.0"},
			want: []string{"PROJECT  ENV   RELEASE  TIER  OWNERS    COMPONENT    PATH"}, notWant: "ENDPOINT"},
		{name: "bad_output", token: fleet, args: []string{"-o", "xml", "pkg:pypi/torch"}, wantErr: "unknown output"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CHAINVET_TOKEN", tc.token)
			var stdout, stderr bytes.Buffer
			cmd := newQuery(&stdout, &stderr)
			cmd.SetArgs(append([]string{"--server", base}, tc.args...))
			cmd.SetOut(&stderr)
			cmd.SetErr(&stderr)
			cmd.SilenceUsage, cmd.SilenceErrors = true, true
			err := cmd.ExecuteContext(context.Background())
			if tc.wantErr != "" {
				var h hinted
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.As(err, &h) {
					t.Fatalf("err = %v; want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			out := stdout.String()
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if tc.notWant != "" && strings.Contains(out, tc.notWant) {
				t.Errorf("output has %q:\n%s", tc.notWant, out)
			}
			if !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, stderr.String())
			}
			if strings.Contains(strings.Join(tc.args, " "), "json") {
				var ans queryAnswer
				if err := json.Unmarshal(stdout.Bytes(), &ans); err != nil || len(ans.Matches) != 1 {
					t.Errorf("json output: %v, %+v", err, ans)
				}
			}
		})
	}
}
