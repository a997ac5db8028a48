#!/usr/bin/python3
"""Lists the globals that real, benign model pickles reference.

Run with the Debian python (torch, numpy, scipy, sklearn, joblib installed):

    /usr/bin/python3 gen_benign_globals.py [outdir]

It builds pickles the way the frameworks write them (torch.save in both its
zip and legacy formats, pickle at every protocol, joblib.dump, np.save of
object arrays) in a temporary directory, then reads each one back with
pickletools.genops only: nothing is ever unpickled. A small symbolic stack
machine resolves STACK_GLOBAL operands and notes how each global is used:

  benign_globals.txt  every global any of the files imports, one dotted name
                      (module + "." + qualified name) per line, as written:
                      protocols 0-2 say __builtin__ and copy_reg;
  benign_calls.txt    the subset that is called as a function (REDUCE, INST,
                      OBJ, or the base class copyreg._reconstructor calls),
                      which the classifier must call Safe, not just Construct.

Objects are only built from the frameworks' own classes: user classes
(__main__.*) are unknown by design and are left out.
"""

import argparse
import collections
import datetime
import decimal
import fractions
import functools
import io
import ipaddress
import os
import pathlib
import pickle
import pickletools
import re
import shutil
import sys
import tempfile
import uuid
import warnings
import zipfile
import zlib

warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402

# --- reading pickles ---------------------------------------------------------


class Global:
    def __init__(self, name):
        self.name = name


class Mark:
    pass


class Value:
    """A value the machine does not need to know more about."""

    def __init__(self, v=None):
        self.v = v


MARK = Mark()
STRINGS = {
    "STRING", "BINSTRING", "SHORT_BINSTRING", "UNICODE",
    "SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8",
}


def scan_stream(f, found, called):
    """Walk one pickle (up to its STOP) from f, recording globals.

    found and called are sets of dotted names. Returns False at end of data.
    """
    stack, memo = [], {}

    def pop_mark():
        items = []
        while True:
            v = stack.pop()
            if v is MARK:
                return items[::-1]
            items.append(v)

    def note_call(callee, args):
        if not isinstance(callee, Global):
            return
        if callee.name in ("copyreg._reconstructor", "copy_reg._reconstructor"):
            # _reconstructor(cls, base, state): makes cls with base.__new__
            # and, unless base is object, calls base.__init__.
            items = args.v if isinstance(args, Value) and isinstance(args.v, tuple) else ()
            if len(items) >= 2 and isinstance(items[1], Global):
                if items[1].name not in ("builtins.object", "__builtin__.object"):
                    called.add(items[1].name)
            called.add(callee.name)
            return
        called.add(callee.name)

    start = f.tell()
    try:
        ops = pickletools.genops(f)
        for op, arg, _pos in ops:
            name = op.name
            if name in STRINGS:
                stack.append(Value(arg))
            elif name == "GLOBAL" or name == "INST":
                module, attr = arg.split(" ", 1)
                g = Global(module + "." + attr)
                found.add(g.name)
                if name == "GLOBAL":
                    stack.append(g)
                else:
                    pop_mark()
                    called.add(g.name)
                    stack.append(Value())
            elif name == "STACK_GLOBAL":
                attr, module = stack.pop(), stack.pop()
                g = Global(f"{module.v}.{attr.v}")
                found.add(g.name)
                stack.append(g)
            elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
                memo[arg] = stack[-1]
            elif name == "MEMOIZE":
                memo[len(memo)] = stack[-1]
            elif name in ("GET", "BINGET", "LONG_BINGET"):
                stack.append(memo[arg])
            elif name == "MARK":
                stack.append(MARK)
            elif name == "EMPTY_TUPLE":
                stack.append(Value(()))
            elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
                n = int(name[-1])
                items = tuple(stack[-n:])
                del stack[-n:]
                stack.append(Value(items))
            elif name == "TUPLE":
                stack.append(Value(tuple(pop_mark())))
            elif name == "REDUCE":
                args, callee = stack.pop(), stack.pop()
                note_call(callee, args)
                stack.append(Value())
            elif name == "OBJ":
                items = pop_mark()
                if items and isinstance(items[0], Global):
                    called.add(items[0].name)
                stack.append(Value())
            elif name in ("NEWOBJ", "NEWOBJ_EX"):
                del stack[-(2 if name == "NEWOBJ" else 3):]
                stack.append(Value())
            elif name == "STOP":
                return True
            else:
                # Every other opcode only moves data: apply its stack effect.
                before = [s.name for s in op.stack_before]
                if "mark" in before:
                    pop_mark()
                    before = before[: before.index("mark")]
                if before:
                    del stack[-len(before):]
                stack.extend(Value() for _ in op.stack_after)
    except Exception as e:  # a benign file must parse: say so loudly
        raise SystemExit(f"cannot read pickle at offset {start}: {e!r}")
    return False


