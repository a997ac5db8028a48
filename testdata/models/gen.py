#!/usr/bin/python3
"""Write chainvet's model-file fixtures: benign/, malicious/ and MANIFEST.tsv.

Run from the repository root (any directory works; paths are resolved from
this file):

    /usr/bin/python3 testdata/models/gen.py

It needs Debian's python3-torch (1.13), numpy, scikit-learn, joblib, dill and
cloudpickle, and 7z on PATH. Output is deterministic: fixed seeds, a fixed
hash seed (the script re-executes itself with PYTHONHASHSEED=0 so that set and
dict orders inside the libraries do not vary), no timestamps in archives. The
README beside this file lists the few places where the bytes depend on the
library versions installed.

Safety rules this script keeps:

  - Nothing under malicious/ is ever loaded. Those files are assembled from
    raw opcodes (or written by pickle.dumps, joblib.dump, torch.save, dill or
    cloudpickle of objects whose __reduce__ names the callable, or of a
    function), then checked with pickletools only, which reads opcodes and
    runs nothing.
  - Every payload is harmless if someone does load it: os.system('true'),
    print('chainvet-fixture'), eval('1+1') and the like. None touches the
    network or writes a file.
  - Every benign file is loaded with the library that wrote it (torch.load,
    joblib.load, pickle.loads, np.load) and compared with what was saved, to
    prove it is real, valid output.
"""

import os
import sys

# Set and frozenset orders, and some orders inside torch's TorchScript
# serializer, follow str hashes, which Python randomises per process. Fix the
# seed (and the time zone, for anything that formats local time) by
# re-executing once, before anything else is imported.
if os.environ.get("PYTHONHASHSEED") != "0" or os.environ.get("TZ") != "UTC":
    env = dict(os.environ, PYTHONHASHSEED="0", TZ="UTC")
    os.execve(sys.executable, [sys.executable] + sys.argv, env)

import argparse
import collections
import datetime
import decimal
import fractions
import gzip
import io
import linecache
import lzma
import pathlib
import pickle
import pickletools
import shutil
import struct
import subprocess
import tarfile
import tempfile
import uuid
import warnings
import zipfile
import zlib

import cloudpickle
import dill
import joblib
import numpy as np
import torch
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
REL_SCRIPT = os.path.relpath(os.path.abspath(__file__), ROOT)

# Legacy torch.save stores the source file name of every nn.Module class it
# pickles. Work from the repository root and name this script by its relative
# path, so that the fixtures do not depend on where the repository lives.
os.chdir(ROOT)
sys.modules["__main__"].__file__ = REL_SCRIPT

warnings.filterwarnings("ignore")

CMD = "true"  # the shell command every os.system-style payload runs
MARKER = "chainvet-fixture"  # what the print/exec payloads print
PRINT_SRC = "print('chainvet-fixture')"

# ---------------------------------------------------------------------------
# Manifest

MANIFEST = []  # rows, in the order written
CHECKS = []  # (path, opcode count line) for malicious pickles
SEVERITIES = ("info", "low", "medium", "high", "critical")


