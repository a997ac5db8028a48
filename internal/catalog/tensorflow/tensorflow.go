// Package tensorflow catalogs TensorFlow models — SavedModels
// (saved_model.pb with keras_metadata.pb and fingerprint.pb beside it),
// frozen GraphDefs and TFLite flatbuffers — and reports the ops that would
// run Python, touch files or the network, or need a custom op library.
//
// Every node of the graph and of every function in its library is judged:
// the library is where tf.function bodies live, and a function no signature
// names still runs if any node calls it. The checkpoint machinery every
// SavedModel has (SaveV2, RestoreV2, MergeV2Checkpoints, ShardedFilename)
// is not flagged. Variables and tensor data are never read.
package tensorflow

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/modelfile/protowire"
	"github.com/chainvet/chainvet/internal/modelfile/tfsaved"
)

// Rule ids this package reports, besides model/malformed and scan/limit.
const (
	RulePythonOp  = "tensorflow/python-op"
	RuleIOOp      = "tensorflow/io-op"
	RuleCustomOp  = "tensorflow/custom-op"
	RuleAssetPath = "tensorflow/asset-path"
	RuleTFLiteOp  = "tflite/custom-op"
	ruleMalformed = "model/malformed"
)

// pythonOps call back into the Python interpreter that loaded the model:
// whatever function the token names runs.
var pythonOps = map[string]bool{"PyFunc": true, "PyFuncStateless": true, "EagerPyFunc": true}

// ioOps read or write files or reach the network on their own, with paths
// or addresses the graph supplies. Save, Restore and their helpers are
// left out: every SavedModel has them, and the loader feeds them the
// model's own variables path.
var ioOps = map[string]string{
	"ReadFile":                         "reads a file",
	"WriteFile":                        "writes a file",
	"MatchingFiles":                    "lists files matching a pattern",
	"MatchingFilesDataset":             "lists files matching a pattern",
	"ExperimentalMatchingFilesDataset": "lists files matching a pattern",
	"ImmutableConst":                   "maps a file into memory",
	"LoadAndRemapMatrix":               "reads a checkpoint at a path the graph gives",
	"WholeFileReader":                  "reads whole files",
	"WholeFileReaderV2":                "reads whole files",
	"TextLineReader":                   "reads files",
	"TextLineReaderV2":                 "reads files",
	"FixedLengthRecordReader":          "reads files",
	"FixedLengthRecordReaderV2":        "reads files",
	"TFRecordReader":                   "reads files",
	"TFRecordReaderV2":                 "reads files",
	"LMDBReader":                       "reads LMDB files",
	"RecordInput":                      "reads files matching a pattern",
	"TFRecordDataset":                  "reads files",
	"TextLineDataset":                  "reads files",
	"FixedLengthRecordDataset":         "reads files",
	"FixedLengthRecordDatasetV2":       "reads files",
	"CSVDataset":                       "reads files",
	"CSVDatasetV2":                     "reads files",
	"ExperimentalCSVDataset":           "reads files",
	"LMDBDataset":                      "reads LMDB files",
	"ExperimentalLMDBDataset":          "reads LMDB files",
	"SqlDataset":                       "runs SQL against a database file",
	"ExperimentalSqlDataset":           "runs SQL against a database file",
	"LoadDataset":                      "reads a saved dataset",
	"SaveDataset":                      "writes a dataset to a path",
	"SaveDatasetV2":                    "writes a dataset to a path",
	"SnapshotDataset":                  "writes and reads dataset snapshots",
	"SnapshotDatasetV2":                "writes and reads dataset snapshots",
	"SnapshotDatasetReader":            "reads dataset snapshots",
	"SnapshotChunkDataset":             "reads dataset snapshot files",
	"DatasetToTFRecord":                "writes a TFRecord file",
	"ExperimentalDatasetToTFRecord":    "writes a TFRecord file",
	"DistributedSave":                  "writes a dataset through the tf.data service",
	"CreateSummaryFileWriter":          "writes event files to a log directory",
	"CreateSummaryDbWriter":            "writes to a database",
	"DataServiceDataset":               "connects to a tf.data service address",
	"DataServiceDatasetV2":             "connects to a tf.data service address",
	"DataServiceDatasetV3":             "connects to a tf.data service address",
	"DataServiceDatasetV4":             "connects to a tf.data service address",
	"RegisterDataset":                  "connects to a tf.data service address",
	"RegisterDatasetV2":                "connects to a tf.data service address",
	"RemoteCall":                       "runs a function on another task",
	"RpcClient":                        "opens an RPC connection",
	"RpcCall":                          "makes an RPC call",
	"RpcServer":                        "starts an RPC server",
	"RpcServerStart":                   "starts an RPC server",
}

