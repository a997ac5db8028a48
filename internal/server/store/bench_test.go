package store_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/server/store"
)

// benchComponents is the size of one project's inventory in the
// benchmarks: a mid-sized AI service.
const benchComponents = 500

// benchUpload is project p's report number n: benchComponents packages
// drawn from a universe of 5,000, each at one of four versions.
func benchUpload(rng *rand.Rand, p, n int) store.Upload {
	cs := make([]inventory.Component, benchComponents)
	for i, k := range rng.Perm(5000)[:benchComponents] {
		name := fmt.Sprintf("pkg%04d", k)
		v := fmt.Sprintf("1.%d.0", rng.IntN(4))
		purl := "pkg:pypi/" + name + "@" + v
		cs[i] = inventory.Component{ID: purl, Kind: inventory.KindPackage, Name: name, Version: v, PURL: purl,
			Digests:   []inventory.Digest{{Algorithm: "sha256", Value: fmt.Sprintf("%064x", k)}},
			Locations: []inventory.Location{{Path: "requirements.txt"}}}
	}
	body := fmt.Appendf(nil, `{"schema":"chainvet/report/v1","p":%d,"n":%d}`, p, n)
	return store.Upload{Project: fmt.Sprintf("svc-%05d", p), Version: fmt.Sprint(n), Env: "prod",
		Digest: fmt.Sprintf("sha256:%x", sha256.Sum256(body)), Received: time.Unix(int64(n), 0),
		Format: store.FormatReport, Body: body, Components: cs}
}

func benchDSNs(b *testing.B) map[string]string {
	dsns := map[string]string{"sqlite": "file:" + filepath.Join(b.TempDir(), "bench.db")}
	if pg := os.Getenv("CHAINVET_TEST_POSTGRES"); pg != "" {
		dsns["postgres"] = pg // benchmarks use the database itself: run them on a throwaway one
	}
	return dsns
}

// BenchmarkAddReport ingests one report of 500 components per op.
func BenchmarkAddReport(b *testing.B) {
	for _, name := range []string{"sqlite", "postgres"} {
		dsn, ok := benchDSNs(b)[name]
		if !ok {
			continue
		}
		b.Run(name, func(b *testing.B) {
			s, err := store.Open(context.Background(), dsn)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			rng := rand.New(rand.NewPCG(1, 2))
			ups := make([]store.Upload, b.N)
			base := int(time.Now().UnixNano() % 1e9) // fresh projects on a reused database
			for i := range ups {
				ups[i] = benchUpload(rng, base+i, 1)
			}
			b.ResetTimer()
			for i := range b.N {
				if _, _, err := s.AddReport(context.Background(), ups[i]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFindComponents answers "who runs X?" over a fleet of
// CHAINVET_BENCH_PROJECTS projects (default 1,000) of 500 components,
// each with two reports in history; it reports the p99 latency.
func BenchmarkFindComponents(b *testing.B) {
	projects := 1000
	if v := os.Getenv("CHAINVET_BENCH_PROJECTS"); v != "" {
		fmt.Sscan(v, &projects)
	}
	for _, name := range []string{"sqlite", "postgres"} {
		dsn, ok := benchDSNs(b)[name]
		if !ok {
			continue
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			s, err := store.Open(ctx, dsn)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			rng := rand.New(rand.NewPCG(3, 4))
			start := time.Now()
			for p := range projects {
				for n := range 2 {
					if _, _, err := s.AddReport(ctx, benchUpload(rng, p, n)); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.Logf("%s: fleet of %d projects × 2 reports × %d components built in %v", name, projects, benchComponents, time.Since(start))
			queries := []struct {
				name string
				q    store.ComponentQuery
			}{
				// One package at one version: in about a tenth of the fleet.
				{"purl_exact", store.ComponentQuery{PURL: "pkg:pypi/pkg0042@1.2.0"}},
				// Every version of one package.
				{"purl_any_version", store.ComponentQuery{PURL: "pkg:pypi/pkg0042"}},
				{"name_version", store.ComponentQuery{Name: "pkg0042", Version: "1.2.0"}},
				{"purl_history", store.ComponentQuery{PURL: "pkg:pypi/pkg0042@1.2.0", History: true}},
			}
			for _, qq := range queries {
				b.Run(qq.name, func(b *testing.B) {
					var lat []time.Duration
					matches := 0
					for b.Loop() {
						t := time.Now()
						ms, err := s.FindComponents(ctx, qq.q)
						lat = append(lat, time.Since(t))
						if err != nil {
							b.Fatal(err)
						}
						matches = len(ms)
					}
					slices.Sort(lat)
					b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
					b.ReportMetric(float64(matches), "matches")
				})
			}
		})
	}
}
