package onnx

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

const fixtures = "../../../testdata/onnx"

// Protobuf encoding, for inputs the generator does not write: structures
// too deep or too large to commit.
func varint(v uint64) []byte {
	var b []byte
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func vfield(num int, v uint64) []byte { return append(varint(uint64(num)<<3), varint(v)...) }

func bfield(num int, payload ...[]byte) []byte {
	p := bytes.Join(payload, nil)
	return append(append(varint(uint64(num)<<3|2), varint(uint64(len(p)))...), p...)
}

func str(num int, s string) []byte { return bfield(num, []byte(s)) }

func node(op, domain, name string, attrs ...[]byte) []byte {
	return bfield(graphNode, str(nodeName, name), str(nodeOpType, op), str(nodeDomain, domain), bytes.Join(attrs, nil))
}

func parse(t testing.TB, b []byte, lim Limits) (*Model, error) {
	t.Helper()
	return Parse(context.Background(), bytes.NewReader(b), int64(len(b)), lim)
}

func TestParseFixtures(t *testing.T) {
	tests := []struct {
		file      string
		ops       []string // domain:type
		functions []Function
		external  []string // tensor name → location
		scopes    []string // first-use scope of each op
	}{
		{file: "benign/mlp.onnx", ops: []string{":MatMul", ":Add", ":Relu", ":Gemm"},
			scopes: []string{"mlp", "mlp", "mlp", "mlp"}},
		{file: "benign/if_loop.onnx", ops: []string{":If", ":Neg", ":Identity", ":Loop", ":Add"},
			scopes: []string{"control_flow", "control_flow/if_0.else_branch", "control_flow/if_0.then_branch", "control_flow", "control_flow/loop_0.body"}},
		{file: "benign/function.onnx", ops: []string{"local.fn:Scale2", ":Add"}, functions: []Function{{"local.fn", "Scale2"}},
			scopes: []string{"with_function", "function local.fn:Scale2"}},
		{file: "benign/external/model.onnx", ops: []string{":MatMul"}, external: []string{"W=weights.bin"}, scopes: []string{"linear"}},
		{file: "malicious/constant_external.onnx", ops: []string{":Constant", ":Add"}, external: []string{"const_w=/etc/shadow"},
			scopes: []string{"const_external", "const_external"}},
	}
	for _, tc := range tests {
		t.Run(filepath.Base(tc.file), func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(fixtures, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			m, err := parse(t, b, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			var ops, scopes, ext []string
			n := 0
			for _, op := range m.Ops {
				ops = append(ops, op.Domain+":"+op.Type)
				scopes = append(scopes, op.First.Scope)
				n += op.Count
			}
			for _, x := range m.External {
				loc, _ := x.Get("location")
				ext = append(ext, x.Name+"="+loc)
			}
			if diff := cmp.Diff(tc.ops, ops); diff != "" {
				t.Errorf("ops (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.scopes, scopes); diff != "" {
				t.Errorf("scopes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.functions, m.Functions); diff != "" {
				t.Errorf("functions (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.external, ext); diff != "" {
				t.Errorf("external (-want +got):\n%s", diff)
			}
			if n != m.Nodes {
				t.Errorf("op counts sum to %d, Nodes = %d", n, m.Nodes)
			}
			if m.IRVersion != 8 || m.Opset("ai.onnx") != 17 || m.Producer != "chainvet-gen" {
				t.Errorf("header = ir %d opset %d producer %q", m.IRVersion, m.Opset(""), m.Producer)
			}
		})
	}
}

// TestNesting builds subgraphs nested n deep, each If's then_branch
// holding the next, and checks the limit and the scope of the innermost op.
func TestNesting(t *testing.T) {
	nested := func(n int) []byte {
		g := node("Deep", "com.x", "inner") // a GraphProto's fields
		for range n {
			attr := bfield(nodeAttribute, str(attrName, "then_branch"), bfield(attrG, g))
			g = node("If", "", "if", attr)
		}
		return append(vfield(modelIRVersion, 8), bfield(modelGraph, g)...)
	}
	m, err := parse(t, nested(3), Limits{GraphDepth: 3})
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(m.Ops, func(o Op) bool { return o.Type == "Deep" }); i < 0 || m.Ops[i].First.Scope != "main/if.then_branch/if.then_branch/if.then_branch" {
		t.Errorf("ops = %+v", m.Ops)
	}
	if _, err := parse(t, nested(4), Limits{GraphDepth: 3}); !errors.Is(err, protowire.ErrLimit) {
		t.Errorf("4 deep with limit 3: err = %v, want ErrLimit", err)
	}
	// Without a graph limit the wire depth limit still ends the walk.
	if _, err := parse(t, nested(200), Limits{GraphDepth: 1 << 20}); !errors.Is(err, protowire.ErrLimit) {
		t.Errorf("200 deep: err = %v, want ErrLimit", err)
	}
}

func TestMalformed(t *testing.T) {
	good := append(vfield(modelIRVersion, 8), bfield(modelGraph, node("Add", "", "a"))...)
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrNotModel},
		{"no_graph", vfield(modelIRVersion, 8), ErrNotModel},
		{"cut", good[:len(good)-3], protowire.ErrMalformed},
		{"bad_tag", append(slices.Clone(good), 0x07), protowire.ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := parse(t, tc.b, Limits{}); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
	// Negative dims parse, and are a problem.
	tensor := bfield(graphInitializer, vfield(tensorDims, uint64(1<<64-2)), vfield(tensorDataType, 1), str(tensorName, "w"))
	m, err := parse(t, append(vfield(modelIRVersion, 8), bfield(modelGraph, tensor)...), Limits{})
	if err != nil || len(m.Problems) != 1 {
		t.Errorf("negative dims: err %v, problems %+v", err, m.Problems)
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

// bigModel writes an ONNX model with nodes Add nodes and one initializer
// of data bytes of raw_data, as a sparse file, and returns its path.
func bigModel(t testing.TB, nodes int, data int64) string {
	t.Helper()
	var g bytes.Buffer
	for i := range nodes {
		g.Write(node("Add", "", "add_"+string(rune('a'+i%26)), bfield(nodeAttribute, str(attrName, "unused"))))
	}
	header := bytes.Join([][]byte{vfield(tensorDims, uint64(data/4)), vfield(tensorDataType, 1), str(tensorName, "big")}, nil)
	// raw_data's tag and length; its bytes follow as a hole in the file.
	rawHead := append(varint(9<<3|2), varint(uint64(data))...)
	tensorLen := int64(len(header)+len(rawHead)) + data
	initHead := append(varint(graphInitializer<<3|2), varint(uint64(tensorLen))...)
	graphLen := int64(g.Len()+len(initHead)+len(header)+len(rawHead)) + data
	var out bytes.Buffer
	out.Write(vfield(modelIRVersion, 9))
	out.Write(str(modelProducerName, "bench"))
	out.Write(append(varint(modelGraph<<3|2), varint(uint64(graphLen))...))
	out.Write(g.Bytes())
	out.Write(initHead)
	out.Write(header)
	out.Write(rawHead)
	p := filepath.Join(t.TempDir(), "big.onnx")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(out.Bytes()); err != nil {
		t.Fatal(err)
	}
	end := int64(out.Len()) + data
	if err := f.Truncate(end); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(bytes.Join([][]byte{bfield(modelOpsetImport, str(opsetDomain, ""), vfield(opsetVersion, 21))}, nil), end); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTensorDataUnread parses a model with 256 MiB of raw_data and checks
// that only its structure is read.
func TestTensorDataUnread(t *testing.T) {
	p := bigModel(t, 1000, 256<<20)
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	c := &countingReader{r: f}
	m, err := Parse(context.Background(), c, fi.Size(), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Nodes != 1000 || m.Parameters != 64<<20 || m.Opset("") != 21 {
		t.Errorf("nodes %d params %d opset %d", m.Nodes, m.Parameters, m.Opset(""))
	}
	if c.n > 256<<10 {
		t.Errorf("read %d of %d bytes", c.n, fi.Size())
	}
}

func BenchmarkParse(b *testing.B) {
	p := bigModel(b, 100_000, 1<<30)
	f, err := os.Open(p)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	b.ResetTimer()
	var read int64
	for range b.N {
		c := &countingReader{r: f}
		if _, err := Parse(context.Background(), c, fi.Size(), Limits{}); err != nil {
			b.Fatal(err)
		}
		read = c.n
	}
	b.ReportMetric(float64(read), "bytes-read/op")
	b.ReportMetric(float64(fi.Size()), "file-bytes")
}

func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join(fixtures, "*", "*.onnx"))
	more, _ := filepath.Glob(filepath.Join(fixtures, "*", "*", "*.onnx"))
	for _, p := range append(seeds, more...) {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	lim := Limits{Wire: protowire.Limits{Depth: 40, Fields: 1 << 14}, Nodes: 1 << 10, Tensors: 1 << 10}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parse(t, b, lim)
		if m == nil {
			t.Fatal("nil model")
		}
		if err != nil && !errors.Is(err, protowire.ErrMalformed) && !errors.Is(err, protowire.ErrLimit) && !errors.Is(err, ErrNotModel) {
			t.Fatalf("unexpected error %v", err)
		}
		if err == nil {
			n := 0
			for _, op := range m.Ops {
				n += op.Count
			}
			if n != m.Nodes {
				t.Fatalf("op counts sum to %d, Nodes = %d", n, m.Nodes)
			}
		}
		Identify(b, int64(len(b)))
	})
}
