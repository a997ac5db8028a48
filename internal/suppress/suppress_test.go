package suppress

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/chainvet/chainvet/internal/inventory"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Entry // Line and the parsed date are compared too
		wantErr string
	}{
		{name: "empty", in: "", want: nil},
		{name: "null_list", in: "ignore:\n", want: nil},
		{name: "full", in: "ignore:\n  - rule: mcp/plain-http\n    path: ./lab/**\n    component: pkg:npm/x\n    evidence: \" 10.1\"\n    reason: lab network\n    expires: 2026-12-31\n    owner: team-infra\n",
			want: []Entry{{Rule: "mcp/plain-http", Path: "lab/**", Component: "pkg:npm/x", Evidence: " 10.1", Reason: "lab network",
				Expires: "2026-12-31", Owner: "team-infra", Line: 2, until: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)}}},
		{name: "no_reason", in: "ignore:\n  - rule: a/b\n  - rule: c/d\n    path: x\n", wantErr: "2: entry for rule \"a/b\" has no reason"},
		{name: "blank_reason", in: "ignore:\n  - rule: a/b\n    reason: \"  \"\n", wantErr: "2: entry for rule \"a/b\" has no reason"},
		{name: "no_rule", in: "ignore:\n  - reason: because\n", wantErr: "2: entry has no rule"},
		{name: "unknown_key", in: "ignore:\n  - rule: a/b\n    reason: r\n    until: 2026-01-01\n", wantErr: "4: unknown key \"until\""},
		{name: "bad_date", in: "ignore:\n  - rule: a/b\n    reason: r\n    expires: 31/12/2026\n", wantErr: "2: entry for rule \"a/b\": expires \"31/12/2026\""},
		{name: "top_unknown", in: "owners: []\n", wantErr: "1: unknown key \"owners\""},
		{name: "not_list", in: "ignore: x\n", wantErr: "1: ignore: want a list"},
		{name: "nested_value", in: "ignore:\n  - rule: [a]\n    reason: r\n", wantErr: "2: rule: want a string"},
		{name: "bad_glob", in: "ignore:\n  - rule: a\n    path: \"[\"\n    reason: r\n", wantErr: "2: path \"[\""},
		{name: "syntax", in: "ignore:\n  - rule: a\n   reason: r\n", wantErr: "1: yaml: line 1:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse([]byte(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one starting %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, f.Entries, cmp.AllowUnexported(Entry{})); diff != "" {
				t.Errorf("entries (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadNamesFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), FileName)
	if err := os.WriteFile(p, []byte("ignore:\n  - rule: a/b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(p)
	if err == nil || !strings.HasPrefix(err.Error(), p+":2: ") {
		t.Fatalf("error %v, want it to start with %s:2:", err, p)
	}
	if f, err := Find(t.TempDir()); f != nil || err != nil {
		t.Errorf("Find in an empty directory = %v, %v; want nil, nil", f, err)
	}
}

// TestExpiry checks the boundary: an entry holds through its expires
// date, in the scan's local time, and not a moment after.
func TestExpiry(t *testing.T) {
	e := Entry{Rule: "a", Reason: "r", Expires: "2026-06-30", until: time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)}
	east := time.FixedZone("UTC+10", 10*3600)
	tests := []struct {
		now  time.Time
		want bool
	}{
		{time.Date(2026, 6, 29, 12, 0, 0, 0, time.UTC), false},
		{time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC), false},
		{time.Date(2026, 6, 30, 23, 59, 59, 0, time.UTC), false},
		{time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC), true},
		{time.Date(2026, 7, 1, 0, 30, 0, 0, east), true},    // already 1 July where the scan runs
		{time.Date(2026, 6, 30, 23, 30, 0, 0, east), false}, // still 30 June there
		{time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), true},
	}
	for _, tc := range tests {
		if got := e.expired(tc.now); got != tc.want {
			t.Errorf("expired at %v = %v, want %v", tc.now, got, tc.want)
		}
	}
	if (&Entry{}).expired(time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Error("an entry without expires expired")
	}
}

