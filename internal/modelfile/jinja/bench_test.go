package jinja

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkShared checks the real chat templates of widely used models,
// reporting the mean time per template.
func BenchmarkShared(b *testing.B) {
	files, _ := filepath.Glob(filepath.Join(shared, "*.jinja"))
	if len(files) == 0 {
		b.Skip("no shared chat templates at " + shared)
	}
	var srcs []string
	size := 0
	for _, f := range files {
		s, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		srcs = append(srcs, string(s))
		size += len(s)
	}
	b.SetBytes(int64(size))
	for b.Loop() {
		for _, s := range srcs {
			Check(s, DefaultLimits)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(srcs)), "µs/template")
}

// BenchmarkFixtures checks this repository's benign and malicious
// templates.
func BenchmarkFixtures(b *testing.B) {
	files, _ := filepath.Glob(filepath.Join(fixtures, "*", "*.jinja"))
	var srcs []string
	for _, f := range files {
		s, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		srcs = append(srcs, string(s))
	}
	for b.Loop() {
		for _, s := range srcs {
			Check(s, DefaultLimits)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(srcs)), "µs/template")
}
