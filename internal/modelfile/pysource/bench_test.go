package pysource

import (
	"bytes"
	"context"
	"os"
	"testing"
)

// BenchmarkScan measures throughput on a realistic modeling file repeated
// to 1 MiB.
func BenchmarkScan(b *testing.B) {
	one, err := os.ReadFile("testdata/modeling_tiny.py")
	if err != nil {
		b.Fatal(err)
	}
	src := bytes.Repeat(one, (1<<20)/len(one)+1)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Scan(context.Background(), src, DefaultLimits); err != nil {
			b.Fatal(err)
		}
	}
}
