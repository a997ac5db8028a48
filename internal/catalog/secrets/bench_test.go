package secrets

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chainvet/chainvet/internal/inventory"
)

// benchFile is the text of the i-th file of a generated project: code and
// configuration that mention keys and tokens the way real projects do,
// with a made-up key in one file of every hundred.
func benchFile(i int) (name, text string) {
	var b strings.Builder
	secret := ""
	if i%100 == 0 {
		secret = "ghp_" + rnd(uint64(i), alnum, 36)
	}
	switch i % 10 {
	case 0, 1, 2, 3:
		name = fmt.Sprintf("pkg%d/module_%d.py", i%50, i)
		b.WriteString("import os\nimport json\n\nfrom transformers import AutoTokenizer\n\n")
		b.WriteString("API_KEY = os.environ[\"API_KEY\"]\nMAX_TOKENS = 1024\n\n")
		for j := 0; j < 40; j++ {
			fmt.Fprintf(&b, "def handler_%d(event, token=None):\n    key = event.get(%q)\n    return json.dumps({\"id\": %d, \"key\": key})\n\n", j, rnd(uint64(i*100+j), alnum, 8), j)
		}
		if secret != "" {
			fmt.Fprintf(&b, "GITHUB_TOKEN = %q\n", secret)
		}
	case 4, 5:
		name = fmt.Sprintf("conf%d/settings_%d.json", i%50, i)
		b.WriteString("{\n  \"model\": \"org/model\",\n  \"tokenizer\": \"org/model\",\n  \"layers\": [\n")
		for j := 0; j < 60; j++ {
			fmt.Fprintf(&b, "    {\"name\": \"layer_%d\", \"size\": %d, \"cache_key\": \"%s\"},\n", j, j*64, rnd(uint64(i*100+j), hexa, 12))
		}
		fmt.Fprintf(&b, "    {\"token\": \"%s\"}\n  ]\n}\n", secret)
	case 6, 7:
		name = fmt.Sprintf("deploy%d/values_%d.yaml", i%50, i)
		for j := 0; j < 50; j++ {
			fmt.Fprintf(&b, "service_%d:\n  image: registry.example/app:%d\n  env:\n    - name: API_TOKEN\n      valueFrom: {secretKeyRef: {name: app, key: token}}\n", j, j)
		}
		if secret != "" {
			fmt.Fprintf(&b, "token: %s\n", secret)
		}
	case 8:
		name = fmt.Sprintf("web%d/app_%d.js", i%50, i)
		for j := 0; j < 50; j++ {
			fmt.Fprintf(&b, "export function f%d(req) { const key = req.headers['x-api-key']; return fetch('/api/%d', { key }); }\n", j, j)
		}
		if secret != "" {
			fmt.Fprintf(&b, "const token = '%s';\n", secret)
		}
	default:
		name = fmt.Sprintf("env%d/service_%d.env", i%50, i)
		for j := 0; j < 60; j++ {
			fmt.Fprintf(&b, "SETTING_%d=value-%d\nFEATURE_%d_ENABLED=true\n", j, j, j)
		}
		if secret != "" {
			fmt.Fprintf(&b, "GH_TOKEN=%s\n", secret)
		}
	}
	return name, b.String()
}

// BenchmarkTree scans a generated project of 20,000 source and
// configuration files through the pipeline with this cataloger alone.
func BenchmarkTree(b *testing.B) {
	const files = 20_000
	dir := b.TempDir()
	var size int64
	for i := range files {
		name, text := benchFile(i)
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			b.Fatal(err)
		}
		size += int64(len(text))
	}
	b.SetBytes(size)
	opt := inventory.Options{Catalogers: []inventory.Cataloger{Secrets{}}}
	for b.Loop() {
		r, err := inventory.Scan(context.Background(), []string{dir}, opt)
		if err != nil {
			b.Fatal(err)
		}
		if len(r.Findings) != files/100 {
			b.Fatalf("%d findings, want %d", len(r.Findings), files/100)
		}
	}
}

// BenchmarkScanText measures the detectors alone on 4 MiB of code.
func BenchmarkScanText(b *testing.B) {
	var sb strings.Builder
	for i := 0; sb.Len() < window; i++ {
		_, text := benchFile(i*10 + 1) // Python without a key
		sb.WriteString(text)
	}
	text := []byte(sb.String())
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if ms := scanText(text); len(ms) != 0 {
			b.Fatalf("%d matches", len(ms))
		}
	}
}