func TestWildcard(t *testing.T) {
	tests := []struct {
		pat, s string
		want   bool
	}{
		{"mcp/plain-http", "mcp/plain-http", true},
		{"mcp/*", "mcp/plain-http", true},
		{"*", "pickle/dangerous-call", true},
		{"mcp/*", "mcpx/a", false},
		{"mcp/plain-http", "mcp/plain-https", false},
		{"pkg:npm/*@1.*", "pkg:npm/%40scope/x@1.2.3", true},
		{"p?ckle/*", "pickle/format", true},
		{"", "a", false},
	}
	for _, tc := range tests {
		if got := wildcard(tc.pat, tc.s); got != tc.want {
			t.Errorf("wildcard(%q, %q) = %v, want %v", tc.pat, tc.s, got, tc.want)
		}
	}
}

var today = time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)

// fileReport is a report of findings in files that have no comments.
func fileReport() *inventory.Report {
	return &inventory.Report{
		Components: []inventory.Component{{ID: "pkg:npm/left-pad@1.3.0", PURL: "pkg:npm/left-pad@1.3.0"},
			{ID: "plugin:proj/.mcp.json#remote"}},
		Findings: []inventory.Finding{
			{Rule: "mcp/plain-http", Severity: inventory.High, Path: "proj/lab/.mcp.json", Component: "plugin:proj/.mcp.json#remote", Evidence: "http://10.1.2.3/mcp"},
			{Rule: "pickle/dangerous-call", Severity: inventory.Critical, Path: "proj/models/m.zip!inner/data.pkl", Evidence: "os.system"},
			{Rule: "hygiene/unpinned", Severity: inventory.Medium, Path: "proj/package.json", Component: "pkg:npm/left-pad@1.3.0"},
			{Rule: "mcp/inline-secret", Severity: inventory.High, Path: "/elsewhere/x.json"},
		},
	}
}

