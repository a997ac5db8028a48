// Package onnx reads what an ONNX model declares — IR version, opsets,
// producer, inputs and outputs, the operators of every graph, subgraph and
// function, and where each tensor's data lives — without reading tensor data.
//
// The ModelProto is walked with package protowire; raw_data and the typed
// data fields of every TensorProto are skipped by length. Field numbers are
// those of onnx.proto (IR versions 1 to 11). Subgraphs in node attributes
// (If, Loop, Scan), training graphs and model-local functions are walked
// too, since a runtime executes them as it does the main graph.
package onnx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/chainvet/chainvet/internal/modelfile/protowire"
)

// Limits bound Parse.
type Limits struct {
	// Wire bounds the protobuf walk (message depth, fields in all).
	Wire protowire.Limits
	// GraphDepth is the deepest nesting of subgraphs in node attributes.
	// Real models nest If and Loop bodies a few levels deep.
	GraphDepth int
	// Nodes is the most nodes counted across every graph and function.
	Nodes int
	// Tensors is the most initializers and attribute tensors recorded.
	Tensors int
	// OpTypes is the most distinct (domain, op type) pairs recorded.
	OpTypes int
	// Name is the longest name or string value kept, in bytes; longer
	// ones are kept cut short. Names are only evidence.
	Name int
	// Dims is the most dimensions a tensor or value may have.
	Dims int
}

// DefaultLimits suit the largest real models (LLMs exported to ONNX have
// some 10^5 nodes and 10^4 initializers).
var DefaultLimits = Limits{
	Wire:       protowire.DefaultLimits,
	GraphDepth: 32,
	Nodes:      4 << 20,
	Tensors:    1 << 20,
	OpTypes:    1 << 14,
	Name:       1 << 10,
	Dims:       64,
}

// ErrNotModel is returned when a protobuf holds no graph and no opset: it
// is not an ONNX model.
var ErrNotModel = errors.New("onnx: no graph or opset_import: not an ONNX model")

// A Model is what a ModelProto declares.
type Model struct {
	IRVersion       int64
	Opsets          []Opset
	Producer        string
	ProducerVersion string
	Domain          string
	ModelVersion    int64
	Metadata        []Prop
	// Graph is the main graph's name.
	Graph   string
	Inputs  []Value
	Outputs []Value
	// HasGraph reports whether the model has a main graph.
	HasGraph bool
	// Nodes counts the nodes of every graph, subgraph and function.
	Nodes int
	// Ops lists each (domain, op type) used, in order of first use.
	Ops       []Op
	Functions []Function
	// Initializers counts the main graph's and subgraphs' initializers,
	// sparse ones included; Parameters is the sum of their element counts.
	Initializers int
	Parameters   uint64
	// ParametersOverflow reports a sum too large for a uint64: the dims lie.
	ParametersOverflow bool
	// DTypes are the initializers' element types, by name ("F32").
	DTypes []string
	// Tensors lists every tensor whose data is stored outside the model
	// file, or whose dims are inconsistent.
	External []Tensor
	// Problems are inconsistencies in what parsed: negative dims, and the like.
	Problems []Problem
}

// An Opset is one entry of opset_import.
type Opset struct {
	Domain  string
	Version int64
}

// A Prop is a key/value pair (metadata_props, external_data).
type Prop struct{ Key, Value string }

// A Value is a graph input or output.
type Value struct {
	Name string
	Type string // e.g. "F32[1,3,224,224]", "seq(F32[N])"
}

// An Op is one (domain, op type) pair and where it is first used.
type Op struct {
	Domain string // "" is the default ONNX domain
	Type   string
	Count  int
	// First is the first node that uses it.
	First NodeRef
}

// A NodeRef places a node: its name, the graph or function it is in (as a
// path such as "main/loop_0.body"), and the offset of its NodeProto.
type NodeRef struct {
	Name   string
	Scope  string
	Offset int64
}

// A Function is a model-local FunctionProto: nodes whose (domain, op type)
// match it call it rather than a kernel.
type Function struct {
	Domain, Name string
}

// A Tensor is a TensorProto whose data lives outside the model file.
type Tensor struct {
	Name     string
	Scope    string
	Offset   int64
	DataType int32
	Dims     []int64
	// External holds the external_data entries, in order.
	External []Prop
	// LocationExternal reports data_location = EXTERNAL.
	LocationExternal bool
}

