// Package tfsaved reads what a TensorFlow SavedModel (saved_model.pb) or a
// frozen GraphDef declares — meta graph tags, signatures, assets, variables
// and every op of the graph and of each function in its library — without
// reading tensor data or variables.
//
// The protobuf is walked with package protowire. Field numbers are those of
// TensorFlow's saved_model.proto, meta_graph.proto, graph.proto,
// node_def.proto, function.proto, op_def.proto and attr_value.proto. Const
// tensors (AttrValue.tensor) are skipped by length. Known reports whether an
// op name is one TensorFlow registers itself; the list is ops.txt.
package tfsaved

import (
	"bufio"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/chainvet/chainvet/internal/modelfile/protowire"
)

//go:embed ops.txt
var opsText string

// registry is the set of op names TensorFlow registers itself.
var registry = func() map[string]bool {
	m := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(opsText))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			m[l] = true
		}
	}
	return m
}()

// Known reports whether TensorFlow itself registers the op name: an op
// that is neither known nor a function of the model's library needs a
// custom op library.
func Known(op string) bool { return registry[op] }

// Limits bound Parse.
type Limits struct {
	Wire protowire.Limits
	// Nodes is the most nodes counted across the graph and all functions.
	Nodes int
	// Functions is the most functions recorded.
	Functions int
	// OpTypes is the most distinct op names recorded.
	OpTypes int
	// Name is the longest name or string value kept; longer ones are cut
	// short. Names are only evidence.
	Name int
	// Dims is the most dimensions of a variable's shape.
	Dims int
	// MetaGraphs is the most meta graphs recorded.
	MetaGraphs int
}

// DefaultLimits suit large real models (a few 10^5 nodes in thousands of
// functions).
var DefaultLimits = Limits{
	Wire:       protowire.DefaultLimits,
	Nodes:      4 << 20,
	Functions:  1 << 16,
	OpTypes:    1 << 14,
	Name:       1 << 10,
	Dims:       64,
	MetaGraphs: 64,
}

// ErrNotSavedModel is returned when the protobuf has no meta graph.
var ErrNotSavedModel = errors.New("tfsaved: no meta_graphs: not a SavedModel")

// A SavedModel is what saved_model.pb declares.
type SavedModel struct {
	SchemaVersion int64
	MetaGraphs    []*Graph
}

// A Graph is one MetaGraphDef, or a bare GraphDef.
type Graph struct {
	Tags         []string
	TFVersion    string
	TFGitVersion string
	Signatures   []string
	Assets       []Asset
	// StrippedOps are the op names in meta_info_def.stripped_op_list.
	StrippedOps []string
	// Nodes counts the nodes of the graph and of every function.
	Nodes int
	// Functions are the names of the functions in the graph's library.
	Functions []string
	// Ops lists each op name used, in order of first use.
	Ops []Op
	// Attrs are string attributes of nodes whose ops read or write where
	// the attribute says (PrintV2's output_stream and the like).
	Attrs []Attr
	// Variables counts VarHandleOp, VariableV2 and Variable nodes of the
	// main graph; Parameters sums the elements of their shapes.
	Variables  int
	Parameters uint64
	DTypes     []string
	// Problems are inconsistencies in what parsed.
	Problems []Problem
	opIndex  map[string]int
	dtypes   map[string]bool
}

// An Asset is an asset_file_def entry: a file the graph reads from assets/.
type Asset struct {
	Filename string
	Offset   int64
}

// An Op is one op name and where it is first used.
type Op struct {
	Name  string
	Count int
	First NodeRef
}

// A NodeRef places a node: its name, the function it is in ("" for the
// main graph) and the offset of its NodeDef.
type NodeRef struct {
	Node     string
	Function string
	Offset   int64
}

// An Attr is a string attribute of a node.
type Attr struct {
	Op, Key, Value string
	At             NodeRef
}

// A Problem is an inconsistency found in what parsed.
type Problem struct {
	Offset int64
	Msg    string
}