func TestApplyFile(t *testing.T) {
	tests := []struct {
		name         string
		entries      []Entry
		suppressed   []string // rules of the findings suppressed
		kept         []string // rules of the findings left, new ones included
		expiredLines []int
	}{
		{name: "rule_only", entries: []Entry{{Rule: "mcp/plain-http"}},
			suppressed: []string{"mcp/plain-http"}, kept: []string{"pickle/dangerous-call", "hygiene/unpinned", "mcp/inline-secret"}},
		{name: "rule_glob_and_path", entries: []Entry{{Rule: "mcp/*", Path: "lab/**"}},
			suppressed: []string{"mcp/plain-http"}, kept: []string{"pickle/dangerous-call", "hygiene/unpinned", "mcp/inline-secret"}},
		{name: "path_as_reported", entries: []Entry{{Rule: "*", Path: "proj/lab/*.json"}},
			suppressed: []string{"mcp/plain-http"}, kept: []string{"pickle/dangerous-call", "hygiene/unpinned", "mcp/inline-secret"}},
		{name: "archive_by_outer_file", entries: []Entry{{Rule: "pickle/*", Path: "models/m.zip"}},
			suppressed: []string{"pickle/dangerous-call"}, kept: []string{"mcp/plain-http", "hygiene/unpinned", "mcp/inline-secret"}},
		{name: "path_outside_dir", entries: []Entry{{Rule: "mcp/inline-secret", Path: "x.json"}},
			suppressed: nil, kept: []string{"mcp/plain-http", "pickle/dangerous-call", "hygiene/unpinned", "mcp/inline-secret", RuleUnused}},
		{name: "component_without_version", entries: []Entry{{Rule: "*", Component: "pkg:npm/left-pad"}},
			suppressed: []string{"hygiene/unpinned"}, kept: []string{"mcp/plain-http", "pickle/dangerous-call", "mcp/inline-secret"}},
		{name: "component_prefix_is_not_a_match", entries: []Entry{{Rule: "*", Component: "pkg:npm/left"}},
			suppressed: nil, kept: []string{"mcp/plain-http", "pickle/dangerous-call", "hygiene/unpinned", "mcp/inline-secret", RuleUnused}},
		{name: "evidence", entries: []Entry{{Rule: "*", Evidence: "10.1.2.3"}},
			suppressed: []string{"mcp/plain-http"}, kept: []string{"pickle/dangerous-call", "hygiene/unpinned", "mcp/inline-secret"}},
		{name: "evidence_mismatch", entries: []Entry{{Rule: "mcp/plain-http", Evidence: "10.9"}},
			suppressed: nil, kept: []string{"mcp/plain-http", "pickle/dangerous-call", "hygiene/unpinned", "mcp/inline-secret", RuleUnused}},
		{name: "expires_today_holds", entries: []Entry{{Rule: "mcp/plain-http", Expires: "2026-06-30"}},
			suppressed: []string{"mcp/plain-http"}, kept: []string{"pickle/dangerous-call", "hygiene/unpinned", "mcp/inline-secret"}},
		{name: "expired_yesterday", entries: []Entry{{Rule: "mcp/plain-http", Expires: "2026-06-29", Line: 7}},
			suppressed: nil, kept: []string{"mcp/plain-http", "pickle/dangerous-call", "hygiene/unpinned", "mcp/inline-secret", RuleExpired}, expiredLines: []int{7}},
		{name: "first_entry_wins", entries: []Entry{{Rule: "mcp/*", Line: 2}, {Rule: "mcp/plain-http", Line: 5}},
			suppressed: []string{"mcp/plain-http", "mcp/inline-secret"}, kept: []string{"pickle/dangerous-call", "hygiene/unpinned", RuleUnused}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &File{Path: "proj/" + FileName, Dir: "proj"}
			for _, e := range tc.entries {
				e.Reason = "accepted"
				if e.Expires != "" {
					e.until, _ = time.Parse(dateLayout, e.Expires)
				}
				f.Entries = append(f.Entries, e)
			}
			r := fileReport()
			if err := Apply(context.Background(), r, f, today); err != nil {
				t.Fatal(err)
			}
			var sup, kept []string
			for _, s := range r.Suppressed {
				sup = append(sup, s.Rule)
				if s.Kind != inventory.SuppressFile || s.Reason != "accepted" || !strings.HasPrefix(s.Source, f.Path+":") {
					t.Errorf("suppression %+v: want kind file, reason and source", s)
				}
			}
			for _, fd := range r.Findings {
				kept = append(kept, fd.Rule)
				if fd.Rule == RuleExpired && !slices.Contains(tc.expiredLines, fd.Line) {
					t.Errorf("expired finding at line %d", fd.Line)
				}
			}
			if diff := cmp.Diff(tc.suppressed, sup); diff != "" {
				t.Errorf("suppressed (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.kept, kept); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseDirective(t *testing.T) {
	tests := []struct {
		line   string
		alone  bool
		found  bool
		rules  []string
		reason string
	}{
		{"x = 1  # chainvet:ignore mcp/plain-http lab only", false, true, []string{"mcp/plain-http"}, "lab only"},
		{"# chainvet:ignore a/b,c/d reviewed by sec", true, true, []string{"a/b", "c/d"}, "reviewed by sec"},
		{"# chainvet:ignore a/b, c/d reviewed", true, true, []string{"a/b", "c/d"}, "reviewed"},
		{"// chainvet:ignore mcp/* test fixture", true, true, []string{"mcp/*"}, "test fixture"},
		{"-- chainvet:ignore a/b sql", true, true, []string{"a/b"}, "sql"},
		{"<!-- chainvet:ignore a/b in docs -->", true, true, []string{"a/b"}, "in docs"},
		{"/* chainvet:ignore a/b block */", true, true, []string{"a/b"}, "block"},
		{"# chainvet:ignore a/b", true, true, []string{"a/b"}, ""},
		{"# chainvet:ignore", true, true, nil, ""},
		{"x = 1  # chainvet:ignore a/b why", true, false, nil, ""}, // above a finding, a comment must be alone
		{`s = "# chainvet:ignore a/b why"`, false, false, nil, ""}, // in a string
		{`s = 'it''s' # chainvet:ignore a/b why`, false, true, []string{"a/b"}, "why"},
		{"# see chainvet:ignore a/b why", true, false, nil, ""}, // not right after the opener
		{"# chainvet:ignored a/b why", true, false, nil, ""},
		{"x = 1", false, false, nil, ""},
	}
	for _, tc := range tests {
		d, found := parseDirective(tc.line, tc.alone)
		if found != tc.found || !slices.Equal(d.rules, tc.rules) || d.reason != tc.reason {
			t.Errorf("parseDirective(%q, %v) = %v %q %q; want %v %q %q", tc.line, tc.alone, found, d.rules, d.reason, tc.found, tc.rules, tc.reason)
		}
	}
}

func write(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestApplyInline(t *testing.T) {
	dir := t.TempDir()
	py := write(t, dir, "app.py", strings.Join([]string{
		"import os", // 1
		"m = load('a')  # chainvet:ignore code/load reviewed", // 2: same line
		"# chainvet:ignore code/load vendored test model",     // 3
		"m = load('b')",               // 4: line above
		"# chainvet:ignore code/load", // 5: no reason
		"m = load('c')",               // 6
		`s = "# chainvet:ignore code/load x"; load('d')`, // 7: in a string
		"# chainvet:ignore other/rule reason",            // 8
		"m = load('e')",                                  // 9: another rule
	}, "\n")+"\n")
	nb := write(t, dir, "nb.ipynb", `{"cells": [
 {"cell_type": "markdown", "source": "# chainvet:ignore code/load not code"},
 {"cell_type": "code", "source": ["# chainvet:ignore code/load demo cell\n", "load('x')\n"]},
 {"cell_type": "code", "source": ["load('w')\n", "# chainvet:ignore code/load end of cell"]},
 {"cell_type": "code", "source": "load('y')"}
]}`)
	f := func(path string, line, cell int) inventory.Finding {
		return inventory.Finding{Rule: "code/load", Severity: inventory.High, Path: path, Line: line, Cell: cell}
	}
	r := &inventory.Report{Findings: []inventory.Finding{
		f(py, 2, 0), f(py, 4, 0), f(py, 6, 0), f(py, 7, 0), f(py, 9, 0),
		f(nb, 2, 2), f(nb, 1, 4), // the comment ending cell 2 is not above cell 3
		f(py+"!member", 2, 0), // archive members are never read
		f(filepath.Join(dir, "gone.py"), 2, 0),
	}}
	if err := Apply(context.Background(), r, nil, today); err != nil {
		t.Fatal(err)
	}
	type where struct {
		Line, Cell int
		Source     string
	}
	var sup []where
	for _, s := range r.Suppressed {
		sup = append(sup, where{s.Line, s.Cell, strings.TrimPrefix(s.Source, dir+"/")})
		if s.Kind != inventory.SuppressInline || s.Reason == "" {
			t.Errorf("suppression %+v: want kind inline and a reason", s)
		}
	}
	want := []where{{2, 0, "app.py:2"}, {4, 0, "app.py:3"}, {2, 2, "nb.ipynb#cell-2:1"}}
	if diff := cmp.Diff(want, sup); diff != "" {
		t.Errorf("suppressed (-want +got):\n%s", diff)
	}
	var left []string
	for _, fd := range r.Findings {
		left = append(left, fmt.Sprintf("%s %s:%d/%d", fd.Rule, strings.TrimPrefix(fd.Path, dir+"/"), fd.Line, fd.Cell))
	}
	wantLeft := []string{
		"code/load app.py:6/0", "code/load app.py:7/0", "code/load app.py:9/0",
		"code/load nb.ipynb:1/4",
		"code/load app.py!member:2/0", "code/load gone.py:2/0",
		"suppress/invalid app.py:5/0",
	}
	if diff := cmp.Diff(wantLeft, left); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

// TestSuppressRulesStay checks that findings about suppressions are never
// themselves suppressed, even by a catch-all entry.
func TestSuppressRulesStay(t *testing.T) {
	f := &File{Path: FileName, Entries: []Entry{
		{Rule: "*", Reason: "all", Line: 2},
		{Rule: "x/y", Reason: "old", Expires: "2020-01-01", until: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), Line: 5},
	}}
	r := &inventory.Report{Findings: []inventory.Finding{{Rule: "a/b", Path: "p"}, {Rule: RuleInvalid, Path: "q", Line: 1}}}
	if err := Apply(context.Background(), r, f, today); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, fd := range r.Findings {
		got = append(got, fd.Rule)
	}
	if diff := cmp.Diff([]string{RuleInvalid, RuleExpired}, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

func TestScanLines(t *testing.T) {
	long := strings.Repeat("x", maxLineBytes*2)
	in := "one\r\n" + long + "\nthree # chainvet:ignore a b\nfour"
	got, err := scanLines(strings.NewReader(in), map[int]bool{1: true, 3: true, 4: true, 9: true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]string{1: "one", 3: "three # chainvet:ignore a b", 4: "four"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
}