// Get returns the value of an external_data key, and whether it is set.
// A key given twice takes its last value, as onnx and onnxruntime read it.
func (t *Tensor) Get(key string) (string, bool) {
	for i := len(t.External) - 1; i >= 0; i-- {
		if t.External[i].Key == key {
			return t.External[i].Value, true
		}
	}
	return "", false
}

// All returns every value given for an external_data key, in order.
func (t *Tensor) All(key string) []string {
	var out []string
	for _, p := range t.External {
		if p.Key == key {
			out = append(out, p.Value)
		}
	}
	return out
}

// A Problem is an inconsistency found in a model that parsed.
type Problem struct {
	Offset int64
	Msg    string
}

// Opset returns the version imported for domain ("" and "ai.onnx" are the
// same domain), or 0.
func (m *Model) Opset(domain string) int64 {
	for _, o := range m.Opsets {
		if CanonicalDomain(o.Domain) == CanonicalDomain(domain) {
			return o.Version
		}
	}
	return 0
}

// Function reports whether the model defines a function that nodes of
// (domain, op type) call.
func (m *Model) Function(domain, opType string) bool {
	return slices.Contains(m.Functions, Function{CanonicalDomain(domain), opType})
}

// CanonicalDomain maps "ai.onnx" to "", the two spellings of the default
// domain.
func CanonicalDomain(d string) string {
	if d == "ai.onnx" {
		return ""
	}
	return d
}

// Data types of TensorProto, by their names in the safetensors style.
var dataTypes = map[int32]string{
	1: "F32", 2: "U8", 3: "I8", 4: "U16", 5: "I16", 6: "I32", 7: "I64", 8: "STRING",
	9: "BOOL", 10: "F16", 11: "F64", 12: "U32", 13: "U64", 14: "C64", 15: "C128",
	16: "BF16", 17: "F8_E4M3FN", 18: "F8_E4M3FNUZ", 19: "F8_E5M2", 20: "F8_E5M2FNUZ",
	21: "U4", 22: "I4", 23: "F4_E2M1", 24: "F8_E8M0",
}

// DataTypeName names a TensorProto data type.
func DataTypeName(t int32) string {
	if n, ok := dataTypes[t]; ok {
		return n
	}
	return "type" + strconv.Itoa(int(t))
}

// Field numbers of onnx.proto.
const (
	modelIRVersion       = 1
	modelProducerName    = 2
	modelProducerVersion = 3
	modelDomain          = 4
	modelVersion         = 5
	modelGraph           = 7
	modelOpsetImport     = 8
	modelMetadataProps   = 14
	modelTrainingInfo    = 20
	modelFunctions       = 25

	opsetDomain  = 1
	opsetVersion = 2

	entryKey   = 1
	entryValue = 2

	graphNode               = 1
	graphName               = 2
	graphInitializer        = 5
	graphInput              = 11
	graphOutput             = 12
	graphSparseInitializer  = 15
	trainingInitialization  = 1
	trainingAlgorithm       = 2
	nodeName                = 3
	nodeOpType              = 4
	nodeAttribute           = 5
	nodeDomain              = 7
	attrName                = 1
	attrT                   = 5
	attrG                   = 6
	attrTensors             = 10
	attrGraphs              = 11
	attrSparseTensor        = 22
	attrSparseTensors       = 23
	tensorDims              = 1
	tensorDataType          = 2
	tensorName              = 8
	tensorExternalData      = 13
	tensorDataLocation      = 14
	sparseValues            = 1
	sparseIndices           = 2
	sparseDims              = 3
	valueName               = 1
	valueType               = 2
	typeTensor              = 1
	typeSequence            = 4
	typeMap                 = 5
	typeSparseTensor        = 8
	typeOptional            = 9
	typeTensorElem          = 1
	typeTensorShape         = 2
	typeSequenceElem        = 1
	typeMapKey              = 1
	typeMapValue            = 2
	shapeDim                = 1
	dimValue                = 1
	dimParam                = 2
	functionName            = 1
	functionNode            = 7
	functionDomain          = 10
	dataLocationExternal    = 1
	maxTypeDepth            = 8  // sequence(map(optional(...))) nesting shown
	maxExternalEntries      = 64 // keys of one external_data list
	maxMetadata             = 256
	maxOpsets               = 1024
	maxValues               = 4096 // graph inputs/outputs recorded
	firstFieldIRVersionMax  = 64   // IR versions are single digits today
	identifyFieldsToExamine = 16
)