def write(rel, data):
    path = os.path.join(HERE, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    assert not os.path.exists(path), f"{rel} written twice"
    with open(path, "wb") as f:
        f.write(data)
    return path


def benign(rel, data, desc):
    """Write a benign fixture and its manifest row."""
    rel = "benign/" + rel
    write(rel, data)
    _row(rel, "benign", "info", "low", [], "", desc)


def malicious(rel, data, min_sev, rules, evidence, desc, pickles=None):
    """Write a malicious fixture and its manifest row.

    pickles lists the pickle streams inside the file (the file itself when
    None); each is checked with pickletools, never loaded.
    """
    rel = "malicious/" + rel
    write(rel, data)
    _row(rel, "malicious", min_sev, "critical", rules, evidence, desc)
    streams = [data] if pickles is None else pickles
    for i, p in enumerate(streams):
        CHECKS.append((rel if len(streams) == 1 else f"{rel} [{i}]", dis_stats(p)))


def _row(rel, verdict, lo, hi, rules, evidence, desc):
    assert lo in SEVERITIES and hi in SEVERITIES
    for field in (rel, evidence, desc, *rules):
        assert "\t" not in field and "\n" not in field, field
    MANIFEST.append((rel, verdict, lo, hi, ",".join(rules), evidence, desc))


def dis_stats(data):
    """Count opcodes and pickles with pickletools; never unpickles.

    genops reads one pickle up to STOP; concatenated pickles are read one
    after another. pickletools.dis is run as well for its stricter checks
    (memo, marks, stack); the first error either reports ends the check.
    """
    f = io.BytesIO(data)
    ops = pickles = 0
    status = "ok"
    try:
        while f.tell() < len(data):
            start = f.tell()
            for _ in pickletools.genops(f):
                ops += 1
            pickletools.dis(data[start:f.tell()], out=io.StringIO())
            pickles += 1
    except Exception as e:  # the malformed cases are meant to fail here
        status = f"{type(e).__name__}: {e}"
    return f"{ops} opcodes, {pickles} valid pickle(s), pickletools: {status}"


# ---------------------------------------------------------------------------
# Pickle assembler. Opcodes as the pickle module defines them; every helper
# returns bytes, and bytes arguments are always raw opcodes (payloads never
# pickle a bytes literal).

MARK, STOP, POP, DUP = b"(", b".", b"0", b"2"
NONE, REDUCE, BUILD, TUPLE = b"N", b"R", b"b", b"t"
EMPTY_TUPLE, TUPLE1 = b")", b"\x85"
EMPTY_LIST, LIST, APPENDS = b"]", b"l", b"e"
EMPTY_DICT, DICT, SETITEMS = b"}", b"d", b"u"
OBJ, NEWOBJ_EX, STACK_GLOBAL, MEMOIZE = b"o", b"\x92", b"\x93", b"\x94"


def proto(n):
    return b"\x80" + bytes([n])


def frame(n):
    return b"\x95" + struct.pack("<Q", n)


def glob(mod, name):
    return b"c" + mod.encode() + b"\n" + name.encode() + b"\n"


def inst(mod, name):
    return b"i" + mod.encode() + b"\n" + name.encode() + b"\n"


def string0(s):
    """Protocol 0 STRING: a quoted Python literal on one line."""
    assert "'" not in s and "\\" not in s and s.isascii()
    return b"S'" + s.encode() + b"'\n"


def unicode0(s):
    return b"V" + s.encode("raw_unicode_escape") + b"\n"


def binunicode(s):
    e = s.encode()
    return b"X" + struct.pack("<I", len(e)) + e


def sbu(s):
    e = s.encode()
    assert len(e) < 256
    return b"\x8c" + bytes([len(e)]) + e


def binput(i):
    return b"q" + bytes([i])


def binget(i):
    return b"h" + bytes([i])


def long_binget(i):
    return b"j" + struct.pack("<I", i)


def ext2(code):
    return b"\x83" + struct.pack("<H", code)


class Asm:
    """Literal and call encodings for one pickle protocol."""

    def __init__(self, protocol):
        self.proto = protocol

    def lit(self, v):
        p = self.proto
        if v is None:
            return NONE
        if isinstance(v, bool):
            if p >= 2:
                return b"\x88" if v else b"\x89"
            return b"I01\n" if v else b"I00\n"
        if isinstance(v, int):
            if p == 0:
                return b"I%d\n" % v
            if 0 <= v < 256:
                return b"K" + bytes([v])
            return b"J" + struct.pack("<i", v)
        if isinstance(v, str):
            if p == 0:
                return string0(v)
            if p >= 4 and len(v.encode()) < 256:
                return sbu(v)
            return binunicode(v)
        if isinstance(v, tuple):
            return self.tup(*v)
        if isinstance(v, list):
            if p == 0:
                return MARK + b"".join(self.arg(x) for x in v) + LIST
            return EMPTY_LIST + (MARK + b"".join(self.arg(x) for x in v) + APPENDS if v else b"")
        if isinstance(v, dict):
            items = b"".join(self.arg(k) + self.arg(x) for k, x in v.items())
            if p == 0:
                return MARK + items + DICT
            return EMPTY_DICT + (MARK + items + SETITEMS if v else b"")
        raise TypeError(type(v))

    def arg(self, v):
        return v if isinstance(v, bytes) else self.lit(v)

    def tup(self, *items):
        return MARK + b"".join(self.arg(x) for x in items) + TUPLE

    def sg(self, mod, name):
        """STACK_GLOBAL fed by two strings."""
        return self.lit(mod) + self.lit(name) + STACK_GLOBAL

    def call(self, fn, *args):
        """fn(*args) by REDUCE; fn is raw opcodes that push a callable."""
        return fn + self.tup(*args) + REDUCE

    def stream(self, body):
        """A whole pickle as CPython frames it: PROTO, one FRAME from 4, STOP."""
        body += STOP
        if self.proto < 2:
            return body
        if self.proto < 4:
            return proto(self.proto) + body
        return proto(self.proto) + frame(len(body)) + body


P0, P1, P2, P3, P4, P5 = (Asm(n) for n in range(6))


def os_system(a=P2):
    """os.system('true') by GLOBAL and REDUCE: the classic payload."""
    return a.call(glob("os", "system"), CMD)


def inject(real, payload):
    """Put payload opcodes (result popped) in front of a real pickle's body.

    This is how injection tools modify a model: the stream still loads to the
    original object, and the payload runs first.
    """
    assert real[0] == 0x80, "real pickle must start with PROTO"
    return real[:2] + payload + POP + real[2:]


class Reduce:
    """An object that pickles as fn(*args). Only ever pickled, never loaded."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


# ---------------------------------------------------------------------------
# Containers, written by hand where the fixture needs control over every
# field, deterministically everywhere.

ZIP_ALIGN = 64  # torch aligns member data to 64 bytes so it can mmap tensors


def zip_build(entries, base=0, align=True):
    """A zip of stored members, laid out as torch lays out its checkpoints.

    entries: dicts with name and data, and optionally local_name (the local
    header's name, to disagree with the central directory), flags, crc (to
    record a wrong CRC-32 in both headers), made_by and external_attr (for
    symlinks). base is the offset the zip will start at in the final file:
    offsets are shifted by it, as `zip -A` does for self-extracting archives.
    Times are all zero, as torch writes them.
    """
    out = bytearray()
    central = bytearray()
    for e in entries:
        name = e["name"].encode()
        lname = e.get("local_name", e["name"]).encode()
        data = e["data"]
        crc = e.get("crc", zlib.crc32(data))
        flags = e.get("flags", 0)
        off = len(out)
        extra = b""
        if align:
            pad = (-(base + off + 30 + len(lname) + 4)) % ZIP_ALIGN
            extra = b"FB" + struct.pack("<H", pad) + b"Z" * pad
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, flags, 0, 0, 0,
                           crc, len(data), len(data), len(lname), len(extra))
        out += lname + extra + data
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50,
                               e.get("made_by", 20), 20, flags, 0, 0, 0,
                               crc, len(data), len(data), len(name), 0, 0, 0, 0,
                               e.get("external_attr", 0), base + off)
        central += name
    cd_off = base + len(out)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries),
                       len(central), cd_off, 0)
    return bytes(out)


def tar_build(members):
    """A ustar archive with zeroed owners and times; members: (name, data)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for name, data in members:
            ti = tarfile.TarInfo(name)
            ti.size, ti.mtime, ti.mode = len(data), 0, 0o644
            ti.uid = ti.gid = 0
            ti.uname = ti.gname = ""
            t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def gz(data):
    """gzip with no name and mtime 0, so the header is constant."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as g:
        g.write(data)
    return buf.getvalue()


def sevenzip(members):
    """A 7z archive made by the 7z tool, with no times stored.

    members: (name, data). Permissions are set explicitly because 7z records
    them; one thread so the LZMA2 stream does not depend on the machine.
    """
    with tempfile.TemporaryDirectory() as tmp:
        top = set()
        for name, data in members:
            p = os.path.join(tmp, name)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "wb") as f:
                f.write(data)
            os.chmod(p, 0o644)
            top.add(name.split("/")[0])
        for d, dirs, _ in os.walk(tmp):
            for x in dirs:
                os.chmod(os.path.join(d, x), 0o755)
        out = os.path.join(tmp, "out.7z")
        subprocess.run(["7z", "a", "-t7z", "-mx=9", "-mmt=1", "-mtm=off", "-mtc=off",
                        "-mta=off", "-bd", "-y", out, *sorted(top)],
                       cwd=tmp, check=True, stdout=subprocess.DEVNULL)
        with open(out, "rb") as f:
            return f.read()


# ---------------------------------------------------------------------------
# Torch helpers


class TinyNet(torch.nn.Module):
    """The tiny model whose state, whole pickle and checkpoints are saved."""

    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 2)
        self.register_buffer("steps", torch.zeros((), dtype=torch.int64))
        self.register_buffer("mask", torch.tensor([1, 0, 1, 1], dtype=torch.int8))

    def forward(self, x):
        return self.fc(x * self.mask)


class EvilNet(TinyNet):
    """A whole model whose pickle is os.system('true'): only ever saved."""

    def __reduce__(self):
        return os.system, (CMD,)


def tiny_net():
    torch.manual_seed(0)
    return TinyNet()


def torch_bytes(obj, **kw):
    """torch.save to memory: zip members are then rooted at "archive/"."""
    buf = io.BytesIO()
    torch.save(obj, buf, **kw)
    return buf.getvalue()


def torch_members(obj):
    """The members of a real torch zip, in torch's order."""
    z = zipfile.ZipFile(io.BytesIO(torch_bytes(obj)))
    return [(i.filename, z.read(i)) for i in z.infolist()]


def legacy_pickles(data):
    """Offsets of the five pickles at the head of a legacy torch file."""
    f = io.BytesIO(data)
    spans = []
    for _ in range(5):
        start = f.tell()
        for _ in pickletools.genops(f):
            pass
        spans.append((start, f.tell()))
    return spans


class LegacyKeys:
    """A pickle module for legacy torch.save that names storages 0, 1, 2...

    Legacy torch.save keys each storage by str(storage._cdata), a memory
    address, and writes the storages sorted by that key: the names, their
    lengths and their order all change from run to run. Passed as
    torch.save(pickle_module=...), this module renames each key to its index
    in order of first use while the object is pickled (a deterministic order),
    writes the key list in that order, and reorder() moves the storage bytes
    torch wrote into the same order. Everything else is written by torch and
    the C pickler it uses by default; the result is loaded and compared like
    every other benign file.
    """

    __name__ = "chainvet_legacy_keys"  # torch.save reads a pickle module's name

    def __init__(self):
        self.names = {}  # torch's key -> stable key, in order of first use
        self.sizes = {}  # torch's key -> bytes torch writes for its storage
        self.dumps = 0
        keys = self

        class Pickler(pickle.Pickler):
            # The C pickler reads persistent_id once, in __init__, so it gets
            # a function that calls whatever torch assigns afterwards; the
            # assignment goes through the setter, which wraps torch's function.
            def __init__(self, f, protocol):
                self._pid = lambda obj: None
                super().__init__(f, protocol=protocol)

            @property
            def persistent_id(self):
                return lambda obj: self._pid(obj)

            @persistent_id.setter
            def persistent_id(self, fn):
                def renamed(obj):
                    pid = fn(obj)
                    if pid is not None and pid[0] == "storage":
                        _, _, key, _, numel, view = pid
                        assert view is None, "these fixtures write no storage views"
                        size = 1
                        if isinstance(obj, torch.storage.TypedStorage):
                            size = torch._utils._element_size(obj.dtype)
                        keys.sizes[key] = 8 + numel * size  # int64 count, then the bytes
                        new = keys.names.setdefault(key, str(len(keys.names)))
                        pid = pid[:2] + (new,) + pid[3:]
                    return pid
                self._pid = renamed

        self.Pickler = Pickler

    def dump(self, obj, f, protocol):
        # torch dumps the magic number, protocol version and sys_info, then
        # pickles the object through Pickler, then dumps the sorted keys.
        self.dumps += 1
        if self.dumps == 4:
            assert sorted(obj) == sorted(self.names)
            obj = list(self.names.values())
        pickle.dump(obj, f, protocol=protocol)

    def reorder(self, data):
        """Put the storage bytes in the order of the stable key list."""
        end = legacy_pickles(data)[4][1]
        blocks, off = {}, end
        for key in sorted(self.names):  # the order torch wrote them in
            blocks[key] = data[off:off + self.sizes[key]]
            off += self.sizes[key]
        assert off == len(data), "storage sizes do not add up"
        return data[:end] + b"".join(blocks[k] for k in self.names)


def torch_legacy_bytes(obj, **kw):
    keys = LegacyKeys()
    data = torch_bytes(obj, _use_new_zipfile_serialization=False, pickle_module=keys, **kw)
    return keys.reorder(data)


def same_state(a, b):
    assert a.keys() == b.keys(), (a.keys(), b.keys())
    for k in a:
        assert a[k].dtype == b[k].dtype and torch.equal(a[k], b[k]), k


def load_torch(rel):
    return torch.load(os.path.join(HERE, "benign", rel))


# TorchScript records the file name of each scripted method in its debug
# info. Compiling the scripted class from this string under a fixed name,
# with its lines in linecache, keeps the absolute path of this script out of
# the fixture.
SCRIPT_FILE = "tinynet_script.py"
SCRIPT_SRC = '''\
class ScriptNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 2)

    def forward(self, x):
        return torch.relu(self.fc(x))
'''


def script_net():
    lines = SCRIPT_SRC.splitlines(keepends=True)
    linecache.cache[SCRIPT_FILE] = (len(SCRIPT_SRC), None, lines, SCRIPT_FILE)
    exec(compile(SCRIPT_SRC, SCRIPT_FILE, "exec"), globals())
    torch.manual_seed(0)
    return globals()["ScriptNet"]().eval()


# ---------------------------------------------------------------------------
# Benign: torch


def gen_benign_torch():
    x = torch.arange(8, dtype=torch.float32).reshape(2, 4) / 8
    net = tiny_net()
    sd = net.state_dict()
    variants = {
        "f32": sd,
        "f16": tiny_net().half().state_dict(),
        "bf16": tiny_net().to(torch.bfloat16).state_dict(),
    }
    for dt, state in variants.items():
        for fmt, kw, fn in (("zip", {}, torch_bytes),
                            ("legacy", {}, torch_legacy_bytes),
                            ("zip_p4", {"pickle_protocol": 4}, torch_bytes),
                            ("legacy_p4", {"pickle_protocol": 4}, torch_legacy_bytes)):
            rel = f"torch/state_dict_{dt}_{fmt}.pt"
            benign(rel, fn(state, **kw),
                   f"torch.save state_dict of Linear(4,2) in {dt} with int64 and int8 buffers; "
                   f"{'legacy' if 'legacy' in fmt else 'zip'} format, pickle protocol "
                   f"{kw.get('pickle_protocol', 2)}")
            same_state(state, load_torch(rel))

    whole = tiny_net().eval()
    for fmt, fn in (("zip", torch_bytes), ("legacy", torch_legacy_bytes)):
        rel = f"torch/whole_model_{fmt}.pt"
        benign(rel, fn(whole),
               f"torch.save of a whole nn.Module (__main__.TinyNet), {fmt} format"
               + ("; holds the class source as torch writes it" if fmt == "legacy" else ""))
        got = load_torch(rel)
        assert type(got) is TinyNet and torch.equal(got(x), whole(x))

    model = tiny_net()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
    model(x).sum().backward()
    opt.step()
    sched.step()
    benign("torch/adam_state.pt", torch_bytes(opt.state_dict()),
           "torch.save of an Adam optimizer state_dict after one step")
    got = load_torch("torch/adam_state.pt")
    assert got["param_groups"] == opt.state_dict()["param_groups"]
    assert torch.equal(got["state"][0]["exp_avg"], opt.state_dict()["state"][0]["exp_avg"])

    ckpt = {
        "epoch": 3,
        "model_state": model.state_dict(),
        "optim_state": opt.state_dict(),
        "scheduler_state": sched.state_dict(),
        "config": argparse.Namespace(arch="tinynet", lr=1e-3, batch_size=4, amp=False),
        "args": {"lr": 1e-3, "epochs": 3, "data": "data/train.csv", "seed": 0},
    }
    for fmt, fn in (("zip", torch_bytes), ("legacy", torch_legacy_bytes)):
        rel = f"torch/checkpoint_{fmt}.pt"
        benign(rel, fn(ckpt),
               f"training checkpoint dict (epoch, model/optimizer/scheduler state, "
               f"argparse.Namespace config, args dict), {fmt} format")
        got = load_torch(rel)
        assert got["config"] == ckpt["config"] and got["args"] == ckpt["args"]
        same_state(got["model_state"], ckpt["model_state"])
        assert got["scheduler_state"] == ckpt["scheduler_state"]

    snet = script_net()
    scripted = torch.jit.script(snet)
    buf = io.BytesIO()
    torch.jit.save(scripted, buf)
    benign("torch/torchscript.pt", buf.getvalue(),
           "TorchScript module (Linear(4,2)+relu) written by torch.jit.save: zip with code/ and constants.pkl")
    got = torch.jit.load(os.path.join(HERE, "benign/torch/torchscript.pt"))
    assert torch.equal(got(x), snet(x))


# ---------------------------------------------------------------------------
# Benign: numpy


def torch_tar_members(weight, storage_entry=None):
    """PyTorch's oldest format, as torch.load's legacy tar reader expects it.

    No torch since 0.1.10 writes it, so the members are assembled here from
    real pickles: sys_info; the object pickle, whose persistent ids name
    tensors by key; storages (a count, then per storage a pickle of (key,
    location, storage type), an int64 element count and the elements); and
    tensors (a count, then per tensor a pickle of (key, storage key, tensor
    type), an int32 ndim, 4 bytes of padding, sizes, strides, offset).
    storage_entry replaces the storage pickle, for payload fixtures.
    """
    sys_info = pickle.dumps({"protocol_version": 1001, "little_endian": True,
                             "type_sizes": {"short": 2, "int": 4, "long": 4}}, protocol=2)

    class Ref:
        pass

    ref = Ref()

    class P(pickle.Pickler):
        def persistent_id(self, obj):
            return "1" if obj is ref else None

    buf = io.BytesIO()
    P(buf, protocol=2).dump({"weight": ref})
    flat = weight.contiguous().view(-1)
    entry = storage_entry or pickle.dumps((0, "cpu", torch.FloatStorage), protocol=2)
    storages = (pickle.dumps(1, protocol=2) + entry + struct.pack("<q", flat.numel())
                + flat.numpy().astype("<f4").tobytes() + pickle.dumps([], protocol=2))
    sizes, strides = weight.shape, weight.stride()
    tensors = (pickle.dumps(1, protocol=2) + pickle.dumps((1, 0, torch.FloatTensor), protocol=2)
               + struct.pack("<i", len(sizes)) + b"\0" * 4
               + struct.pack(f"<{len(sizes)}q", *sizes) + struct.pack(f"<{len(sizes)}q", *strides)
               + struct.pack("<q", 0))
    return [("sys_info", sys_info), ("pickle", buf.getvalue()), ("storages", storages), ("tensors", tensors)]


def gen_benign_torch_tar():
    weight = torch.arange(8, dtype=torch.float32).reshape(2, 4) / 8
    data = tar_build(torch_tar_members(weight))
    benign("torch/tar_format.pt", data, "PyTorch's oldest tar format (sys_info, pickle, storages, tensors), "
                                       "assembled from real pickles; torch.load reads it")
    loaded = torch.load(os.path.join(HERE, "benign/torch/tar_format.pt"))
    assert torch.equal(loaded["weight"], weight), "tar format fixture does not load back"


def gen_benign_numpy():
    np.random.seed(0)
    state = np.random.get_state()
    data = pickle.dumps(state, protocol=2)
    benign("numpy/random_state_p2.pkl", data,
           "np.random.get_state() tuple pickled with protocol 2 (ndarray via _codecs.encode)")
    got = pickle.loads(data)
    assert got[0] == state[0] and np.array_equal(got[1], state[1]) and got[2:] == state[2:]

    rng = np.random.default_rng(0)
    data = pickle.dumps(rng.bit_generator.state, protocol=4)
    benign("numpy/default_rng_state_p4.pkl", data,
           "np.random.default_rng(0).bit_generator.state dict, protocol 4")
    assert pickle.loads(data) == rng.bit_generator.state

    data = pickle.dumps(np.random.default_rng(0), protocol=4)
    benign("numpy/default_rng_generator_p4.pkl", data,
           "a numpy Generator object pickled (numpy.random._pickle ctor functions), protocol 4")
    assert pickle.loads(data).bit_generator.state == np.random.default_rng(0).bit_generator.state

    for p in (2, 4, 5):
        data = pickle.dumps(np.arange(4), protocol=p)
        benign(f"numpy/arange_p{p}.pkl", data, f"pickle.dumps(np.arange(4)) with protocol {p}")
        assert np.array_equal(pickle.loads(data), np.arange(4))

    mat = (np.arange(12, dtype=np.float32).reshape(3, 4) / 4)
    objs = np.array(["alpha", 1, "beta", 2, None, 3.5], dtype=object)
    for name, arr, kw in (("float32", mat, {}),
                          ("float64", mat.astype(np.float64), {}),
                          ("object", objs, {"allow_pickle": True})):
        buf = io.BytesIO()
        np.save(buf, arr, **kw)
        rel = f"numpy/{name}.npy"
        benign(rel, buf.getvalue(),
               f".npy of a {name} array" + (" of str/int/None/float (pickle inside)" if name == "object" else ""))
        got = np.load(os.path.join(HERE, "benign", rel), allow_pickle=name == "object")
        assert got.dtype == arr.dtype and list(got.ravel()) == list(arr.ravel())

    arrays = {"weights": mat, "bias": mat[0].astype(np.float64), "labels": objs}
    for name, fn in (("arrays.npz", np.savez), ("arrays_compressed.npz", np.savez_compressed)):
        buf = io.BytesIO()
        fn(buf, **arrays)
        benign(f"numpy/{name}", buf.getvalue(),
               f"{fn.__name__} of float32, float64 and object arrays (zip of .npy)")
        with np.load(os.path.join(HERE, "benign/numpy", name), allow_pickle=True) as got:
            for k, v in arrays.items():
                assert list(got[k].ravel()) == list(v.ravel()), k


# ---------------------------------------------------------------------------
# Benign: scikit-learn with pickle and joblib

JOBLIB_COMPRESSIONS = (("zlib", ".z"), ("gzip", ".gz"), ("bz2", ".bz2"), ("xz", ".xz"), ("lzma", ".lzma"))


def sklearn_models():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(20, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    return X, {
        "logreg": LogisticRegression().fit(X, y),
        "forest": RandomForestClassifier(n_estimators=2, max_depth=2, random_state=0).fit(X, y),
        "pipeline": Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())]).fit(X, y),
    }


