package server

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chainvet/chainvet/internal/advisory/osv"
	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/server/store"
)

// BenchmarkRematch matches one advisory against a generated fleet of
// CHAINVET_BENCH_PROJECTS projects (default 1,000) of 500 packages on
// SQLite. Each project runs "torch" at one of four versions, two of them
// affected, and 499 packages drawn from 5,000; one op is Server.Rematch of
// the torch advisory (about 500 open findings) — the work done after an
// import commits.
func BenchmarkRematch(b *testing.B) {
	projects := 1000
	if v := os.Getenv("CHAINVET_BENCH_PROJECTS"); v != "" {
		fmt.Sscan(v, &projects)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, "file:"+filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	rng := rand.New(rand.NewPCG(5, 6))
	start := time.Now()
	for p := range projects {
		cs := []inventory.Component{pkg("torch", fmt.Sprintf("2.%d.0", rng.IntN(4)+2))}
		for _, k := range rng.Perm(5000)[:499] {
			cs = append(cs, pkg(fmt.Sprintf("pkg%04d", k), fmt.Sprintf("1.%d.0", rng.IntN(4))))
		}
		body := fmt.Appendf(nil, `{"p":%d}`, p)
		u := store.Upload{Project: fmt.Sprintf("svc-%05d", p), Env: "prod", Format: store.FormatReport, Body: body,
			Digest: fmt.Sprintf("sha256:%x", sha256.Sum256(body)), Received: t0, Components: cs}
		if _, _, err := st.AddReport(ctx, u); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("fleet of %d projects × 500 components built in %v", projects, time.Since(start))
	rec, err := osv.Parse(osvJSON("PYSEC-1", t0, "torch", "0", "2.4.0", ""))
	if err != nil {
		b.Fatal(err)
	}
	srv := New(st, Options{Now: func() time.Time { return t0 }})
	for b.Loop() {
		if _, _, err := srv.Rematch(ctx, rec); err != nil {
			b.Fatal(err)
		}
	}
	fs, err := st.Findings(ctx, store.FindingQuery{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(fs)), "findings")
}