// maxRetained bounds the bytes of names and values a parse keeps (ops,
// external data entries, metadata, inputs and outputs), whatever the
// counts: evidence needs no more.
const maxRetained = 64 << 20

// parser carries one Parse.
type parser struct {
	lim      Limits
	m        *Model
	opIndex  map[[2]string]int
	dtypes   map[string]bool
	tensors  int
	retained int
}

// keep counts n bytes kept towards maxRetained.
func (p *parser) keep(off int64, n int) error {
	if p.retained += n; p.retained > maxRetained {
		return &protowire.Error{Offset: off, Msg: fmt.Sprintf("more than %d bytes of names kept", maxRetained), Err: protowire.ErrLimit}
	}
	return nil
}

// Parse reads the ModelProto in r, which holds size bytes. It returns what
// parsed even with an error; errors wrap protowire.ErrMalformed,
// protowire.ErrLimit or ErrNotModel.
func Parse(ctx context.Context, r io.ReaderAt, size int64, lim Limits) (*Model, error) {
	lim = withDefaults(lim)
	d := protowire.NewDecoder(ctx, r, size, lim.Wire)
	p := &parser{lim: lim, m: &Model{}, opIndex: map[[2]string]int{}, dtypes: map[string]bool{}}
	err := p.model(d.Root())
	for t := range p.dtypes {
		p.m.DTypes = append(p.m.DTypes, t)
	}
	slices.Sort(p.m.DTypes)
	if err != nil {
		return p.m, fmt.Errorf("onnx: %w", err)
	}
	if !p.m.HasGraph && len(p.m.Opsets) == 0 {
		return p.m, ErrNotModel
	}
	return p.m, nil
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
		{&d.GraphDepth, &l.GraphDepth}, {&d.Nodes, &l.Nodes}, {&d.Tensors, &l.Tensors},
		{&d.OpTypes, &l.OpTypes}, {&d.Name, &l.Name}, {&d.Dims, &l.Dims},
	} {
		if *f.src > 0 {
			*f.dst = *f.src
		}
	}
	return d
}

func (p *parser) str(msg *protowire.Message, f protowire.Field) (string, error) {
	s, cut, err := msg.String(f, p.lim.Name)
	if cut {
		s += "…"
	}
	return s, err
}

func (p *parser) problem(off int64, format string, args ...any) {
	if len(p.m.Problems) < 64 {
		p.m.Problems = append(p.m.Problems, Problem{off, fmt.Sprintf(format, args...)})
	}
}

