#!/usr/bin/python3
"""Writes the archive fixtures of package archive into this folder.

Run with Debian's python3 (it has joblib): /usr/bin/python3 gen.py
The 7z fixtures need the 7z command (Debian p7zip-full). Payloads are
marker strings: the pickle package tests pickles; these test containers.
Rerunning gives equivalent files; 7z archives differ in timestamps only.
"""

import bz2
import gzip
import io
import lzma
import os
import pickle
import shutil
import struct
import subprocess
import tarfile
import tempfile
import zipfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
PICKLE = b"\x80\x02}q\x00X\x06\x00\x00\x00markerq\x01K\x01s."  # {'marker': 1}


def out(name, data):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


def build_zip(entries, prefix=b"", absolute=False, comment=b"", count=None, drop_central=()):
    """A zip written by hand, for anomalies zipfile will not write.

    entries: dicts with name, data, and optionally method (0 stored, 8
    deflate), flags, crc (as written), local_name, attr (external
    attributes), system (creator OS: 0 DOS, 3 Unix).
    absolute: offsets count the prefix (as zip -A leaves them), rather
    than starting at the archive (as plain concatenation leaves them).
    """
    body = io.BytesIO()
    central = []
    base = len(prefix) if absolute else 0
    for i, e in enumerate(entries):
        data = e["data"]
        method = e.get("method", 0)
        comp = data
        if method == 8:
            c = zlib.compressobj(9, zlib.DEFLATED, -15)
            comp = c.compress(data) + c.flush()
        crc = e.get("crc", zlib.crc32(data))
        flags = e.get("flags", 0)
        name = e["name"].encode()
        local = e.get("local_name", e["name"]).encode()
        off = body.tell()
        body.write(struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, flags, method, 0, 0x21,
                               crc, len(comp), len(data), len(local), 0))
        body.write(local)
        body.write(comp)
        if i in drop_central:
            continue
        central.append(struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", (e.get("system", 0) << 8) | 20, 20,
                                   flags, method, 0, 0x21, crc, len(comp), len(data), len(name), 0, 0, 0, 0,
                                   e.get("attr", 0), off + base) + name)
    cd = b"".join(central)
    cd_off = body.tell() + base
    n = len(entries) if count is None else count
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, n, n, len(cd), cd_off, len(comment)) + comment
    return prefix + body.getvalue() + cd + end


