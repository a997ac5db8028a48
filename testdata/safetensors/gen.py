#!/usr/bin/python3
"""Write chainvet's safetensors fixtures: benign/, malicious/ and MANIFEST.tsv.

Run from anywhere (paths are resolved from this file):

    /usr/bin/python3 testdata/safetensors/gen.py

It needs only the Python standard library. Files are written from the
format's definition: an 8-byte little-endian header length N, N bytes of
JSON ({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__":
{str: str}}), then the data section. Benign files are laid out as the
reference writer lays them out (tensors sorted by dtype width, widest first,
then by name; contiguous; the header padded with spaces to a multiple of 8)
and checked against the reference reader's rules below before they are
written. Output is deterministic.

Nothing here is ever loaded. The one payload, a pickle hidden between two
tensors, would run os.system('true') if someone unpickled it by hand.
"""

import json
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

# Element widths in bits, as the format defines them.
BITS = {
    "BOOL": 8, "U8": 8, "I8": 8, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6,
    "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8, "F8_E4M3FNUZ": 8, "F8_E5M2FNUZ": 8,
    "I16": 16, "U16": 16, "F16": 16, "BF16": 16,
    "I32": 32, "U32": 32, "F32": 32, "I64": 64, "U64": 64, "F64": 64, "C64": 64,
}

# A pickle that calls os.system('true'), protocol 2, written opcode by
# opcode: PROTO 2, GLOBAL 'os system', BINUNICODE 'true', TUPLE1, REDUCE, STOP.
PICKLE = b"\x80\x02cos\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03."

MANIFEST = []


def nbytes(dtype, shape):
    n = BITS[dtype]
    for d in shape:
        n *= d
    assert n % 8 == 0
    return n // 8


def data_for(dtype, shape, seed):
    """Deterministic tensor bytes of the right length: small real values."""
    n = nbytes(dtype, shape)
    count = 1
    for d in shape:
        count *= d
    if dtype == "F32":
        return struct.pack("<%df" % count, *[(i + seed) / 8.0 for i in range(count)])
    if dtype == "F64":
        return struct.pack("<%dd" % count, *[(i + seed) / 8.0 for i in range(count)])
    if dtype == "F16":
        return struct.pack("<%de" % count, *[(i + seed) / 8.0 for i in range(count)])
    if dtype == "BF16":  # the top half of an F32
        return b"".join(struct.pack("<f", (i + seed) / 8.0)[2:] for i in range(count))
    if dtype == "I64":
        return struct.pack("<%dq" % count, *[i - seed for i in range(count)])
    if dtype == "BOOL":
        return bytes((i + seed) % 2 for i in range(count))
    return bytes((i * 37 + seed) % 256 for i in range(n))


def layout(tensors):
    """Order tensors as the reference writer does and give them offsets."""
    order = sorted(tensors, key=lambda t: (-BITS[t[1]], t[0]))
    entries, data, off = [], b"", 0
    for name, dtype, shape, blob in order:
        assert len(blob) == nbytes(dtype, shape)
        entries.append((name, {"dtype": dtype, "shape": shape, "data_offsets": [off, off + len(blob)]}))
        data += blob
        off += len(blob)
    return entries, data


def header_json(entries, metadata):
    parts = []
    if metadata is not None:
        parts.append(json.dumps("__metadata__") + ":" + json.dumps(metadata, separators=(",", ":")))
    for name, info in entries:
        parts.append(json.dumps(name) + ":" + json.dumps(info, separators=(",", ":")))
    return ("{" + ",".join(parts) + "}").encode()


def pad8(h):
    return h + b" " * ((8 - len(h) % 8) % 8)


def build(header, data, length=None):
    n = len(header) if length is None else length
    return struct.pack("<Q", n) + header + data


def check_reference(b):
    """The reference reader's checks, so that benign files are loadable."""
    (n,) = struct.unpack("<Q", b[:8])
    assert n <= 100_000_000 and 8 + n <= len(b)
    hdr = json.loads(b[8:8 + n].decode("utf-8"))
    meta = hdr.pop("__metadata__", None)
    assert meta is None or all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items())
    infos = sorted(hdr.values(), key=lambda i: tuple(i["data_offsets"]))
    start = 0
    for info in infos:
        s, e = info["data_offsets"]
        assert s == start and e >= s
        assert e - s == nbytes(info["dtype"], info["shape"])
        start = e
    assert 8 + n + start == len(b), "data section must end the file"


