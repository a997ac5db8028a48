package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/server/store"
)

// service is a service component calling endpoints (comma-separated).
func service(name, endpoints string) inventory.Component {
	return inventory.Component{ID: "service:" + name, Kind: inventory.KindService, Name: name,
		Properties: map[string]string{"endpoints": endpoints, "credential-env": strings.ToUpper(name) + "_API_KEY"},
		Locations:  []inventory.Location{{Path: "app.py", Line: 3}}}
}

// plugin is an MCP server reached at url.
func plugin(name, url string) inventory.Component {
	return inventory.Component{ID: "plugin:.mcp.json#" + name, Kind: inventory.KindPlugin, Name: name,
		Properties: map[string]string{"url": url, "transport": "http"},
		Locations:  []inventory.Location{{Path: ".mcp.json"}}}
}

// endpointMatches queries by endpoint and lists the matches as
// "project/env release name endpoint".
func endpointMatches(t *testing.T, s store.Store, q store.ComponentQuery) []string {
	t.Helper()
	ms, err := s.FindComponents(context.Background(), q)
	if err != nil {
		t.Fatalf("FindComponents(%+v): %v", q, err)
	}
	out := []string{}
	for _, m := range ms {
		out = append(out, fmt.Sprintf("%s/%s %s %s %s", m.Project, m.Env, m.Version, m.Name, m.Endpoint))
	}
	return out
}

func testEndpoints(t *testing.T, _ string, s store.Store) {
	ctx := context.Background()
	mustAdd(t, s, upload("web", "1.0", "prod", t0,
		comp("openai", "1.50.0"), // a package: no endpoint
		service("openai", "https://API.OpenAI.com:443/v1, https://api.openai.com/v2,http://localhost:8080/v1"),
		plugin("search", "https://user:secret@MCP.example.com/mcp?token=abc#x")))
	mustAdd(t, s, upload("api", "2.0", "prod", t0,
		service("anthropic", "https://api.anthropic.com"),
		service("openai", "api.openai.com"),
		// Not a plugin: its url is not an endpoint.
		inventory.Component{ID: "model:m", Kind: inventory.KindModel, Name: "m", Properties: map[string]string{"url": "https://huggingface.co/m"}}))

	for _, tt := range []struct {
		q    store.ComponentQuery
		want []string
	}{
		{store.ComponentQuery{Endpoint: "api.openai.com"}, []string{
			"api/prod 2.0 openai api.openai.com", "web/prod 1.0 openai https://API.OpenAI.com:443/v1"}},
		{store.ComponentQuery{Endpoint: "https://Api.OpenAI.com/some/path"}, []string{
			"api/prod 2.0 openai api.openai.com", "web/prod 1.0 openai https://API.OpenAI.com:443/v1"}},
		{store.ComponentQuery{Endpoint: "https://api.openai.com:443"}, []string{
			"api/prod 2.0 openai api.openai.com", "web/prod 1.0 openai https://API.OpenAI.com:443/v1"}},
		// Another port is another endpoint.
		{store.ComponentQuery{Endpoint: "api.openai.com:8443"}, []string{}},
		{store.ComponentQuery{Endpoint: "localhost:8080"}, []string{"web/prod 1.0 openai http://localhost:8080/v1"}},
		{store.ComponentQuery{Endpoint: "http://localhost:8080/"}, []string{"web/prod 1.0 openai http://localhost:8080/v1"}},
		{store.ComponentQuery{Endpoint: "localhost"}, []string{}},
		{store.ComponentQuery{Endpoint: "http://localhost"}, []string{}},
		// A plugin's url, kept without its credentials, query and fragment.
		{store.ComponentQuery{Endpoint: "mcp.example.com"}, []string{"web/prod 1.0 search https://MCP.example.com/mcp"}},
		{store.ComponentQuery{Endpoint: "huggingface.co"}, []string{}},
		{store.ComponentQuery{Endpoint: "api.openai.com", Project: "web"}, []string{"web/prod 1.0 openai https://API.OpenAI.com:443/v1"}},
		{store.ComponentQuery{Endpoint: "api.openai.com", Limit: 1}, []string{"api/prod 2.0 openai api.openai.com"}},
	} {
		if d := cmp.Diff(tt.want, endpointMatches(t, s, tt.q)); d != "" {
			t.Errorf("FindComponents(%+v) (-want +got):\n%s", tt.q, d)
		}
	}
	ms, err := s.FindComponents(ctx, store.ComponentQuery{Endpoint: "mcp.example.com"})
	if err != nil || len(ms) != 1 {
		t.Fatalf("plugin: %+v, %v", ms, err)
	}
	want := store.Match{Project: "web", Owners: []string{}, Env: "prod", Version: "1.0", ReportID: ms[0].ReportID, Received: t0,
		Kind: "plugin", Name: "search", Path: ".mcp.json", Endpoint: "https://MCP.example.com/mcp"}
	if d := cmp.Diff(want, ms[0]); d != "" {
		t.Errorf("plugin match (-want +got):\n%s", d)
	}

	for _, bad := range []string{"", "not a host", "https://", "two words.example.com/x", "https://x.example.com:port", "https://user@/x", "1http://x.example.com", "x.example.com\x00"} {
		_, err := s.FindComponents(ctx, store.ComponentQuery{Endpoint: bad})
		if bad != "" && !errors.Is(err, store.ErrEndpoint) {
			t.Errorf("endpoint %q: err %v, want ErrEndpoint", bad, err)
		}
	}
	if _, err := s.FindComponents(ctx, store.ComponentQuery{Endpoint: "api.openai.com", Name: "openai"}); err == nil {
		t.Error("endpoint with a name: no error")
	}
	if _, _, err := s.FindComponentsInRange(ctx, store.ComponentQuery{Endpoint: "api.openai.com", PURL: "pkg:pypi/openai", Range: ">=1"}); err == nil {
		t.Error("endpoint with a range: no error")
	}

	// web/prod's next release no longer calls OpenAI: the latest reports
	// answer without it, the history with its earlier release.
	mustAdd(t, s, upload("web", "1.1", "prod", t0.Add(time.Hour), service("anthropic", "https://api.anthropic.com/v1")))
	for _, tt := range []struct {
		q    store.ComponentQuery
		want []string
	}{
		{store.ComponentQuery{Endpoint: "api.openai.com"}, []string{"api/prod 2.0 openai api.openai.com"}},
		{store.ComponentQuery{Endpoint: "api.openai.com", History: true}, []string{
			"api/prod 2.0 openai api.openai.com", "web/prod 1.0 openai https://API.OpenAI.com:443/v1"}},
		{store.ComponentQuery{Endpoint: "mcp.example.com"}, []string{}},
		{store.ComponentQuery{Endpoint: "api.anthropic.com"}, []string{
			"api/prod 2.0 anthropic https://api.anthropic.com", "web/prod 1.1 anthropic https://api.anthropic.com/v1"}},
		{store.ComponentQuery{Endpoint: "api.anthropic.com", Project: "api", History: true}, []string{
			"api/prod 2.0 anthropic https://api.anthropic.com"}},
	} {
		if d := cmp.Diff(tt.want, endpointMatches(t, s, tt.q)); d != "" {
			t.Errorf("after web 1.1, FindComponents(%+v) (-want +got):\n%s", tt.q, d)
		}
	}
}

