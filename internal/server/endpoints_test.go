package server

import (
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/chainvet/chainvet/internal/inventory"
)

// aiService is a service component calling endpoints (comma-separated)
// with the key in env.
func aiService(name, endpoints, env string) inventory.Component {
	return inventory.Component{ID: "service:" + name, Kind: inventory.KindService, Name: name,
		Properties: map[string]string{"endpoints": endpoints, "credential-env": env},
		Locations:  []inventory.Location{{Path: "app.py", Line: 7}}}
}

// mcpServer is a remote MCP server at url, given the env vars env.
func mcpServer(name, url, env string) inventory.Component {
	return inventory.Component{ID: "plugin:.mcp.json#" + name, Kind: inventory.KindPlugin, Name: name,
		Properties: map[string]string{"url": url, "env": env}, Locations: []inventory.Location{{Path: ".mcp.json"}}}
}

func TestComponentsEndpoint(t *testing.T) {
	f := newFixture(t, Options{})
	f.push(t, "web", "env=prod&version=1.0", aiService("openai", "https://api.openai.com/v1", "OPENAI_API_KEY"))
	f.push(t, "web", "env=prod&version=1.1", aiService("anthropic", "https://api.anthropic.com", "ANTHROPIC_API_KEY"),
		mcpServer("search", "https://mcp.example.com:8443/mcp", "SEARCH_TOKEN"))
	f.push(t, "api", "env=prod", aiService("openai", "https://API.openai.com:443/v1/chat", "OPENAI_KEY"), pkg("openai", "1.50.0"))
	tests := []struct {
		token, query string
		code         int
		want         []string // project/env/name endpoint, or words of the error
	}{
		{"read", "endpoint=api.openai.com", 200, []string{"api/prod/openai https://API.openai.com:443/v1/chat"}},
		{"read", "endpoint=https://api.openai.com/v2", 200, []string{"api/prod/openai https://API.openai.com:443/v1/chat"}},
		{"read", "endpoint=api.openai.com&history=true", 200, []string{
			"api/prod/openai https://API.openai.com:443/v1/chat", "web/prod/openai https://api.openai.com/v1"}},
		{"read", "endpoint=MCP.example.com:8443", 200, []string{"web/prod/search https://mcp.example.com:8443/mcp"}},
		{"read", "endpoint=mcp.example.com", 200, []string{}},
		{"read-web", "endpoint=api.openai.com&history=true", 200, []string{"web/prod/openai https://api.openai.com/v1"}},
		{"read", "endpoint=api.openai.com&project=web", 200, []string{}},
		{"read", "endpoint=not a host", 400, []string{"endpoint", "host"}},
		{"read", "endpoint=https://", 400, []string{"endpoint"}},
		{"read", "endpoint=api.openai.com&name=openai", 400, []string{"endpoint", "alone"}},
		{"read", "endpoint=api.openai.com&range=>1", 400, []string{"endpoint", "alone"}},
	}
	for _, tt := range tests {
		t.Run(tt.token+" "+tt.query, func(t *testing.T) {
			ans, ok := f.components(t, tt.token, tt.query, tt.code, tt.want)
			if !ok {
				return
			}
			got := []string{}
			for _, m := range ans.Matches {
				got = append(got, m.Project+"/"+m.Env+"/"+m.Name+" "+m.Endpoint)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("matches (-want +got):\n%s", d)
			}
		})
	}
	// Other queries carry no endpoint field.
	if _, b := f.do(t, "read", "GET", "/api/v1/components?name=openai", nil); strings.Contains(string(b), `"endpoint"`) {
		t.Errorf("name query answers with an endpoint: %s", b)
	}
}

