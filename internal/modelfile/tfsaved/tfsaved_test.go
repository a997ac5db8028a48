package tfsaved

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/chainvet/chainvet/internal/modelfile/protowire"
	"github.com/google/go-cmp/cmp"
)

const fixtures = "../../../testdata/tensorflow"

func read(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures, p))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parse(t testing.TB, b []byte, lim Limits) (*SavedModel, error) {
	t.Helper()
	return Parse(context.Background(), bytes.NewReader(b), int64(len(b)), lim)
}

func TestParseBenign(t *testing.T) {
	sm, err := parse(t, read(t, "benign/saved_model/saved_model.pb"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if sm.SchemaVersion != 1 || len(sm.MetaGraphs) != 1 {
		t.Fatalf("schema %d, %d meta graphs", sm.SchemaVersion, len(sm.MetaGraphs))
	}
	g := sm.MetaGraphs[0]
	var ops []string
	for _, op := range g.Ops {
		ops = append(ops, op.Name)
	}
	want := []string{"Placeholder", "VarHandleOp", "StatefulPartitionedCall", "ReadVariableOp", "MatMul", "BiasAdd",
		"Identity", "StaticRegexFullMatch", "Const", "StringJoin", "ShardedFilename", "SaveV2", "MergeV2Checkpoints",
		"NoOp", "RestoreV2", "AssignVariableOp"}
	if diff := cmp.Diff(want, ops); diff != "" {
		t.Errorf("ops (-want +got):\n%s", diff)
	}
	for _, op := range g.Ops {
		if !Known(op.Name) {
			t.Errorf("op %s of a benign model is not in the registry", op.Name)
		}
	}
	if diff := cmp.Diff([]string{"serve"}, g.Tags); diff != "" {
		t.Errorf("tags: %s", diff)
	}
	if g.Parameters != 10 || g.Variables != 2 || g.Nodes != 24 || len(g.Functions) != 3 || g.TFVersion != "2.15.0" {
		t.Errorf("params %d vars %d nodes %d functions %v version %q", g.Parameters, g.Variables, g.Nodes, g.Functions, g.TFVersion)
	}
	if len(g.Assets) != 1 || g.Assets[0].Filename != "vocab.txt" || !slices.Equal(g.Signatures, []string{"serving_default"}) {
		t.Errorf("assets %+v signatures %v", g.Assets, g.Signatures)
	}
	if !slices.Contains(g.StrippedOps, "SaveV2") {
		t.Errorf("stripped ops %v", g.StrippedOps)
	}
}

func TestParseFindsHiddenOps(t *testing.T) {
	tests := []struct {
		file, op, function string
	}{
		{"malicious/pyfunc/saved_model.pb", "PyFunc", ""},
		{"malicious/eager_pyfunc_in_function/saved_model.pb", "EagerPyFunc", "__inference_helper_7"},
		{"malicious/read_write_file/saved_model.pb", "WriteFile", "__inference_serving_default_42"},
	}
	for _, tc := range tests {
		sm, err := parse(t, read(t, tc.file), Limits{})
		if err != nil {
			t.Fatal(err)
		}
		g := sm.MetaGraphs[0]
		i := slices.IndexFunc(g.Ops, func(o Op) bool { return o.Name == tc.op })
		if i < 0 || g.Ops[i].First.Function != tc.function {
			t.Errorf("%s: op %s in %q not found: %+v", tc.file, tc.op, tc.function, g.Ops)
		}
	}
}

func TestParseGraphDef(t *testing.T) {
	b := read(t, "benign/frozen_graph.pb")
	g, err := ParseGraphDef(context.Background(), bytes.NewReader(b), int64(len(b)), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if g.Nodes != 4 || g.Parameters != 4 || !slices.Equal(g.DTypes, []string{"F32"}) {
		t.Errorf("nodes %d params %d dtypes %v", g.Nodes, g.Parameters, g.DTypes)
	}
}

func TestMalformed(t *testing.T) {
	b := read(t, "benign/saved_model/saved_model.pb")
	if _, err := parse(t, b[:len(b)/2], Limits{}); !errors.Is(err, protowire.ErrMalformed) {
		t.Errorf("truncated: err = %v", err)
	}
	if _, err := parse(t, []byte{0x08, 0x01}, Limits{}); !errors.Is(err, ErrNotSavedModel) {
		t.Errorf("no meta graphs: err = %v", err)
	}
	if _, err := parse(t, b, Limits{Nodes: 3}); !errors.Is(err, protowire.ErrLimit) {
		t.Errorf("node limit: err = %v", err)
	}
}

func TestIdentify(t *testing.T) {
	sm := read(t, "benign/saved_model/saved_model.pb")
	gd := read(t, "benign/frozen_graph.pb")
	onnx := []byte("\x08\x08\x12\x07pytorch\x1a\x032.1\x3a\x80\x80\x04")
	if !IdentifySavedModel(sm[:64], int64(len(sm))) || IdentifySavedModel(gd, int64(len(gd))) || IdentifySavedModel(onnx, 1<<20) {
		t.Error("IdentifySavedModel")
	}
	if !IdentifyGraphDef(gd, int64(len(gd))) || IdentifyGraphDef(sm, int64(len(sm))) || IdentifyGraphDef(onnx, 1<<20) {
		t.Error("IdentifyGraphDef")
	}
}

func TestKerasMetadata(t *testing.T) {
	b := read(t, "benign/saved_model/keras_metadata.pb")
	objs, err := KerasMetadata(context.Background(), bytes.NewReader(b), int64(len(b)), Limits{})
	if err != nil || len(objs) != 2 || objs[0].Path != "root" || objs[0].Identifier != "_tf_keras_sequential" {
		t.Fatalf("objects %+v, err %v", objs, err)
	}
}

func TestRegistry(t *testing.T) {
	if len(registry) < 1400 {
		t.Errorf("registry holds %d ops", len(registry))
	}
	for _, op := range []string{"Const", "SaveV2", "PyFunc", "XlaCallModule", "_Arg"} {
		if !Known(op) {
			t.Errorf("%s not known", op)
		}
	}
	if Known("LoadLibraryAndRun") || Known("Addons>GeluGrad") || Known("") {
		t.Error("custom op known")
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.ReaderAt
	n int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n += int64(n)
	return n, err
}

// TestConstUnread puts 8 MiB of tensor_content in a Const of a frozen
// graph and checks that the parse skips it.
func TestConstUnread(t *testing.T) {
	vi := func(v uint64) []byte {
		var b []byte
		for v >= 0x80 {
			b = append(b, byte(v)|0x80)
			v >>= 7
		}
		return append(b, byte(v))
	}
	field := func(num int, p []byte) []byte {
		return append(append(vi(uint64(num)<<3|2), vi(uint64(len(p)))...), p...)
	}
	content := make([]byte, 8<<20)
	tensor := field(8, append(append(append(vi(1<<3), 1), field(2, field(2, append(vi(1<<3), vi(2<<20)...)))...), field(4, content)...))
	n := append(field(1, []byte("w")), field(2, []byte("Const"))...)
	n = append(n, field(5, append(field(1, []byte("value")), field(2, tensor)...))...)
	g := field(1, n)
	c := &countingReader{r: bytes.NewReader(g)}
	gr, err := ParseGraphDef(context.Background(), c, int64(len(g)), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if gr.Parameters != 2<<20 || c.n > 64<<10 {
		t.Errorf("params %d, read %d of %d bytes", gr.Parameters, c.n, len(g))
	}
}

func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join(fixtures, "*", "*", "*.pb"))
	more, _ := filepath.Glob(filepath.Join(fixtures, "*", "*.pb"))
	for _, p := range append(seeds, more...) {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	lim := Limits{Wire: protowire.Limits{Depth: 40, Fields: 1 << 14}, Nodes: 1 << 10}
	f.Fuzz(func(t *testing.T, b []byte) {
		ok := func(err error, also error) {
			if err != nil && !errors.Is(err, protowire.ErrMalformed) && !errors.Is(err, protowire.ErrLimit) && !errors.Is(err, also) {
				t.Fatalf("unexpected error %v", err)
			}
		}
		sm, err := parse(t, b, lim)
		ok(err, ErrNotSavedModel)
		for _, g := range sm.MetaGraphs {
			n := 0
			for _, op := range g.Ops {
				n += op.Count
			}
			if n != g.Nodes {
				t.Fatalf("op counts sum to %d, nodes %d", n, g.Nodes)
			}
		}
		_, err = ParseGraphDef(context.Background(), bytes.NewReader(b), int64(len(b)), lim)
		ok(err, nil)
		_, err = KerasMetadata(context.Background(), bytes.NewReader(b), int64(len(b)), lim)
		ok(err, nil)
		IdentifySavedModel(b, int64(len(b)))
		IdentifyGraphDef(b, int64(len(b)))
	})
}
