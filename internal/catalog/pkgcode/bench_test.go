package pkgcode

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chainvet/chainvet/internal/inventory"
)

// BenchmarkNodeModules judges the package.json files of a generated
// node_modules of 2,000 packages, one in ten with a native-build script.
func BenchmarkNodeModules(b *testing.B) {
	const n = 2000
	bodies := make([]string, n)
	for i := range bodies {
		script := `"test": "mocha"`
		if i%10 == 0 {
			script = `"install": "node-gyp rebuild", "test": "mocha"`
		}
		bodies[i] = fmt.Sprintf(`{"name": "pkg%d", "version": "1.0.%d", "main": "index.js",
  "dependencies": {"a": "^1.0.0", "b": "~2.1.0"}, "scripts": {%s}}`, i, i, script)
	}
	var bytes int64
	for _, body := range bodies {
		bytes += int64(len(body))
	}
	b.SetBytes(bytes)
	ctx := context.Background()
	c := Pkgcode{}
	for b.Loop() {
		for i, body := range bodies {
			f, err := inventory.NewFile(fmt.Sprintf("node_modules/pkg%d/package.json", i), strings.NewReader(body), int64(len(body)), nil)
			if err != nil {
				b.Fatal(err)
			}
			if !c.Wants(f) {
				b.Fatal("package.json not wanted")
			}
			var s checkSink
			if err := c.Catalog(ctx, f, &s); err != nil {
				b.Fatal(err)
			}
		}
	}
}