func (p *parser) model(msg *protowire.Message) error {
	m := p.m
	var graphs, trainings, functions []protowire.Field
	for {
		f, err := msg.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		switch {
		case f.Num == modelIRVersion && f.Type == protowire.Varint:
			m.IRVersion = int64(f.Value)
		case f.Num == modelProducerName && f.Type == protowire.Bytes:
			m.Producer, err = p.str(msg, f)
		case f.Num == modelProducerVersion && f.Type == protowire.Bytes:
			m.ProducerVersion, err = p.str(msg, f)
		case f.Num == modelDomain && f.Type == protowire.Bytes:
			m.Domain, err = p.str(msg, f)
		case f.Num == modelVersion && f.Type == protowire.Varint:
			m.ModelVersion = int64(f.Value)
		case f.Num == modelGraph && f.Type == protowire.Bytes:
			graphs = append(graphs, f)
		case f.Num == modelOpsetImport && f.Type == protowire.Bytes:
			if len(m.Opsets) >= maxOpsets {
				return &protowire.Error{Offset: f.Offset, Msg: fmt.Sprintf("more than %d opset imports", maxOpsets), Err: protowire.ErrLimit}
			}
			var o Opset
			if o, err = p.opset(msg, f); err == nil {
				m.Opsets = append(m.Opsets, o)
			}
		case f.Num == modelMetadataProps && f.Type == protowire.Bytes:
			if len(m.Metadata) < maxMetadata {
				var kv Prop
				if kv, err = p.entry(msg, f); err == nil {
					m.Metadata = append(m.Metadata, kv)
					err = p.keep(f.Offset, len(kv.Key)+len(kv.Value))
				}
			}
		case f.Num == modelTrainingInfo && f.Type == protowire.Bytes:
			trainings = append(trainings, f)
		case f.Num == modelFunctions && f.Type == protowire.Bytes:
			functions = append(functions, f)
		}
		if err != nil {
			return err
		}
	}
	// Functions first: nodes that call them are then known not to need a
	// kernel. Graph fields that repeat are merged, as protobuf does.
	for _, f := range functions {
		if err := p.function(msg, f, true); err != nil {
			return err
		}
	}
	for i, f := range graphs {
		m.HasGraph = true
		if err := p.graph(msg, f, "", 0, i == len(graphs)-1); err != nil {
			return err
		}
	}
	for i, f := range trainings {
		if err := p.training(msg, f, fmt.Sprintf("training_info[%d]", i)); err != nil {
			return err
		}
	}
	for _, f := range functions {
		if err := p.function(msg, f, false); err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) opset(parent *protowire.Message, f protowire.Field) (Opset, error) {
	var o Opset
	msg, err := parent.Sub(f)
	if err != nil {
		return o, err
	}
	for {
		f, err := msg.Next()
		if err == io.EOF {
			return o, nil
		}
		if err != nil {
			return o, err
		}
		switch {
		case f.Num == opsetDomain && f.Type == protowire.Bytes:
			if o.Domain, err = p.str(msg, f); err != nil {
				return o, err
			}
		case f.Num == opsetVersion && f.Type == protowire.Varint:
			o.Version = int64(f.Value)
		}
	}
}

func (p *parser) entry(parent *protowire.Message, f protowire.Field) (Prop, error) {
	var kv Prop
	msg, err := parent.Sub(f)
	if err != nil {
		return kv, err
	}
	for {
		f, err := msg.Next()
		if err == io.EOF {
			return kv, nil
		}
		if err != nil {
			return kv, err
		}
		switch {
		case f.Num == entryKey && f.Type == protowire.Bytes:
			kv.Key, err = p.str(msg, f)
		case f.Num == entryValue && f.Type == protowire.Bytes:
			kv.Value, err = p.str(msg, f)
		}
		if err != nil {
			return kv, err
		}
	}
}

func (p *parser) training(parent *protowire.Message, f protowire.Field, scope string) error {
	msg, err := parent.Sub(f)
	if err != nil {
		return err
	}
	for {
		f, err := msg.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch {
		case f.Num == trainingInitialization && f.Type == protowire.Bytes:
			err = p.graph(msg, f, scope+".initialization", 1, false)
		case f.Num == trainingAlgorithm && f.Type == protowire.Bytes:
			err = p.graph(msg, f, scope+".algorithm", 1, false)
		}
		if err != nil {
			return err
		}
	}
}

// graph walks a GraphProto. scope is the path of the attribute holding it
// ("" for the main graph); main reports the main graph, whose inputs and
// outputs are recorded.
func (p *parser) graph(parent *protowire.Message, f protowire.Field, scope string, depth int, main bool) error {
	if depth > p.lim.GraphDepth {
		return &protowire.Error{Offset: f.Offset, Msg: fmt.Sprintf("subgraphs nested deeper than %d", p.lim.GraphDepth), Err: protowire.ErrLimit}
	}
	msg, err := parent.Sub(f)
	if err != nil {
		return err
	}
	// The name comes first in the scope of the graph's nodes, but may
	// follow them in the file: find it before walking the nodes.
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
		case f.Num == graphNode && f.Type == protowire.Bytes:
			if len(nodes) >= p.lim.Nodes {
				return &protowire.Error{Offset: f.Offset, Msg: fmt.Sprintf("more than %d nodes", p.lim.Nodes), Err: protowire.ErrLimit}
			}
			nodes = append(nodes, f)
		case f.Num == graphName && f.Type == protowire.Bytes:
			name, err = p.str(msg, f)
		case f.Num == graphInitializer && f.Type == protowire.Bytes:
			err = p.tensor(msg, f, scope, true)
		case f.Num == graphSparseInitializer && f.Type == protowire.Bytes:
			err = p.sparse(msg, f, scope, true)
		case (f.Num == graphInput || f.Num == graphOutput) && f.Type == protowire.Bytes && main:
			list := &p.m.Inputs
			if f.Num == graphOutput {
				list = &p.m.Outputs
			}
			if len(*list) < maxValues {
				var v Value
				if v, err = p.value(msg, f); err == nil {
					*list = append(*list, v)
					err = p.keep(f.Offset, len(v.Name)+len(v.Type))
				}
			}
		}
		if err != nil {
			return err
		}
	}
	if main {
		p.m.Graph = name
	}
	if scope == "" {
		scope = cmpOr(name, "main")
	}
	for _, f := range nodes {
		if err := p.node(msg, f, scope, depth); err != nil {
			return err
		}
	}
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (p *parser) node(parent *protowire.Message, f protowire.Field, scope string, depth int) error {
	p.m.Nodes++
	if p.m.Nodes > p.lim.Nodes {
		return &protowire.Error{Offset: f.Offset, Msg: fmt.Sprintf("more than %d nodes", p.lim.Nodes), Err: protowire.ErrLimit}
	}
	msg, err := parent.Sub(f)
	if err != nil {
		return err
	}
	ref := NodeRef{Scope: scope, Offset: f.Offset}
	var domain, opType string
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
			ref.Name, err = p.str(msg, f)
		case f.Num == nodeOpType && f.Type == protowire.Bytes:
			opType, err = p.str(msg, f)
		case f.Num == nodeDomain && f.Type == protowire.Bytes:
			domain, err = p.str(msg, f)
		case f.Num == nodeAttribute && f.Type == protowire.Bytes:
			attrs = append(attrs, f)
		}
		if err != nil {
			return err
		}
	}
	if err := p.use(domain, opType, ref); err != nil {
		return err
	}
	label := cmpOr(ref.Name, opType)
	for _, a := range attrs {
		if err := p.attribute(msg, a, scope+"/"+label, depth); err != nil {
			return err
		}
	}
	return nil
}

