package python

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chainvet/chainvet/internal/inventory"
)

// benchPackages is the size of the generated manifests: a large
// monorepo's lockfile.
const benchPackages = 5000

func benchFile(b *testing.B, name, text string) {
	f, err := inventory.NewFile(name, strings.NewReader(text), int64(len(text)), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		c := &collect{}
		if err := (Cataloger{}).Catalog(context.Background(), f, c); err != nil {
			b.Fatal(err)
		}
		if len(c.components) != benchPackages {
			b.Fatalf("%d components, want %d", len(c.components), benchPackages)
		}
	}
}

func BenchmarkRequirements(b *testing.B) {
	var s strings.Builder
	for i := range benchPackages {
		fmt.Fprintf(&s, "package-%d==1.%d.0 \\\n    --hash=sha256:%064x ; python_version >= \"3.9\"\n", i, i, i)
	}
	benchFile(b, "requirements.txt", s.String())
}

func BenchmarkUVLock(b *testing.B) {
	var s strings.Builder
	s.WriteString("version = 1\n")
	for i := range benchPackages {
		fmt.Fprintf(&s, "\n[[package]]\nname = \"package-%d\"\nversion = \"1.%d.0\"\nsource = { registry = \"https://pypi.org/simple\" }\ndependencies = [\n    { name = \"package-%d\" },\n]\nwheels = [\n    { url = \"https://files.example/p-%d.whl\", hash = \"sha256:%064x\", size = 1000 },\n]\n", i, i, (i+1)%benchPackages, i, i)
	}
	benchFile(b, "uv.lock", s.String())
}