func TestIncidentFromEndpoint(t *testing.T) {
	f := newFixture(t, Options{})
	f.push(t, "web", "env=prod&version=1.0&tier=1", aiService("openai", "https://api.openai.com/v1", "OPENAI_API_KEY"))
	f.push(t, "web", "env=prod&version=1.1&tier=1", aiService("openai", "https://api.openai.com/v1", "OPENAI_API_KEY,OPENAI_ORG"))
	f.push(t, "api", "env=prod", aiService("anthropic", "https://api.anthropic.com", "ANTHROPIC_API_KEY"))
	f.push(t, "bot", "env=prod", mcpServer("llm-proxy", "https://api.openai.com/proxy", "PROXY_TOKEN"))
	p := f.incident(t, "admin", "POST", "/api/v1/incidents", `{"endpoint":"https://api.openai.com/v1"}`, 201)
	if p.Title != "https://api.openai.com/v1" || p.Query == nil || p.Query.Endpoint != "https://api.openai.com/v1" {
		t.Errorf("incident %+v, query %+v", p.Incident, p.Query)
	}
	var deps []string
	for _, d := range p.Deployments {
		deps = append(deps, d.Project+"/"+d.Env+" "+strings.Join(d.Components, ","))
	}
	if d := cmp.Diff([]string{"web/prod openai (app.py)", "bot/prod llm-proxy (.mcp.json)"}, deps); d != "" {
		t.Errorf("deployments (-want +got):\n%s", d)
	}
	creds := map[string][]string{}
	for _, c := range p.Credentials {
		creds[c.Name] = c.Deployments
	}
	want := map[string][]string{"OPENAI_API_KEY": {"web/prod"}, "OPENAI_ORG": {"web/prod"}, "PROXY_TOKEN": {"bot/prod"}}
	if d := cmp.Diff(want, creds); d != "" {
		t.Errorf("credentials (-want +got):\n%s", d)
	}
	// Read back from the store, the query is re-run.
	p = f.incident(t, "read", "GET", "/api/v1/incidents/1", "", 200)
	if p.Query == nil || p.Query.Endpoint != "https://api.openai.com/v1" || len(p.Deployments) != 2 {
		t.Errorf("stored incident %+v, query %+v, %d deployments", p.Incident, p.Query, len(p.Deployments))
	}
	for _, body := range []string{
		`{"endpoint":"not a host"}`,
		`{"endpoint":"api.openai.com","name":"openai"}`,
		`{"endpoint":"api.openai.com","range":"<2"}`,
	} {
		f.incident(t, "admin", "POST", "/api/v1/incidents", body, 400)
	}
}

func TestUISearchEndpoint(t *testing.T) {
	f := newFixture(t, Options{})
	f.push(t, "web", "env=prod", aiService("openai", "https://api.openai.com/v1", "OPENAI_API_KEY"), pkg("torch", "2.5.1"))
	for _, tt := range []struct {
		name, target  string
		status        int
		want, notWant []string
	}{
		{"url", "/ui/search?q=" + url.QueryEscape("https://api.openai.com"), 200,
			[]string{"<th>Endpoint</th>", "<code>https://api.openai.com/v1</code>", "/ui/projects/web"}, nil},
		{"host", "/ui/search?q=" + url.QueryEscape("host:API.openai.com"), 200, []string{"<th>Endpoint</th>", "/ui/projects/web"}, nil},
		{"none", "/ui/search?q=" + url.QueryEscape("host:api.anthropic.com"), 200, []string{"No deployment calls it."}, []string{"/ui/projects/web"}},
		{"not_endpoint_query", "/ui/search?q=pkg:pypi/torch", 200, []string{"/ui/projects/web"}, []string{"<th>Endpoint</th>"}},
		{"bad", "/ui/search?q=" + url.QueryEscape("host:not a host"), 400, []string{`id="search-error"`}, []string{"<table"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := f.page(t, "read", "GET", tt.target, nil)
			b := readAll(t, res)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d:\n%s", res.StatusCode, tt.status, b)
			}
			pageHas(t, b, tt.want, tt.notWant)
		})
	}

	// The search's incident button opens an incident on the endpoint.
	tk, err := f.st.Token(t.Context(), HashToken(f.tokens["admin"]))
	if err != nil {
		t.Fatal(err)
	}
	res := f.page(t, "admin", "POST", "/ui/search/incident", url.Values{"csrf": {csrfToken(tk)}, "q": {"host:api.openai.com"}})
	if res.StatusCode != 303 || res.Header.Get("Location") != "/ui/incidents/1" {
		t.Fatalf("open incident: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	in, err := f.st.Incident(t.Context(), 1)
	if err != nil || in.Query == nil || in.Query.Endpoint != "api.openai.com" || in.Title != "api.openai.com" || len(in.Projects) != 1 {
		t.Errorf("incident %+v, %v", in, err)
	}
}