// use records a node of (domain, opType).
func (p *parser) use(domain, opType string, ref NodeRef) error {
	key := [2]string{CanonicalDomain(domain), opType}
	if i, ok := p.opIndex[key]; ok {
		p.m.Ops[i].Count++
		return nil
	}
	if len(p.m.Ops) >= p.lim.OpTypes {
		return &protowire.Error{Offset: ref.Offset, Msg: fmt.Sprintf("more than %d distinct operators", p.lim.OpTypes), Err: protowire.ErrLimit}
	}
	p.opIndex[key] = len(p.m.Ops)
	p.m.Ops = append(p.m.Ops, Op{Domain: key[0], Type: opType, Count: 1, First: ref})
	return p.keep(ref.Offset, len(domain)+len(opType)+len(ref.Name)+len(ref.Scope))
}

func (p *parser) attribute(parent *protowire.Message, f protowire.Field, scope string, depth int) error {
	msg, err := parent.Sub(f)
	if err != nil {
		return err
	}
	// As for graphs, the attribute's name may follow its value.
	var values []protowire.Field
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
		case f.Num == attrName && f.Type == protowire.Bytes:
			if name, err = p.str(msg, f); err != nil {
				return err
			}
		case (f.Num == attrT || f.Num == attrG || f.Num == attrTensors || f.Num == attrGraphs ||
			f.Num == attrSparseTensor || f.Num == attrSparseTensors) && f.Type == protowire.Bytes:
			values = append(values, f)
		}
	}
	scope += "." + cmpOr(name, "?")
	graphs := 0
	for _, v := range values {
		switch v.Num {
		case attrT, attrTensors:
			err = p.tensor(msg, v, scope, false)
		case attrSparseTensor, attrSparseTensors:
			err = p.sparse(msg, v, scope, false)
		case attrG:
			err = p.graph(msg, v, scope, depth+1, false)
		case attrGraphs:
			err = p.graph(msg, v, fmt.Sprintf("%s[%d]", scope, graphs), depth+1, false)
			graphs++
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// tensor reads a TensorProto's header fields, never its data. init reports
// an initializer, which counts towards the model's parameters.
func (p *parser) tensor(parent *protowire.Message, f protowire.Field, scope string, init bool) error {
	t, err := p.tensorHeader(parent, f, scope)
	if err != nil {
		return err
	}
	return p.record(t, init, t.Dims)
}

func (p *parser) tensorHeader(parent *protowire.Message, f protowire.Field, scope string) (*Tensor, error) {
	p.tensors++
	if p.tensors > p.lim.Tensors {
		return nil, &protowire.Error{Offset: f.Offset, Msg: fmt.Sprintf("more than %d tensors", p.lim.Tensors), Err: protowire.ErrLimit}
	}
	msg, err := parent.Sub(f)
	if err != nil {
		return nil, err
	}
	t := &Tensor{Scope: scope, Offset: f.Offset}
	var dims []uint64
	for {
		f, err := msg.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch {
		case f.Num == tensorDims:
			dims, err = msg.Varints(dims, f, p.lim.Dims)
		case f.Num == tensorDataType && f.Type == protowire.Varint:
			t.DataType = int32(f.Value)
		case f.Num == tensorName && f.Type == protowire.Bytes:
			t.Name, err = p.str(msg, f)
		case f.Num == tensorExternalData && f.Type == protowire.Bytes:
			if len(t.External) >= maxExternalEntries {
				return nil, &protowire.Error{Offset: f.Offset, Msg: fmt.Sprintf("more than %d external_data entries", maxExternalEntries), Err: protowire.ErrLimit}
			}
			var kv Prop
			if kv, err = p.entry(msg, f); err == nil {
				t.External = append(t.External, kv)
				err = p.keep(f.Offset, len(kv.Key)+len(kv.Value))
			}
		case f.Num == tensorDataLocation && f.Type == protowire.Varint:
			t.LocationExternal = f.Value == dataLocationExternal
		}
		// raw_data (9) and the typed data fields (4-7, 10, 11) are
		// skipped by length: tensor data is never read.
		if err != nil {
			return nil, err
		}
	}
	t.Dims = make([]int64, len(dims))
	for i, d := range dims {
		t.Dims[i] = int64(d)
	}
	return t, nil
}

// record counts a tensor towards the model's totals and keeps it when its
// data is external.
func (p *parser) record(t *Tensor, init bool, dims []int64) error {
	if init {
		p.m.Initializers++
		p.dtypes[DataTypeName(t.DataType)] = true
		n, ok := elements(dims)
		switch {
		case !ok:
			p.problem(t.Offset, "tensor %q has dims %v: negative or overflowing", t.Name, dims)
		case p.m.Parameters+n < p.m.Parameters:
			p.m.ParametersOverflow = true
		default:
			p.m.Parameters += n
		}
	}
	if t.LocationExternal || len(t.External) > 0 {
		p.m.External = append(p.m.External, *t)
		return p.keep(t.Offset, len(t.Name)+len(t.Scope)+8*len(t.Dims))
	}
	return nil
}

// elements is the product of dims, false if one is negative or it overflows.
func elements(dims []int64) (uint64, bool) {
	n := uint64(1)
	for _, d := range dims {
		if d < 0 {
			return 0, false
		}
		if d != 0 && n > ^uint64(0)/uint64(d) {
			return 0, false
		}
		n *= uint64(d)
	}
	return n, true
}

// sparse reads a SparseTensorProto: its values and indices are tensors
// whose data may be external too; its dims give the dense shape.
func (p *parser) sparse(parent *protowire.Message, f protowire.Field, scope string, init bool) error {
	msg, err := parent.Sub(f)
	if err != nil {
		return err
	}
	var dims []uint64
	var parts []*Tensor
	for {
		f, err := msg.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		switch {
		case (f.Num == sparseValues || f.Num == sparseIndices) && f.Type == protowire.Bytes:
			var t *Tensor
			if t, err = p.tensorHeader(msg, f, scope); err == nil {
				parts = append(parts, t)
			}
		case f.Num == sparseDims:
			dims, err = msg.Varints(dims, f, p.lim.Dims)
		}
		if err != nil {
			return err
		}
	}
	dense := make([]int64, len(dims))
	for i, d := range dims {
		dense[i] = int64(d)
	}
	for i, t := range parts {
		// The dense shape counts once, with the values' type.
		if err := p.record(t, init && i == 0, dense); err != nil {
			return err
		}
	}
	return nil
}

// value reads a ValueInfoProto.
func (p *parser) value(parent *protowire.Message, f protowire.Field) (Value, error) {
	var v Value
	msg, err := parent.Sub(f)
	if err != nil {
		return v, err
	}
	for {
		f, err := msg.Next()
		if err == io.EOF {
			return v, nil
		}
		if err != nil {
			return v, err
		}
		switch {
		case f.Num == valueName && f.Type == protowire.Bytes:
			v.Name, err = p.str(msg, f)
		case f.Num == valueType && f.Type == protowire.Bytes:
			v.Type, err = p.typeProto(msg, f, 0)
		}
		if err != nil {
			return v, err
		}
	}
}

// typeProto renders a TypeProto: "F32[1,N]", "seq(I64[])", "map(STRING,F32[])".
func (p *parser) typeProto(parent *protowire.Message, f protowire.Field, depth int) (string, error) {
	if depth > maxTypeDepth {
		return "…", nil
	}
	msg, err := parent.Sub(f)
	if err != nil {
		return "", err
	}
	out := "?"
	for {
		f, err := msg.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return "", err
		}
		if f.Type != protowire.Bytes {
			continue
		}
		switch f.Num {
		case typeTensor, typeSparseTensor:
			out, err = p.tensorType(msg, f)
			if f.Num == typeSparseTensor {
				out = "sparse(" + out + ")"
			}
		case typeSequence, typeOptional:
			var inner string
			inner, err = p.wrapped(msg, f, typeSequenceElem, depth)
			out = map[int32]string{typeSequence: "seq(", typeOptional: "optional("}[f.Num] + inner + ")"
		case typeMap:
			out, err = p.mapType(msg, f, depth)
		}
		if err != nil {
			return "", err
		}
	}
}

// wrapped renders the element TypeProto in field num of a Sequence or Optional.
func (p *parser) wrapped(parent *protowire.Message, f protowire.Field, num int32, depth int) (string, error) {
	msg, err := parent.Sub(f)
	if err != nil {
		return "", err
	}
	out := "?"
	for {
		f, err := msg.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return "", err
		}
		if f.Num == num && f.Type == protowire.Bytes {
			if out, err = p.typeProto(msg, f, depth+1); err != nil {
				return "", err
			}
		}
	}
}

