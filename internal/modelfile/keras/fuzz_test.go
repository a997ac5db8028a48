package keras

import (
	"archive/zip"
	"context"
	"io"
	"path/filepath"
	"testing"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/modelfile/marshal"
)

// fuzzLimits keep each input cheap.
var fuzzLimits = Limits{ConfigBytes: 1 << 20, Depth: 64, Values: 1 << 14, Problems: 20,
	Marshal: marshal.Limits{Bytes: 1 << 16, Objects: 4096, Depth: 32}}

// addConfigs seeds the corpus with the config.json of every .keras fixture.
func addConfigs(f *testing.F) {
	paths, err := filepath.Glob("../../../testdata/keras/*/*.keras")
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range paths {
		z, err := zip.OpenReader(p)
		if err != nil {
			continue // a folder, or a zip made to be odd
		}
		for _, m := range z.File {
			if m.Name != "config.json" {
				continue
			}
			r, err := m.Open()
			if err != nil {
				continue
			}
			b, err := io.ReadAll(r)
			r.Close()
			if err == nil {
				f.Add(b)
			}
		}
		z.Close()
	}
}

var rulesKnown = map[string]bool{RuleLambda: true, RuleForeign: true, RuleExternal: true, RuleMalformed: true, RuleLimit: true}

func FuzzKerasConfig(f *testing.F) {
	addConfigs(f)
	f.Add([]byte(`{"class_name": "Lambda", "config": {"function": ["4wEAAAAAAAAA", null, null], "function_type": "lambda"}}`))
	f.Add([]byte(`{"module": "os", "class_name": "function", "config": "system", "registered_name": "a>b"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := CheckJSON(context.Background(), b, fuzzLimits)
		if err != nil {
			t.Fatalf("CheckJSON: %v", err)
		}
		if res.Model == nil {
			// Unread: a malformed or limit problem must say so.
			if len(res.Problems) != 1 || (res.Problems[0].Rule != RuleMalformed && res.Problems[0].Rule != RuleLimit) {
				t.Fatalf("no model and no reason: %+v", res.Problems)
			}
		}
		for _, p := range res.Problems {
			if !rulesKnown[p.Rule] || p.Evidence == "" || p.Message == "" || p.Severity < inventory.Medium {
				t.Fatalf("problem breaks the contract: %+v", p)
			}
			if p.Offset >= int64(len(b)) || (p.Offset >= 0) != (p.Line > 0) {
				t.Fatalf("problem at offset %d, line %d of %d bytes", p.Offset, p.Line, len(b))
			}
		}
		if len(res.Problems) > fuzzLimits.Problems+1 {
			t.Fatalf("%d problems past the limit of %d", len(res.Problems), fuzzLimits.Problems)
		}
	})
}
