#!/usr/bin/python3
"""Writes the real-world pickles the tests of package pickle read.

Run from this directory with Debian's Python, which has numpy, torch,
sklearn and joblib:  /usr/bin/python3 gen.py

Every file is small and committed. Outputs are deterministic for a given
set of library versions; the tests check what the files hold, not bytes.
"""

import argparse
import collections
import io
import os
import pickle
import zipfile

import joblib
import joblib.numpy_pickle
import numpy as np
import torch
from sklearn.linear_model import LogisticRegression


def write(name, data):
    with open(name, "wb") as f:
        f.write(data)


class Payload:
    """Pickles as a call of os.system: a stand-in for a malicious model."""

    def __reduce__(self):
        return (os.system, ("true",))


def benign():
    shared = [1, 2]
    return {
        "ints": [0, 1, -1, 255, 256, 65535, 65536, 2**31 - 1, -(2**31), 2**40, 2**70, -(2**70)],
        "floats": [1.5, -0.0, float("inf")],
        "str": "h\u00e9llo \u2603\n'\"\\",
        "bytes": b"\x00\xff",
        "tuple": (1, (2, 3), (4, 5, 6), (7, 8, 9, 10)),
        "set": {1, 2},
        "frozen": frozenset({3}),
        "none": None,
        "bools": [True, False],
        "od": collections.OrderedDict(a=1),
        "shared": (shared, shared),
        "empty": ((), [], {}, set()),
        "complex": 1 + 2j,
    }


def pickles():
    for proto in range(6):
        write("proto%d_benign.pkl" % proto, pickle.dumps(benign(), protocol=proto))
        write("proto%d_os_system.pkl" % proto, pickle.dumps([1, Payload()], protocol=proto))
    write("argparse_namespace.pkl", pickle.dumps(argparse.Namespace(lr=0.1, name="x"), protocol=2))
    write("numpy_array_p2.pkl", pickle.dumps(np.arange(4, dtype="f4"), protocol=2))
    write("numpy_array_p5.pkl", pickle.dumps(np.arange(4, dtype="f4"), protocol=5))


def torch_files():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU())
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        name = [n for n in z.namelist() if n.endswith("data.pkl")][0]
        write("torch_state_dict.pkl", z.read(name))
    # A typical checkpoint's shape: conv and batch-norm layers, 140 tensors.
    blocks = []
    for _ in range(20):
        blocks += [torch.nn.Conv2d(4, 4, 3), torch.nn.BatchNorm2d(4)]
    buf = io.BytesIO()
    torch.save(torch.nn.Sequential(*blocks).state_dict(), buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        name = [n for n in z.namelist() if n.endswith("data.pkl")][0]
        write("torch_convnet_state_dict.pkl", z.read(name))
    buf = io.BytesIO()
    torch.save(model, buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        name = [n for n in z.namelist() if n.endswith("data.pkl")][0]
        write("torch_module.pkl", z.read(name))
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf, _use_new_zipfile_serialization=False)
    write("torch_legacy.pt", buf.getvalue())


class NoTell(io.RawIOBase):
    """A file joblib cannot tell the position of: it writes no alignment."""

    def __init__(self):
        self.buf = io.BytesIO()

    def writable(self):
        return True

    def write(self, b):
        return self.buf.write(b)

    def tell(self):
        raise io.UnsupportedOperation("tell")


def joblib_files():
    x = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.2], [0.1, 0.9]])
    y = np.array([0, 1, 1, 0])
    clf = LogisticRegression().fit(x, y)
    joblib.dump(clf, "sklearn_logreg.joblib")
    joblib.dump({"objects": np.array([1, "x", None], dtype=object), "after": np.arange(3, dtype="i2")}, "joblib_object.joblib")
    joblib.dump({"record": np.zeros(2, dtype=[("a", "i4"), ("b", "f8")]), "text": np.array(["ab", "c"]), "when": np.array(["2020-01-01"], dtype="M8[D]")}, "joblib_dtypes.joblib")
    f = NoTell()
    joblib.dump({"a": np.arange(5, dtype="i8")}, f)
    write("joblib_noalign.joblib", f.buf.getvalue())
    # joblib up to 1.1 wrote no alignment attribute at all.
    init = joblib.numpy_pickle.NumpyArrayWrapper.__init__

    def old_init(self, *args, **kwargs):
        init(self, *args, **kwargs)
        del self.numpy_array_alignment_bytes

    joblib.numpy_pickle.NumpyArrayWrapper.__init__ = old_init
    try:
        joblib.dump({"a": np.arange(5, dtype="u1")}, "joblib_old.joblib")
    finally:
        joblib.numpy_pickle.NumpyArrayWrapper.__init__ = init


if __name__ == "__main__":
    pickles()
    torch_files()
    joblib_files()