def gen_benign_sklearn():
    X, models = sklearn_models()
    for name, m in models.items():
        want = m.predict_proba(X)
        for p in (2, 4, 5):
            data = pickle.dumps(m, protocol=p)
            benign(f"sklearn/{name}_p{p}.pkl", data,
                   f"fitted sklearn {type(m).__name__} via pickle.dumps protocol {p}")
            assert np.array_equal(pickle.loads(data).predict_proba(X), want)
        path = os.path.join(HERE, "benign/sklearn", f"{name}.joblib")
        joblib.dump(m, path)
        _row_for_file(path, f"fitted sklearn {type(m).__name__} via joblib.dump, uncompressed "
                            "(array bytes inline after NumpyArrayWrapper)")
        assert np.array_equal(joblib.load(path).predict_proba(X), want)
        for comp, ext in JOBLIB_COMPRESSIONS:
            p = path + ext
            joblib.dump(m, p, compress=(comp, 3))
            _row_for_file(p, f"fitted sklearn {type(m).__name__} via joblib.dump compress=('{comp}', 3)")
            assert np.array_equal(joblib.load(p).predict_proba(X), want)


def _row_for_file(path, desc):
    """A benign manifest row for a file a library wrote to disk itself."""
    _row(os.path.relpath(path, HERE), "benign", "info", "low", [], "", desc)


