package server

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/chainvet/chainvet/internal/advisory/osv"
	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/server/store"
)

// osvJSON is an OSV record for a PyPI package, affected from introduced
// until fixed; extra is spliced in as more members ("" for none).
func osvJSON(id string, modified time.Time, name, introduced, fixed, extra string) []byte {
	return fmt.Appendf(nil, `{"id":%q,"modified":%q,"aliases":["CVE-%s"],"summary":"bad thing",
"severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
"affected":[{"package":{"ecosystem":"PyPI","name":%q},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":%q},{"fixed":%q}]}]}]%s}`,
		id, modified.Format(time.RFC3339), id, name, introduced, fixed, extra)
}

// importAdvisories posts advisories as admin and decodes the answer.
func (f *fixture) importAdvisories(t *testing.T, body []byte) importResult {
	t.Helper()
	code, out := f.do(t, "admin", "POST", "/api/v1/advisories", body)
	if code != 200 {
		t.Fatalf("import: %d %s", code, out)
	}
	var res importResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	return res
}

func (f *fixture) push(t testing.TB, project, query string, cs ...inventory.Component) uploadResult {
	t.Helper()
	code, out := f.do(t, "admin", "POST", "/api/v1/projects/"+project+"/reports?"+query, report(cs...))
	if code != 201 && code != 200 {
		t.Fatalf("push %s: %d %s", project, code, out)
	}
	var res uploadResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	return res
}

// findings lists findings as "project component advisory rule severity
// [resolved]" with the named token.
func (f *fixture) findings(t *testing.T, token, query string) []string {
	t.Helper()
	code, out := f.do(t, token, "GET", "/api/v1/findings?"+query, nil)
	if code != 200 {
		t.Fatalf("findings: %d %s", code, out)
	}
	var ans findingsAnswer
	if err := json.Unmarshal(out, &ans); err != nil {
		t.Fatal(err)
	}
	var l []string
	for _, x := range ans.Findings {
		s := fmt.Sprintf("%s %s %s %s %s", x.Project, x.Component, x.Advisory, x.Rule, x.Severity)
		if x.ResolvedAt != nil {
			s += " resolved"
		}
		if !x.FirstSeen.Equal(t0) {
			t.Errorf("first seen %v, want %v", x.FirstSeen, t0)
		}
		l = append(l, s)
	}
	return l
}

func wantList(t *testing.T, what string, want, got []string) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("%s (-want +got):\n%s", what, d)
	}
}

const webTorch = "web pkg:pypi/torch@2.4.0 PYSEC-1 package/vulnerable critical"

func TestImportThenIngest(t *testing.T) {
	f := newFixture(t, Options{})
	res := f.importAdvisories(t, osvJSON("PYSEC-1", t0, "Torch", "0", "2.5.0", ""))
	if res.Added != 1 || res.Opened != 0 {
		t.Errorf("import into an empty fleet = %+v", res)
	}
	if up := f.push(t, "web", "env=prod", pkg("torch", "2.4.0")); up.Opened != 1 {
		t.Errorf("push of an affected version opened %d findings, want 1", up.Opened)
	}
	if up := f.push(t, "api", "env=prod", pkg("torch", "2.5.1"), pkg("numpy", "2.0.0")); up.Opened != 0 {
		t.Errorf("push of a fixed version opened %d findings", up.Opened)
	}
	wantList(t, "findings", []string{webTorch}, f.findings(t, "read", ""))
	// A repeated push is matched again and changes nothing.
	if up := f.push(t, "web", "env=prod", pkg("torch", "2.4.0")); up.Created || up.Opened != 0 || up.Resolved != 0 {
		t.Errorf("repeated push = %+v", up)
	}
	// The fix deployed resolves the finding.
	if up := f.push(t, "web", "env=prod&version=2", pkg("torch", "2.5.0")); up.Resolved != 1 {
		t.Errorf("push of the fix resolved %d findings, want 1", up.Resolved)
	}
	wantList(t, "open findings", nil, f.findings(t, "read", ""))
	wantList(t, "resolved findings", []string{webTorch + " resolved"}, f.findings(t, "read", "status=resolved"))
}

