package pkgcode

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chainvet/chainvet/internal/inventory"
)

// FuzzCatalog feeds arbitrary bytes to every kind of file the cataloger
// judges: it must not panic, and every finding must name a rule.
func FuzzCatalog(f *testing.F) {
	names := []string{"setup.py", "pyproject.toml", "package.json", "x.pth", "a-1.0-py3-none-any.whl!a/x.so"}
	err := filepath.WalkDir(fixtures, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".whl") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for i := range names {
			f.Add(uint8(i), b)
		}
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(uint8(4), []byte("\x7fELF\x02\x01\x01\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		name := "d/" + names[int(which)%len(names)]
		file, err := inventory.NewFile(name, strings.NewReader(string(data)), int64(len(data)), nil)
		if err != nil {
			t.Fatal(err)
		}
		var s checkSink
		c := Pkgcode{}
		if !c.Wants(file) {
			return
		}
		if err := c.Catalog(context.Background(), file, &s); err != nil {
			t.Fatal(err)
		}
		for _, fd := range s.got {
			if fd.Rule == "" || fd.Path != name || fd.Message == "" {
				t.Fatalf("bad finding %+v", fd)
			}
		}
	})
}

type checkSink struct{ got []inventory.Finding }

func (s *checkSink) Component(inventory.Component)         {}
func (s *checkSink) Scan(context.Context, *inventory.File) {}
func (s *checkSink) Finding(f inventory.Finding)           { s.got = append(s.got, f) }

// FuzzJavaScript feeds arbitrary scripts and files to the judging of a
// file an install script runs: no panic, every finding complete, and the
// targets found in a script stay relative file names.
func FuzzJavaScript(f *testing.F) {
	f.Add("node install.js", []byte("const dns = require('dns');\ndns.resolve(x)\n"))
	f.Add("node --max-old-space-size=1 ./a/b && node -e 'x'", []byte("eval(Buffer.from(s, 'base64').toString())"))
	f.Add("", []byte{})
	f.Fuzz(func(t *testing.T, script string, src []byte) {
		for _, target := range nodeTargets(script) {
			if target == "" || strings.ContainsAny(target, " \t;&|") {
				t.Fatalf("target %q from %q", target, script)
			}
		}
		var s checkSink
		(&judge{s: &s, path: "pkg/install.js"}).javascript("postinstall", src)
		for _, fd := range s.got {
			if fd.Rule == "" || fd.Path != "pkg/install.js" || fd.Message == "" || fd.Line < 1 {
				t.Fatalf("bad finding %+v", fd)
			}
		}
	})
}
