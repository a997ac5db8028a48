package npm

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chainvet/chainvet/internal/inventory"
)

// sink collects what a cataloger reports.
type sink struct {
	comps    []inventory.Component
	findings []inventory.Finding
}

func (s *sink) Component(c inventory.Component)       { s.comps = append(s.comps, c) }
func (s *sink) Finding(f inventory.Finding)           { s.findings = append(s.findings, f) }
func (s *sink) Scan(context.Context, *inventory.File) {}

// fuzzNames are the file names the fuzzed bytes are given; each selects
// one parser.
var fuzzNames = []string{"package.json", "package-lock.json", "yarn.lock", "pnpm-lock.yaml"}

func seeds(f *testing.F, add func(name string, b []byte)) {
	files, _ := filepath.Glob(filepath.Join(fixtures, "*", "*"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		add(filepath.Base(p), b)
	}
}

// FuzzCatalog runs the cataloger over any bytes under each name: it must
// not panic, and every component and finding must be complete.
func FuzzCatalog(f *testing.F) {
	seeds(f, func(name string, b []byte) {
		for i, n := range fuzzNames {
			if n == name {
				f.Add(uint8(i), b)
			}
		}
	})
	f.Fuzz(func(t *testing.T, which uint8, b []byte) {
		name := fuzzNames[int(which)%len(fuzzNames)]
		file, err := inventory.NewFile("p/"+name, bytes.NewReader(b), int64(len(b)), nil)
		if err != nil {
			t.Fatal(err)
		}
		var s sink
		if err := (NPM{}).Catalog(context.Background(), file, &s); err != nil {
			t.Fatalf("Catalog: %v", err)
		}
		for _, c := range s.comps {
			if c.ID == "" || c.Properties["ecosystem"] != "npm" {
				t.Fatalf("incomplete component %+v", c)
			}
		}
		for _, fd := range s.findings {
			if fd.Rule == "" || fd.Path == "" || fd.Message == "" {
				t.Fatalf("incomplete finding %+v", fd)
			}
		}
	})
}

// FuzzYarnV1 checks the classic yarn.lock parser: no panic, errors carry
// a line within the input, and a lockfile it wrote back from what it
// read parses to the same entries.
func FuzzYarnV1(f *testing.F) {
	seeds(f, func(name string, b []byte) {
		if name == "yarn.lock" {
			f.Add(b)
		}
	})
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := parseYarnV1(context.Background(), b)
		if le, ok := err.(*lineError); ok {
			if lines := bytes.Count(b, []byte{'\n'}) + 1; le.line < 1 || le.line > lines {
				t.Fatalf("error at line %d of %d", le.line, lines)
			}
		}
		for _, e := range entries {
			if len(e.descriptors) == 0 || e.line < 1 {
				t.Fatalf("entry %+v", e)
			}
		}
		if err != nil {
			return
		}
		again, err := parseYarnV1(context.Background(), []byte(writeYarn(entries)))
		if err != nil {
			t.Fatalf("re-reading what was read: %v\n%s", err, writeYarn(entries))
		}
		if len(again) != len(entries) {
			t.Fatalf("%d entries, then %d", len(entries), len(again))
		}
		for i := range entries {
			if fmt.Sprint(entries[i].descriptors, entries[i].fields, entries[i].deps) !=
				fmt.Sprint(again[i].descriptors, again[i].fields, again[i].deps) {
				t.Fatalf("entry %d: %+v, then %+v", i, entries[i], again[i])
			}
		}
	})
}

// writeYarn writes entries as a classic yarn.lock, every string quoted.
func writeYarn(entries []yarnEntry) string {
	var b strings.Builder
	for _, e := range entries {
		for i, d := range e.descriptors {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%q", d)
		}
		b.WriteString(":\n")
		for _, k := range sortedKeys(e.fields) {
			fmt.Fprintf(&b, "  %q %q\n", k, e.fields[k])
		}
		if len(e.deps) > 0 {
			b.WriteString("  dependencies:\n")
			for _, k := range sortedKeys(e.deps) {
				fmt.Fprintf(&b, "    %q %q\n", k, e.deps[k])
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// zeros is a reader of any length that holds zero bytes.
type zeros struct{}

func (zeros) ReadAt(p []byte, off int64) (int, error) {
	clear(p)
	return len(p), nil
}

// TestTooLarge checks that a file over MaxFileBytes is a scan/limit
// finding, never a silent pass.
func TestTooLarge(t *testing.T) {
	f, err := inventory.NewFile("p/package-lock.json", zeros{}, MaxFileBytes+1, nil)
	if err != nil {
		t.Fatal(err)
	}
	var s sink
	if err := (NPM{}).Catalog(context.Background(), f, &s); err != nil {
		t.Fatal(err)
	}
	if len(s.findings) != 1 || s.findings[0].Rule != inventory.RuleScanLimit || s.findings[0].Severity != inventory.High {
		t.Errorf("findings %+v, want one high scan/limit", s.findings)
	}
}