func TestIngestThenImportRematches(t *testing.T) {
	f := newFixture(t, Options{})
	f.push(t, "web", "env=prod&owner=team-web&tier=1", pkg("torch", "2.4.0"))
	f.push(t, "web", "env=staging", pkg("torch", "2.5.1"))
	f.push(t, "api", "env=prod", pkg("torch", "2.3.0"))
	res := f.importAdvisories(t, osvJSON("PYSEC-1", t0, "torch", "0", "2.5.0", ""))
	if res.Added != 1 || res.Opened != 2 {
		t.Errorf("import = %+v; want 1 added, 2 opened", res)
	}
	want := []string{"api pkg:pypi/torch@2.3.0 PYSEC-1 package/vulnerable critical", webTorch}
	wantList(t, "findings", want, f.findings(t, "read", ""))
	wantList(t, "by alias", want, f.findings(t, "read", "advisory=CVE-PYSEC-1"))
	wantList(t, "by severity", nil, f.findings(t, "read", "severity=critical&advisory=GHSA-x"))
	// The same record again: nothing changes, nothing is duplicated.
	res = f.importAdvisories(t, osvJSON("PYSEC-1", t0, "torch", "0", "2.5.0", ""))
	if res.Unchanged != 1 || res.Added != 0 || res.Opened != 0 || res.Resolved != 0 {
		t.Errorf("re-import = %+v", res)
	}
	wantList(t, "findings after re-import", want, f.findings(t, "read", ""))
	// A correction: only versions below 2.4 are affected.
	res = f.importAdvisories(t, osvJSON("PYSEC-1", t0.Add(time.Hour), "torch", "0", "2.4.0", ""))
	if res.Added != 1 || res.Opened != 0 || res.Resolved != 1 {
		t.Errorf("corrected import = %+v; want 1 resolved", res)
	}
	wantList(t, "findings after correction", want[:1], f.findings(t, "read", ""))

	// The advisory page: the record and who is affected, with owners.
	code, out := f.do(t, "read", "GET", "/api/v1/advisories/PYSEC-1", nil)
	var page advisoryPage
	if code != 200 || json.Unmarshal(out, &page) != nil {
		t.Fatalf("advisory page: %d %s", code, out)
	}
	if page.ID != "PYSEC-1" || !bytes.Contains(page.Record, []byte(`"2.4.0"`)) || len(page.Affected) != 1 || page.Affected[0].Project != "api" {
		t.Errorf("advisory page = %s", out)
	}
	if code, _ := f.do(t, "read", "GET", "/api/v1/advisories/PYSEC-404", nil); code != 404 {
		t.Errorf("unknown advisory: %d, want 404", code)
	}
}

// TestImportAfterInterruptedMatch stores an advisory without matching
// it, as a server stopped after the commit would have: importing the same
// record again matches it.
func TestImportAfterInterruptedMatch(t *testing.T) {
	f := newFixture(t, Options{})
	f.push(t, "web", "env=prod", pkg("torch", "2.4.0"))
	raw := osvJSON("PYSEC-1", t0, "torch", "0", "2.5.0", "")
	rec, err := osv.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.st.PutAdvisories(t.Context(), []store.Advisory{toAdvisory(rec, raw)}, t0); err != nil {
		t.Fatal(err)
	}
	if res := f.importAdvisories(t, raw); res.Unchanged != 1 || res.Opened != 1 {
		t.Errorf("import after an interrupted match = %+v; want 1 unchanged, 1 opened", res)
	}
	if res := f.importAdvisories(t, raw); res.Unchanged != 1 || res.Opened != 0 {
		t.Errorf("import once matched = %+v; want 1 unchanged, 0 opened", res)
	}
}