def scan_file(path, found, called, offset=0, count=None):
    """Scan count pickles (all, if None) in a row from offset."""
    with open(path, "rb") as f:
        f.seek(offset)
        n = 0
        while count is None or n < count:
            if f.read(1) == b"":
                break
            f.seek(-1, 1)
            if not scan_stream(f, found, called):
                break
            n += 1


def scan_bytes(data, found, called):
    f = io.BytesIO(data)
    while f.tell() < len(data):
        scan_stream(f, found, called)


def scan_torch(path, found, called):
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            for n in z.namelist():
                if n.endswith(".pkl"):
                    scan_bytes(z.read(n), found, called)
    else:
        # Legacy format: magic, protocol, sys_info, the object, storage
        # keys; raw storage bytes follow.
        scan_file(path, found, called, count=5)


# --- writing pickles ---------------------------------------------------------


def torch_objects():
    import torch
    import torch.nn as nn

    torch.manual_seed(0)
    objs = {}
    dtypes = [
        torch.float32, torch.float64, torch.float16, torch.bfloat16,
        torch.int8, torch.uint8, torch.int16, torch.int32, torch.int64,
        torch.bool, torch.complex64, torch.complex128,
    ]
    objs["tensors_by_dtype"] = {str(d): torch.ones(3, 2).to(d) for d in dtypes}
    objs["dtype_objects"] = list(dtypes) + [torch.float, torch.half, torch.cfloat]
    objs["size_device"] = [torch.Size([2, 3]), torch.device("cpu"), torch.device("cuda", 1)]
    objs["layouts"] = [torch.strided, torch.sparse_coo, torch.sparse_csr]
    t = torch.randn(4, 4)
    objs["views"] = {"t": t, "view": t[1:, ::2], "transposed": t.t()}
    objs["grad"] = torch.randn(2, requires_grad=True)
    objs["parameter"] = nn.Parameter(torch.randn(3))
    objs["frozen_parameter"] = nn.Parameter(torch.randn(3), requires_grad=False)
    objs["sparse_coo"] = torch.randn(4, 4).to_sparse()
    objs["sparse_csr"] = torch.randn(4, 4).relu().to_sparse_csr()
    objs["meta"] = torch.empty(3, 4, device="meta")
    objs["empty"] = torch.empty(0)
    objs["scalar"] = torch.tensor(3.5)
    x = torch.randn(3)
    x.custom_attribute = "kept by _rebuild_from_type_v2"
    objs["tensor_with_dict"] = x
    try:
        objs["quant_per_tensor"] = torch.quantize_per_tensor(torch.randn(4), 0.1, 10, torch.quint8)
        objs["quant_qint8"] = torch.quantize_per_tensor(torch.randn(4), 0.1, 0, torch.qint8)
        objs["quant_qint32"] = torch.quantize_per_tensor(torch.randn(4), 0.1, 0, torch.qint32)
        objs["quant_per_channel"] = torch.quantize_per_channel(
            torch.randn(2, 3), torch.tensor([0.1, 0.2]), torch.tensor([0, 1]), 0, torch.quint8)
    except RuntimeError as e:
        print("skipping quantized tensors:", e, file=sys.stderr)

    def block():
        return nn.Sequential(
            nn.Linear(4, 4), nn.Conv1d(1, 2, 3), nn.Conv2d(1, 2, 3),
            nn.Conv3d(1, 2, 3), nn.ConvTranspose2d(2, 1, 3),
            nn.LSTM(4, 4, batch_first=True), nn.GRU(4, 4), nn.RNN(4, 4),
            nn.Embedding(10, 4), nn.EmbeddingBag(10, 4),
            nn.BatchNorm1d(4), nn.BatchNorm2d(4), nn.GroupNorm(2, 4),
            nn.LayerNorm(4), nn.InstanceNorm2d(4),
            nn.Dropout(0.1), nn.Dropout2d(0.1),
            nn.ReLU(), nn.GELU(), nn.SiLU(), nn.Tanh(), nn.Sigmoid(),
            nn.Softmax(dim=-1), nn.LogSoftmax(dim=-1), nn.LeakyReLU(), nn.PReLU(),
            nn.ELU(), nn.Mish(), nn.Hardswish(),
            nn.MaxPool2d(2), nn.AvgPool2d(2), nn.AdaptiveAvgPool2d(1),
            nn.AdaptiveMaxPool1d(1), nn.Flatten(), nn.Unflatten(1, (2, 2)),
            nn.Identity(), nn.Upsample(scale_factor=2), nn.ZeroPad2d(1),
            nn.PixelShuffle(2), nn.Bilinear(2, 2, 2),
            nn.MultiheadAttention(4, 2),
            nn.TransformerEncoderLayer(4, 2, 8), nn.TransformerDecoderLayer(4, 2, 8),
            nn.CrossEntropyLoss(), nn.MSELoss(), nn.BCEWithLogitsLoss(), nn.L1Loss(),
            nn.NLLLoss(), nn.SmoothL1Loss(), nn.KLDivLoss(), nn.CosineSimilarity(),
        )

    model = block()
    objs["module_list"] = nn.ModuleList([nn.Linear(2, 2), nn.ReLU()])
    objs["module_dict"] = nn.ModuleDict({"a": nn.Linear(2, 2)})
    objs["parameter_list"] = nn.ParameterList([nn.Parameter(torch.randn(2))])
    objs["parameter_dict"] = nn.ParameterDict({"p": nn.Parameter(torch.randn(2))})
    objs["transformer"] = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1,
                                         num_decoder_layers=1, dim_feedforward=16)
    objs["model"] = model
    objs["gelu_layer"] = nn.TransformerEncoderLayer(4, 2, 8, activation="gelu")
    objs["weight_norm"] = nn.utils.weight_norm(nn.Linear(2, 2))
    objs["spectral_norm"] = nn.utils.spectral_norm(nn.Linear(2, 2))
    objs["data_parallel"] = nn.DataParallel(nn.Linear(2, 2))
    objs["packed_sequence"] = nn.utils.rnn.pack_padded_sequence(
        torch.randn(2, 3, 4), [3, 2], batch_first=True)
    objs["quantized_dynamic"] = torch.quantization.quantize_dynamic(
        nn.Sequential(nn.Linear(4, 4), nn.LSTM(4, 4)), {nn.Linear, nn.LSTM}, dtype=torch.qint8)
    objs["distributions"] = [torch.distributions.Normal(torch.zeros(2), torch.ones(2)),
                             torch.distributions.Categorical(probs=torch.ones(3) / 3)]
    objs["versions"] = {"torch": torch.__version__, "cuda": torch.version.cuda}
    objs["state_dict"] = model.state_dict()
    objs["transformer_state_dict"] = objs["transformer"].state_dict()

    lin = nn.Linear(4, 2)
    out = lin(torch.randn(3, 4)).sum()
    out.backward()
    optimizers = {
        "sgd": torch.optim.SGD(lin.parameters(), lr=0.1, momentum=0.9),
        "adam": torch.optim.Adam(lin.parameters()),
        "adamw": torch.optim.AdamW(lin.parameters()),
        "rmsprop": torch.optim.RMSprop(lin.parameters()),
        "adagrad": torch.optim.Adagrad(lin.parameters()),
    }
    for name, opt in optimizers.items():
        opt.step()
        objs["opt_state_" + name] = opt.state_dict()
        objs["opt_" + name] = opt
    opt = optimizers["sgd"]
    scheds = {
        "step": torch.optim.lr_scheduler.StepLR(opt, 2),
        "multistep": torch.optim.lr_scheduler.MultiStepLR(opt, [1, 2]),
        "cosine": torch.optim.lr_scheduler.CosineAnnealingLR(opt, 10),
        "exponential": torch.optim.lr_scheduler.ExponentialLR(opt, 0.9),
        "plateau": torch.optim.lr_scheduler.ReduceLROnPlateau(opt),
        # OneCycleLR is left out: torch 1.13 keeps a bound method in its
        # state_dict, which pickles as builtins.getattr(scheduler, name) -
        # a getattr call the classifier rightly calls dangerous.
    }
    for name, s in scheds.items():
        objs["sched_state_" + name] = s.state_dict()
    objs["checkpoint"] = {
        "epoch": 3,
        "model": lin.state_dict(),
        "optimizer": optimizers["adam"].state_dict(),
        "scheduler": scheds["cosine"].state_dict(),
        "rng": torch.get_rng_state(),
        "numpy_rng": np.random.get_state(),
        "args": argparse.Namespace(lr=0.1, name="run"),
        "metrics": collections.OrderedDict(loss=0.5),
    }
    objs["scaler_state"] = {"scale": torch.tensor(65536.0)}
    return objs