// attrIO judges ops whose string attributes decide whether they touch
// files or the network; it returns why, or "".
func attrIO(a tfsaved.Attr) string {
	v := a.Value
	switch a.Op {
	case "PrintV2":
		switch v {
		case "", "stdout", "stderr", "log(info)", "log(warning)", "log(error)":
			return ""
		}
		return "appends its output to " + v
	case "DecodeProtoV2", "EncodeProto":
		if v == "" || v == "local://" || strings.HasPrefix(v, "bytes://") {
			return ""
		}
		return "reads a descriptor file at " + v
	default: // the Debug* ops
		if v == "" {
			return ""
		}
		return "sends tensors to " + v
	}
}

// SavedModel catalogs saved_model.pb, keras_metadata.pb, fingerprint.pb
// and frozen GraphDefs.
type SavedModel struct {
	Limits tfsaved.Limits
}

// Name implements inventory.Cataloger.
func (SavedModel) Name() string { return "models/tensorflow" }

// The conventional names of a SavedModel's files.
const (
	savedModelFile  = "saved_model.pb"
	kerasMetaFile   = "keras_metadata.pb"
	fingerprintFile = "fingerprint.pb"
)

// Wants implements inventory.Cataloger: SavedModels by structure, frozen
// graphs by structure and a .pb name, and the SavedModel's side files by
// name (they have no structure of their own to tell them by).
func (SavedModel) Wants(f *inventory.File) bool {
	switch f.Name {
	case savedModelFile, kerasMetaFile, fingerprintFile:
		return true
	}
	return tfsaved.IdentifySavedModel(f.Head, f.Size) ||
		strings.EqualFold(path.Ext(f.Name), ".pb") && tfsaved.IdentifyGraphDef(f.Head, f.Size)
}

// Catalog implements inventory.Cataloger.
func (c SavedModel) Catalog(ctx context.Context, f *inventory.File, s inventory.Sink) error {
	switch {
	case f.Name == kerasMetaFile:
		return c.keras(ctx, f, s)
	case f.Name == fingerprintFile:
		return c.fingerprint(ctx, f, s)
	case f.Name == savedModelFile || tfsaved.IdentifySavedModel(f.Head, f.Size):
		return c.savedModel(ctx, f, s)
	default:
		return c.graphDef(ctx, f, s)
	}
}

func (c SavedModel) savedModel(ctx context.Context, f *inventory.File, s inventory.Sink) error {
	sm, err := tfsaved.Parse(ctx, f, f.Size, c.Limits)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	r := newReporter(s, f, "tf-savedmodel", savedModelName(f))
	props := map[string]string{"format": "tf-savedmodel", "framework": "tensorflow"}
	var tags, sigs []string
	var params uint64
	vars, nodes, fns := 0, 0, 0
	dtypes := map[string]bool{}
	for _, g := range sm.MetaGraphs {
		tags = append(tags, strings.Join(g.Tags, "+"))
		sigs = append(sigs, g.Signatures...)
		if g.TFVersion != "" {
			props["producer"] = "tensorflow " + g.TFVersion
		}
		nodes += g.Nodes
		fns += len(g.Functions)
		for _, t := range g.DTypes {
			dtypes[t] = true
		}
		// Meta graphs share one set of variables: count the largest.
		if g.Parameters > params || g.Variables > vars {
			params, vars = g.Parameters, g.Variables
		}
	}
	if len(sm.MetaGraphs) > 0 {
		props["tags"] = strings.Join(tags, ",")
		props["parameters"] = strconv.FormatUint(params, 10)
		props["tensors"] = strconv.Itoa(vars)
		props["nodes"] = strconv.Itoa(nodes)
		props["functions"] = strconv.Itoa(fns)
	}
	if len(sigs) > 0 {
		props["signatures"] = strings.Join(sigs, ",")
	}
	if len(dtypes) > 0 {
		props["dtype"] = joinKeys(dtypes)
	}
	r.component(props)
	if err != nil {
		if ferr := r.parseError(err, "SavedModel"); ferr != nil {
			return ferr
		}
	}
	for _, g := range sm.MetaGraphs {
		where := ""
		if len(sm.MetaGraphs) > 1 {
			where = "meta graph [" + strings.Join(g.Tags, ",") + "]: "
		}
		r.graph(g, where)
		r.assets(g, where)
	}
	return nil
}

