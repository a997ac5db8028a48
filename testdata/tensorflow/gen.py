#!/usr/bin/python3
"""Write chainvet's TensorFlow fixtures: SavedModels, frozen graphs, TFLite
flatbuffers, and MANIFEST.tsv.

    /usr/bin/python3 testdata/tensorflow/gen.py

TensorFlow is not in Debian, so the files are encoded here, with a small
protobuf writer (field numbers from TensorFlow's saved_model.proto,
meta_graph.proto, graph.proto, node_def.proto, function.proto, op_def.proto,
attr_value.proto, tensor.proto and fingerprint.proto) and a small flatbuffer
writer (field order of TFLite's schema.fbs). Nothing here is TensorFlow's
own output: the graphs are shaped like what tf.saved_model.save writes
(variables as VarHandleOp, a serving function called through
StatefulPartitionedCall, the saver's SaveV2/RestoreV2 functions) and small.
Nothing is ever loaded or run. Output is deterministic. With Debian's
python3-flatbuffers installed, the TFLite files are read back with the
FlatBuffers library to check their layout.
"""

import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
MANIFEST = []

# --- protobuf writer -------------------------------------------------------


def varint(v):
    if v < 0:
        v += 1 << 64
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def fv(num, v):
    """A varint field."""
    return varint(num << 3) + varint(v)


def fb(num, *payload):
    """A length-delimited field holding the concatenated payload."""
    p = b"".join(x.encode() if isinstance(x, str) else x for x in payload)
    return varint(num << 3 | 2) + varint(len(p)) + p


# DataType
DT_FLOAT, DT_INT32, DT_STRING, DT_RESOURCE = 1, 3, 7, 20


def attr(key, value):
    """A map<string, AttrValue> entry."""
    return fb(5, fb(1, key), fb(2, value))


def a_s(s):
    return fb(2, s)


def a_type(t):
    return fv(6, t)


def a_shape(*dims):
    return fb(7, b"".join(fb(2, fv(1, d)) for d in dims))


def a_list_s(*ss):
    return fb(1, b"".join(fb(2, s) for s in ss))


def a_func(name):
    return fb(10, fb(1, name))


def a_tensor(dtype, dims, content):
    # TensorProto: dtype=1, tensor_shape=2, tensor_content=4.
    return fb(8, fv(1, dtype), fb(2, b"".join(fb(2, fv(1, d)) for d in dims)), fb(4, content))


def node(name, op, *attrs, inputs=()):
    return fb(1, name) + fb(2, op) + b"".join(fb(3, i) for i in inputs) + b"".join(attrs)


def graph_node(name, op, *attrs, inputs=()):
    return fb(1, node(name, op, *attrs, inputs=inputs))  # GraphDef.node


def function(name, *nodes):
    # FunctionDef: signature (OpDef, name=1) = 1, node_def = 3.
    return fb(1, fb(1, fb(1, name)) + b"".join(fb(3, n) for n in nodes))  # FunctionDefLibrary.function


def library(*functions):
    return fb(2, b"".join(functions))  # GraphDef.library


def meta_graph(graph, tags=("serve",), ops=(), signatures=("serving_default",), assets=(), version="2.15.0"):
    info = fb(2, b"".join(fb(1, fb(1, o)) for o in ops))  # stripped_op_list: OpList.op: OpDef.name
    info += b"".join(fb(4, t) for t in tags)
    info += fb(5, version) + fb(6, "v" + version + "-0-gchainvet")
    body = fb(1, info) + fb(2, graph)
    for s in signatures:
        # SignatureDef: method_name = 3.
        body += fb(5, fb(1, s), fb(2, fb(3, "tensorflow/serving/predict")))
    for a in assets:
        # AssetFileDef: tensor_info (TensorInfo.name = 1) = 1, filename = 2.
        body += fb(6, fb(1, fb(1, "asset_path:0")), fb(2, a))
    return body


def saved_model(*meta_graphs):
    return fv(1, 1) + b"".join(fb(2, m) for m in meta_graphs)


def used_ops(graph_nodes, functions_nodes):
    """The op names a graph uses, for stripped_op_list."""
    return sorted(set(graph_nodes) | set(functions_nodes))


# --- the benign SavedModel ------------------------------------------------

SERVE = "__inference_serving_default_42"
SAVE = "__inference__traced_save_87"
RESTORE = "__inference__traced_restore_101"