func TestWithdrawnAdvisoryResolves(t *testing.T) {
	f := newFixture(t, Options{})
	f.push(t, "web", "env=prod", pkg("torch", "2.4.0"))
	f.importAdvisories(t, osvJSON("PYSEC-1", t0, "torch", "0", "2.5.0", ""))
	res := f.importAdvisories(t, osvJSON("PYSEC-1", t0.Add(time.Hour), "torch", "0", "2.5.0", `,"withdrawn":"2026-11-01T13:00:00Z"`))
	if res.Withdrawn != 1 || res.Resolved != 1 {
		t.Errorf("withdrawal = %+v; want 1 withdrawn, 1 resolved", res)
	}
	wantList(t, "open findings", nil, f.findings(t, "read", ""))
	if code, _ := f.do(t, "read", "GET", "/api/v1/advisories/PYSEC-1", nil); code != 404 {
		t.Errorf("withdrawn advisory: %d, want 404", code)
	}
	// A later push matches nothing.
	if up := f.push(t, "web", "env=prod&version=2", pkg("torch", "2.4.0")); up.Opened != 0 {
		t.Errorf("push after withdrawal opened %d", up.Opened)
	}
}

func TestFindingsProjectScope(t *testing.T) {
	f := newFixture(t, Options{})
	f.push(t, "web", "env=prod", pkg("torch", "2.4.0"))
	f.push(t, "api", "env=prod", pkg("torch", "2.4.0"))
	f.importAdvisories(t, osvJSON("PYSEC-1", t0, "torch", "0", "2.5.0", ""))
	apiTorch := "api pkg:pypi/torch@2.4.0 PYSEC-1 package/vulnerable critical"
	wantList(t, "read", []string{apiTorch, webTorch}, f.findings(t, "read", ""))
	wantList(t, "read-web", []string{webTorch}, f.findings(t, "read-web", ""))
	wantList(t, "read-web, project=web", []string{webTorch}, f.findings(t, "read-web", "project=web"))
	if code, _ := f.do(t, "read-web", "GET", "/api/v1/findings?project=api", nil); code != 403 {
		t.Errorf("read-web asking for api: %d, want 403", code)
	}
	code, out := f.do(t, "read-web", "GET", "/api/v1/advisories/PYSEC-1", nil)
	var page advisoryPage
	if code != 200 || json.Unmarshal(out, &page) != nil || len(page.Affected) != 1 || page.Affected[0].Project != "web" {
		t.Errorf("advisory page for read-web: %d %s", code, out)
	}
	for _, tok := range []string{"read", "push", "admin-web", ""} {
		if code, _ := f.do(t, tok, "POST", "/api/v1/advisories", osvJSON("PYSEC-2", t0, "numpy", "0", "1", "")); code != 403 && code != 401 {
			t.Errorf("import with %q: %d, want 401 or 403", tok, code)
		}
	}
	for _, q := range []string{"severity=dire", "status=closed", "limit=0"} {
		if code, _ := f.do(t, "read", "GET", "/api/v1/findings?"+q, nil); code != 400 {
			t.Errorf("findings?%s: %d, want 400", q, code)
		}
	}
}

// TestMaliciousByDigest matches a MAL- record by the digest of a locked
// file, though it names another package, in both directions.
func TestMaliciousByDigest(t *testing.T) {
	const digest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	locked := pkg("requests", "2.31.0")
	locked.Digests = []inventory.Digest{{Algorithm: "sha256", Value: digest}}
	mal := osvJSON("MAL-2026-9", t0, "reqeusts", "0", "0.0.1", `,"database_specific":{"sha256":["`+digest+`"]}`)
	want := []string{"web pkg:pypi/requests@2.31.0 MAL-2026-9 package/malicious critical"}

	f := newFixture(t, Options{})
	f.push(t, "web", "env=prod", locked)
	if res := f.importAdvisories(t, mal); res.Opened != 1 {
		t.Errorf("import opened %d, want 1", res.Opened)
	}
	wantList(t, "ingest then import", want, f.findings(t, "read", ""))

	f = newFixture(t, Options{})
	f.importAdvisories(t, mal)
	if up := f.push(t, "web", "env=prod", locked); up.Opened != 1 {
		t.Errorf("push opened %d, want 1", up.Opened)
	}
	wantList(t, "import then ingest", want, f.findings(t, "read", ""))
}

