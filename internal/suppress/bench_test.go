package suppress

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chainvet/chainvet/internal/inventory"
)

// BenchmarkApply matches 10,000 findings in files that are not on disk
// against 100 ignore-file entries, most of which match nothing.
func BenchmarkApply(b *testing.B) {
	f := &File{Path: FileName, Dir: "."}
	for i := range 100 {
		f.Entries = append(f.Entries, Entry{Rule: fmt.Sprintf("area%d/*", i), Path: fmt.Sprintf("dir%d/**", i), Reason: "r", Line: i + 2})
	}
	findings := make([]inventory.Finding, 10_000)
	for i := range findings {
		findings[i] = inventory.Finding{Rule: fmt.Sprintf("area%d/rule", i%150), Path: fmt.Sprintf("dir%d/sub/file%d.py", i%150, i), Line: 3}
	}
	now := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		r := &inventory.Report{Findings: append([]inventory.Finding(nil), findings...)}
		if err := Apply(context.Background(), r, f, now); err != nil {
			b.Fatal(err)
		}
	}
}
