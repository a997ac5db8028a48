#!/usr/bin/python3
"""Write chainvet's ONNX fixtures: benign/, malicious/ and MANIFEST.tsv.

    /usr/bin/python3 testdata/onnx/gen.py

Needs Debian's python3-onnx (1.12). Models are built with onnx.helper and
checked with onnx.checker where they are meant to be valid; nothing is ever
run (no onnxruntime), and no external data is ever loaded: the generator
writes TensorProto fields itself, so a location such as /etc/passwd is only
a string in a file. Output is deterministic.
"""

import os
import shutil
import struct

import onnx
from onnx import TensorProto, helper, numpy_helper

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
MANIFEST = []


def write(rel, model, verdict, lo, hi, rules="", evidence="", desc="", check=True):
    path = os.path.join(HERE, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    data = model.SerializeToString() if hasattr(model, "SerializeToString") else model
    with open(path, "wb") as f:
        f.write(data)
    if check:
        # By path, so that external data is looked for beside the model.
        onnx.checker.check_model(path)
    MANIFEST.append((rel, verdict, lo, hi, rules, evidence, desc))


def raw(rel, data):
    path = os.path.join(HERE, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def model(graph, opsets=(("", 17),), functions=(), producer="chainvet-gen", **kw):
    m = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid(d, v) for d, v in opsets],
        producer_name=producer,
        producer_version="1.0",
        **kw,
    )
    if functions:
        m.functions.extend(functions)
    m.ir_version = 8
    return m


def f32(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def weight(name, shape, seed):
    rng = np.random.default_rng(seed)
    return numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name)


def external(name, shape, location, offset=None, length=None):
    """A float tensor whose data is said to live in another file."""
    t = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=list(shape))
    t.data_location = TensorProto.EXTERNAL
    entries = [("location", location)]
    if offset is not None:
        entries.append(("offset", str(offset)))
    if length is not None:
        entries.append(("length", str(length)))
    for k, v in entries:
        e = t.external_data.add()
        e.key, e.value = k, v
    return t


def linear_graph(init, name="linear"):
    """y = x @ W, with W from init."""
    return helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["y"], name="matmul_0")],
        name, [f32("x", [1, 4])], [f32("y", [1, 2])], [init])


def benign():
    add = helper.make_graph(
        [helper.make_node("Add", ["a", "b"], ["c"], name="add_0")],
        "add", [f32("a", [2]), f32("b", [2])], [f32("c", [2])])
    write("benign/add.onnx", model(add), "benign", "info", "info",
          desc="one Add node, opset 17, no initializers")

    mlp = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "W1"], ["h0"], name="matmul_0"),
            helper.make_node("Add", ["h0", "b1"], ["h1"], name="add_0"),
            helper.make_node("Relu", ["h1"], ["h2"], name="relu_0"),
            helper.make_node("Gemm", ["h2", "W2", "b2"], ["y"], name="gemm_0", transB=1),
        ],
        "mlp", [f32("x", ["N", 4])], [f32("y", ["N", 3])],
        [weight("W1", [4, 8], 1), weight("b1", [8], 2), weight("W2", [3, 8], 3), weight("b2", [3], 4)])
    write("benign/mlp.onnx", model(mlp, doc_string="a two-layer perceptron"), "benign", "info", "info",
          desc="MatMul, Add, Relu, Gemm with 4 float initializers (67 parameters)")

    then_g = helper.make_graph([helper.make_node("Identity", ["x"], ["t"], name="then_id")],
                               "then_branch", [], [f32("t", [4])])
    else_g = helper.make_graph([helper.make_node("Neg", ["x"], ["e"], name="else_neg")],
                               "else_branch", [], [f32("e", [4])])
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"], name="body_cond"),
         helper.make_node("Add", ["v_in", "v_in"], ["v_out"], name="body_add")],
        "loop_body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         f32("v_in", [4])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []), f32("v_out", [4])])
    ctrl = helper.make_graph(
        [
            helper.make_node("If", ["c"], ["r"], name="if_0", then_branch=then_g, else_branch=else_g),
            helper.make_node("Loop", ["n", "", "r"], ["z"], name="loop_0", body=body),
        ],
        "control_flow",
        [helper.make_tensor_value_info("c", TensorProto.BOOL, []), f32("x", [4]),
         helper.make_tensor_value_info("n", TensorProto.INT64, [])],
        [f32("z", [4])])
    write("benign/if_loop.onnx", model(ctrl), "benign", "info", "info",
          desc="If with then/else subgraphs feeding a Loop with a body subgraph")

    fn = helper.make_function(
        "local.fn", "Scale2", ["x"], ["y"],
        [helper.make_node("Add", ["x", "x"], ["y"], name="fn_add")],
        [helper.make_opsetid("", 17)])
    g = helper.make_graph([helper.make_node("Scale2", ["a"], ["b"], domain="local.fn", name="call_0")],
                          "with_function", [f32("a", [2])], [f32("b", [2])])
    write("benign/function.onnx", model(g, opsets=(("", 17), ("local.fn", 1)), functions=[fn]),
          "benign", "info", "info",
          desc="a model-local function in domain local.fn, called by the main graph: not a custom op")

    g = helper.make_graph(
        [helper.make_node("FusedMatMul", ["a", "b"], ["c"], domain="com.microsoft", name="fused_0")],
        "contrib", [f32("a", [2, 2]), f32("b", [2, 2])], [f32("c", [2, 2])])
    write("benign/ort_contrib.onnx", model(g, opsets=(("", 17), ("com.microsoft", 1))), "benign", "info", "info",
          rules="onnx/custom-domain", desc="an onnxruntime contrib op (com.microsoft FusedMatMul): bundled with the runtime, info only")

    g = helper.make_graph(
        [helper.make_node("Normalizer", ["x"], ["y"], domain="ai.onnx.ml", name="norm_0", norm="L2")],
        "ml", [f32("x", [1, 3])], [f32("y", [1, 3])])
    write("benign/ml.onnx", model(g, opsets=(("", 17), ("ai.onnx.ml", 3))), "benign", "info", "info",
          desc="an ai.onnx.ml operator (Normalizer), a standard domain")

    # External data inside the model's folder: W's 32 bytes live in weights.bin.
    w = np.arange(8, dtype=np.float32)
    raw("benign/external/weights.bin", b"\0" * 16 + w.tobytes())
    write("benign/external/model.onnx", model(linear_graph(external("W", [4, 2], "weights.bin", 16, 32))),
          "benign", "info", "info", desc="initializer W stored in weights.bin beside the model, at offset 16")


