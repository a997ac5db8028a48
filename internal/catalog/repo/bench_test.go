package repo

import (
	"context"
	"testing"

	"github.com/chainvet/chainvet/internal/inventory"
)

// BenchmarkScanFixtures scans every repository fixture with this
// package's catalogers and the archive and pickle ones: the per-file cost
// of configs, code, notebooks, archives and layouts.
func BenchmarkScanFixtures(b *testing.B) {
	opt := inventory.Options{Catalogers: catalogers(), MaxDepth: 8}
	var files int
	for b.Loop() {
		r, err := inventory.Scan(context.Background(), []string{fixtures}, opt)
		if err != nil {
			b.Fatal(err)
		}
		files = r.Stats.Files
	}
	b.ReportMetric(float64(files), "files/op")
}