def numpy_objects():
    objs = {}
    kinds = ["f2", "f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8",
             "?", "c8", "c16", "M8[ns]", "m8[s]", "U5", "S5", "V4"]
    objs["arrays"] = {k: np.zeros(3, dtype=k) for k in kinds}
    objs["structured"] = np.zeros(2, dtype=[("a", "f4"), ("b", "i8", (2,))])
    objs["record"] = np.rec.array([(1, 2.0)], dtype=[("x", "i4"), ("y", "f8")])
    objs["fortran"] = np.asfortranarray(np.ones((2, 3)))
    objs["object_array"] = np.array([1, "a", None], dtype=object)
    objs["masked"] = np.ma.masked_array([1, 2, 3], mask=[0, 1, 0])
    objs["matrix"] = np.matrix([[1, 2], [3, 4]])
    objs["scalars"] = [np.float32(1), np.float64(2), np.int64(3), np.int8(4),
                       np.uint16(5), np.bool_(True), np.complex64(1j),
                       np.float16(1), np.longdouble(2), np.str_("s"),
                       np.bytes_(b"b"), np.datetime64("2020-01-01"),
                       np.timedelta64(3, "D"), np.void(b"ab")]
    objs["dtypes"] = [np.dtype(k) for k in kinds] + [np.dtype("f8").newbyteorder()]
    objs["legacy_rng"] = np.random.RandomState(0)
    objs["generator"] = np.random.default_rng(0)
    objs["bit_generators"] = [np.random.PCG64(1), np.random.MT19937(1),
                              np.random.Philox(1), np.random.SFC64(1),
                              np.random.PCG64DXSM(1)]
    objs["seed_sequence"] = np.random.SeedSequence(5)
    objs["global_rng_state"] = np.random.get_state()
    return objs