// testEndpointLimits checks that what one component adds to the index
// is bounded: MaxComponentEndpoints hosts, each endpoint at most
// MaxEndpointLen bytes.
func testEndpointLimits(t *testing.T, _ string, s store.Store) {
	var eps []string
	for i := range store.MaxComponentEndpoints + 2 {
		eps = append(eps, fmt.Sprintf("https://h%d.example.com", i))
		eps = append(eps, fmt.Sprintf("https://h%d.example.com/again", i)) // same host: one row
	}
	long := "https://long.example.com/" + strings.Repeat("a", store.MaxEndpointLen)
	mustAdd(t, s, upload("web", "1.0", "prod", t0, service("many", strings.Join(eps, ",")), service("long", long)))
	for _, tt := range []struct {
		host string
		want []string
	}{
		{"h0.example.com", []string{"web/prod 1.0 many https://h0.example.com"}},
		{fmt.Sprintf("h%d.example.com", store.MaxComponentEndpoints-1),
			[]string{fmt.Sprintf("web/prod 1.0 many https://h%d.example.com", store.MaxComponentEndpoints-1)}},
		{fmt.Sprintf("h%d.example.com", store.MaxComponentEndpoints), []string{}},
		{"long.example.com", []string{}},
	} {
		if d := cmp.Diff(tt.want, endpointMatches(t, s, store.ComponentQuery{Endpoint: tt.host})); d != "" {
			t.Errorf("%s (-want +got):\n%s", tt.host, d)
		}
	}
}

// testEndpointIncident checks that an incident keeps the endpoint query
// it was opened from.
func testEndpointIncident(t *testing.T, _ string, s store.Store) {
	ctx := context.Background()
	is := incidents(t, s)
	q := &store.ComponentQuery{Endpoint: "https://api.openai.com/v1"}
	id, err := is.OpenIncident(ctx, store.Incident{Title: "openai key leak", Query: q, OpenedBy: "admin", Opened: t0})
	if err != nil {
		t.Fatal(err)
	}
	in, err := is.Incident(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(q, in.Query); d != "" {
		t.Errorf("stored query (-want +got):\n%s", d)
	}
}
