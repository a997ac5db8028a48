package safetensors

import (
	"testing"
)

// BenchmarkScanLarge scans a 1 GiB safetensors file (sparse: a header,
// then a hole) and reports how much of it was read.
func BenchmarkScanLarge(b *testing.B) {
	p := sparse(b, b.TempDir(), 1<<30)
	var read, size int64
	for b.Loop() {
		r := scan(b, p)
		if len(r.Findings) != 0 {
			b.Fatalf("findings on a valid file:\n%s", dump(r))
		}
		read, size = r.Stats.BytesRead, r.Stats.Bytes
	}
	b.ReportMetric(float64(read), "bytes-read/op")
	b.ReportMetric(100*float64(read)/float64(size), "%-of-file-read")
}