def zip64_archive():
    """One stored member described only by zip64 fields: the central
    sizes and offset are 0xFFFFFFFF and the values are in the zip64 extra
    field; the directory is found through the zip64 end record."""
    data = b"zip64 member marker\n"
    name = b"big.txt"
    crc = zlib.crc32(data)
    local_extra = struct.pack("<HHQQ", 1, 16, len(data), len(data))
    local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 45, 0, 0, 0, 0x21, crc, 0xFFFFFFFF, 0xFFFFFFFF,
                        len(name), len(local_extra)) + name + local_extra + data
    extra = struct.pack("<HHQQQ", 1, 24, len(data), len(data), 0)
    cd = struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 45, 45, 0, 0, 0, 0x21, crc, 0xFFFFFFFF,
                     0xFFFFFFFF, len(name), len(extra), 0, 0, 0, 0, 0xFFFFFFFF) + name + extra
    cd_off = len(local)
    end64_off = cd_off + len(cd)
    end64 = struct.pack("<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, 1, 1, len(cd), cd_off)
    loc = struct.pack("<4sIQI", b"PK\x06\x07", 0, end64_off, 1)
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return local + cd + end64 + loc + end


def zips():
    out("plain.zip", build_zip([
        {"name": "model/data.pkl", "data": PICKLE, "method": 8},
        {"name": "model/", "data": b"", "attr": 0x10},
        {"name": "model/weights.bin", "data": b"WEIGHTS-MARKER" * 4},
    ]))
    out("badcrc.zip", build_zip([{"name": "data.pkl", "data": PICKLE, "crc": 0xDEADBEEF}]))
    out("badcrc_deflate.zip", build_zip([{"name": "data.pkl", "data": PICKLE * 4, "method": 8, "crc": 0x12345678}]))
    out("encrypted.zip", build_zip([
        {"name": "flag1.txt", "data": b"ENCRYPTED-FLAG-MARKER", "flags": 0x1},
        {"name": "flag20.txt", "data": b"PATCHED-FLAG-MARKER", "flags": 0x20},
        {"name": "flag40.txt", "data": b"STRONG-FLAG-MARKER", "flags": 0x40},
        # Really encrypted (garbage to inflate), flag set: malformed.
        {"name": "real.bin", "data": bytes(range(7, 250, 3)), "method": 8, "flags": 0x1},
    ]))
    # Deflate data that is not deflate: the "encrypted" member above is
    # plain deflate with a flag, so write one whose bytes cannot inflate.
    z = bytearray(build_zip([{"name": "cipher.bin", "data": b"\xff" * 64, "flags": 0x1}]))
    # Mark it deflated in both headers; its stored bytes (0xff...) are not
    # valid deflate (block type 3).
    struct.pack_into("<H", z, 8, 8)
    cd = z.rfind(b"PK\x01\x02")
    struct.pack_into("<H", z, cd + 10, 8)
    out("encrypted_deflate.zip", bytes(z))
    out("namemismatch.zip", build_zip([
        {"name": "archive/data.pkl", "local_name": "archive/evil.pkl", "data": PICKLE},
        {"name": "archive/version", "data": b"3\n"},
    ]))
    out("duplicate.zip", build_zip([
        {"name": "data.pkl", "data": b"FIRST-COPY"},
        {"name": "data.pkl", "data": b"SECOND-COPY"},
    ]))
    out("traversal.zip", build_zip([
        {"name": "../../evil.pkl", "data": b"DOTDOT"},
        {"name": "/etc/cron.d/x", "data": b"ABSOLUTE"},
        {"name": "..\\..\\win.txt", "data": b"BACKSLASH"},
        {"name": "C:/drive.txt", "data": b"DRIVE"},
        {"name": "ok/fine.txt", "data": b"FINE"},
    ]))
    out("symlink.zip", build_zip([
        {"name": "link", "data": b"/etc/passwd", "system": 3, "attr": 0o120777 << 16},
        {"name": "file.txt", "data": b"REGULAR", "system": 3, "attr": 0o100644 << 16},
    ]))
    inner = build_zip([{"name": "archive/data.pkl", "data": PICKLE}])
    # A pickle with a zip appended as is: the zip's offsets start at its
    # own first byte, and readers shift them by the prefix.
    out("polyglot.zip", PICKLE + inner)
    # The same, with offsets that count the prefix (as zip -A leaves them).
    out("prefix.zip", build_zip([{"name": "archive/data.pkl", "data": PICKLE}], prefix=PICKLE, absolute=True))
    out("zip64.zip", zip64_archive())
    full = build_zip([
        {"name": "one.txt", "data": b"ONE-MARKER"},
        {"name": "two.txt", "data": b"TWO-MARKER"},
        {"name": "three.txt", "data": b"THREE-MARKER"},
    ])
    cd = full.find(b"PK\x01\x02")
    # Cut in the middle of the directory: no end record survives.
    out("truncated_cd.zip", full[:cd + 60])
    # The directory lists two of three members (count says 3): the third
    # is only in its local header.
    out("hidden.zip", build_zip([
        {"name": "one.txt", "data": b"ONE-MARKER"},
        {"name": "two.txt", "data": b"TWO-MARKER"},
        {"name": "hidden.txt", "data": b"HIDDEN-MARKER"},
    ], count=3, drop_central=(2,)))
    out("empty.zip", build_zip([]))
    # 64 MiB of zeros in about 64 KB: a bomb for tests with low limits.
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    zeros = bytes(1 << 20)
    comp = b"".join(c.compress(zeros) for _ in range(64)) + c.flush()
    z = build_zip([{"name": "zeros.bin", "data": b""}])
    # Replace the empty stored member with the deflated zeros.
    size = 64 << 20
    crc = 0
    for _ in range(64):
        crc = zlib.crc32(zeros, crc)
    local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, len(comp), size, 9, 0) + b"zeros.bin"
    cdr = struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 8, 0, 0x21, crc, len(comp), size, 9,
                      0, 0, 0, 0, 0, 0) + b"zeros.bin"
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 1, 1, len(cdr), len(local) + len(comp), 0)
    out("bomb.zip", local + comp + cdr + end)


def add_bytes(t, name, data, **kw):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 1700000000
    for k, v in kw.items():
        setattr(info, k, v)
    t.addfile(info, io.BytesIO(data))


def tars():
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=tarfile.PAX_FORMAT) as t:
        add_bytes(t, "ok.txt", b"OK-MARKER")
        add_bytes(t, "../evil.txt", b"DOTDOT-MARKER")
        add_bytes(t, "/abs.txt", b"ABSOLUTE-MARKER")
        for name, kind, target in (("lnk", tarfile.SYMTYPE, "/etc/passwd"), ("hard", tarfile.LNKTYPE, "ok.txt")):
            info = tarfile.TarInfo(name)
            info.type, info.linkname, info.mtime = kind, target, 1700000000
            t.addfile(info)
        dirinfo = tarfile.TarInfo("dir")
        dirinfo.type, dirinfo.mtime = tarfile.DIRTYPE, 1700000000
        t.addfile(dirinfo)
        add_bytes(t, "ok.txt", b"OK-AGAIN")
    out("links.tar", b.getvalue())

    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=tarfile.USTAR_FORMAT) as t:
        add_bytes(t, "model/data.pkl", PICKLE)
        add_bytes(t, "model/big.bin", b"B" * 10000)
    plain = b.getvalue()
    out("truncated.tar", plain[:512 + 512 + 512 + 3000])
    out("data.tar.gz", gzip.compress(plain, mtime=0))

    # An old v7 header: no magic, only a checksum.
    h = bytearray(plain[:512])
    h[257:265] = bytes(8)
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\x00 " % sum(h)
    out("v7.tar", bytes(h) + plain[512:1024] + bytes(1024))