def main_graph(extra_nodes=b""):
    return (
        graph_node("x", "Placeholder", attr("dtype", a_type(DT_FLOAT)), attr("shape", a_shape(-1, 4)))
        + graph_node("dense/kernel", "VarHandleOp", attr("dtype", a_type(DT_FLOAT)), attr("shape", a_shape(4, 2)),
                     attr("shared_name", a_s("dense/kernel")))
        + graph_node("dense/bias", "VarHandleOp", attr("dtype", a_type(DT_FLOAT)), attr("shape", a_shape(2)),
                     attr("shared_name", a_s("dense/bias")))
        + graph_node("saver_filename", "Placeholder", attr("dtype", a_type(DT_STRING)), attr("shape", a_shape()))
        + graph_node("StatefulPartitionedCall", "StatefulPartitionedCall", attr("f", a_func(SERVE)),
                     inputs=("x", "dense/kernel", "dense/bias"))
        + graph_node("StatefulPartitionedCall_1", "StatefulPartitionedCall", attr("f", a_func(SAVE)),
                     inputs=("saver_filename", "dense/kernel", "dense/bias"))
        + graph_node("StatefulPartitionedCall_2", "StatefulPartitionedCall", attr("f", a_func(RESTORE)),
                     inputs=("saver_filename", "dense/kernel", "dense/bias"))
        + extra_nodes
    )


def serve_fn(*extra):
    return function(
        SERVE,
        node("MatMul/ReadVariableOp", "ReadVariableOp", attr("dtype", a_type(DT_FLOAT)), inputs=("kernel",)),
        node("MatMul", "MatMul", attr("T", a_type(DT_FLOAT)), inputs=("x", "MatMul/ReadVariableOp:value:0")),
        node("BiasAdd/ReadVariableOp", "ReadVariableOp", attr("dtype", a_type(DT_FLOAT)), inputs=("bias",)),
        node("BiasAdd", "BiasAdd", attr("T", a_type(DT_FLOAT)), inputs=("MatMul:product:0", "BiasAdd/ReadVariableOp:value:0")),
        node("Identity", "Identity", attr("T", a_type(DT_FLOAT)), inputs=("BiasAdd:output:0",)),
        *extra,
    )


def save_fn():
    return function(
        SAVE,
        node("StaticRegexFullMatch", "StaticRegexFullMatch", attr("pattern", a_s("^s3://.*")), inputs=("file_prefix",)),
        node("Const", "Const", attr("dtype", a_type(DT_STRING)), attr("value", a_tensor(DT_STRING, [], b"_temp/part"))),
        node("StringJoin", "StringJoin", inputs=("file_prefix", "Const:output:0")),
        node("ShardedFilename", "ShardedFilename", inputs=("StringJoin:output:0", "shard", "num_shards")),
        node("SaveV2", "SaveV2", attr("dtypes", fb(1, fv(6, DT_FLOAT) + fv(6, DT_FLOAT))),
             inputs=("ShardedFilename:filename:0", "names", "slices", "kernel", "bias")),
        node("MergeV2Checkpoints", "MergeV2Checkpoints", inputs=("prefixes", "file_prefix")),
        node("Identity", "Identity", attr("T", a_type(DT_STRING)), inputs=("file_prefix",)),
        node("NoOp", "NoOp"),
    )


def restore_fn():
    return function(
        RESTORE,
        node("RestoreV2", "RestoreV2", attr("dtypes", fb(1, fv(6, DT_FLOAT) + fv(6, DT_FLOAT))),
             inputs=("file_prefix", "names", "slices")),
        node("AssignVariableOp", "AssignVariableOp", attr("dtype", a_type(DT_FLOAT)), inputs=("kernel", "RestoreV2:tensors:0")),
        node("AssignVariableOp_1", "AssignVariableOp", attr("dtype", a_type(DT_FLOAT)), inputs=("bias", "RestoreV2:tensors:1")),
        node("NoOp", "NoOp"),
    )


BENIGN_OPS = ["AssignVariableOp", "BiasAdd", "Const", "Identity", "MatMul", "MergeV2Checkpoints", "NoOp",
              "Placeholder", "ReadVariableOp", "RestoreV2", "SaveV2", "ShardedFilename", "StatefulPartitionedCall",
              "StaticRegexFullMatch", "StringJoin", "VarHandleOp"]


def model_graph(extra_main=b"", extra_fns=(), serve_extra=()):
    return main_graph(extra_main) + library(serve_fn(*serve_extra), save_fn(), restore_fn(), *extra_fns)