def scipy_objects():
    import scipy.sparse as sp

    m = np.eye(3)
    import scipy.stats as st
    import scipy.spatial as spatial

    return {
        # Discrete distributions (st.poisson(3)) are left out: they keep
        # bound methods, which pickle as builtins.getattr(obj, name).
        "frozen_distributions": [st.norm(0, 1), st.gamma(2.0),
                                 st.multivariate_normal([0, 0])],
        "kd_trees": [spatial.cKDTree(m), spatial.KDTree(m)],
        "sparse": [sp.csr_matrix(m), sp.csc_matrix(m), sp.coo_matrix(m),
                   sp.lil_matrix(m), sp.dok_matrix(m), sp.bsr_matrix(m),
                   sp.dia_matrix(m), sp.csr_array(m), sp.csc_array(m),
                   sp.coo_array(m)],
    }


def pandas_objects():
    try:
        import pandas as pd
    except ImportError:  # python3-pandas is optional
        print("pandas not installed: no pandas objects", file=sys.stderr)
        return {}

    idx = pd.date_range("2020-01-01", periods=3, freq="D")
    frame = pd.DataFrame({
        "i": [1, 2, 3], "f": [0.5, 1.5, None], "s": ["a", "b", "c"],
        "b": [True, False, True], "t": idx, "tz": idx.tz_localize("UTC"),
        "d": pd.to_timedelta([1, 2, 3], unit="s"),
        "c": pd.Categorical(["x", "y", "x"]),
        "n": pd.array([1, None, 3], dtype="Int64"),
        "str": pd.array(["p", None, "q"], dtype="string"),
        "bn": pd.array([True, None, False], dtype="boolean"),
        "p": pd.period_range("2020-01", periods=3, freq="M"),
        "iv": pd.interval_range(0, 3),
        "sp": pd.arrays.SparseArray([0, 0, 1]),
    })
    return {
        "frame": frame,
        "series": frame["f"],
        "indexes": [pd.RangeIndex(5), pd.Index(["a", "b"]), idx,
                    pd.MultiIndex.from_tuples([(1, "a"), (2, "b")]),
                    pd.CategoricalIndex(["a", "b"]), pd.interval_range(0, 2),
                    pd.period_range("2020", periods=2, freq="Y"),
                    pd.timedelta_range("1s", periods=2), pd.Index([1.5, 2.5])],
        "scalars": [pd.Timestamp("2020-01-01"), pd.Timestamp("2020-01-01", tz="UTC"),
                    pd.Timedelta("1s"), pd.NaT, pd.Period("2020-01"),
                    pd.Interval(0, 1), pd.NA],
        "offsets": [pd.offsets.Day(2), pd.offsets.MonthEnd(), pd.offsets.BusinessDay()],
        "grouped_frame": frame.set_index(["s", "i"]),
    }