func TestImportZip(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range map[string][]byte{
		"PYSEC-1.json": osvJSON("PYSEC-1", t0, "torch", "0", "2.5.0", ""),
		"PYSEC-2.json": osvJSON("PYSEC-2", t0, "numpy", "0", "3.0.0", ""),
		"broken.json":  []byte(`{"id":"X"}`),
		"README":       []byte("not a record"),
	} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, Options{})
	f.push(t, "web", "env=prod", pkg("torch", "2.4.0"), pkg("numpy", "2.0.0"))
	res := f.importAdvisories(t, buf.Bytes())
	if res.Records != 3 || res.Added != 2 || res.Invalid != 1 || len(res.Errors) != 1 || !strings.HasPrefix(res.Errors[0], "broken.json: ") || res.Opened != 2 {
		t.Errorf("zip import = %+v", res)
	}
}

func TestImportRefusesGarbage(t *testing.T) {
	f := newFixture(t, Options{MaxAdvisories: 4096})
	for _, tt := range []struct {
		name string
		body []byte
		want int
	}{
		{"not_json", []byte("hello"), 400},
		{"no_modified", []byte(`{"id":"PYSEC-1"}`), 400},
		{"empty", nil, 400},
		{"broken_zip", append([]byte("PK\x03\x04"), make([]byte, 100)...), 400},
		{"too_big", bytes.Repeat([]byte(" "), 5000), 413},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if code, out := f.do(t, "admin", "POST", "/api/v1/advisories", tt.body); code != tt.want {
				t.Errorf("%d %s; want %d", code, out, tt.want)
			}
		})
	}
	if _, err := f.st.Advisory(t.Context(), "PYSEC-1"); err == nil {
		t.Error("a refused upload was stored")
	}
}

func FuzzImportRecord(f *testing.F) {
	f.Add(osvJSON("PYSEC-1", t0, "torch", "0", "2.5.0", ""))
	f.Add(osvJSON("MAL-1", t0, "x", "0", "1", `,"database_specific":{"sha256":"00"}`))
	f.Add([]byte(`{"id":"A","modified":"2026-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"@a/b"},"versions":["1.0.0"]}]}`))
	f.Add([]byte("PK\x03\x04"))
	fx := newFixture(f, Options{MaxAdvisories: 1 << 16})
	fx.push(f, "web", "env=prod", pkg("torch", "2.4.0"), pkg("x", "0.5"))
	f.Fuzz(func(t *testing.T, b []byte) {
		code, out := fx.do(t, "admin", "POST", "/api/v1/advisories", b)
		if code != 200 && code != 400 && code != 413 {
			t.Fatalf("%d %s", code, out)
		}
	})
}

// TestRollbackRedeploys re-pushes a vulnerable release's report after the
// fix: the deployment runs it again, so its finding opens again.
func TestRollbackRedeploys(t *testing.T) {
	f := newFixture(t, Options{})
	f.importAdvisories(t, osvJSON("PYSEC-1", t0, "torch", "0", "2.5.0", ""))
	first := f.push(t, "web", "env=prod&version=1", pkg("torch", "2.4.0"))
	if up := f.push(t, "web", "env=prod&version=2", pkg("torch", "2.5.0")); up.Resolved != 1 {
		t.Fatalf("the fix resolved %d findings, want 1", up.Resolved)
	}
	back := f.push(t, "web", "env=prod&version=1", pkg("torch", "2.4.0"))
	if back.Created || back.ID != first.ID || back.Opened != 1 {
		t.Errorf("rollback push = %+v; want report %d again, not created, 1 opened", back, first.ID)
	}
	wantList(t, "open findings", []string{webTorch}, f.findings(t, "read", ""))
	code, out := f.do(t, "read", "GET", "/api/v1/components?purl=pkg:pypi/torch", nil)
	if code != 200 || !strings.Contains(string(out), `"componentVersion":"2.4.0"`) || strings.Contains(string(out), `"2.5.0"`) {
		t.Errorf("who runs torch after the rollback: %d %s; want 2.4.0 only", code, out)
	}
}
