package pickle

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// maxSeed bounds the fixtures used as seeds: the fuzzer mutates small
// inputs best.
const maxSeed = 1 << 20

// addSeeds adds every file under root, if root exists, to the corpus.
func addSeeds(f *testing.F, root string) {
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if info, err := d.Info(); err != nil || info.Size() > maxSeed {
			return nil
		}
		if b, err := os.ReadFile(path); err == nil {
			f.Add(b)
		}
		return nil
	})
}

func FuzzScan(f *testing.F) {
	addSeeds(f, "testdata")
	addSeeds(f, "../../../testdata/models")
	f.Add(cat(proto(4), call(call(sglobal("builtins", "getattr"), call(sglobal("importlib", "import_module"), sbu("os")), sbu("system")), sbu("id")), stop))
	f.Add(wrapper("O8", binint1(1), call(glob("os", "system"), str0("x"))+stop))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, opt := range []Options{{}, {Pickles: 1}, {Limits: Limits{Values: 64, Stack: 16, Opcodes: 256}}} {
			res, err := Scan(context.Background(), bytes.NewReader(b), int64(len(b)), opt)
			if err != nil {
				t.Fatalf("error from an in-memory reader: %v", err)
			}
			check(t, res, int64(len(b)))
		}
		Sniff(b[:min(len(b), 4096)])
	})
}

// check tests what must hold of any Result.
func check(t *testing.T, res *Result, size int64) {
	t.Helper()
	if res.Malformed == nil && res.Limit == "" && res.Pickles < 1 {
		t.Fatalf("no break, no limit, yet no pickle: %+v", res)
	}
	if b := res.Malformed; b != nil && (b.Offset < 0 || b.Offset > size || b.Reason == "") {
		t.Fatalf("bad break %+v for %d bytes", b, size)
	}
	if res.End < 0 || res.End > size {
		t.Fatalf("End %d outside %d bytes", res.End, size)
	}
	if !res.PayloadOps && (len(res.Imports) > 0 || len(res.Calls) > 0) {
		t.Fatalf("imports or calls without a payload opcode: %v %v", res.Imports, res.Calls)
	}
	for _, i := range res.Imports {
		if i.Offset < 0 || i.Offset >= size || i.Module == "" || i.Name == "" {
			t.Fatalf("bad import %+v", i)
		}
	}
	for _, c := range res.Calls {
		if c.Offset < 0 || c.Offset >= size || c.Op == "" || len(c.Args) > maxArgs+len("…") || len(c.Via) > maxVia+len("…") {
			t.Fatalf("bad call %+v", c)
		}
	}
}
