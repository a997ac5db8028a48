package server

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/chainvet/chainvet/internal/inventory"
)

// service is an AI service component reading credentials from env vars,
// as the code catalogers report one; plugin is an MCP server's.
func service(env string) inventory.Component {
	return inventory.Component{ID: "service:openai", Kind: inventory.KindService, Name: "openai",
		Properties: map[string]string{"credential-env": env}, Locations: []inventory.Location{{Path: "app.py", Line: 3}}}
}

func plugin(env string) inventory.Component {
	return inventory.Component{ID: "plugin:github", Kind: inventory.KindPlugin, Name: "github",
		Properties: map[string]string{"env": env}, Locations: []inventory.Location{{Path: ".mcp.json"}}}
}

func (f *fixture) incident(t *testing.T, token, method, target string, body string, wantCode int) incidentPage {
	t.Helper()
	code, out := f.do(t, token, method, target, []byte(body))
	if code != wantCode {
		t.Fatalf("%s %s: %d %s; want %d", method, target, code, out, wantCode)
	}
	var p incidentPage
	if code < 300 {
		if err := json.Unmarshal(out, &p); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func secs(p *float64) string {
	if p == nil {
		return "none"
	}
	return (time.Duration(*p) * time.Second).String()
}

// TestIncidentLifecycle opens an incident from an advisory and one from a
// query, works the checklist with a clock, and checks last known-good
// releases, credentials, time to detect and contain, and MTTC.
func TestIncidentLifecycle(t *testing.T) {
	c := &clock{t: t0}
	f := newFixture(t, Options{})
	f.srv = New(f.st, Options{Now: c.now})

	// web ran torch 2.4.0 in release 1.0, then 2.5.0 in 1.1; api has
	// only ever run 2.5.0; ml runs the fixed 2.6.0.
	owner := url.QueryEscape("<b>team|web</b>")
	f.push(t, "web", "env=prod&version=1.0&tier=2&owner="+owner, pkg("torch", "2.4.0"), service("OPENAI_API_KEY"))
	c.add(time.Hour)
	f.push(t, "web", "env=prod&version=1.1&tier=2&owner="+owner, pkg("torch", "2.5.0"), service("OPENAI_API_KEY"), plugin("GITHUB_TOKEN,SLACK_TOKEN"))
	f.push(t, "api", "env=prod&version=3.0&tier=1&owner=team-api", pkg("torch", "2.5.0"), pkg("numpy", "1.0"))
	f.push(t, "ml", "env=prod&version=7", pkg("torch", "2.6.0"), service("HF_TOKEN"))

	// Published ten minutes before it is imported, and found at import.
	c.add(30 * time.Minute)
	published := c.now().Add(-10 * time.Minute).Format(time.RFC3339)
	f.importAdvisories(t, osvJSON("GHSA-t", t0, "torch", "2.5.0", "2.6.0", `,"published":"`+published+`"`))
	found := c.now()

	c.add(5 * time.Minute)
	opened := c.now()
	f.incident(t, "admin-web", "POST", "/api/v1/incidents", `{"advisory":"GHSA-t"}`, 403)
	f.incident(t, "admin", "POST", "/api/v1/incidents", `{"advisory":"GHSA-t","name":"torch"}`, 400)
	f.incident(t, "admin", "POST", "/api/v1/incidents", `{"advisory":"GHSA-nope"}`, 404)
	p := f.incident(t, "admin", "POST", "/api/v1/incidents", `{"advisory":"GHSA-t"}`, 201)
	if p.ID == 0 || p.Title != "GHSA-t" || p.OpenedBy != "admin" || !p.Opened.Equal(opened) {
		t.Errorf("opened %+v", p.Incident)
	}
	type dep struct {
		Where, Tier, Components, LastGood, PinTo string
	}
	deps := func(p incidentPage) []dep {
		var out []dep
		for _, d := range p.Deployments {
			lg := "none"
			if d.LastKnownGood != nil {
				lg = d.LastKnownGood.Release + " " + strings.Join(d.LastKnownGood.Components, ",")
			}
			out = append(out, dep{d.Project + "/" + d.Env + "@" + d.Release, d.Tier, strings.Join(d.Components, ","), lg, d.PinTo})
		}
		return out
	}
	want := []dep{
		{"api/prod@3.0", "1", "torch@2.5.0 (requirements.txt)", "none", "upgrade to torch@2.6.0"},
		{"web/prod@1.1", "2", "torch@2.5.0 (requirements.txt)", "1.0 torch@2.4.0 (requirements.txt)", "redeploy release 1.0 (report 1)"},
	}
	if d := cmp.Diff(want, deps(p)); d != "" {
		t.Errorf("deployments (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"api/prod", "web/prod"}, p.Freeze); d != "" {
		t.Errorf("freeze (-want +got):\n%s", d)
	}
	wantCreds := []credential{{"GITHUB_TOKEN", []string{"web/prod"}}, {"OPENAI_API_KEY", []string{"web/prod"}}, {"SLACK_TOKEN", []string{"web/prod"}}}
	if d := cmp.Diff(wantCreds, p.Credentials); d != "" {
		t.Errorf("credentials (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"api", "web"}, p.Projects); d != "" {
		t.Errorf("projects (-want +got):\n%s", d)
	}
	if secs(p.TimeToDetect) != "10m0s" || p.TimeToContain != nil {
		t.Errorf("time to detect %s, to contain %s; want 10m0s and none", secs(p.TimeToDetect), secs(p.TimeToContain))
	}
	id := fmt.Sprint(p.ID)

	// A project-limited token sees its own deployment only.
	pw := f.incident(t, "read-web", "GET", "/api/v1/incidents/"+id, "", 200)
	if got := deps(pw); len(got) != 1 || got[0].Where != "web/prod@1.1" || len(pw.Credentials) != 3 || pw.Detection.Total != 0 {
		t.Errorf("read-web sees %+v, credentials %v, detection %+v", got, pw.Credentials, pw.Detection)
	}

	// A query incident touching api only is not web's to see.
	q := f.incident(t, "admin", "POST", "/api/v1/incidents", `{"title":"numpy 1.0","name":"numpy","version":"1.0"}`, 201)
	if got := deps(q); len(got) != 1 || got[0].Where != "api/prod@3.0" || got[0].PinTo != "no known-good release and no fix: remove the component" {
		t.Errorf("query incident deployments %+v", got)
	}
	qid := fmt.Sprint(q.ID)
	f.incident(t, "read-web", "GET", "/api/v1/incidents/"+qid, "", 404)
	f.incident(t, "admin-web", "POST", "/api/v1/incidents/"+qid+"/close", "", 404)
	var list incidentsAnswer
	code, out := f.do(t, "read-web", "GET", "/api/v1/incidents", nil)
	if err := json.Unmarshal(out, &list); code != 200 || err != nil || len(list.Incidents) != 1 || list.Incidents[0].ID != p.ID {
		t.Errorf("read-web list: %d %s", code, out)
	}

	// The checklist.
	c.add(time.Minute)
	triaged := c.now()
	s := f.incident(t, "admin", "POST", "/api/v1/incidents/"+id+"/steps/triage", "", 200)
	if st := s.Steps[0]; st.Name != "triage" || st.Done == nil || !st.Done.Equal(triaged) || st.By != "admin" {
		t.Errorf("triage step %+v", st)
	}
	f.incident(t, "admin", "POST", "/api/v1/incidents/"+id+"/steps/dance", "", 404)
	f.incident(t, "read", "POST", "/api/v1/incidents/"+id+"/steps/freeze", "", 403)
	f.incident(t, "admin-web", "POST", "/api/v1/incidents/"+id+"/steps/freeze", "", 200)

	// Both deployments pinned back or upgraded: the advisory's findings
	// resolve, and the open incident counts as contained.
	c.add(20 * time.Minute)
	// (A rollback pushes a new report: the very report of 1.0 pushed
	// again is stored once and does not move the deployment.)
	f.push(t, "web", "env=prod&version=1.2", pkg("torch", "2.4.0"), service("OPENAI_API_KEY"))
	f.push(t, "api", "env=prod&version=3.1", pkg("torch", "2.6.0"), pkg("numpy", "1.0"))
	clean := c.now()
	p = f.incident(t, "admin", "GET", "/api/v1/incidents/"+id, "", 200)
	if len(p.Deployments) != 0 || secs(p.TimeToContain) != clean.Sub(found).String() {
		t.Errorf("after clean-up: deployments %+v, time to contain %s; want none and %s", deps(p), secs(p.TimeToContain), clean.Sub(found))
	}

	// The query incident is closed 30 minutes after it opened.
	c.add(9 * time.Minute)
	cl := f.incident(t, "admin", "POST", "/api/v1/incidents/"+qid+"/close", "", 200)
	if secs(cl.TimeToContain) != "30m0s" {
		t.Errorf("closed query incident: time to contain %s, want 30m0s", secs(cl.TimeToContain))
	}
	f.incident(t, "admin", "POST", "/api/v1/incidents/"+qid+"/steps/verify", "", 409)

	var m metricsAnswer
	code, out = f.do(t, "read", "GET", "/api/v1/metrics", nil)
	if err := json.Unmarshal(out, &m); code != 200 || err != nil {
		t.Fatalf("metrics: %d %s", code, out)
	}
	wantMTTC := (clean.Sub(found) + 30*time.Minute).Seconds() / 2
	if m.OpenIncidents != 1 || m.ClosedIncidents != 1 || m.Contained != 2 || m.MTTC == nil || *m.MTTC != wantMTTC ||
		m.MTTD == nil || *m.MTTD != 600 || m.Findings["high"]+m.Findings["critical"] != 0 {
		t.Errorf("metrics %s; want MTTC %v s, MTTD 600 s", out, wantMTTC)
	}
	code, out = f.do(t, "read-web", "GET", "/api/v1/metrics", nil)
	if err := json.Unmarshal(out, &m); code != 200 || err != nil || m.OpenIncidents+m.ClosedIncidents != 1 {
		t.Errorf("read-web metrics: %d %s", code, out)
	}
}

func TestIncidentExport(t *testing.T) {
	c := &clock{t: t0}
	f := newFixture(t, Options{})
	f.srv = New(f.st, Options{Now: c.now})
	owner := url.QueryEscape("<img src=x>|[x](javascript:1)")
	f.push(t, "web", "env=prod&version=1.1&owner="+owner, pkg("torch", "2.5.0"), plugin("GITHUB_TOKEN"))
	f.importAdvisories(t, osvJSON("GHSA-t", t0, "torch", "2.5.0", "2.6.0", ""))
	p := f.incident(t, "admin", "POST", "/api/v1/incidents", `{"advisory":"GHSA-t","title":"torch *RCE*"}`, 201)
	c.add(time.Minute)
	f.incident(t, "admin", "POST", fmt.Sprintf("/api/v1/incidents/%d/steps/triage", p.ID), "", 200)
	code, out := f.do(t, "read", "GET", fmt.Sprintf("/api/v1/incidents/%d/export.md", p.ID), nil)
	if code != 200 {
		t.Fatalf("export: %d %s", code, out)
	}
	md := string(out)
	for _, want := range []string{
		"# Incident 1: torch \\*RCE\\*\n",
		"| web | prod | 1.1 |  | &lt;img src=x&gt;\\|\\[x\\]\\(javascript:1\\) | torch@2.5.0 \\(requirements.txt\\) | upgrade to torch@2.6.0 |",
		"- web/prod\n",
		"- GITHUB\\_TOKEN: web/prod\n",
		"- [x] triage — 2026-11-01T12:01:00Z by admin\n",
		"- [ ] freeze\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("export lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "<img") || strings.Contains(md, "](javascript") {
		t.Errorf("export lets markup through:\n%s", md)
	}
}

// FuzzMarkdownEscape checks that text from reports stays inert in an
// export: no HTML, no line break, no unescaped table cell boundary.
func FuzzMarkdownEscape(f *testing.F) {
	for _, s := range []string{"torch", "<script>", "a|b", `a\|b`, "[x](javascript:1)", "line\nbreak", "![i](u)", "`code`"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := md(s)
		if strings.ContainsAny(e, "<>\n\r") {
			t.Fatalf("md(%q) = %q lets markup through", s, e)
		}
		for i := 0; i < len(e); i++ {
			switch e[i] {
			case '\\':
				i++ // an escape and what it escapes
			case '|', '[', ']', '(', ')', '`', '*', '_', '#', '!':
				t.Fatalf("md(%q) = %q: unescaped %q at %d", s, e, e[i], i)
			}
		}
	})
}