# ---------------------------------------------------------------------------
# Benign: plain data in every protocol, dill, cloudpickle, and one big stream


def plain_data():
    shared = ["shared", 1]
    return {
        "ints": [0, 1, -1, 255, 256, 65535, 65536, 2**31 - 1, -(2**31), 2**63, -(2**70)],
        "floats": [0.0, 1.5, -2.25, 1e300, float("inf")],
        "strs": ["", "a", "h\u00e9llo \u2603", "x" * 300, "line\nbreak", "quote'\"\\"],
        "bytes": b"\x00\x01chainvet\xff",
        "bytearray": bytearray(b"weights"),
        "tuples": (1, (2, 3), (), ("a",)),
        "lists": [[], [1], [1, [2, [3]]]],
        "set": {1, 2, 3},
        "frozenset": frozenset({"a", "b", "c"}),
        "consts": [None, True, False],
        "ordered": collections.OrderedDict([("b", 1), ("a", 2)]),
        "defaultdict": collections.defaultdict(list, {"k": [1, 2]}),
        "counter": collections.Counter("abracadabra"),
        "deque": collections.deque([1, 2, 3], maxlen=5),
        "datetime": datetime.datetime(2024, 1, 2, 3, 4, 5, 6),
        "datetime_tz": datetime.datetime(2024, 1, 2, tzinfo=datetime.timezone(datetime.timedelta(hours=2))),
        "date": datetime.date(2024, 1, 2),
        "time": datetime.time(1, 2, 3),
        "timedelta": datetime.timedelta(days=1, seconds=2),
        "utc": datetime.timezone.utc,
        "decimal": decimal.Decimal("3.14"),
        "complex": complex(1, -2),
        "fraction": fractions.Fraction(1, 3),
        "namespace": argparse.Namespace(lr=0.1, name="tiny"),
        "posix_path": pathlib.PurePosixPath("models/tiny.pt"),
        "windows_path": pathlib.PureWindowsPath("C:\\models\\tiny.pt"),
        "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "shared_twice": [shared, shared],
    }


def gen_benign_plain():
    value = plain_data()
    for p in range(6):
        data = pickle.dumps(value, protocol=p)
        benign(f"data/plain_p{p}.pkl", data,
               f"plain data (containers, bytes, collections, datetime, Decimal, complex, Fraction, "
               f"Namespace, PurePaths, UUID) with pickle protocol {p}")
        assert pickle.loads(data) == value

    small = {"layers": [4, 2], "names": ["fc.weight", "fc.bias"], "lr": [0.1, 0.01]}
    for lib in (dill, cloudpickle):
        data = lib.dumps(small)
        benign(f"data/{lib.__name__}_data.pkl", data, f"{lib.__name__}.dumps of a dict of lists")
        assert pickle.loads(data) == small


BIG_ITEMS = 9_000_000  # one opcode per item: ~9M opcodes in ~21 MB
STR_POOL = 200  # shared strings: memo reuse keeps the memo small