def sklearn_objects():
    from sklearn.utils import all_estimators
    from sklearn.datasets import make_classification, make_regression

    Xc, yc = make_classification(n_samples=60, n_features=6, n_informative=4,
                                 n_classes=3, random_state=0)
    Xc = np.abs(Xc)  # some transformers want non-negative input
    Xr, yr = make_regression(n_samples=60, n_features=6, random_state=0)
    Xr = np.abs(Xr)
    text = ["the cat sat", "a dog ran", "cats and dogs", "the end"] * 5
    ytext = [0, 1, 0, 1] * 5

    objs = {}
    skip = {
        # meta-estimators that need an estimator argument are built below
        "ClassifierChain", "ColumnTransformer", "FeatureUnion", "GridSearchCV",
        "HalvingGridSearchCV", "HalvingRandomSearchCV", "MultiOutputClassifier",
        "MultiOutputRegressor", "OneVsOneClassifier", "OneVsRestClassifier",
        "OutputCodeClassifier", "Pipeline", "RandomizedSearchCV", "RegressorChain",
        "RFE", "RFECV", "SelectFromModel", "SequentialFeatureSelector",
        "SparseCoder", "StackingClassifier", "StackingRegressor", "VotingClassifier",
        "VotingRegressor", "SelfTrainingClassifier",
        # text and label transformers take other input; built below
        "TfidfVectorizer", "CountVectorizer", "HashingVectorizer",
        "TfidfTransformer", "DictVectorizer", "FeatureHasher",
        "LabelEncoder", "LabelBinarizer", "MultiLabelBinarizer", "PatchExtractor",
    }
    for name, cls in all_estimators():
        if name in skip:
            continue
        try:
            est = cls()
        except TypeError:
            continue
        try:
            if hasattr(est, "predict_proba") or "Classif" in name or "NB" in name:
                est.fit(Xc, yc)
            elif "Regress" in name or name in ("Ridge", "Lasso", "ElasticNet", "Lars"):
                est.fit(Xr, yr)
            else:
                try:
                    est.fit(Xc, yc)
                except Exception:
                    est.fit(Xc)
        except Exception:
            continue  # pickle the unfitted estimator instead
        objs["est_" + name] = est

    from sklearn.pipeline import Pipeline, FeatureUnion, make_pipeline
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import (StandardScaler, OneHotEncoder, LabelEncoder,
                                       LabelBinarizer, MultiLabelBinarizer,
                                       FunctionTransformer)
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.ensemble import (VotingClassifier, StackingClassifier,
                                  RandomForestClassifier)
    from sklearn.multiclass import OneVsRestClassifier, OneVsOneClassifier
    from sklearn.multioutput import MultiOutputRegressor
    from sklearn.model_selection import GridSearchCV, KFold
    from sklearn.feature_extraction.text import (TfidfVectorizer, CountVectorizer,
                                                 HashingVectorizer, TfidfTransformer)
    from sklearn.feature_extraction import DictVectorizer, FeatureHasher
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_selection import SelectKBest, RFE, SelectFromModel

    objs["pipeline"] = make_pipeline(StandardScaler(), LogisticRegression()).fit(Xc, yc)
    objs["feature_union"] = FeatureUnion([("a", StandardScaler()),
                                          ("b", FunctionTransformer())]).fit(Xc)
    cat = np.array([["a", 1], ["b", 2], ["a", 3]] * 4, dtype=object)
    objs["column_transformer"] = ColumnTransformer(
        [("oh", OneHotEncoder(handle_unknown="ignore"), [0]),
         ("sc", StandardScaler(), [1])]).fit(cat)
    objs["voting"] = VotingClassifier([("lr", LogisticRegression()),
                                       ("rf", RandomForestClassifier(n_estimators=3))],
                                      voting="soft").fit(Xc, yc)
    objs["stacking"] = StackingClassifier([("lr", LogisticRegression())],
                                          cv=2).fit(Xc, yc)
    objs["ovr"] = OneVsRestClassifier(LogisticRegression()).fit(Xc, yc)
    objs["ovo"] = OneVsOneClassifier(LogisticRegression()).fit(Xc, yc)
    objs["multioutput"] = MultiOutputRegressor(Ridge()).fit(Xr, np.c_[yr, yr])
    objs["grid"] = GridSearchCV(Ridge(), {"alpha": [0.1, 1.0]}, cv=KFold(2)).fit(Xr, yr)
    objs["tfidf"] = TfidfVectorizer().fit(text)
    objs["tfidf_char"] = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 2)).fit(text)
    objs["count"] = CountVectorizer().fit(text)
    objs["hashing"] = HashingVectorizer(n_features=16)
    objs["tfidf_transformer"] = TfidfTransformer().fit(CountVectorizer().fit_transform(text))
    objs["tfidf_matrix"] = TfidfVectorizer().fit_transform(text)
    objs["dict_vectorizer"] = DictVectorizer().fit([{"a": 1}, {"b": 2}])
    objs["feature_hasher"] = FeatureHasher(n_features=8)
    objs["label_encoder"] = LabelEncoder().fit(["x", "y", "z"])
    objs["label_binarizer"] = LabelBinarizer().fit([0, 1, 2])
    objs["multilabel"] = MultiLabelBinarizer().fit([["a"], ["b", "c"]])
    objs["text_pipeline"] = Pipeline([("tfidf", TfidfVectorizer()),
                                      ("clf", LogisticRegression())]).fit(text, ytext)
    objs["calibrated"] = CalibratedClassifierCV(LogisticRegression(), cv=2).fit(Xc, yc)
    objs["select_k"] = SelectKBest(k=2).fit(Xc, yc)
    objs["rfe"] = RFE(LogisticRegression(), n_features_to_select=2).fit(Xc, yc)
    objs["select_from_model"] = SelectFromModel(Ridge()).fit(Xr, yr)
    from sklearn.neighbors import KDTree, BallTree
    objs["kd_tree"] = KDTree(Xc)
    objs["ball_tree"] = BallTree(Xc, metric="manhattan")
    from sklearn.isotonic import IsotonicRegression
    objs["isotonic"] = IsotonicRegression().fit(Xr[:, 0], yr)
    from sklearn.manifold import TSNE
    objs["tsne"] = TSNE(n_components=2, perplexity=5, n_iter=250, init="random").fit(Xc)
    return objs