func (c SavedModel) graphDef(ctx context.Context, f *inventory.File, s inventory.Sink) error {
	g, err := tfsaved.ParseGraphDef(ctx, f, f.Size, c.Limits)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	r := newReporter(s, f, "tf-graphdef", f.Name)
	props := map[string]string{"format": "tf-graphdef", "framework": "tensorflow",
		"parameters": strconv.FormatUint(g.Parameters, 10), "nodes": strconv.Itoa(g.Nodes),
		"functions": strconv.Itoa(len(g.Functions))}
	if len(g.DTypes) > 0 {
		props["dtype"] = strings.Join(g.DTypes, ",")
	}
	r.component(props)
	if err != nil {
		if ferr := r.parseError(err, "GraphDef"); ferr != nil {
			return ferr
		}
	}
	r.graph(g, "")
	return nil
}

// keras reads keras_metadata.pb into the properties of the SavedModel
// beside it.
func (c SavedModel) keras(ctx context.Context, f *inventory.File, s inventory.Sink) error {
	objs, err := tfsaved.KerasMetadata(ctx, f, f.Size, c.Limits)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	r := newReporter(s, f, "keras-savedmodel", savedModelName(f))
	r.sibling()
	props := map[string]string{"keras-objects": strconv.Itoa(len(objs))}
	for _, o := range objs {
		if o.Path != "root" {
			continue
		}
		var root struct {
			ClassName    string `json:"class_name"`
			KerasVersion string `json:"keras_version"`
		}
		if json.Unmarshal([]byte(o.Metadata), &root) != nil {
			r.finding(ruleMalformed, inventory.Medium, o.Offset, "the root object's metadata is not JSON",
				"Keras cannot rebuild this model from its metadata; other readers may see another model",
				"re-save the model with Keras, or reject it")
			continue
		}
		if root.ClassName != "" {
			props["architecture"] = clip(root.ClassName)
		}
		if root.KerasVersion != "" {
			props["keras-version"] = clip(root.KerasVersion)
		}
	}
	r.component(props)
	if err != nil {
		return r.parseError(err, "keras_metadata.pb")
	}
	return nil
}

// fingerprint reads fingerprint.pb, whose checksum identifies the
// SavedModel's graph.
func (c SavedModel) fingerprint(ctx context.Context, f *inventory.File, s inventory.Sink) error {
	r := newReporter(s, f, "tf-savedmodel", savedModelName(f))
	r.sibling()
	sum, err := fingerprintChecksum(ctx, f)
	props := map[string]string{}
	if sum != 0 {
		props["saved-model-checksum"] = strconv.FormatUint(sum, 10)
	}
	r.component(props)
	if err != nil {
		return r.parseError(err, "fingerprint.pb")
	}
	return nil
}

// maxFingerprint bounds fingerprint.pb: a handful of integers.
const maxFingerprint = 1 << 12

func fingerprintChecksum(ctx context.Context, f *inventory.File) (uint64, error) {
	if f.Size > maxFingerprint {
		return 0, &protowire.Error{Msg: fmt.Sprintf("%d bytes, more than %d", f.Size, maxFingerprint), Err: protowire.ErrLimit}
	}
	msg := protowire.NewDecoder(ctx, f, f.Size, protowire.Limits{Depth: 2, Fields: 64}).Root()
	var sum uint64
	for {
		fl, err := msg.Next()
		if err != nil {
			if err == io.EOF {
				return sum, nil
			}
			return sum, err
		}
		if fl.Num == 1 && fl.Type == protowire.Varint {
			sum = fl.Value
		}
	}
}

// savedModelName names a SavedModel by its folder.
func savedModelName(f *inventory.File) string {
	dir := path.Base(path.Dir(filepath.ToSlash(f.Path)))
	if dir == "." || dir == "/" || f.Depth > 0 {
		return f.Name
	}
	return dir
}

func joinKeys(m map[string]bool) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return strings.Join(ks, ",")
}

// clip bounds a value copied into a property.
func clip(s string) string {
	if len(s) > 128 {
		return s[:128] + "…"
	}
	return s
}