def malicious():
    for name, loc, desc in [
        ("external_absolute", "/etc/passwd", "external data location is the absolute path /etc/passwd"),
        ("external_traversal", "../../secret.bin", "external data location climbs out with ../../secret.bin"),
        ("external_url", "https://example.invalid/w.bin", "external data location is a URL"),
        ("external_windows", "C:\\Windows\\win.ini", "external data location is an absolute Windows path"),
        ("external_backslash", "..\\..\\secret.bin", "external data location climbs out with backslashes"),
        ("external_midpath", "data/../../outside.bin", "external data location climbs out after a folder"),
    ]:
        write(f"malicious/{name}.onnx", model(linear_graph(external("W", [4, 2], loc))),
              "malicious", "high", "high", "onnx/external-data-path", loc, desc, check=False)

    # A Constant node's tensor attribute can hold external data too.
    t = external("const_w", [2], "/etc/shadow")
    g = helper.make_graph(
        [helper.make_node("Constant", [], ["k"], name="const_0", value=t),
         helper.make_node("Add", ["x", "k"], ["y"], name="add_0")],
        "const_external", [f32("x", [2])], [f32("y", [2])])
    write("malicious/constant_external.onnx", model(g), "malicious", "high", "high",
          "onnx/external-data-path", "/etc/shadow", "a Constant node's value attribute has external data at /etc/shadow", check=False)

    t = external("W", [4, 2], "weights.bin")
    e = t.external_data.add()
    e.key, e.value = "location", "/etc/passwd"  # loaders take the last value of a repeated key
    write("malicious/external_duplicate_location.onnx", model(linear_graph(t)), "malicious", "high", "high",
          "onnx/external-data-path", "/etc/passwd",
          "external_data gives location twice: a harmless name first, /etc/passwd last, which loaders use", check=False)

    write("malicious/external_missing.onnx", model(linear_graph(external("W", [4, 2], "missing.bin"))),
          "malicious", "low", "low", "onnx/external-data-missing", "missing.bin",
          "external data file missing.bin is not beside the model", check=False)

    raw("malicious/range/short.bin", b"\0" * 8)
    write("malicious/range/model.onnx", model(linear_graph(external("W", [4, 2], "short.bin", 4, 32))),
          "malicious", "medium", "medium", "onnx/external-data-invalid", "short.bin",
          "external data range 4+32 runs past the end of the 8-byte short.bin", check=False)

    t = external("W", [4, 2], "weights.bin")
    t.external_data[0].key = "path"  # no "location" key at all
    write("malicious/external_no_location.onnx", model(linear_graph(t)), "malicious", "medium", "medium",
          "onnx/external-data-invalid", "location", "data_location is EXTERNAL but external_data has no location", check=False)

    g = helper.make_graph(
        [helper.make_node("LoadLib", ["x"], ["y"], domain="com.evil", name="evil_0")],
        "custom", [f32("x", [2])], [f32("y", [2])])
    write("malicious/custom_domain.onnx", model(g, opsets=(("", 17), ("com.evil", 1))), "malicious", "high", "high",
          "onnx/custom-domain", "com.evil", "a node of custom domain com.evil (LoadLib): needs a native op library")

    hidden = helper.make_graph(
        [helper.make_node("Exec", ["x"], ["t"], domain="com.evil", name="hidden_exec")],
        "then_branch", [], [f32("t", [2])])
    plain = helper.make_graph([helper.make_node("Identity", ["x"], ["e"], name="else_id")],
                              "else_branch", [], [f32("e", [2])])
    g = helper.make_graph(
        [helper.make_node("If", ["c"], ["y"], name="if_0", then_branch=hidden, else_branch=plain)],
        "subgraph", [helper.make_tensor_value_info("c", TensorProto.BOOL, []), f32("x", [2])], [f32("y", [2])])
    write("malicious/subgraph_custom.onnx", model(g, opsets=(("", 17), ("com.evil", 1))), "malicious", "high", "high",
          "onnx/custom-domain", "hidden_exec", "a custom-domain op hidden in an If node's then_branch")

    fn = helper.make_function(
        "local.fn", "Wrapper", ["x"], ["y"],
        [helper.make_node("Spawn", ["x"], ["y"], domain="com.evil", name="fn_spawn")],
        [helper.make_opsetid("", 17), helper.make_opsetid("com.evil", 1)])
    g = helper.make_graph([helper.make_node("Wrapper", ["a"], ["b"], domain="local.fn", name="call_0")],
                          "function_custom", [f32("a", [2])], [f32("b", [2])])
    write("malicious/function_custom.onnx",
          model(g, opsets=(("", 17), ("local.fn", 1), ("com.evil", 1)), functions=[fn]),
          "malicious", "high", "high", "onnx/custom-domain", "Spawn",
          "a model-local function whose body calls a custom-domain op", check=False)

    g = helper.make_graph(
        [helper.make_node("Tokenize", ["x"], ["y"], domain="ai.onnx.contrib", name="tok_0")],
        "extensions", [helper.make_tensor_value_info("x", TensorProto.STRING, [1])],
        [helper.make_tensor_value_info("y", TensorProto.STRING, [1])])
    write("malicious/extensions_domain.onnx", model(g, opsets=(("", 17), ("ai.onnx.contrib", 1))),
          "malicious", "medium", "medium", "onnx/custom-domain", "ai.onnx.contrib",
          "an onnxruntime-extensions op (ai.onnx.contrib): a separate native library must be registered")

    # Malformed: the benign MLP cut in half, and a length that overruns.
    with open(os.path.join(HERE, "benign/mlp.onnx"), "rb") as f:
        mlp = f.read()
    write("malformed/truncated.onnx", mlp[: len(mlp) // 2], "malicious", "medium", "high",
          "model/malformed", "", "benign/mlp.onnx cut in half", check=False)
    bad = bytearray(mlp)
    # Field 7 (graph) follows ir_version and the producer strings; give it
    # a length far past the end of the file.
    i = bad.index(b"\x3a")
    bad[i + 1 : i + 2] = b"\xff\xff\xff\x7f"
    write("malformed/overlong_graph.onnx", bytes(bad), "malicious", "medium", "medium",
          "model/malformed", "", "the graph field's length runs past the end of the file", check=False)
    write("malformed/not_onnx.onnx", b"\x08\x07garbage that is not protobuf\xff\xff", "malicious", "medium", "medium",
          "model/malformed", "", "a file named .onnx that is not a ModelProto", check=False)


def main():
    for d in ("benign", "malicious", "malformed"):
        shutil.rmtree(os.path.join(HERE, d), ignore_errors=True)
    benign()
    malicious()
    with open(os.path.join(HERE, "MANIFEST.tsv"), "w", newline="\n") as f:
        f.write("path\tverdict\tmin_severity\tmax_severity\trules\tevidence\tdescription\n")
        for row in MANIFEST:
            f.write("\t".join(row) + "\n")
    print(f"{len(MANIFEST)} fixtures")


if __name__ == "__main__":
    main()
