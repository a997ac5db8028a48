package server

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/chainvet/chainvet/internal/advisory/osv"
	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/server/store"
)

// fleetUpload is project p's report of release h (0 the first): 500
// packages drawn from a universe of 5,000, each at one of four versions,
// so that one package at one version is in about a fortieth of the fleet.
func fleetUpload(rng *rand.Rand, p, h int) store.Upload {
	cs := make([]inventory.Component, 500)
	for i, k := range rng.Perm(5000)[:len(cs)] {
		name := fmt.Sprintf("pkg%04d", k)
		v := fmt.Sprintf("1.%d.0", rng.IntN(4))
		purl := "pkg:pypi/" + name + "@" + v
		cs[i] = inventory.Component{ID: purl, Kind: inventory.KindPackage, Name: name, Version: v, PURL: purl,
			Digests:   []inventory.Digest{{Algorithm: "sha256", Value: fmt.Sprintf("%064x", k)}},
			Locations: []inventory.Location{{Path: "requirements.txt"}}}
	}
	body := fmt.Appendf(nil, `{"schema":"chainvet/report/v1","p":%d,"h":%d}`, p, h)
	if h == 0 { // as the first fleets were built
		body = fmt.Appendf(nil, `{"schema":"chainvet/report/v1","p":%d}`, p)
	}
	return store.Upload{Project: fmt.Sprintf("svc-%05d", p), Version: fmt.Sprint(h + 1), Env: "prod",
		Digest: fmt.Sprintf("sha256:%x", sha256.Sum256(body)), Received: time.Unix(int64(1+h), 0),
		Format: store.FormatReport, Body: body, Components: cs}
}

// BenchmarkBlastRadius answers GET /api/v1/components?purl=… (a version,
// every version, and a version range) through the whole handler over a
// SQLite fleet of CHAINVET_BENCH_PROJECTS projects (default 1,000) of 500
// components each, one transaction per project, and reports the p99
// latency. CHAINVET_BENCH_DB names a SQLite file to keep the fleet in and
// reuse (building 10,000 projects takes minutes); CHAINVET_BENCH_DSN names
// any store instead, such as a PostgreSQL database (postgres://…).
// CHAINVET_BENCH_HISTORY is the number of reports each project pushes (1
// by default); only the last is deployed, so the answers do not change,
// and their latency should not either.
func BenchmarkBlastRadius(b *testing.B) {
	projects := 1000
	if v := os.Getenv("CHAINVET_BENCH_PROJECTS"); v != "" {
		if _, err := fmt.Sscan(v, &projects); err != nil {
			b.Fatalf("CHAINVET_BENCH_PROJECTS: %v", err)
		}
	}
	dsn := os.Getenv("CHAINVET_BENCH_DSN")
	if dsn == "" {
		path := os.Getenv("CHAINVET_BENCH_DB")
		if path == "" {
			path = filepath.Join(b.TempDir(), "fleet.db")
		}
		dsn = "file:" + path
	}
	ctx := context.Background()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	have, err := st.Projects(ctx)
	if err != nil {
		b.Fatal(err)
	}
	history := 1
	if v := os.Getenv("CHAINVET_BENCH_HISTORY"); v != "" {
		if _, err := fmt.Sscan(v, &history); err != nil || history < 1 {
			b.Fatalf("CHAINVET_BENCH_HISTORY: want a count of reports per project, at least 1")
		}
	}
	start := time.Now()
	rng := rand.New(rand.NewPCG(5, 6))
	for p := range projects {
		for h := range history {
			u := fleetUpload(rng, p, h) // drawn for every p, so that a reused fleet is the same
			if p < len(have) {
				continue
			}
			if _, _, err := st.AddReport(ctx, u); err != nil {
				b.Fatal(err)
			}
		}
	}
	if len(have) < projects {
		b.Logf("fleet of %d projects × %d reports × 500 components built in %v", projects, history, time.Since(start))
	}
	secret, tok, err := NewToken("bench", store.ScopeRead, "", time.Unix(0, 0))
	if err != nil {
		b.Fatal(err)
	}
	if err := st.AddToken(ctx, tok); err != nil {
		b.Fatal(err)
	}
	srv := New(st, Options{})
	for _, q := range []struct{ name, target string }{
		{"purl_exact", "/api/v1/components?purl=pkg:pypi/pkg0042@1.2.0"},
		{"purl_any_version", "/api/v1/components?purl=pkg:pypi/pkg0042"},
		// Two of the package's four versions: the versions are filtered,
		// then only their rows read.
		{"purl_range", "/api/v1/components?purl=pkg:pypi/pkg0042&range=%3E%3D1.1,%3C1.3"},
		// Every report: history-1 of them no longer deployed.
		{"purl_any_version_history", "/api/v1/components?purl=pkg:pypi/pkg0042&history=true"},
	} {
		b.Run(q.name, func(b *testing.B) {
			var lat []time.Duration
			n := 0
			for b.Loop() {
				req := httptest.NewRequest("GET", q.target, nil)
				req.Header.Set("Authorization", "Bearer "+secret)
				rec := httptest.NewRecorder()
				t := time.Now()
				srv.ServeHTTP(rec, req)
				lat = append(lat, time.Since(t))
				if rec.Code != 200 {
					b.Fatalf("%s: %d %s", q.target, rec.Code, rec.Body)
				}
				n = rec.Body.Len()
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
			b.ReportMetric(float64(n), "answer-bytes")
		})
	}
	// A new advisory matched against the whole fleet, as an import does:
	// pkg0042 before 1.2.0, two of its four versions.
	rec, err := osv.Parse(osvJSON("PYSEC-BENCH", t0, "pkg0042", "0", "1.2.0", ""))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("rematch_one_advisory", func(b *testing.B) {
		opened := 0
		for b.Loop() {
			o, _, err := srv.Rematch(ctx, rec)
			if err != nil {
				b.Fatal(err)
			}
			opened += o
		}
		fs, err := st.Findings(ctx, store.FindingQuery{Advisory: "PYSEC-BENCH"})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(fs)), "findings")
	})
}