// HasFunction reports whether the graph's library defines name.
func (g *Graph) HasFunction(name string) bool { return slices.Contains(g.Functions, name) }

// attrsOfInterest are the string attributes recorded per op: where the op
// reads or writes.
var attrsOfInterest = map[string][]string{
	"PrintV2":             {"output_stream"},
	"DebugIdentity":       {"debug_urls"},
	"DebugIdentityV2":     {"debug_urls"},
	"DebugIdentityV3":     {"debug_urls"},
	"DebugNanCount":       {"debug_urls"},
	"DebugNumericSummary": {"debug_urls"},
	"DecodeProtoV2":       {"descriptor_source"},
	"EncodeProto":         {"descriptor_source"},
}

// variableOps define variables; their shape attribute counts towards the
// parameters.
var variableOps = map[string]bool{"VarHandleOp": true, "VariableV2": true, "Variable": true}

// Field numbers of TensorFlow's protos.
const (
	savedSchemaVersion = 1
	savedMetaGraphs    = 2

	metaInfoDef     = 1
	metaGraphDef    = 2
	metaSignatures  = 5
	metaAssetFiles  = 6
	infoStrippedOps = 2
	infoTags        = 4
	infoTFVersion   = 5
	infoTFGit       = 6
	opListOp        = 1
	opDefName       = 1
	mapKey          = 1
	mapValue        = 2
	assetFilename   = 2

	graphNode    = 1
	graphLibrary = 2
	libFunction  = 1
	fnSignature  = 1
	fnNodeDef    = 3

	nodeName = 1
	nodeOp   = 2
	nodeAttr = 5

	attrList         = 1
	attrS            = 2
	attrType         = 6
	attrShape        = 7
	attrTensor       = 8
	tensorShapeField = 2
	listS            = 2
	shapeDim         = 2
	dimSize          = 1
	refOffset        = 100 // DT_FLOAT_REF = DT_FLOAT + 100

	maxTags        = 64
	maxSignatures  = 4096
	maxAssets      = 4096
	maxAttrs       = 1024
	maxAttrValues  = 64
	maxStrippedOps = 1 << 14
	maxProblems    = 64
)

var dataTypes = map[int]string{
	1: "F32", 2: "F64", 3: "I32", 4: "U8", 5: "I16", 6: "I8", 7: "STRING", 8: "C64", 9: "I64",
	10: "BOOL", 11: "QI8", 12: "QU8", 13: "QI32", 14: "BF16", 15: "QI16", 16: "QU16", 17: "U16",
	18: "C128", 19: "F16", 20: "RESOURCE", 21: "VARIANT", 22: "U32", 23: "U64",
}

// DataTypeName names a TensorFlow DataType, reference types as their base.
func DataTypeName(t int) string {
	if t > refOffset {
		t -= refOffset
	}
	if n, ok := dataTypes[t]; ok {
		return n
	}
	return "type" + strconv.Itoa(t)
}

type parser struct {
	lim   Limits
	nodes int
	// consts counts the main graph's Const tensors as parameters, as a
	// frozen graph stores its weights.
	consts bool
}

func withDefaults(l Limits) Limits {
	d := DefaultLimits
	if l.Wire.Depth > 0 {
		d.Wire.Depth = l.Wire.Depth
	}
	if l.Wire.Fields > 0 {
		d.Wire.Fields = l.Wire.Fields
	}
	for _, f := range []struct{ dst, src *int }{
		{&d.Nodes, &l.Nodes}, {&d.Functions, &l.Functions}, {&d.OpTypes, &l.OpTypes},
		{&d.Name, &l.Name}, {&d.Dims, &l.Dims}, {&d.MetaGraphs, &l.MetaGraphs},
	} {
		if *f.src > 0 {
			*f.dst = *f.src
		}
	}
	return d
}

