package render

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// spdxSchema is where the official SPDX 2.3 JSON schema
// (spdx/spdx-spec, support/2.3, schemas/spdx-schema.json) is looked for:
// no module or package this project uses ships it, so it lives beside the
// SARIF schema in shared/.
var spdxSchema = filepath.Join("..", "..", "..", "shared", "schemas", "spdx-schema-2.3.json")

// TestSPDXSchema validates SPDX documents against the official schema when
// shared/ holds it, and skips saying so when it does not.
func TestSPDXSchema(t *testing.T) {
	f, err := os.Open(spdxSchema)
	if err != nil {
		t.Skipf("SPDX 2.3 schema not in shared/schemas (%v): SPDX is checked by read-back and tools-golang's validation only", err)
	}
	doc, err := jsonschema.UnmarshalJSON(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("file:///spdx-schema-2.3.json", doc); err != nil {
		t.Fatal(err)
	}
	c.AssertFormat()
	sch, err := c.Compile("file:///spdx-schema-2.3.json")
	if err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string][]byte{
		"sample": renderWith(t, newSPDX(Options{Version: "0.3.0"}), bomReport()),
		"golden": mustRead(t, filepath.Join("testdata", "bom.golden.spdx.json")),
	} {
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := sch.Validate(v); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
