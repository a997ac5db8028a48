package catalog

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chainvet/chainvet/internal/inventory"
)

// BenchmarkScanTree scans a tree shaped like a project: many source and
// text files, a few models. It measures the walk, selection by content
// and the parallel pool.
func BenchmarkScanTree(b *testing.B) {
	dir := b.TempDir()
	src := strings.Repeat("import torch\n\ndef f(x):\n    return torch.relu(x)\n", 40)
	for i := range 5000 {
		p := filepath.Join(dir, fmt.Sprintf("pkg%d", i%50), fmt.Sprintf("mod%d.py", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	models, _ := filepath.Glob(filepath.Join(fixtures, "benign", "*", "*"))
	for i, m := range models {
		data, err := os.ReadFile(m)
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("m%d_%s", i, filepath.Base(m))), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	cfg := DefaultConfig()
	opt := inventory.Options{Catalogers: Catalogers(cfg), Analyzers: Analyzers(cfg), MaxDepth: 8}
	b.ResetTimer()
	var files int
	for b.Loop() {
		r, err := inventory.Scan(context.Background(), []string{dir}, opt)
		if err != nil {
			b.Fatal(err)
		}
		files = r.Stats.Files
	}
	b.ReportMetric(float64(files)*float64(b.N)/b.Elapsed().Seconds(), "files/s")
}

// BenchmarkScanFixtures scans every committed fixture, benign and
// malicious: the cost of the analysis itself.
func BenchmarkScanFixtures(b *testing.B) {
	cfg := DefaultConfig()
	opt := inventory.Options{Catalogers: Catalogers(cfg), Analyzers: Analyzers(cfg), MaxDepth: 8}
	var files int
	for b.Loop() {
		r, err := inventory.Scan(context.Background(), []string{fixtures}, opt)
		if err != nil {
			b.Fatal(err)
		}
		files = r.Stats.Files + r.Stats.Members
	}
	b.ReportMetric(float64(files)*float64(b.N)/b.Elapsed().Seconds(), "files/s")
}