def streams():
    payload = b"STREAM-PAYLOAD-MARKER\n" * 20
    b = io.BytesIO()
    with gzip.GzipFile(filename="payload.txt", mode="wb", fileobj=b, mtime=0) as g:
        g.write(payload)
    out("named.gz", b.getvalue())
    out("payload.txt.gz", gzip.compress(payload, mtime=0))
    out("multi.gz", gzip.compress(b"FIRST-MEMBER\n", mtime=0) + gzip.compress(b"SECOND-MEMBER\n", mtime=0))
    big = b"TRUNCATED-GZIP-MARKER\n" + os.urandom(0) + bytes(range(256)) * 400
    g = gzip.compress(big, mtime=0)
    out("truncated.gz", g[: len(g) // 2])
    g = bytearray(gzip.compress(payload, mtime=0))
    g[-8] ^= 0xFF  # CRC-32 in the trailer
    out("badcrc.gz", bytes(g))
    out("payload.txt.bz2", bz2.compress(payload))
    out("payload.txt.xz", lzma.compress(payload, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64))
    x = bytearray(lzma.compress(payload, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32))
    # The block's CRC-32 sits just before the index, whose size the footer
    # gives: flip one byte of it.
    index = len(x) - 12 - (struct.unpack("<I", x[-8:-4])[0] + 1) * 4
    x[index - 1] ^= 0xFF
    out("badcheck.xz", bytes(x))
    # Two streams with stream padding between, SHA-256 and no check.
    out("multi.xz", lzma.compress(b"XZ-STREAM-ONE\n", format=lzma.FORMAT_XZ, check=lzma.CHECK_SHA256) + bytes(4)
        + lzma.compress(b"XZ-STREAM-TWO\n", format=lzma.FORMAT_XZ, check=lzma.CHECK_NONE))
    out("payload.txt.lzma", lzma.compress(payload, format=lzma.FORMAT_ALONE))
    out("payload.z", zlib.compress(payload))
    out("blob.bin", zlib.compress(pickle.dumps({"marker": 1}, protocol=2)))
    out("trailing.zlib", zlib.compress(payload) + b"HIDDEN-AFTER-STREAM")

    import joblib
    from joblib import numpy_pickle_compat
    path = os.path.join(HERE, "model.joblib")
    joblib.dump({"marker": "JOBLIB-MARKER"}, path, compress=("zlib", 3))
    with open(os.path.join(HERE, "legacy_zf.pkl"), "wb") as f:
        numpy_pickle_compat.write_zfile(f, pickle.dumps({"marker": "ZF-MARKER"}, protocol=2))


def sevenzips():
    if shutil.which("7z") is None:
        raise SystemExit("7z not found: install p7zip-full")
    with tempfile.TemporaryDirectory() as tmp:
        def write(rel, data):
            p = os.path.join(tmp, rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "wb") as f:
                f.write(data)
            os.utime(p, (1700000000, 1700000000))
            return rel

        def seven(name, files, *opts):
            dst = os.path.join(HERE, name)
            if os.path.exists(dst):
                os.remove(dst)
            subprocess.run(["7z", "a", "-bd", "-bso0", "-mtm=off", "-mtc=off", "-mta=off", *opts, dst, *files],
                           cwd=tmp, check=True)

        a = write("seven/a.txt", b"SEVEN-A-MARKER\n" * 10)
        b = write("seven/b.pkl", PICKLE)
        seven("lzma.7z", [a, b], "-m0=LZMA")
        seven("lzma2.7z", [a, b], "-m0=LZMA2", "-ms=on")
        seven("plainheader.7z", [a], "-m0=LZMA2", "-mhc=off")
        seven("encrypted.7z", [a], "-m0=LZMA2", "-pSECRET")
        seven("encryptedheader.7z", [a], "-m0=LZMA2", "-pSECRET", "-mhe=on")
        z = write("inner.zip", build_zip([{"name": "archive/data.pkl", "data": PICKLE}]))
        seven("zip.7z", [z])
        # zip in tar.gz in 7z
        t = io.BytesIO()
        with tarfile.open(fileobj=t, mode="w", format=tarfile.USTAR_FORMAT) as tf:
            add_bytes(tf, "inner.zip", build_zip([{"name": "archive/data.pkl", "data": PICKLE}]))
        tg = write("bundle.tar.gz", gzip.compress(t.getvalue(), mtime=0))
        seven("nested.7z", [tg])
        os.symlink("/etc/passwd", os.path.join(tmp, "seven/link"))
        seven("symlink.7z", ["seven/link", a], "-snl")


if __name__ == "__main__":
    zips()
    tars()
    streams()
    sevenzips()