def write(rel, b, verdict, lo, hi, rules, evidence, desc):
    path = os.path.join(HERE, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(b)
    assert len(b) < 16 << 10, rel
    MANIFEST.append((rel, verdict, lo, hi, ",".join(rules), evidence, desc))


def benign(rel, tensors, metadata, desc):
    entries, data = layout(tensors)
    b = build(pad8(header_json(entries, metadata)), data)
    check_reference(b)
    write(rel, b, "benign", "info", "low", [], "", desc)


def main():
    for d in ("benign", "malicious"):
        shutil.rmtree(os.path.join(HERE, d), ignore_errors=True)

    linear = [
        ("linear.weight", "F32", [2, 4], data_for("F32", [2, 4], 1)),
        ("linear.bias", "F32", [2], data_for("F32", [2], 2)),
    ]
    benign("benign/linear_f32.safetensors", linear, {"format": "pt"},
           "Linear(4,2) in F32 with __metadata__ {format: pt}")
    benign("benign/multi_dtype.safetensors", [
        ("embed.weight", "F16", [4, 3], data_for("F16", [4, 3], 3)),
        ("norm.weight", "BF16", [3], data_for("BF16", [3], 4)),
        ("position_ids", "I64", [1, 4], data_for("I64", [1, 4], 0)),
        ("mask", "BOOL", [4], data_for("BOOL", [4], 1)),
        ("scale", "F64", [], data_for("F64", [], 5)),
        ("quant.codes", "U8", [5], data_for("U8", [5], 6)),
    ], {"format": "pt", "model_type": "tiny", "source": "chainvet fixture"},
        "F16, BF16, I64, BOOL, a scalar F64 and U8 tensors; three metadata entries")
    benign("benign/no_metadata.safetensors", linear, None, "Linear(4,2) in F32 without __metadata__")
    benign("benign/fp8_fp4.safetensors", [
        ("w.fp8", "F8_E4M3", [2, 8], data_for("F8_E4M3", [2, 8], 7)),
        ("w.fp4", "F4", [2, 8], data_for("F4", [2, 8], 8)),
        ("w.scale", "F8_E8M0", [2], data_for("F8_E8M0", [2], 9)),
    ], {"format": "pt"}, "8-bit and packed 4-bit float tensors (F8_E4M3, F4, F8_E8M0)")
    benign("benign/empty_tensor.safetensors", [
        ("present", "F32", [2], data_for("F32", [2], 1)),
        ("empty", "F32", [0, 4], b""),
    ], {"format": "pt"}, "a tensor with a zero dimension, zero bytes long")

    # --- malformed and malicious ---
    entries, data = layout(linear)
    good = pad8(header_json(entries, {"format": "pt"}))

    write("malicious/header_past_eof.safetensors", build(good, data, length=len(good) + len(data) + 100),
          "malicious", "medium", "medium", ["safetensors/malformed"], "runs past the end",
          "header length 100 bytes longer than the whole rest of the file")
    write("malicious/huge_header_length.safetensors", build(good, data, length=(1 << 64) - 1),
          "malicious", "medium", "medium", ["safetensors/malformed"], "runs past the end",
          "header length 2^64-1")
    write("malicious/header_too_large.safetensors", struct.pack("<Q", 150_000_000) + b"{" + b" " * 7,
          "malicious", "medium", "medium", ["safetensors/malformed"], "runs past the end",
          "header length 150 MB in a tiny file: both past the end and over the reference limit")
    text = b"this header is plain text, not JSON   "
    write("malicious/header_not_json.safetensors", build(pad8(text), b""),
          "malicious", "medium", "medium", ["safetensors/malformed"], "invalid JSON",
          "header bytes are text, not JSON; recognised by name only")
    write("malicious/header_truncated_json.safetensors", build(good[: len(good) // 2], b""),
          "malicious", "medium", "medium", ["safetensors/malformed"], "ends early",
          "header JSON cut off half way")
    dup = ('{"__metadata__":{"format":"pt"},'
           '"weight":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},'
           '"weight":{"dtype":"F32","shape":[4],"data_offsets":[16,32]}}').encode()
    write("malicious/duplicate_keys.safetensors", build(pad8(dup), data_for("F32", [8], 1)),
          "malicious", "medium", "medium", ["safetensors/duplicate-key"], "appears twice",
          "tensor 'weight' listed twice with different byte ranges: parsers keep different ones")
    mismatch = ('{"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}').encode()
    write("malicious/size_mismatch.safetensors", build(pad8(mismatch), bytes(20)),
          "malicious", "medium", "medium", ["safetensors/size-mismatch"], "24 bytes",
          "F32 [2,3] is 24 bytes but data_offsets span 20")
    past = ('{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},'
            '"b":{"dtype":"F32","shape":[64],"data_offsets":[16,272]}}').encode()
    write("malicious/offsets_past_data.safetensors", build(pad8(past), bytes(32)),
          "malicious", "medium", "medium", ["safetensors/offset-out-of-range"], "run past the data section",
          "second tensor's data_offsets end 240 bytes past the end of the file")
    overlap = ('{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},'
               '"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}').encode()
    write("malicious/overlap.safetensors", build(pad8(overlap), bytes(24)),
          "malicious", "medium", "medium", ["safetensors/overlap"], "overlaps",
          "two tensors share 8 bytes")
    a, b = data_for("F32", [4], 1), data_for("F32", [4], 2)
    gap = ('{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},'
           '"b":{"dtype":"F32","shape":[4],"data_offsets":[%d,%d]}}' % (16 + len(PICKLE), 32 + len(PICKLE))).encode()
    write("malicious/gap_pickle.safetensors", build(pad8(gap), a + PICKLE + b),
          "malicious", "high", "high", ["safetensors/hidden-data"], "a pickle",
          "a pickle calling os.system hidden in a gap between two tensors")
    write("malicious/trailing_data.safetensors", build(good, data + b"chainvet-fixture: bytes after the last tensor\n"),
          "malicious", "medium", "medium", ["safetensors/hidden-data"], "after tensor",
          "text appended after the last tensor")
    write("malicious/trailing_zip.safetensors", build(good, data + small_zip()),
          "malicious", "high", "high", ["safetensors/hidden-data"], "a zip archive",
          "a zip archive appended after the last tensor")
    bad_utf8 = b'{"w\xff":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'
    write("malicious/invalid_utf8.safetensors", build(pad8(bad_utf8), bytes(8)),
          "malicious", "medium", "medium", ["safetensors/malformed"], "invalid UTF-8",
          "tensor name holds the byte 0xff: the header is not UTF-8")
    meta_num = b'{"__metadata__":{"format":1},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'
    write("malicious/metadata_not_string.safetensors", build(pad8(meta_num), bytes(8)),
          "malicious", "medium", "medium", ["safetensors/malformed"], "not a string",
          "__metadata__ value is a number, which the reference reader refuses")
    unk = b'{"w":{"dtype":"F128","shape":[2],"data_offsets":[0,32]}}'
    write("malicious/unknown_dtype.safetensors", build(pad8(unk), bytes(32)),
          "malicious", "medium", "medium", ["safetensors/malformed"], "unknown dtype",
          "dtype F128, which the format does not define")
    write("malicious/pickle_named.safetensors", PICKLE,
          "malicious", "high", "critical", ["model/extension-mismatch"], "os.system",
          "a pickle calling os.system named .safetensors")

    with open(os.path.join(HERE, "MANIFEST.tsv"), "w") as f:
        f.write("path\tverdict\tmin_severity\tmax_severity\trules\tevidence\tdescription\n")
        for row in MANIFEST:
            f.write("\t".join(row) + "\n")


def small_zip():
    """A one-member stored zip, written field by field (no timestamps)."""
    import zlib
    name, body = b"payload.py", b"print('chainvet-fixture')\n"
    crc = zlib.crc32(body)
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0x21, crc, len(body), len(body), len(name), 0) + name + body
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0, 0x21, crc, len(body), len(body),
                          len(name), 0, 0, 0, 0, 0o644 << 16, 0) + name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(local), 0)
    return local + central + end


if __name__ == "__main__":
    main()
