package modelsig

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/chainvet/chainvet/internal/attest"
)

// BenchmarkSign signs a model folder with a P-256 key: hashing dominates.
// CHAINVET_BENCH_MODEL names a folder to sign (bench.sh makes one of many
// gigabytes); without it a folder of CHAINVET_BENCH_MB megabytes (default
// 64: four large files and 200 small ones) is generated.
func BenchmarkSign(b *testing.B) {
	dir := os.Getenv("CHAINVET_BENCH_MODEL")
	if dir == "" {
		mb := 64
		if s := os.Getenv("CHAINVET_BENCH_MB"); s != "" {
			mb, _ = strconv.Atoi(s)
		}
		dir = b.TempDir()
		buf := make([]byte, mb<<20*3/4/4)
		rand.Read(buf)
		for i := range 4 {
			os.WriteFile(filepath.Join(dir, "model-"+strconv.Itoa(i)+".bin"), buf, 0o644)
		}
		small := buf[:max(1, mb<<20/4/200)]
		for i := range 200 {
			os.WriteFile(filepath.Join(dir, "part-"+strconv.Itoa(i)+".bin"), small, 0o644)
		}
	}
	key, _ := attest.GenerateKey("ecdsa-p256")
	priv, _ := attest.MarshalPrivateKey(key, nil, 0)
	s, err := attest.NewKeySigner(priv, nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, method := range []string{MethodFiles, MethodShards} {
		b.Run(method, func(b *testing.B) {
			var size int64
			for b.Loop() {
				_, m, err := Sign(context.Background(), dir, Options{Method: method, IgnorePaths: DefaultIgnores()}, s)
				if err != nil {
					b.Fatal(err)
				}
				if size == 0 {
					for _, r := range m.Resources {
						if fi, err := os.Stat(osPath(dir, r.Path)); err == nil && (r.Start == 0) {
							size += fi.Size()
						}
					}
					b.SetBytes(size)
				}
			}
		})
	}
}