def write(rel, data, verdict, lo, hi, rules="", evidence="", desc=""):
    path = os.path.join(HERE, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    if verdict:
        MANIFEST.append((rel, verdict, lo, hi, rules, evidence, desc))


def keras_metadata():
    root = ('{"name": "sequential", "trainable": true, "expects_training_arg": true, "dtype": "float32", '
            '"batch_input_shape": null, "must_restore_from_config": false, "class_name": "Sequential", '
            '"config": {"name": "sequential", "layers": [{"class_name": "InputLayer", "config": '
            '{"batch_input_shape": [null, 4], "dtype": "float32", "name": "input_1"}}, {"class_name": "Dense", '
            '"config": {"name": "dense", "units": 2, "activation": "linear"}}]}, "keras_version": "2.15.0"}')
    layer = '{"name": "dense", "trainable": true, "class_name": "Dense", "config": {"name": "dense", "units": 2}}'
    return (fb(1, fv(2, 0), fb(3, "root"), fb(4, "_tf_keras_sequential"), fb(5, root))
            + fb(1, fv(2, 1), fb(3, "root.layer_with_weights-0"), fb(4, "_tf_keras_layer"), fb(5, layer)))


def fingerprint():
    # FingerprintDef: saved_model_checksum=1, graph_def_program_hash=2,
    # signature_def_hash=3, saved_object_graph_hash=4, checkpoint_hash=5,
    # version (VersionDef.producer=1) = 6.
    return fv(1, 0x1234ABCD5678EF01) + fv(2, 11) + fv(3, 22) + fv(4, 33) + fv(5, 44) + fb(6, fv(1, 1))


def savedmodels():
    benign = saved_model(meta_graph(model_graph(), ops=BENIGN_OPS, assets=("vocab.txt",)))
    write("benign/saved_model/saved_model.pb", benign, "benign", "info", "info",
          desc="tf.saved_model.save-shaped Dense(2) model: VarHandleOp variables, serving function, SaveV2/RestoreV2 saver functions, one asset")
    write("benign/saved_model/keras_metadata.pb", keras_metadata(), "benign", "info", "info",
          desc="Keras SavedModel metadata of a Sequential model")
    write("benign/saved_model/fingerprint.pb", fingerprint(), "benign", "info", "info",
          desc="SavedModel fingerprint")
    write("benign/saved_model/assets/vocab.txt", b"a\nb\n", "", "", "")
    write("benign/saved_model/variables/variables.index", b"\0" * 16, "", "", "")

    two = saved_model(meta_graph(model_graph(), ops=BENIGN_OPS),
                      meta_graph(model_graph(), tags=("train",), ops=BENIGN_OPS, signatures=()))
    write("benign/two_meta_graphs/saved_model.pb", two, "benign", "info", "info",
          desc="two meta graphs tagged serve and train")

    pyfunc = graph_node("py", "PyFunc", attr("token", a_s("pyfunc_0")), attr("Tin", fb(1, b"")), attr("Tout", fb(1, fv(6, DT_FLOAT))))
    write("malicious/pyfunc/saved_model.pb",
          saved_model(meta_graph(model_graph(extra_main=pyfunc), ops=BENIGN_OPS + ["PyFunc"])),
          "malicious", "critical", "critical", "tensorflow/python-op", "PyFunc",
          "a PyFunc node in the main graph: runs a registered Python function")

    hidden = function("__inference_helper_7",
                      node("EagerPyFunc", "EagerPyFunc", attr("token", a_s("pyfunc_3")), attr("is_async", fv(5, 0))),
                      node("Identity", "Identity"))
    write("malicious/eager_pyfunc_in_function/saved_model.pb",
          saved_model(meta_graph(model_graph(extra_fns=(hidden,)), ops=BENIGN_OPS + ["EagerPyFunc"])),
          "malicious", "critical", "critical", "tensorflow/python-op", "__inference_helper_7",
          "EagerPyFunc hidden in a library function that no signature names")

    stateless = function("__inference_cond_true_9", node("pfs", "PyFuncStateless", attr("token", a_s("pyfunc_9"))))
    write("malicious/pyfunc_stateless/saved_model.pb",
          saved_model(meta_graph(model_graph(extra_fns=(stateless,)), ops=BENIGN_OPS + ["PyFuncStateless"])),
          "malicious", "critical", "critical", "tensorflow/python-op", "PyFuncStateless",
          "PyFuncStateless in a library function")

    rw = (node("path", "Const", attr("dtype", a_type(DT_STRING)), attr("value", a_tensor(DT_STRING, [], b"/etc/passwd"))),
          node("ReadFile", "ReadFile", inputs=("path:output:0",)),
          node("WriteFile", "WriteFile", inputs=("out_path", "ReadFile:contents:0")))
    write("malicious/read_write_file/saved_model.pb",
          saved_model(meta_graph(model_graph(serve_extra=rw), ops=BENIGN_OPS + ["ReadFile", "WriteFile"])),
          "malicious", "high", "high", "tensorflow/io-op", "ReadFile",
          "the serving function reads /etc/passwd with ReadFile and writes it out with WriteFile")

    mf = graph_node("glob", "MatchingFiles", inputs=("pattern",))
    write("malicious/matching_files/saved_model.pb",
          saved_model(meta_graph(model_graph(extra_main=mf), ops=BENIGN_OPS + ["MatchingFiles"])),
          "malicious", "high", "high", "tensorflow/io-op", "MatchingFiles",
          "MatchingFiles in the main graph lists files on the loading machine")

    pr = (node("print", "PrintV2", attr("output_stream", a_s("file:///tmp/chainvet-fixture.log")), inputs=("x",)),)
    write("malicious/print_to_file/saved_model.pb",
          saved_model(meta_graph(model_graph(serve_extra=pr), ops=BENIGN_OPS + ["PrintV2"])),
          "malicious", "high", "high", "tensorflow/io-op", "file:///tmp/chainvet-fixture.log",
          "PrintV2 whose output_stream appends to a file")

    custom = (node("evil", "LoadLibraryAndRun", inputs=("x",)), node("addons", "Addons>GeluGrad", inputs=("x",)))
    write("malicious/custom_op/saved_model.pb",
          saved_model(meta_graph(model_graph(serve_extra=custom), ops=BENIGN_OPS + ["LoadLibraryAndRun", "Addons>GeluGrad"])),
          "malicious", "high", "high", "tensorflow/custom-op", "LoadLibraryAndRun",
          "ops no TensorFlow build registers: they need a custom op library (native code)")

    write("malicious/asset_traversal/saved_model.pb",
          saved_model(meta_graph(model_graph(), ops=BENIGN_OPS, assets=("../../../../etc/passwd",))),
          "malicious", "high", "high", "tensorflow/asset-path", "../../../../etc/passwd",
          "an asset filename that climbs out of assets/: table initializers read it at load")

    write("malformed/truncated/saved_model.pb", benign[: len(benign) * 2 // 3], "malicious", "medium", "high",
          "model/malformed", "", "the benign saved_model.pb cut short")
    write("malformed/not_protobuf/saved_model.pb", b"\x08\x01\x12\x7fnot a meta graph\xff\xff\xff", "malicious",
          "medium", "medium", "model/malformed", "", "a saved_model.pb that is not a SavedModel protobuf")
    write("malformed/fingerprint_bad/fingerprint.pb", b"\x0f\xff", "malicious", "medium", "medium",
          "model/malformed", "", "a fingerprint.pb that is not a protobuf")


def frozen_graphs():
    g = (graph_node("input", "Placeholder", attr("dtype", a_type(DT_FLOAT)), attr("shape", a_shape(1, 2)))
         + graph_node("w", "Const", attr("dtype", a_type(DT_FLOAT)),
                      attr("value", a_tensor(DT_FLOAT, [2, 2], struct.pack("<4f", 1, 2, 3, 4))))
         + graph_node("matmul", "MatMul", attr("T", a_type(DT_FLOAT)), inputs=("input", "w"))
         + graph_node("output", "Identity", attr("T", a_type(DT_FLOAT)), inputs=("matmul",))
         + fb(4, fv(1, 1087)))  # versions: producer
    write("benign/frozen_graph.pb", g, "benign", "info", "info", desc="a frozen GraphDef: Placeholder, Const, MatMul, Identity")
    bad = g + graph_node("py", "PyFunc", attr("token", a_s("pyfunc_1")), inputs=("output",))
    write("malicious/frozen_pyfunc.pb", bad, "malicious", "critical", "critical", "tensorflow/python-op", "PyFunc",
          "a frozen GraphDef with a PyFunc node")


# --- flatbuffer writer for TFLite -------------------------------------------


class FB:
    """A small flatbuffer builder. Objects (strings, vectors, tables) are
    recorded with their references to other objects and laid out at the end
    in reverse order of creation, so that every uoffset points forward, as
    flatbuffers requires: a parent is made after its children and so is
    placed before them."""

    def __init__(self):
        self.objs = []  # (bytes, anchor, fixups[(pos, target id)])

    def _add(self, data, anchor=0, fixups=()):
        self.objs.append((bytes(data), anchor, list(fixups)))
        return len(self.objs) - 1

    def string(self, s):
        b = s.encode()
        return self._add(struct.pack("<I", len(b)) + b + b"\0")

    def vector_u8(self, data):
        return self._add(struct.pack("<I", len(data)) + data)

    def vector_i32(self, vals):
        return self._add(struct.pack("<I", len(vals)) + b"".join(struct.pack("<i", v) for v in vals))

    def vector_offsets(self, targets):
        data = struct.pack("<I", len(targets)) + b"\0" * 4 * len(targets)
        return self._add(data, 0, [(4 + 4 * i, t) for i, t in enumerate(targets)])

    def table(self, fields):
        """fields: list indexed by field id of None or (kind, value), kind in
        'u8', 'i8', 'i32', 'u32' or 'off' (value: another object's id)."""
        sizes = {"u8": 1, "i8": 1, "i32": 4, "u32": 4, "off": 4}
        n = len(fields)
        layout, size = [], 4
        for f in fields:
            if f is None:
                layout.append(0)
                continue
            sz = sizes[f[0]]
            size = (size + sz - 1) // sz * sz
            layout.append(size)
            size += sz
        size = (size + 3) // 4 * 4
        vtable = struct.pack("<HH", 4 + 2 * n, size) + b"".join(struct.pack("<H", o) for o in layout)
        vtable += b"\0" * (-len(vtable) % 4)
        body = bytearray(size)
        struct.pack_into("<i", body, 0, len(vtable))  # soffset: table start - vtable start
        fixups = []
        for f, o in zip(fields, layout):
            if f is None:
                continue
            kind, v = f
            if kind == "off":
                fixups.append((len(vtable) + o, v))
            else:
                struct.pack_into({"u8": "<B", "i8": "<b", "i32": "<i", "u32": "<I"}[kind], body, o, v)
        return self._add(vtable + bytes(body), len(vtable), fixups)

    def finish(self, root, ident=b"TFL3"):
        buf = bytearray(8)
        where = {}
        for i in reversed(range(len(self.objs))):
            buf += b"\0" * (-len(buf) % 4)
            where[i] = len(buf)
            buf += self.objs[i][0]
        for i, (data, anchor, fixups) in enumerate(self.objs):
            for pos, target in fixups:
                at = where[i] + pos
                to = where[target] + self.objs[target][1]
                assert to > at
                struct.pack_into("<I", buf, at, to - at)
        struct.pack_into("<I", buf, 0, where[root] + self.objs[root][1])
        buf[4:8] = ident
        return bytes(buf)


ADD, CONV_2D, FULLY_CONNECTED, CUSTOM = 0, 3, 9, 32


def tflite(opcodes, description="MLIR Converted.", weights=64):
    """A TFLite model: opcodes is a list of (builtin_code, custom_code or None)."""
    b = FB()
    codes = []
    for code, custom in opcodes:
        cc = b.string(custom) if custom is not None else None
        # OperatorCode: deprecated_builtin_code:i8 (0), custom_code (1), version:i32 (2), builtin_code:i32 (3).
        codes.append(b.table([("i8", min(code, 127)), ("off", cc) if cc is not None else None, ("i32", 1), ("i32", code)]))
    desc = b.string(description)
    shape = b.vector_i32([1, 4])
    name = b.string("input")
    # Tensor: shape (0), type (1), buffer (2), name (3).
    t0 = b.table([("off", shape), ("i8", 0), ("u32", 1), ("off", name)])
    wshape = b.vector_i32([4, weights // 16])
    wname = b.string("weights")
    t1 = b.table([("off", wshape), ("i8", 0), ("u32", 2), ("off", wname)])
    ins = b.vector_i32([0])
    outs = b.vector_i32([0])
    ops = []
    for i in range(len(opcodes)):
        # Operator: opcode_index:u32 (0), inputs (1), outputs (2).
        ops.append(b.table([("u32", i), ("off", b.vector_i32([0, 1])), ("off", b.vector_i32([0]))]))
    tensors = b.vector_offsets([t0, t1])
    opvec = b.vector_offsets(ops)
    sgname = b.string("main")
    # SubGraph: tensors (0), inputs (1), outputs (2), operators (3), name (4).
    sg = b.table([("off", tensors), ("off", ins), ("off", outs), ("off", opvec), ("off", sgname)])
    # Buffer: data (0). Buffer 0 is the empty sentinel.
    empty = b.table([None])
    data = b.vector_u8(bytes(range(256))[:weights])
    wbuf = b.table([("off", data)])
    buffers = b.vector_offsets([empty, empty, wbuf])
    codevec = b.vector_offsets(codes)
    subgraphs = b.vector_offsets([sg])
    # Model: version:u32 (0), operator_codes (1), subgraphs (2), description (3), buffers (4).
    root = b.table([("u32", 3), ("off", codevec), ("off", subgraphs), ("off", desc), ("off", buffers)])
    return b.finish(root)


def check_tflite(data, want_codes):
    """Read a written model back with the flatbuffers library, when
    python3-flatbuffers is installed, to prove the builder above lays
    tables out as FlatBuffers readers expect."""
    try:
        import flatbuffers
        from flatbuffers import number_types as N
        from flatbuffers.table import Table
    except ImportError:
        return False
    buf = bytearray(data)
    assert flatbuffers.util.BufferHasIdentifier(buf, 0, b"TFL3")
    model = Table(buf, flatbuffers.encode.Get(N.UOffsetTFlags.packer_type, buf, 0))
    o = model.Offset(6)  # operator_codes
    vec, n = model.Vector(o), model.VectorLen(o)
    got = []
    for i in range(n):
        code = Table(buf, model.Indirect(vec + 4 * i))
        custom = code.String(code.Pos + code.Offset(6)).decode() if code.Offset(6) else None
        got.append((code.Get(N.Int32Flags, code.Pos + code.Offset(10)), custom))
    assert got == want_codes, (got, want_codes)
    return True


def tflites():
    checked = all(check_tflite(tflite(codes), codes) for codes in (
        [(FULLY_CONNECTED, None), (ADD, None)], [(CONV_2D, None), (CUSTOM, "TFLite_Detection_PostProcess")]))
    print("TFLite layout checked with python3-flatbuffers" if checked else "python3-flatbuffers not installed: TFLite layout not checked")
    write("benign/model.tflite", tflite([(FULLY_CONNECTED, None), (ADD, None)]), "benign", "info", "info",
          desc="TFLite FULLY_CONNECTED + ADD, builtin ops only")
    write("benign/detection.tflite", tflite([(CONV_2D, None), (CUSTOM, "TFLite_Detection_PostProcess")]), "benign", "info", "low",
          "tflite/custom-op", "", "the detection post-processing custom op that TFLite's own op resolver provides")
    write("malicious/custom_op.tflite", tflite([(ADD, None), (CUSTOM, "EvilNativeKernel")]), "malicious", "medium", "medium",
          "tflite/custom-op", "EvilNativeKernel", "a custom op that needs a native kernel the application must register")
    write("malicious/flex_readfile.tflite", tflite([(ADD, None), (CUSTOM, "FlexReadFile")]), "malicious", "high", "high",
          "tensorflow/io-op", "FlexReadFile", "a Flex (select TensorFlow ops) ReadFile: TensorFlow's kernel reads a file")
    good = tflite([(FULLY_CONNECTED, None)])
    write("malformed/truncated.tflite", good[:40], "malicious", "medium", "medium", "model/malformed", "",
          "a TFLite flatbuffer cut short")
    bad = bytearray(good)
    struct.pack_into("<I", bad, 0, 0x7FFFFFF0)  # root offset far past the end
    write("malformed/bad_root.tflite", bytes(bad), "malicious", "medium", "medium", "model/malformed", "",
          "a TFLite root table offset past the end of the file")


def main():
    for d in ("benign", "malicious", "malformed"):
        shutil.rmtree(os.path.join(HERE, d), ignore_errors=True)
    savedmodels()
    frozen_graphs()
    tflites()
    with open(os.path.join(HERE, "MANIFEST.tsv"), "w", newline="\n") as f:
        f.write("path\tverdict\tmin_severity\tmax_severity\trules\tevidence\tdescription\n")
        for row in MANIFEST:
            f.write("\t".join(row) + "\n")
    print(f"{len(MANIFEST)} fixtures")


if __name__ == "__main__":
    main()