func limitErr(off int64, format string, args ...any) error {
	return &protowire.Error{Offset: off, Msg: fmt.Sprintf(format, args...), Err: protowire.ErrLimit}
}

// Parse reads the SavedModel in r, which holds size bytes. It returns what
// parsed even with an error; errors wrap protowire.ErrMalformed,
// protowire.ErrLimit or ErrNotSavedModel.
func Parse(ctx context.Context, r io.ReaderAt, size int64, lim Limits) (*SavedModel, error) {
	lim = withDefaults(lim)
	p := &parser{lim: lim}
	sm := &SavedModel{}
	msg := protowire.NewDecoder(ctx, r, size, lim.Wire).Root()
	err := func() error {
		for {
			f, err := msg.Next()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			switch {
			case f.Num == savedSchemaVersion && f.Type == protowire.Varint:
				sm.SchemaVersion = int64(f.Value)
			case f.Num == savedMetaGraphs && f.Type == protowire.Bytes:
				if len(sm.MetaGraphs) >= lim.MetaGraphs {
					return limitErr(f.Offset, "more than %d meta graphs", lim.MetaGraphs)
				}
				g := newGraph()
				sm.MetaGraphs = append(sm.MetaGraphs, g)
				if err := p.metaGraph(msg, f, g); err != nil {
					return err
				}
			}
		}
	}()
	for _, g := range sm.MetaGraphs {
		g.finish()
	}
	if err != nil {
		return sm, fmt.Errorf("tfsaved: %w", err)
	}
	if len(sm.MetaGraphs) == 0 {
		return sm, ErrNotSavedModel
	}
	return sm, nil
}

// ParseGraphDef reads a bare GraphDef (a frozen graph .pb).
func ParseGraphDef(ctx context.Context, r io.ReaderAt, size int64, lim Limits) (*Graph, error) {
	lim = withDefaults(lim)
	p := &parser{lim: lim, consts: true}
	g := newGraph()
	msg := protowire.NewDecoder(ctx, r, size, lim.Wire).Root()
	err := p.graphFields(msg, g)
	g.finish()
	if err != nil {
		return g, fmt.Errorf("tfsaved: %w", err)
	}
	return g, nil
}

func newGraph() *Graph {
	return &Graph{opIndex: map[string]int{}, dtypes: map[string]bool{}}
}

func (g *Graph) finish() {
	g.DTypes = g.DTypes[:0]
	for t := range g.dtypes {
		g.DTypes = append(g.DTypes, t)
	}
	slices.Sort(g.DTypes)
}

func (g *Graph) problem(off int64, format string, args ...any) {
	if len(g.Problems) < maxProblems {
		g.Problems = append(g.Problems, Problem{off, fmt.Sprintf(format, args...)})
	}
}

func (p *parser) str(msg *protowire.Message, f protowire.Field) (string, error) {
	s, cut, err := msg.String(f, p.lim.Name)
	if cut {
		s += "…"
	}
	return s, err
}

// each walks the fields of the message in f.
func each(parent *protowire.Message, f protowire.Field, fn func(*protowire.Message, protowire.Field) error) error {
	msg, err := parent.Sub(f)
	if err != nil {
		return err
	}
	for {
		g, err := msg.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(msg, g); err != nil {
			return err
		}
	}
}

