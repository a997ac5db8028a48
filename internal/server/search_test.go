package server

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestComponentsRange(t *testing.T) {
	f := newFixture(t, Options{})
	f.push(t, "web", "env=prod&version=1.0", pkg("torch", "2.4.0"))
	f.push(t, "web", "env=prod&version=1.1", pkg("Torch", "2.5.1"))
	f.push(t, "api", "env=prod", pkg("torch", "2.3.0"), pkg("numpy", "2.0.0"))
	f.push(t, "odd", "env=prod", pkg("torch", "nightly"))
	tests := []struct {
		query   string
		code    int
		want    []string // project/env/componentVersion, or words of the error
		skipped int
		trunc   bool
	}{
		{"purl=pkg:pypi/torch&range=>=2.0,<2.5", 200, []string{"api/prod/2.3.0"}, 1, false},
		{"purl=pkg:pypi/TORCH&range=>=2.5", 200, []string{"web/prod/2.5.1"}, 1, false},
		{"purl=pkg:pypi/torch&range=>=2.0,<2.5&history=true", 200, []string{"api/prod/2.3.0", "web/prod/2.4.0"}, 1, false},
		{"purl=pkg:pypi/torch&range=>=2&limit=1", 200, []string{"api/prod/2.3.0"}, 1, true},
		{"purl=pkg:pypi/torch&range=>=2&project=odd", 200, []string{}, 1, false},
		{"purl=pkg:pypi/torch&range=>=2&project=api", 200, []string{"api/prod/2.3.0"}, 0, false},
		{"purl=pkg:pypi/torch", 200, []string{"api/prod/2.3.0", "odd/prod/nightly"}, 0, false},
		{"name=torch&range=>=2", 400, []string{"purl without a version"}, 0, false},
		{"purl=pkg:pypi/torch@2.5.1&range=>=2", 400, []string{"purl without a version"}, 0, false},
		{"purl=pkg:huggingface/org/model&range=>=1", 400, []string{"cannot order", "HuggingFace"}, 0, false},
		{"purl=pkg:maven/org/lib&range=>=1", 400, []string{"cannot order", "purl type", "maven"}, 0, false},
		{"purl=pkg:pypi/torch&range=>=2,<<3", 400, []string{"range", "PyPI", "invalid"}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			ans, ok := f.components(t, "read", tt.query, tt.code, tt.want)
			if !ok {
				return
			}
			got := []string{}
			for _, m := range ans.Matches {
				got = append(got, m.Project+"/"+m.Env+"/"+m.CVersion)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("matches (-want +got):\n%s", d)
			}
			if ans.SkippedVersions != tt.skipped || ans.Truncated != tt.trunc {
				t.Errorf("skippedVersions %d, truncated %v; want %d, %v", ans.SkippedVersions, ans.Truncated, tt.skipped, tt.trunc)
			}
		})
	}
	// A project-limited token is limited to its project in a range too.
	_, b := f.do(t, "read-web", "GET", "/api/v1/components?purl=pkg:pypi/torch&range=%3E%3D2", nil)
	if strings.Contains(string(b), `"api"`) || !strings.Contains(string(b), `"web"`) {
		t.Errorf("read-web sees %s", b)
	}
}

func TestIncidentFromRange(t *testing.T) {
	f := newFixture(t, Options{})
	f.push(t, "web", "env=prod", pkg("torch", "2.5.1"))
	f.push(t, "api", "env=prod", pkg("torch", "2.4.0"))
	f.push(t, "odd", "env=prod", pkg("torch", "nightly"))
	p := f.incident(t, "admin", "POST", "/api/v1/incidents", `{"purl":"pkg:pypi/torch","range":"<2.5"}`, 201)
	if p.Title != "pkg:pypi/torch <2.5" || p.Query == nil || p.Query.Range != "<2.5" || p.SkippedVersions != 1 {
		t.Errorf("incident %+v, query %+v", p.Incident, p.Query)
	}
	var got []string
	for _, d := range p.Deployments {
		got = append(got, d.Project)
	}
	if d := cmp.Diff([]string{"api"}, got); d != "" {
		t.Errorf("deployments (-want +got):\n%s", d)
	}
	// Read back from the store, the range is still there.
	p = f.incident(t, "read", "GET", "/api/v1/incidents/1", "", 200)
	if p.Query == nil || p.Query.Range != "<2.5" || len(p.Deployments) != 1 {
		t.Errorf("stored incident %+v, query %+v", p.Incident, p.Query)
	}
	for _, body := range []string{
		`{"name":"torch","range":"<2.5"}`,
		`{"purl":"pkg:pypi/torch@2.4.0","range":"<2.5"}`,
		`{"purl":"pkg:pypi/torch","range":"<<2.5"}`,
		`{"purl":"pkg:huggingface/org/m","range":"<2.5"}`,
	} {
		f.incident(t, "admin", "POST", "/api/v1/incidents", body, 400)
	}
}

// components asks GET /api/v1/components?query with token and checks the
// status is code. An answer other than 200 must say each of errWants; ok
// is whether there was an answer to decode.
func (f *fixture) components(t *testing.T, token, query string, code int, errWants []string) (ans componentsAnswer, ok bool) {
	t.Helper()
	v, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	got, b := f.do(t, token, "GET", "/api/v1/components?"+v.Encode(), nil)
	if got != code {
		t.Fatalf("%d %s; want %d", got, b, code)
	}
	if got != 200 {
		for _, w := range errWants {
			if !strings.Contains(string(b), w) {
				t.Errorf("error %s does not say %q", b, w)
			}
		}
		return ans, false
	}
	if err := json.Unmarshal(b, &ans); err != nil {
		t.Fatal(err)
	}
	return ans, true
}