def python_objects():
    class_free = {
        "builtins": [set([1, 2]), frozenset([3]), bytearray(b"ab"), complex(1, 2),
                     range(3), slice(1, 5, 2), b"bytes", "str", 1.5, 10**30,
                     None, True, (1,), [], {}, Ellipsis, NotImplemented],
        "collections": [collections.OrderedDict(a=1), collections.defaultdict(list, a=[1]),
                        collections.Counter("aab"), collections.deque([1, 2])],
        "datetime": [datetime.datetime(2020, 1, 2, 3, 4, 5),
                     datetime.datetime(2020, 1, 2, tzinfo=datetime.timezone.utc),
                     datetime.date(2020, 1, 1), datetime.time(1, 2),
                     datetime.timedelta(days=1), datetime.timezone(datetime.timedelta(hours=2))],
        "numbers": [decimal.Decimal("1.5"), fractions.Fraction(1, 3)],
        "ids": [uuid.UUID(int=5), ipaddress.ip_address("10.0.0.1"),
                ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_interface("10.0.0.1/8"),
                ipaddress.ip_address("::1"), ipaddress.ip_network("::/64")],
        "paths": [pathlib.PurePosixPath("/a/b"), pathlib.PureWindowsPath("c:/a"),
                  pathlib.PosixPath("/tmp/x")],
        "namespace": argparse.Namespace(a=1, b="x"),
        "types": [int, float, str, list, dict, np.ndarray],
        "regex": [re.compile(r"(?u)\b\w\w+\b"), re.compile(b"x", re.I)],
        "partial": functools.partial(int, base=2),
    }
    return class_free