func (p *parser) metaGraph(parent *protowire.Message, f protowire.Field, g *Graph) error {
	return each(parent, f, func(msg *protowire.Message, f protowire.Field) error {
		if f.Type != protowire.Bytes {
			return nil
		}
		switch f.Num {
		case metaInfoDef:
			return p.metaInfo(msg, f, g)
		case metaGraphDef:
			sub, err := msg.Sub(f)
			if err != nil {
				return err
			}
			return p.graphFields(sub, g)
		case metaSignatures:
			if len(g.Signatures) >= maxSignatures {
				return limitErr(f.Offset, "more than %d signatures", maxSignatures)
			}
			return each(msg, f, func(m *protowire.Message, e protowire.Field) error {
				if e.Num == mapKey && e.Type == protowire.Bytes {
					s, err := p.str(m, e)
					g.Signatures = append(g.Signatures, s)
					return err
				}
				return nil
			})
		case metaAssetFiles:
			if len(g.Assets) >= maxAssets {
				return limitErr(f.Offset, "more than %d assets", maxAssets)
			}
			a := Asset{Offset: f.Offset}
			err := each(msg, f, func(m *protowire.Message, e protowire.Field) error {
				if e.Num == assetFilename && e.Type == protowire.Bytes {
					var err error
					a.Filename, err = p.str(m, e)
					return err
				}
				return nil
			})
			g.Assets = append(g.Assets, a)
			return err
		}
		return nil
	})
}

func (p *parser) metaInfo(parent *protowire.Message, f protowire.Field, g *Graph) error {
	return each(parent, f, func(msg *protowire.Message, f protowire.Field) error {
		if f.Type != protowire.Bytes {
			return nil
		}
		var err error
		switch f.Num {
		case infoTags:
			if len(g.Tags) >= maxTags {
				return limitErr(f.Offset, "more than %d tags", maxTags)
			}
			var s string
			s, err = p.str(msg, f)
			g.Tags = append(g.Tags, s)
		case infoTFVersion:
			g.TFVersion, err = p.str(msg, f)
		case infoTFGit:
			g.TFGitVersion, err = p.str(msg, f)
		case infoStrippedOps:
			err = each(msg, f, func(m *protowire.Message, o protowire.Field) error {
				if o.Num != opListOp || o.Type != protowire.Bytes {
					return nil
				}
				if len(g.StrippedOps) >= maxStrippedOps {
					return limitErr(o.Offset, "more than %d op definitions", maxStrippedOps)
				}
				return each(m, o, func(d *protowire.Message, n protowire.Field) error {
					if n.Num == opDefName && n.Type == protowire.Bytes {
						s, err := p.str(d, n)
						g.StrippedOps = append(g.StrippedOps, s)
						return err
					}
					return nil
				})
			})
		}
		return err
	})
}

// graphFields walks a GraphDef's fields: its nodes and its library.
func (p *parser) graphFields(msg *protowire.Message, g *Graph) error {
	for {
		f, err := msg.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if f.Type != protowire.Bytes {
			continue
		}
		switch f.Num {
		case graphNode:
			err = p.node(msg, f, g, "")
		case graphLibrary:
			err = each(msg, f, func(m *protowire.Message, fn protowire.Field) error {
				if fn.Num == libFunction && fn.Type == protowire.Bytes {
					return p.function(m, fn, g)
				}
				return nil // gradients and registered gradients name functions only
			})
		}
		if err != nil {
			return err
		}
	}
}