def gen_big():
    """A ~9M-opcode, ~21 MB pickle CPython writes for ordinary data, gzipped.

    Half the items are small ints (BININT1/BININT2), half are references to
    200 shared short strings (BINGET after the first use), so the stream is
    long but its memo stays small: a correct scanner must get through it
    within default limits.
    """
    pool = [f"tok{i:03d}" for i in range(STR_POOL)]
    items = [((i * 7919) % 1000) if i % 2 else pool[(i // 2) % STR_POOL] for i in range(BIG_ITEMS)]
    data = pickle.dumps(items, protocol=4)
    ops = sum(1 for _ in pickletools.genops(data))
    assert pickle.loads(data) == items
    benign("big_9m_ops.pkl.gz", gz(data),
           f"gzip of a {len(data)} byte, {ops} opcode protocol 4 pickle of a list of "
           f"{BIG_ITEMS} small ints and shared short strings")
    with gzip.open(os.path.join(HERE, "benign/big_9m_ops.pkl.gz")) as f:
        assert f.read() == data
    del items
    return len(data), ops


# ---------------------------------------------------------------------------
# Malicious: one fixture per case. Never loaded; see dis_stats.

CRIT = "critical"
DCALL = "pickle/dangerous-call"


def gen_malicious_basic():
    # GLOBAL os.system + REDUCE in every protocol, as hand-assembled streams.
    for n, a in enumerate((P0, P1, P2, P3, P4, P5)):
        malicious(f"pickle/reduce_os_system_p{n}.pkl", a.stream(os_system(a)), CRIT, [DCALL], "os.system",
                  f"GLOBAL os system + REDUCE('true'), protocol {n}" + (" in one FRAME" if n >= 4 else ""))

    # The same through pickle.dumps, as CPython names os.system on Linux.
    for n in range(6):
        malicious(f"pickle/dumps_posix_system_p{n}.pkl", pickle.dumps(Reduce(os.system, CMD), protocol=n),
                  CRIT, [DCALL], "posix.system",
                  f"pickle.dumps of a __reduce__ to os.system (written as posix.system), protocol {n}")
    malicious("pickle/nt_system.pkl", P2.stream(P2.call(glob("nt", "system"), CMD)), CRIT, [DCALL],
              "nt.system", "GLOBAL nt system (os.system as Windows pickles it) + REDUCE")

    # STACK_GLOBAL fed in the ways evasions use.
    malicious("pickle/stack_global_short_binunicode.pkl",
              P4.stream(P4.call(P4.sg("os", "system"), CMD)), CRIT, [DCALL], "os.system",
              "STACK_GLOBAL fed by SHORT_BINUNICODE 'os' 'system', then REDUCE")
    body = (sbu("os") + binput(7) + POP + sbu("system") + binput(9) + POP
            + binget(7) + binget(9) + STACK_GLOBAL + P4.tup(CMD) + REDUCE)
    malicious("pickle/stack_global_memo.pkl", P4.stream(body), CRIT, [DCALL], "os.system",
              "STACK_GLOBAL fed by BINGET of strings stored with BINPUT and popped earlier")
    body = (sbu("os") + MEMOIZE + sbu("system") + MEMOIZE + POP + POP
            + long_binget(0) + long_binget(1) + STACK_GLOBAL + P4.tup(CMD) + REDUCE)
    malicious("pickle/stack_global_memoize_long_binget.pkl", P4.stream(body), CRIT, [DCALL], "os.system",
              "STACK_GLOBAL fed by LONG_BINGET of strings stored with MEMOIZE")
    body = string0("os") + string0("system") + STACK_GLOBAL + P0.tup(CMD) + REDUCE
    malicious("pickle/stack_global_string_opcodes.pkl", body + STOP, CRIT, [DCALL], "os.system",
              "STACK_GLOBAL fed by protocol-0 STRING opcodes, no PROTO")
    body = unicode0("os") + unicode0("system") + STACK_GLOBAL + P0.tup(unicode0(CMD)) + REDUCE
    malicious("pickle/stack_global_unicode_opcodes.pkl", body + STOP, CRIT, [DCALL], "os.system",
              "STACK_GLOBAL fed by protocol-0 UNICODE opcodes, no PROTO")

    # Missing memo keys: CPython raises at the GET.
    body = os_system() + POP + binget(99)
    malicious("pickle/missing_memo_after_payload.pkl", P2.stream(body), CRIT, [DCALL, "pickle/malformed"],
              "os.system", "os.system('true') runs, then BINGET of memo key 99 that was never stored")
    body = glob("os", "system") + binput(4) + POP + binget(5) + P2.tup(CMD) + REDUCE
    malicious("pickle/missing_memo_callable.pkl", P2.stream(body), "high",
              ["pickle/malformed", "pickle/dangerous-import"], "os.system",
              "os.system stored at memo 4, callable fetched from missing memo 5: loading fails at the GET")

    # Dotted names resolve by attribute walk.
    malicious("pickle/dotted_pathlib_os_system.pkl",
              P4.stream(P4.call(P4.sg("pathlib", "os.system"), CMD)), CRIT, [DCALL], "os.system",
              "STACK_GLOBAL ('pathlib', 'os.system'): dotted name reaches os.system")
    malicious("pickle/dotted_global_p4.pkl",
              P4.stream(P4.call(glob("pathlib", "os.system"), CMD)), CRIT, [DCALL], "os.system",
              "GLOBAL pathlib 'os.system' after PROTO 4 (dotted names work from protocol 4)")
    malicious("pickle/dotted_torch_serialization_load.pkl",
              P4.stream(P4.call(P4.sg("torch", "serialization.load"), "/dev/null")), CRIT, [DCALL],
              "serialization.load", "STACK_GLOBAL ('torch', 'serialization.load') called: loads another pickle")

    # Gadget chains whose final callable is os.system.
    a = P2
    import_os = a.call(glob("builtins", "__import__"), "os")
    chain = a.call(a.call(glob("builtins", "getattr"), glob("builtins", "dict"), "get"),
                   a.call(glob("builtins", "vars"), import_os), "system")
    malicious("pickle/chain_dict_get_vars_import.pkl", a.stream(a.call(chain, CMD)), CRIT, [DCALL],
              "os.system", "getattr(dict,'get')(vars(__import__('os')),'system')('true')")
    chain = a.call(glob("builtins", "getattr"), a.call(glob("importlib", "import_module"), "os"), "system")
    malicious("pickle/chain_getattr_import_module.pkl", a.stream(a.call(chain, CMD)), CRIT, [DCALL],
              "os.system", "getattr(importlib.import_module('os'),'system')('true')")
    chain = a.call(glob("pkgutil", "resolve_name"), "os:system")
    malicious("pickle/chain_pkgutil_resolve_name.pkl", a.stream(a.call(chain, CMD)), CRIT, [DCALL],
              "os.system", "pkgutil.resolve_name('os:system')('true')")
    chain = a.call(glob("pydoc", "locate"), "os.system")
    malicious("pickle/chain_pydoc_locate.pkl", a.stream(a.call(chain, CMD)), CRIT, [DCALL],
              "os.system", "pydoc.locate('os.system')('true')")
    chain = a.call(a.call(glob("operator", "attrgetter"), "system"), import_os)
    malicious("pickle/chain_operator_attrgetter.pkl", a.stream(a.call(chain, CMD)), CRIT, [DCALL],
              "os.system", "operator.attrgetter('system')(__import__('os'))('true')")
    chain = a.call(glob("builtins", "getattr"), a.call(glob("trace", "Trace")), "run")
    malicious("pickle/chain_getattr_trace_instance.pkl", a.stream(a.call(chain, PRINT_SRC)), "high", [],
              "trace.Trace", "getattr(trace.Trace(), 'run')(source): a method of a fresh instance")
    # A reviewed-safe function that calls one of its arguments: numpy's
    # __generator_ctor(name, ctor) runs ctor(name).
    chain = a.call(glob("numpy.random._pickle", "__generator_ctor"), CMD, glob("os", "system"))
    malicious("pickle/safe_callee_calls_argument.pkl", a.stream(chain), CRIT, [DCALL],
              "os.system", "numpy.random._pickle.__generator_ctor('true', os.system): a safe callee calls its argument")

# One fixture per dangerous callable: (module, name, args, evidence, what it
# does). Args are harmless; a bytes arg is raw opcodes that push a value.
STDLIB_CALLS = [
    ("os", "popen", (CMD,), "os.popen", "runs a shell command"),
    ("os", "execvp", (CMD, [CMD]), "os.execvp", "replaces the process"),
    ("subprocess", "run", ([CMD],), "subprocess.run", "runs a process"),
    ("subprocess", "Popen", ([CMD],), "subprocess.Popen", "runs a process"),
    ("subprocess", "check_output", ([CMD],), "subprocess.check_output", "runs a process"),
    ("asyncio.subprocess", "create_subprocess_shell", (CMD,), "asyncio.subprocess.create_subprocess_shell",
     "subprocess submodule of asyncio"),
    ("multiprocessing.util", "spawnv_passfds", ("/bin/true", [CMD], ()), "multiprocessing.util.spawnv_passfds",
     "forks and execs"),
    ("distutils.spawn", "spawn", ([CMD],), "distutils.spawn.spawn", "runs a process (CPython <= 3.11)"),
    ("builtins", "exec", (PRINT_SRC,), "builtins.exec", "runs Python source"),
    ("builtins", "eval", ("1+1",), "builtins.eval", "evaluates Python source"),
    ("builtins", "compile", ("1+1", "<fixture>", "eval"), "builtins.compile", "builds a code object"),
    ("builtins", "__import__", ("os",), "builtins.__import__", "imports a module"),
    ("importlib", "import_module", ("os",), "importlib.import_module", "imports a module"),
    ("pkgutil", "resolve_name", ("os:getcwd",), "pkgutil.resolve_name", "imports by name"),
    ("pydoc", "locate", ("os.getcwd",), "pydoc.locate", "imports by name"),
    ("pip", "main", (["--version"],), "pip.main", "runs pip"),
    ("uuid", "_get_command_stdout", (CMD,), "uuid._get_command_stdout", "runs a command"),
    ("imaplib", "IMAP4_stream", (CMD,), "imaplib.IMAP4_stream", "runs a command as its transport"),
    ("_osx_support", "_read_output", (CMD,), "_osx_support._read_output", "runs a shell command"),
    ("_aix_support", "_read_cmd_output", (CMD,), "_aix_support._read_cmd_output",
     "runs a shell command (CPython >= 3.12)"),
    ("_pyrepl.pager", "pipe_pager", (MARKER, CMD), "_pyrepl.pager.pipe_pager",
     "pipes text to a shell command (CPython >= 3.13)"),
    ("test.support.script_helper", "assert_python_ok", ("-c", "pass"),
     "test.support.script_helper.assert_python_ok", "runs a Python subprocess"),
    ("timeit", "timeit", (PRINT_SRC, "pass", glob("time", "perf_counter"), 1), "timeit.timeit",
     "execs its statement"),
    ("cProfile", "run", (PRINT_SRC,), "cProfile.run", "execs its statement"),
    ("logging", "FileHandler", ("/dev/null",), "logging.FileHandler", "opens a file for writing"),
    ("asyncio.unix_events", "_UnixSubprocessTransport", (None, [CMD], False, None, None, None, 0),
     "asyncio.unix_events._UnixSubprocessTransport", "starts a subprocess"),
    ("torch.utils.collect_env", "run", (CMD,), "torch.utils.collect_env.run", "runs a shell command"),
    ("torch.serialization", "load", ("/dev/null",), "torch.serialization.load", "loads another pickle"),
    ("numpy", "load", ("/dev/null",), "numpy.load", "loads another file, maybe a pickle"),
    ("runpy", "run_path", ("/dev/null",), "runpy.run_path", "runs a Python file"),
    ("webbrowser", "open", ("about:blank",), "webbrowser.open", "starts a browser"),
    # Port 0: nothing can listen there, so even a loaded copy connects nowhere.
    ("socket", "create_connection", (("127.0.0.1", 0),), "socket.create_connection", "opens a connection"),
    ("shutil", "rmtree", ("/nonexistent/chainvet-fixture",), "shutil.rmtree", "deletes a tree"),
]


def gen_malicious_stdlib():
    for mod, name, args, ev, what in STDLIB_CALLS:
        a = P2
        malicious(f"stdlib/{mod}.{name}.pkl", a.stream(a.call(glob(mod, name), *args)), CRIT, [DCALL], ev,
                  f"REDUCE of {mod}.{name}: {what}")
    # Methods reached by a dotted name, with an instance made in the stream.
    a = P4
    for mod, cls, meth, src in (("trace", "Trace", "run", PRINT_SRC),
                                ("code", "InteractiveInterpreter", "runsource", PRINT_SRC)):
        body = a.call(a.sg(mod, f"{cls}.{meth}"), a.call(a.sg(mod, cls)), src)
        malicious(f"stdlib/{mod}.{cls}.{meth}.pkl", a.stream(body), CRIT, [DCALL], f"{mod}.{cls}.{meth}",
                  f"STACK_GLOBAL ('{mod}', '{cls}.{meth}') called on a {cls}() with Python source")


def gen_malicious_structure():
    # Calls by OBJ, INST and NEWOBJ_EX whose result is popped.
    body = MARK + glob("os", "system") + P2.lit(CMD) + OBJ + POP + NONE
    malicious("pickle/obj_os_system_popped.pkl", P2.stream(body), CRIT, [DCALL], "os.system",
              "OBJ calls os.system('true'); result discarded by POP, stream returns None")
    body = MARK + string0(CMD) + inst("os", "system") + POP + NONE
    malicious("pickle/inst_os_system_popped.pkl", body + STOP, CRIT, [DCALL], "os.system",
              "protocol 0 INST os system('true'); result discarded by POP")
    body = P4.sg("subprocess", "Popen") + P4.tup([CMD]) + EMPTY_DICT + NEWOBJ_EX + POP + NONE
    malicious("pickle/newobj_ex_popen_popped.pkl", P4.stream(body), "high", [], "subprocess.Popen",
              "NEWOBJ_EX of subprocess.Popen (['true']); result discarded by POP")

    # EXT2: the callable comes from copyreg's extension registry, empty by default.
    body = ext2(0xBEEF) + P2.tup(CMD) + REDUCE
    malicious("pickle/ext2_call.pkl", P2.stream(body), "high", ["pickle/malformed"], "",
              "EXT2 code 0xbeef used as a callable: unregistered in a default interpreter")

    # BUILD gadgets.
    body = glob("os", "path") + P2.lit({"chainvet_fixture": True}) + BUILD
    malicious("pickle/build_setattr_module.pkl", P2.stream(body), "high", ["pickle/build-gadget"], "os.path",
              "BUILD with a dict on the module os.path: sets a module attribute (monkey-patching gadget)")
    body = glob("argparse", "Namespace") + P2.tup(None, {"chainvet_fixture": True}) + BUILD
    malicious("pickle/build_setattr_class.pkl", P2.stream(body), "high", ["pickle/build-gadget"],
              "argparse.Namespace",
              "BUILD with (None, slotstate) on the class argparse.Namespace: setattr on a class")
    # Made by REDUCE, which runs the class's __init__: NEWOBJ + BUILD of an
    # unreviewed class is how whole-model checkpoints look, and is no gadget.
    body = glob("mylib.models", "Helper") + EMPTY_TUPLE + REDUCE + P2.lit({"hook": PRINT_SRC}) + BUILD
    malicious("pickle/build_setstate_unknown_class.pkl", P2.stream(body), "high",
              ["pickle/unknown-call", "pickle/build-gadget"], "mylib.models.Helper",
              "REDUCE of unknown class mylib.models.Helper() then BUILD: its __setstate__ would run")

    # Imports without calls, and unknown calls.
    malicious("pickle/import_only_os_system.pkl", P2.stream(glob("os", "system") + POP + NONE), "medium",
              ["pickle/dangerous-import"], "os.system", "GLOBAL os system then POP: imported, never called")
    malicious("pickle/import_only_unknown.pkl", P2.stream(glob("mylib", "helper") + POP + NONE), "medium",
              ["pickle/unknown-import"], "mylib.helper", "GLOBAL mylib helper then POP: unknown import, never called")
    malicious("pickle/unknown_call.pkl", P2.stream(P2.call(glob("mylib", "helper"), "x")), "high",
              ["pickle/unknown-call"], "mylib.helper", "REDUCE of unknown callable mylib.helper('x')")

    # FRAME lengths that disagree with the opcodes. CPython's C unpickler
    # ignores frame boundaries; the pure-Python one rejects these streams.
    a = P4
    ops = [sbu("os"), MEMOIZE, sbu("system"), MEMOIZE, STACK_GLOBAL, MEMOIZE, sbu(CMD), MEMOIZE,
           TUPLE1, MEMOIZE, REDUCE, MEMOIZE, STOP]
    body = b"".join(ops)
    straddle = len(sbu("os") + MEMOIZE) + 3  # ends inside the 'system' string
    malicious("pickle/frame_straddle.pkl", proto(4) + frame(straddle) + body, CRIT,
              [DCALL, "pickle/frame-anomaly"], "os.system",
              "FRAME length ends inside an opcode; payload runs in the C unpickler")
    cut = len(sbu("os") + MEMOIZE)
    nested = proto(4) + frame(len(body)) + body[:cut] + frame(len(body) - cut) + body[cut:]
    malicious("pickle/frame_nested.pkl", nested, CRIT, [DCALL, "pickle/frame-anomaly"], "os.system",
              "a FRAME starts before the previous frame's bytes are consumed; payload follows")
    payload = b"".join(ops[:-1])
    overrun = proto(4) + frame(len(payload)) + payload + frame(1 << 20) + POP + NONE + STOP
    malicious("pickle/frame_overrun.pkl", overrun, CRIT, [DCALL, "pickle/frame-anomaly"], "os.system",
              "payload in a valid frame, then a FRAME of 1 MiB where 3 bytes remain")

    # Payload, then a stream that breaks: the loader has already run it.
    malicious("pickle/payload_then_bad_opcode.pkl", proto(2) + os_system() + POP + b"\xff" + b"chainvet",
              CRIT, [DCALL, "pickle/malformed"], "os.system",
              "nullifAI pattern: os.system('true') REDUCE, then unknown opcode 0xff and no STOP")
    malicious("pickle/payload_then_truncation.pkl",
              proto(2) + os_system() + POP + b"X" + struct.pack("<I", 100) + b"abc",
              CRIT, [DCALL, "pickle/malformed"], "os.system",
              "os.system('true') REDUCE, then a BINUNICODE of 100 bytes cut after 3")
    data = pickle.dumps({"epoch": 1, "loss": 0.5}, protocol=2) + P2.stream(os_system())
    malicious("pickle/second_pickle_payload.pkl", data, CRIT, [DCALL], "os.system",
              "two concatenated pickles: benign dict, then os.system('true')")

    # Memo expansion: a few KB that are 500^6 elements if values are copied,
    # and a list holding itself 500 times; then a payload at the end.
    width, depth = 500, 6
    body = EMPTY_LIST + binput(0) + MARK + binget(0) + DUP * (width - 1) + APPENDS + POP
    for k in range(1, depth + 1):
        body += MARK + binget(k - 1) * width + LIST + binput(k) + POP
    body += MARK + binget(depth) + os_system() + TUPLE
    malicious("memo_expansion.pkl", P2.stream(body), CRIT, [DCALL], "os.system",
              f"lists nested {depth} deep by {width} memo references (and a list holding itself "
              f"{width} times), then os.system('true')")

    # dill and cloudpickle of a function: the code object is built on load.
    # Compiled under a fixed name so no path of this machine is pickled.
    fn = eval(compile(f"lambda: {PRINT_SRC}", "<chainvet-fixture>", "eval"), {"__name__": "__main__"})
    for lib in (dill, cloudpickle):
        malicious(f"{lib.__name__}_lambda.pkl", lib.dumps(fn, protocol=4), "high", [], "",
                  f"{lib.__name__}.dumps of a lambda: code object built on load")


def gen_malicious_containers():
    real_members = torch_members(tiny_net().state_dict())
    real_pkl = dict(real_members)["archive/data.pkl"]
    evil_pkl = inject(real_pkl, os_system())  # still loads to the state dict

    def members(pkl=evil_pkl):
        return [{"name": n, "data": pkl if n == "archive/data.pkl" else d} for n, d in real_members]

    def torch_zip(ms=None, **kw):
        return zip_build(members() if ms is None else ms, **kw)

    def evil_rule(rule, name, desc, edit, sev=CRIT, evidence="os.system"):
        """A torch zip (data.pkl with the payload) changed by edit."""
        ms = members()
        edit(ms)
        malicious(f"archive/{name}", zip_build(ms), sev, [rule] + ([DCALL] if sev == CRIT else []), evidence,
                  desc, pickles=[m["data"] for m in ms if m["name"].endswith(".pkl")])

    malicious("torch/injected_state_dict.pt", torch_zip(), CRIT, [DCALL], "os.system",
              "torch zip of a real state_dict whose data.pkl has os.system('true') injected in front",
              pickles=[evil_pkl])
    legacy = torch_legacy_bytes(tiny_net().state_dict())
    spans = legacy_pickles(legacy)
    s, e = spans[3]
    evil_obj = inject(legacy[s:e], os_system())
    # The five pickles in a row: magic number, protocol, sys_info, object, keys.
    evil_head = legacy[:s] + evil_obj + legacy[e:spans[4][1]]
    malicious("torch/legacy_injected.pt", evil_head + legacy[spans[4][1]:], CRIT, [DCALL],
              "os.system", "legacy torch format (magic, protocol, sys_info, object, keys, storages) "
                           "with os.system('true') injected in the object pickle",
              pickles=[evil_head])
    data = torch_bytes(EvilNet())
    malicious("torch/whole_model_reduce.pt", data, CRIT, [DCALL], "posix.system",
              "torch.save of a whole-model object whose __reduce__ is os.system('true')",
              pickles=[zipfile.ZipFile(io.BytesIO(data)).read("archive/data.pkl")])

    weight = torch.zeros(2, 2)
    entry = inject(pickle.dumps((0, "cpu", torch.FloatStorage), protocol=2), os_system())
    malicious("torch/tar_storage_payload.pt", tar_build(torch_tar_members(weight, entry)), CRIT, [DCALL],
              "os.system", "PyTorch tar format whose storage entry pickle (not the object pickle) runs "
                           "os.system('true'): torch unpickles every entry of the storages member")

    # Misnamed pickles.
    payload = P2.stream(os_system())
    for name in ("model.safetensors", "weights.txt"):
        malicious(f"misnamed/{name}", payload, CRIT, [DCALL, "model/extension-mismatch"], "os.system",
                  f"os.system('true') pickle named {name}")
    malicious("misnamed/pytorch_model", payload, CRIT, [DCALL], "os.system",
              "os.system('true') pickle with no extension")

    # Polyglots.
    benign_zip = zip_build(members(real_pkl))
    malicious("archive/polyglot_pickle_then_zip.pt", payload + benign_zip, CRIT, [DCALL, "archive/prefix-data"],
              "os.system", "malicious pickle followed by a benign torch zip (offsets not adjusted): "
                           "torch.load sees no zip magic and unpickles the front", pickles=[payload])
    malicious("archive/polyglot_pickle_then_zip_adjusted.pt",
              payload + zip_build(members(real_pkl), base=len(payload)), CRIT, [DCALL, "archive/prefix-data"],
              "os.system", "malicious pickle followed by a benign torch zip whose offsets count the prefix "
                           "(as zip -A leaves them)", pickles=[payload])
    front = pickle.dumps({"note": "benign"}, protocol=2)
    malicious("archive/polyglot_benign_pickle_then_evil_zip.pt", front + torch_zip(base=len(front)), CRIT,
              [DCALL, "archive/prefix-data"], "os.system",
              "benign pickle in front of a torch zip whose data.pkl runs os.system('true')",
              pickles=[front, evil_pkl])

    # Zip anomalies around data.pkl.
    def set_on_pkl(**fields):
        def edit(ms):
            for m in ms:
                if m["name"] == "archive/data.pkl":
                    m.update(fields)
        return edit

    def duplicate(ms):
        # torch 1.13's reader takes the first copy, Python's zipfile the last:
        # the payload goes where torch looks.
        i = next(i for i, m in enumerate(ms) if m["name"] == "archive/data.pkl")
        ms.insert(i + 1, {"name": "archive/data.pkl", "data": real_pkl})

    def traversal(ms):
        set_on_pkl(data=real_pkl)(ms)
        ms.append({"name": "../../archive/data.pkl", "data": evil_pkl})

    def symlink(ms):
        set_on_pkl(data=real_pkl)(ms)
        ms.append({"name": "archive/data/link", "data": b"../../../../etc/hostname",
                   "made_by": (3 << 8) | 20, "external_attr": 0o120777 << 16})

    evil_rule("archive/crc-mismatch", "zip_bad_crc.pt",
              "torch zip, data.pkl (os.system payload) recorded with a wrong CRC-32 (torch does not check)",
              set_on_pkl(crc=zlib.crc32(evil_pkl) ^ 0xFFFFFFFF))
    for flag in (0x1, 0x20, 0x40):
        evil_rule("archive/encrypted", f"zip_flag_{flag:#04x}.pt",
                  f"torch zip, stored data.pkl (os.system payload, in the clear) with flag bit {flag:#x} set",
                  set_on_pkl(flags=flag))
    evil_rule("archive/name-mismatch", "zip_name_mismatch.pt",
              "torch zip, data.pkl (os.system payload) whose local header names archive/other.pkl",
              set_on_pkl(local_name="archive/other.pkl"))
    evil_rule("archive/duplicate-name", "zip_duplicate_data_pkl.pt",
              "torch zip with two archive/data.pkl members: os.system payload first (torch reads it), "
              "benign second (Python's zipfile reads it)",
              duplicate)
    evil_rule("archive/path-traversal", "zip_path_traversal.pt",
              "benign torch zip plus a member ../../archive/data.pkl holding an os.system payload",
              traversal)
    evil_rule("archive/symlink", "zip_symlink.pt",
              "benign torch zip plus a symlink member archive/data/link -> ../../../../etc/hostname",
              symlink, sev="medium", evidence="")

    # Other containers, torch folder layout inside.
    folder = [(m["name"], m["data"]) for m in members()]
    broken = proto(2) + os_system() + POP + b"\xff" + real_pkl[2:]
    nullifai = [(n, broken if n == "archive/data.pkl" else d) for n, d in folder]
    malicious("archive/nullifai.7z", sevenzip(nullifai), CRIT, [DCALL, "pickle/malformed"], "os.system",
              "nullifAI: 7z of a torch folder whose data.pkl runs os.system('true') then breaks (opcode 0xff)",
              pickles=[broken])
    tar = tar_build(folder)
    malicious("archive/payload_in_tar.tar", tar, CRIT, [DCALL], "os.system",
              "tar of a torch folder whose archive/data.pkl runs os.system('true')", pickles=[evil_pkl])
    malicious("archive/payload_in_tar.tar.gz", gz(tar), CRIT, [DCALL], "os.system",
              "tar.gz of a torch folder whose archive/data.pkl runs os.system('true')", pickles=[evil_pkl])
    inner = tar_build([("model/pytorch_model.bin", torch_zip())])
    malicious("archive/nested_zip_tgz_7z.7z", sevenzip([("bundle.tar.gz", gz(inner))]), CRIT, [DCALL],
              "os.system", "7z holding a tar.gz holding a torch zip whose data.pkl runs os.system('true')",
              pickles=[evil_pkl])


def gen_malicious_numpy_joblib():
    objs = np.array(["alpha", 1], dtype=object)
    hdr = io.BytesIO()
    np.lib.format.write_array_header_1_0(hdr, np.lib.format.header_data_from_array_1_0(objs))
    evil = inject(pickle.dumps(objs, protocol=3), os_system())
    npy = hdr.getvalue() + evil
    malicious("numpy/object_os_system.npy", npy, CRIT, [DCALL], "os.system",
              ".npy with object dtype whose pickle runs os.system('true') before the array", pickles=[evil])
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo("weights.npy"), _npy_f32())
        z.writestr(zipfile.ZipInfo("labels.npy"), npy)
    malicious("numpy/object_os_system.npz", buf.getvalue(), CRIT, [DCALL], "os.system",
              ".npz with a float32 array and an object array whose pickle runs os.system('true')",
              pickles=[evil])

    plain = Reduce(os.system, CMD)
    with_array = {"weights": np.arange(8, dtype=np.float32), "hook": Reduce(os.system, CMD)}
    for rel, value, comp, desc in (
            ("joblib/payload.joblib", plain, None, "joblib.dump of an object reducing to os.system('true')"),
            ("joblib/payload_after_array.joblib", with_array, None,
             "joblib.dump of {weights: float32 array, hook: os.system('true')}: payload after inline array bytes"),
            ("joblib/payload_after_array.joblib.z", with_array, ("zlib", 3), "the same, compress=('zlib', 3)"),
            ("joblib/payload_after_array.joblib.gz", with_array, ("gzip", 3), "the same, compress=('gzip', 3)"),
            ("joblib/payload_after_array.joblib.xz", with_array, ("xz", 3), "the same, compress=('xz', 3)")):
        path = os.path.join(HERE, "malicious", rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        joblib.dump(value, path, **({"compress": comp} if comp else {}))
        with open(path, "rb") as f:
            raw = f.read()
        stream = {None: lambda b: b, "zlib": zlib.decompress, "gzip": gzip.decompress,
                  "xz": lzma.decompress}[comp and comp[0]](raw)
        _row("malicious/" + rel, "malicious", CRIT, "critical", [DCALL], "posix.system", desc)
        # joblib's inline array bytes are not opcodes: pickletools stops there.
        CHECKS.append(("malicious/" + rel, dis_stats(stream)))


def _npy_f32():
    buf = io.BytesIO()
    np.save(buf, np.arange(4, dtype=np.float32))
    return buf.getvalue()


# ---------------------------------------------------------------------------


def main():
    for d in ("benign", "malicious"):
        shutil.rmtree(os.path.join(HERE, d), ignore_errors=True)
    gen_benign_torch()
    gen_benign_torch_tar()
    gen_benign_numpy()
    gen_benign_sklearn()
    gen_benign_plain()
    big_size, big_ops = gen_big()
    gen_malicious_basic()
    gen_malicious_stdlib()
    gen_malicious_structure()
    gen_malicious_containers()
    gen_malicious_numpy_joblib()

    paths = [r[0] for r in MANIFEST]
    assert len(paths) == len(set(paths)), "duplicate manifest path"
    on_disk = sorted(os.path.relpath(os.path.join(d, f), HERE)
                     for top in ("benign", "malicious")
                     for d, _, fs in os.walk(os.path.join(HERE, top)) for f in fs)
    assert sorted(paths) == on_disk, set(paths) ^ set(on_disk)

    with open(os.path.join(HERE, "MANIFEST.tsv"), "w", newline="\n") as f:
        f.write("path\tverdict\tmin_severity\tmax_severity\trules\tevidence\tdescription\n")
        for row in MANIFEST:
            f.write("\t".join(row) + "\n")

    for rel, line in CHECKS:
        print(f"{rel}: {line}")
    sizes = {p: os.path.getsize(os.path.join(HERE, p)) for p in paths}
    # Committed files: keep each small and the folder well under 3 MB.
    for p, n in sizes.items():
        assert n <= (512 << 10 if p == "benign/big_9m_ops.pkl.gz" else 50 << 10), (p, n)
    assert sum(sizes.values()) < 3 << 20
    big = max(sizes, key=sizes.get)
    print(f"big pickle: {big_size} bytes, {big_ops} opcodes, "
          f"gzip {sizes['benign/big_9m_ops.pkl.gz']} bytes")
    print(f"{len(paths)} fixtures ({sum(r[1] == 'benign' for r in MANIFEST)} benign, "
          f"{sum(r[1] == 'malicious' for r in MANIFEST)} malicious), {sum(sizes.values())} bytes; "
          f"largest {big} ({sizes[big]} bytes)")


if __name__ == "__main__":
    main()
