package npm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/chainvet/chainvet/internal/inventory"
)

// lockV3 writes a package-lock.json v3 of n packages in the shape npm
// writes: each depends on the next two, every tenth has a nested copy of
// another at a second version.
func lockV3(n int) []byte {
	pkgs := map[string]any{"": map[string]any{"name": "big", "version": "1.0.0",
		"dependencies": map[string]string{"pkg-0": "^1.0.0", "pkg-1": "^1.0.0"}}}
	for i := range n {
		deps := map[string]string{}
		for _, j := range []int{i + 1, i + 2} {
			if j < n {
				deps[fmt.Sprintf("pkg-%d", j)] = "^1.0.0"
			}
		}
		name := fmt.Sprintf("pkg-%d", i)
		key := "node_modules/" + name
		if i%10 == 9 {
			key = fmt.Sprintf("node_modules/pkg-%d/node_modules/%s", i-1, name)
		}
		pkgs[key] = map[string]any{
			"version":      "1.0.0",
			"resolved":     "https://registry.npmjs.org/" + name + "/-/" + name + "-1.0.0.tgz",
			"integrity":    "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==",
			"dependencies": deps,
		}
	}
	b, err := json.MarshalIndent(map[string]any{"name": "big", "version": "1.0.0", "lockfileVersion": 3, "packages": pkgs}, "", "  ")
	if err != nil {
		panic(err)
	}
	return b
}

// BenchmarkLockV3 catalogues a package-lock.json v3 of 5,000 packages.
func BenchmarkLockV3(b *testing.B) {
	data := lockV3(5000)
	b.SetBytes(int64(len(data)))
	var comps int
	for b.Loop() {
		f, err := inventory.NewFile("p/package-lock.json", bytes.NewReader(data), int64(len(data)), nil)
		if err != nil {
			b.Fatal(err)
		}
		var s sink
		if err := (NPM{}).Catalog(context.Background(), f, &s); err != nil {
			b.Fatal(err)
		}
		comps = len(s.comps)
	}
	if comps != 5001 {
		b.Fatalf("%d components, want 5001", comps)
	}
	b.ReportMetric(float64(comps), "components/op")
}

// TestLockV3Large checks the graph of the generated lockfile: nested
// copies resolve before hoisted ones, and only the root's two are direct.
func TestLockV3Large(t *testing.T) {
	data := lockV3(50)
	f, err := inventory.NewFile("p/package-lock.json", bytes.NewReader(data), int64(len(data)), nil)
	if err != nil {
		t.Fatal(err)
	}
	var s sink
	if err := (NPM{}).Catalog(context.Background(), f, &s); err != nil {
		t.Fatal(err)
	}
	if len(s.comps) != 51 || len(s.findings) != 0 {
		t.Fatalf("%d components, findings %+v", len(s.comps), s.findings)
	}
	direct := 0
	for _, c := range s.comps {
		if c.Dependency == inventory.Direct {
			direct++
		}
		if c.Properties["main"] == "" && (len(c.Digests) != 1 || c.Digests[0].Algorithm != "sha512") {
			t.Errorf("%s: digests %+v", c.ID, c.Digests)
		}
	}
	if direct != 2 {
		t.Errorf("%d direct, want 2", direct)
	}
}