func (p *parser) mapType(parent *protowire.Message, f protowire.Field, depth int) (string, error) {
	msg, err := parent.Sub(f)
	if err != nil {
		return "", err
	}
	key, val := "?", "?"
	for {
		f, err := msg.Next()
		if err == io.EOF {
			return "map(" + key + "," + val + ")", nil
		}
		if err != nil {
			return "", err
		}
		switch {
		case f.Num == typeMapKey && f.Type == protowire.Varint:
			key = DataTypeName(int32(f.Value))
		case f.Num == typeMapValue && f.Type == protowire.Bytes:
			if val, err = p.typeProto(msg, f, depth+1); err != nil {
				return "", err
			}
		}
	}
}

func (p *parser) tensorType(parent *protowire.Message, f protowire.Field) (string, error) {
	msg, err := parent.Sub(f)
	if err != nil {
		return "", err
	}
	elem := "?"
	var dims []string
	shaped := false
	for {
		f, err := msg.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", err
		}
		switch {
		case f.Num == typeTensorElem && f.Type == protowire.Varint:
			elem = DataTypeName(int32(f.Value))
		case f.Num == typeTensorShape && f.Type == protowire.Bytes:
			shaped = true
			if dims, err = p.shape(msg, f); err != nil {
				return "", err
			}
		}
	}
	if !shaped {
		return elem, nil
	}
	return elem + "[" + strings.Join(dims, ",") + "]", nil
}