# --- driver --------------------------------------------------------------------


def write_and_scan(group, base, obj, found, called, holes):
    """Write obj in every format its framework uses; scan each file.

    Returns the number of pickles scanned.
    """
    import joblib
    import torch

    n = 0
    # Protocols 0 and 1 reduce C++-backed torch objects through
    # copyreg._reduce_ex, which calls their pybind11 base class and
    # aborts the interpreter: torch itself always writes protocol 2.
    first = 2 if group == "torch" else 0
    for proto in range(first, pickle.HIGHEST_PROTOCOL + 1):
        try:
            data = pickle.dumps(obj, protocol=proto)
        except Exception:
            continue
        # A torch tensor pickled with plain pickle nests a torch.save
        # stream behind torch.storage._load_from_bytes: that is a
        # nested deserializer, left out of the benign list on purpose.
        if b"_load_from_bytes" in data:
            continue
        scan_bytes(data, found, called)
        n += 1
    if group == "torch":
        try:
            torch.save(obj, base + ".pt")
            torch.save(obj, base + ".legacy.pt", _use_new_zipfile_serialization=False)
        except Exception as e:
            print(f"torch.save({base}): {e}", file=sys.stderr)
            return n
        scan_torch(base + ".pt", found, called)
        scan_torch(base + ".legacy.pt", found, called)
        return n + 2
    for compress in (0, 3):
        holes.clear()
        path = base + f".{compress}.joblib"
        try:
            joblib.dump(obj, path, compress=compress)
        except Exception:
            continue
        with open(path, "rb") as fh:
            raw = fh.read()
        if compress:
            # joblib compresses the file object the pickler writes to, so
            # the holes' offsets are offsets in the decompressed stream.
            raw = zlib.decompress(raw)
        stream, last = bytearray(), 0
        for start, end, has_object in holes:
            stream += raw[last:start]
            if has_object:  # object arrays are pickled in place
                scan_bytes(raw[start:end], found, called)
            last = end
        stream += raw[last:]
        scan_bytes(bytes(stream), found, called)
        n += 1
    if isinstance(obj, np.ndarray) and obj.dtype.hasobject:
        np.save(base + ".npy", obj, allow_pickle=True)
        with open(base + ".npy", "rb") as fh:
            major = fh.read(8)[6]
            size = 2 if major == 1 else 4
            hlen = int.from_bytes(fh.read(size), "little")
        scan_file(base + ".npy", found, called, offset=8 + size + hlen)
        n += 1
    return n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir", nargs="?", default=os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--explain", metavar="NAME",
                    help="print which objects reference the global NAME")
    args = ap.parse_args()

    import joblib
    import joblib.numpy_pickle as jnp
    import torch

    found, called = set(), set()
    work = tempfile.mkdtemp(prefix="benign-globals-")
    groups = {
        "torch": torch_objects(),
        "numpy": numpy_objects(),
        "scipy": scipy_objects(),
        "pandas": pandas_objects(),
        "sklearn": sklearn_objects(),
        "python": python_objects(),
    }

    # joblib writes raw array bytes in between the pickle opcodes; note
    # where they go so that the opcode reader can skip them.
    holes = []
    real_write = jnp.NumpyArrayWrapper.write_array

    def write_array(self, array, pickler):
        start = pickler.file_handle.tell()
        real_write(self, array, pickler)
        holes.append((start, pickler.file_handle.tell(), array.dtype.hasobject))

    jnp.NumpyArrayWrapper.write_array = write_array

    n = 0
    try:
        for group, objs in groups.items():
            for name, obj in objs.items():
                f, c = set(), set()
                n += write_and_scan(group, os.path.join(work, f"{group}-{name}"), obj, f, c, holes)
                if args.explain and args.explain in f:
                    how = "called" if args.explain in c else "referenced"
                    print(f"{args.explain}: {how} by {group}/{name}", file=sys.stderr)
                found |= f
                called |= c
    finally:
        shutil.rmtree(work)

    header = ("# Generated by gen_benign_globals.py from %d benign pickles; do not edit.\n"
              "# %s\n")
    import scipy
    import sklearn
    versions = [f"python {sys.version.split()[0]}", f"torch {torch.__version__}",
                f"numpy {np.__version__}", f"scipy {scipy.__version__}",
                f"sklearn {sklearn.__version__}", f"joblib {joblib.__version__}"]
    try:
        import pandas
        versions.append(f"pandas {pandas.__version__}")
    except ImportError:
        pass
    for fname, names in (("benign_globals.txt", found), ("benign_calls.txt", called)):
        with open(os.path.join(args.outdir, fname), "w") as f:
            f.write(header % (n, ", ".join(versions)))
            for g in sorted(names):
                f.write(g + "\n")
    print(f"{n} pickles, {len(found)} globals, {len(called)} called", file=sys.stderr)


if __name__ == "__main__":
    main()