func (p *parser) function(parent *protowire.Message, f protowire.Field, g *Graph) error {
	if len(g.Functions) >= p.lim.Functions {
		return limitErr(f.Offset, "more than %d functions", p.lim.Functions)
	}
	msg, err := parent.Sub(f)
	if err != nil {
		return err
	}
	// The signature (the name) may follow the nodes: find it first.
	var nodes []protowire.Field
	name := ""
	for {
		f, err := msg.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		switch {
		case f.Num == fnSignature && f.Type == protowire.Bytes:
			err = each(msg, f, func(m *protowire.Message, n protowire.Field) error {
				if n.Num == opDefName && n.Type == protowire.Bytes {
					var err error
					name, err = p.str(m, n)
					return err
				}
				return nil
			})
		case f.Num == fnNodeDef && f.Type == protowire.Bytes:
			if len(nodes) >= p.lim.Nodes {
				return limitErr(f.Offset, "more than %d nodes", p.lim.Nodes)
			}
			nodes = append(nodes, f)
		}
		if err != nil {
			return err
		}
	}
	g.Functions = append(g.Functions, name)
	label := name
	if label == "" {
		label = "?"
	}
	for _, n := range nodes {
		if err := p.node(msg, n, g, label); err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) node(parent *protowire.Message, f protowire.Field, g *Graph, function string) error {
	p.nodes++
	if p.nodes > p.lim.Nodes {
		return limitErr(f.Offset, "more than %d nodes", p.lim.Nodes)
	}
	msg, err := parent.Sub(f)
	if err != nil {
		return err
	}
	ref := NodeRef{Function: function, Offset: f.Offset}
	op := ""
	var attrs []protowire.Field
	for {
		f, err := msg.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		switch {
		case f.Num == nodeName && f.Type == protowire.Bytes:
			ref.Node, err = p.str(msg, f)
		case f.Num == nodeOp && f.Type == protowire.Bytes:
			op, err = p.str(msg, f)
		case f.Num == nodeAttr && f.Type == protowire.Bytes:
			attrs = append(attrs, f)
		}
		if err != nil {
			return err
		}
	}
	if op == "" {
		g.problem(ref.Offset, "node %q has no op", ref.Node)
	}
	if err := p.use(g, op, ref); err != nil {
		return err
	}
	// Counted with its op, so that a node cut short by malformed input is
	// in neither count.
	g.Nodes++
	keys, interesting := attrsOfInterest[op]
	isVar := (variableOps[op] || p.consts && op == "Const") && function == ""
	if !interesting && !isVar {
		return nil
	}
	var shape []int64
	var dtype int
	var shaped bool
	for _, a := range attrs {
		key, value, err := p.entry(msg, a)
		if err != nil {
			return err
		}
		switch {
		case interesting && slices.Contains(keys, key):
			vals, err := p.strings(msg, value)
			if err != nil {
				return err
			}
			for _, v := range vals {
				if len(g.Attrs) < maxAttrs {
					g.Attrs = append(g.Attrs, Attr{Op: op, Key: key, Value: v, At: ref})
				}
			}
		case isVar && key == "shape":
			shape, err = p.shape(msg, value)
			shaped = err == nil
			if err != nil {
				return err
			}
		case isVar && key == "dtype":
			dtype, err = p.typeAttr(msg, value)
			if err != nil {
				return err
			}
		case isVar && key == "value":
			shape, err = p.tensorShape(msg, value)
			shaped = err == nil
			if err != nil {
				return err
			}
		}
	}
	if isVar {
		g.Variables++
		if dtype != 0 {
			g.dtypes[DataTypeName(dtype)] = true
		}
		if shaped {
			n, ok := elements(shape)
			switch {
			case !ok:
				g.problem(ref.Offset, "variable %q has shape %v: negative or overflowing", ref.Node, shape)
			case g.Parameters+n >= g.Parameters:
				g.Parameters += n
			default:
				g.problem(ref.Offset, "variable sizes overflow 64 bits")
			}
		}
	}
	return nil
}

// elements is the product of a fully defined shape; an unknown dimension
// (-1) counts as 0, a more negative one is invalid.
func elements(dims []int64) (uint64, bool) {
	n := uint64(1)
	for _, d := range dims {
		switch {
		case d == -1:
			return 0, true
		case d < 0:
			return 0, false
		case d != 0 && n > ^uint64(0)/uint64(d):
			return 0, false
		}
		n *= uint64(d)
	}
	return n, true
}

func (p *parser) use(g *Graph, op string, ref NodeRef) error {
	if i, ok := g.opIndex[op]; ok {
		g.Ops[i].Count++
		return nil
	}
	if len(g.Ops) >= p.lim.OpTypes {
		return limitErr(ref.Offset, "more than %d distinct ops", p.lim.OpTypes)
	}
	g.opIndex[op] = len(g.Ops)
	g.Ops = append(g.Ops, Op{Name: op, Count: 1, First: ref})
	return nil
}

// entry reads a map<string, AttrValue> entry: the key, and the value's field.
func (p *parser) entry(parent *protowire.Message, f protowire.Field) (string, protowire.Field, error) {
	var key string
	var value protowire.Field
	msg, err := parent.Sub(f)
	if err != nil {
		return "", value, err
	}
	for {
		e, err := msg.Next()
		if err == io.EOF {
			return key, value, nil
		}
		if err != nil {
			return "", value, err
		}
		switch {
		case e.Num == mapKey && e.Type == protowire.Bytes:
			if key, err = p.str(msg, e); err != nil {
				return "", value, err
			}
		case e.Num == mapValue && e.Type == protowire.Bytes:
			value = e
		}
	}
}

// strings reads an AttrValue's s, or list.s.
func (p *parser) strings(parent *protowire.Message, value protowire.Field) ([]string, error) {
	if value.Type != protowire.Bytes {
		return nil, nil
	}
	var out []string
	err := each(parent, value, func(m *protowire.Message, f protowire.Field) error {
		switch {
		case f.Num == attrS && f.Type == protowire.Bytes:
			s, err := p.str(m, f)
			out = append(out, s)
			return err
		case f.Num == attrList && f.Type == protowire.Bytes:
			return each(m, f, func(l *protowire.Message, e protowire.Field) error {
				if e.Num == listS && e.Type == protowire.Bytes && len(out) < maxAttrValues {
					s, err := p.str(l, e)
					out = append(out, s)
					return err
				}
				return nil
			})
		}
		return nil
	})
	return out, err
}

func (p *parser) typeAttr(parent *protowire.Message, value protowire.Field) (int, error) {
	t := 0
	if value.Type != protowire.Bytes {
		return 0, nil
	}
	err := each(parent, value, func(m *protowire.Message, f protowire.Field) error {
		if f.Num == attrType && f.Type == protowire.Varint {
			t = int(int32(f.Value))
		}
		return nil
	})
	return t, err
}

// tensorShape reads the shape of an AttrValue's tensor, never its content.
func (p *parser) tensorShape(parent *protowire.Message, value protowire.Field) ([]int64, error) {
	var dims []int64
	if value.Type != protowire.Bytes {
		return nil, nil
	}
	err := each(parent, value, func(m *protowire.Message, f protowire.Field) error {
		if f.Num != attrTensor || f.Type != protowire.Bytes {
			return nil
		}
		return each(m, f, func(t *protowire.Message, s protowire.Field) error {
			if s.Num != tensorShapeField || s.Type != protowire.Bytes {
				return nil // tensor_content and the typed values are skipped
			}
			var err error
			dims, err = p.dims(t, s)
			return err
		})
	})
	return dims, err
}

// shape reads an AttrValue's shape: a TensorShapeProto's dim sizes.
func (p *parser) shape(parent *protowire.Message, value protowire.Field) ([]int64, error) {
	var dims []int64
	if value.Type != protowire.Bytes {
		return nil, nil
	}
	err := each(parent, value, func(m *protowire.Message, f protowire.Field) error {
		if f.Num != attrShape || f.Type != protowire.Bytes {
			return nil
		}
		var err error
		dims, err = p.dims(m, f)
		return err
	})
	return dims, err
}

// dims reads a TensorShapeProto's dim sizes.
func (p *parser) dims(parent *protowire.Message, f protowire.Field) ([]int64, error) {
	var dims []int64
	err := each(parent, f, func(s *protowire.Message, d protowire.Field) error {
		if d.Num != shapeDim || d.Type != protowire.Bytes {
			return nil
		}
		if len(dims) >= p.lim.Dims {
			return limitErr(d.Offset, "more than %d dimensions", p.lim.Dims)
		}
		size := int64(0)
		err := each(s, d, func(_ *protowire.Message, z protowire.Field) error {
			if z.Num == dimSize && z.Type == protowire.Varint {
				size = int64(z.Value)
			}
			return nil
		})
		dims = append(dims, size)
		return err
	})
	return dims, err
}