func (p *parser) shape(parent *protowire.Message, f protowire.Field) ([]string, error) {
	msg, err := parent.Sub(f)
	if err != nil {
		return nil, err
	}
	var dims []string
	for {
		f, err := msg.Next()
		if err == io.EOF {
			return dims, nil
		}
		if err != nil {
			return nil, err
		}
		if f.Num != shapeDim || f.Type != protowire.Bytes {
			continue
		}
		if len(dims) >= p.lim.Dims {
			return nil, &protowire.Error{Offset: f.Offset, Msg: fmt.Sprintf("more than %d dimensions", p.lim.Dims), Err: protowire.ErrLimit}
		}
		dm, err := msg.Sub(f)
		if err != nil {
			return nil, err
		}
		d := "?"
		for {
			g, err := dm.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, err
			}
			switch {
			case g.Num == dimValue && g.Type == protowire.Varint:
				d = strconv.FormatInt(int64(g.Value), 10)
			case g.Num == dimParam && g.Type == protowire.Bytes:
				if d, err = p.str(dm, g); err != nil {
					return nil, err
				}
			}
		}
		dims = append(dims, d)
	}
}

// function walks a FunctionProto. With declare set it only records the
// function's identity; otherwise it walks its nodes.
func (p *parser) function(parent *protowire.Message, f protowire.Field, declare bool) error {
	msg, err := parent.Sub(f)
	if err != nil {
		return err
	}
	var fn Function
	var nodes []protowire.Field
	for {
		f, err := msg.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		switch {
		case f.Num == functionName && f.Type == protowire.Bytes:
			fn.Name, err = p.str(msg, f)
		case f.Num == functionDomain && f.Type == protowire.Bytes:
			fn.Domain, err = p.str(msg, f)
		case f.Num == functionNode && f.Type == protowire.Bytes && !declare:
			nodes = append(nodes, f)
		}
		if err != nil {
			return err
		}
	}
	fn.Domain = CanonicalDomain(fn.Domain)
	if declare {
		if len(p.m.Functions) >= p.lim.OpTypes {
			return &protowire.Error{Offset: f.Offset, Msg: fmt.Sprintf("more than %d functions", p.lim.OpTypes), Err: protowire.ErrLimit}
		}
		p.m.Functions = append(p.m.Functions, fn)
		return p.keep(f.Offset, len(fn.Domain)+len(fn.Name))
	}
	scope := "function " + fn.Domain + ":" + fn.Name
	for _, n := range nodes {
		if err := p.node(msg, n, scope, 1); err != nil {
			return err
		}
	}
	return nil
}

