package aicode

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/chainvet/chainvet/internal/inventory"
)

// BenchmarkScan catalogs 2,000 generated Python files of about 3 KB, each
// loading a model and constructing a client, through the whole pipeline.
func BenchmarkScan(b *testing.B) {
	dir := b.TempDir()
	const files = 2000
	for i := range files {
		src := fmt.Sprintf(`import os
from openai import OpenAI
from transformers import AutoModel

client = OpenAI(base_url="https://gw%d.example/v1", api_key=os.environ["OPENAI_API_KEY"])
model = AutoModel.from_pretrained("org%d/model-%d", revision="main")
`, i%7, i%50, i)
		for j := range 60 {
			src += fmt.Sprintf("def f%d(x):\n    return helper(x, %d) + str(x)  # padding\n", j, j)
		}
		p := filepath.Join(dir, fmt.Sprintf("d%d", i%20), fmt.Sprintf("m%d.py", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		r, err := inventory.Scan(context.Background(), []string{dir}, inventory.Options{Catalogers: []inventory.Cataloger{References{}}})
		if err != nil {
			b.Fatal(err)
		}
		if len(r.Components) != files+1 {
			b.Fatalf("%d components, want %d", len(r.Components), files+1)
		}
	}
	b.ReportMetric(float64(files*b.N)/b.Elapsed().Seconds(), "files/s")
}
