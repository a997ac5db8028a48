package secrets

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chainvet/chainvet/internal/inventory"
)

// FuzzCatalog feeds arbitrary bytes to the cataloger as each kind of file
// it reads. It must not panic; every finding must name a known rule, the
// file, and a line within it; a notebook that is not JSON must be said to
// be malformed rather than pass as clean.
func FuzzCatalog(f *testing.F) {
	names := []string{"x.py", "nb.ipynb", ".env", "c.json", "Dockerfile"}
	err := filepath.WalkDir(fixtures, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		which := uint8(0)
		if strings.HasSuffix(p, ".ipynb") {
			which = 1
		}
		f.Add(which, b)
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(uint8(1), []byte(`{"cells": [{"cell_type": "code", "source": ["a\u002d"], "outputs": [{"output_type": "stream", "text": 1}]}]}`))
	f.Add(uint8(2), []byte("-----BEGIN PRIVATE KEY-----\\nProc-Type: x\\n"))
	known := map[string]bool{RuleAIKey: true, RuleAWS: true, RuleGitHub: true, RuleSlack: true,
		RulePrivateKey: true, RuleGeneric: true, RuleMalformed: true, inventory.RuleScanLimit: true}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		name := "d/" + names[int(which)%len(names)]
		file, err := inventory.NewFile(name, bytes.NewReader(data), int64(len(data)), nil)
		if err != nil {
			t.Fatal(err)
		}
		c := Secrets{}
		if !c.Wants(file) {
			return
		}
		var s sink
		if err := c.Catalog(context.Background(), file, &s); err != nil {
			t.Fatal(err)
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		malformed := false
		for _, fd := range s.got {
			if !known[fd.Rule] || fd.Path != name || fd.Message == "" {
				t.Fatalf("bad finding %+v", fd)
			}
			if fd.Cell == 0 && fd.Rule != RuleMalformed && (fd.Line < 1 || fd.Line > lines || fd.Column < 1) {
				t.Fatalf("finding at line %d column %d of a %d-line file: %+v", fd.Line, fd.Column, lines, fd)
			}
			malformed = malformed || fd.Rule == RuleMalformed
		}
		if strings.HasSuffix(name, ".ipynb") && !json.Valid(data) && !malformed {
			t.Fatal("a notebook that is not JSON passed without a finding")
		}
	})
}
