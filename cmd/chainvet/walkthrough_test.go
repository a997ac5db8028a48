package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFleetWalkthrough follows the README's "fleet server in five
// minutes" with the commands and files it names: serve, push the two
// example projects with bom --push, import the example advisory with db
// push, ask who runs the affected versions, and take an incident from
// open to closed with its time to contain in the fleet's metrics.
func TestFleetWalkthrough(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "admin.token")
	f := &serveFlags{db: "file:" + filepath.Join(dir, "server.db"), tokenFile: tokenFile, maxUpload: 1 << 20}
	var stderr syncBuffer
	base, _ := startServe(t, f, &stderr)
	waitHealthy(t, base)
	b, err := os.ReadFile(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(b))
	t.Setenv("CHAINVET_TOKEN", token)

	for _, p := range [][]string{
		{"--project", "web", "--env", "prod", "--owner", "team-web", "--tier", "1", "../../examples/fleet/web"},
		{"--project", "api", "--env", "prod", "--owner", "team-api", "--tier", "2", "../../examples/fleet/api"},
	} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), append([]string{"bom", "--push", base, "-o", "json"}, p...), &out, &errb); code != 0 {
			t.Fatalf("bom --push %s: exit %d: %s", p[1], code, errb.String())
		}
	}

	api := func(method, path string, body []byte, want int) map[string]any {
		t.Helper()
		req, err := http.NewRequest(method, base+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d %s; want %d", method, path, resp.StatusCode, raw, want)
		}
		var v map[string]any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		return v
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"db", "push", "--server", base, "-o", "json", "../../examples/fleet/advisory.json"}, &out, &errb); code != 0 {
		t.Fatalf("db push: exit %d: %s", code, errb.String())
	}
	var res []advisoryImport
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || len(res) != 1 || res[0].Added != 1 || res[0].Opened != 1 {
		t.Errorf("db push = %s (%v); want 1 added, 1 finding opened (web's torch 2.4.0)", out.String(), err)
	}
	fs := api("GET", "/api/v1/findings", nil, 200)["findings"].([]any)
	if len(fs) != 1 || fs[0].(map[string]any)["project"] != "web" {
		t.Errorf("findings = %v; want web's only", fs)
	}
	ms := api("GET", "/api/v1/components?purl=pkg:pypi/torch&range=%3C2.5.0", nil, 200)["matches"].([]any)
	if len(ms) != 1 || ms[0].(map[string]any)["project"] != "web" {
		t.Errorf("who runs torch <2.5.0 = %v; want web only", ms)
	}

	in := api("POST", "/api/v1/incidents", []byte(`{"advisory":"CHAINVET-EXAMPLE-2026-0001"}`), 201)
	id := jsonNumber(in["id"])
	creds, _ := json.Marshal(in["credentials"])
	if !strings.Contains(string(creds), "OPENAI_API_KEY") {
		t.Errorf("credentials to rotate = %s; want OPENAI_API_KEY, which web's service reads", creds)
	}
	for _, step := range []string{"triage", "freeze", "rotate", "pin-back", "verify"} {
		api("POST", "/api/v1/incidents/"+id+"/steps/"+step, nil, 200)
	}
	api("POST", "/api/v1/incidents/"+id+"/close", nil, 200)
	if m := api("GET", "/api/v1/metrics", nil, 200); m["mttcSeconds"] == nil {
		t.Errorf("metrics = %v; want an MTTC once the incident is closed", m)
	}
}

func jsonNumber(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
