package lock

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestHashFiles(t *testing.T) {
	dir := t.TempDir()
	var paths, want []string
	for i, size := range []int{0, 1, readSize - 1, readSize, readSize + 1, 3*readSize + 17} {
		b := bytes.Repeat([]byte{byte(i), 0x5a}, size/2+1)[:size]
		p := filepath.Join(dir, fmt.Sprint(i))
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		paths, want = append(paths, p), append(want, hex.EncodeToString(sum[:]))
	}
	got, err := HashFiles(context.Background(), paths, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%s: got %s, want %s", paths[i], got[i], want[i])
		}
	}
	if _, err := HashFiles(context.Background(), append(paths, filepath.Join(dir, "missing")), 2); err == nil {
		t.Error("a missing file hashed without error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := HashFiles(ctx, paths, 1); err == nil {
		t.Error("a cancelled hash returned no error")
	}
}

func BenchmarkHashFiles(b *testing.B) {
	dir := b.TempDir()
	const files, size = 8, 32 << 20
	var paths []string
	data := bytes.Repeat([]byte("chainvet"), size/8)
	for i := range files {
		p := filepath.Join(dir, fmt.Sprint(i))
		if err := os.WriteFile(p, data, 0o644); err != nil {
			b.Fatal(err)
		}
		paths = append(paths, p)
	}
	b.SetBytes(files * size)
	for b.Loop() {
		if _, err := HashFiles(context.Background(), paths, 0); err != nil {
			b.Fatal(err)
		}
	}
}