// Identify reports whether head, the first bytes of a file of size bytes,
// starts like a serialized ModelProto: ir_version first, as every ONNX
// writer puts it, then only ModelProto fields of the right wire types,
// among them the graph or opset_import. It reads no more than head.
func Identify(head []byte, size int64) bool {
	if len(head) < 2 || head[0] != modelIRVersion<<3|byte(protowire.Varint) {
		return false
	}
	d := protowire.NewDecoder(context.Background(), bytesReaderAt(head), max(size, int64(len(head))),
		protowire.Limits{Depth: 1, Fields: identifyFieldsToExamine})
	msg := d.Root()
	strong := false
	for i := 0; ; i++ {
		f, err := msg.Next()
		if err != nil {
			// A field that runs past head is cut off by it, not broken:
			// what was seen decides. Bytes broken within head are not ONNX.
			return strong && (err == io.EOF || errors.Is(err, protowire.ErrLimit) || PastHead(err, len(head)))
		}
		want, ok := modelWireTypes[f.Num]
		if !ok || want != f.Type {
			return false
		}
		if i == 0 && (f.Num != modelIRVersion || f.Value == 0 || f.Value > firstFieldIRVersionMax) {
			return false
		}
		if f.Num == modelGraph || f.Num == modelOpsetImport {
			strong = true
		}
	}
}

// PastHead reports whether err is the wire format running past the first
// n bytes of a file, which is where a head was cut rather than a fault.
func PastHead(err error, n int) bool {
	var pe *protowire.Error
	return errors.As(err, &pe) && pe.Offset >= int64(n)
}

// modelWireTypes are the wire types of ModelProto's fields.
var modelWireTypes = map[int32]protowire.Type{
	modelIRVersion: protowire.Varint, modelProducerName: protowire.Bytes, modelProducerVersion: protowire.Bytes,
	modelDomain: protowire.Bytes, modelVersion: protowire.Varint, 6: protowire.Bytes, modelGraph: protowire.Bytes,
	modelOpsetImport: protowire.Bytes, modelMetadataProps: protowire.Bytes, modelTrainingInfo: protowire.Bytes,
	modelFunctions: protowire.Bytes, 26: protowire.Bytes,
}

type bytesReaderAt []byte

func (b bytesReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(b)) {
		return 0, io.EOF
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
