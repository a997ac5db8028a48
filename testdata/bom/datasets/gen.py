#!/usr/bin/env python3
"""Writes the fixtures of the datasets/files cataloger (stdlib only).

Run: python3 testdata/bom/datasets/gen.py
Parquet, Arrow and TFRecord files are built byte by byte here (pyarrow and
TensorFlow are not available offline): the Parquet file is a real,
zero-row file with a Thrift footer; the Arrow file has the IPC file
magic at both ends around an empty body, which is all a header-only
cataloger reads; TFRecord records carry real masked CRC-32C checksums.
"""
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(rel, data):
    path = os.path.join(HERE, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    with open(path, mode) as f:
        f.write(data)


# --- Thrift compact protocol, just enough for a Parquet FileMetaData ---
def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def zigzag(n):
    return varint((n << 1) ^ (n >> 63))


class Struct:
    def __init__(self):
        self.buf = bytearray()
        self.last = 0

    def field(self, fid, ftype, payload):
        self.buf.append(((fid - self.last) << 4) | ftype)
        self.last = fid
        self.buf += payload
        return self

    def i32(self, fid, v):
        return self.field(fid, 5, zigzag(v))

    def i64(self, fid, v):
        return self.field(fid, 6, zigzag(v))

    def string(self, fid, s):
        b = s.encode()
        return self.field(fid, 8, varint(len(b)) + b)

    def structs(self, fid, items):
        head = bytes([(len(items) << 4) | 12])
        return self.field(fid, 9, head + b"".join(items))

    def end(self):
        return bytes(self.buf) + b"\x00"


def parquet():
    root = Struct().string(4, "schema").i32(5, 2).end()
    text = Struct().i32(1, 6).i32(3, 1).string(4, "text").end()      # BYTE_ARRAY, OPTIONAL
    label = Struct().i32(1, 1).i32(3, 0).string(4, "label").end()    # INT32, REQUIRED
    meta = (Struct().i32(1, 1).structs(2, [root, text, label]).i64(3, 0)
            .structs(4, []).string(6, "chainvet fixture generator").end())
    return b"PAR1" + meta + struct.pack("<I", len(meta)) + b"PAR1"


CRC_TABLE = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    CRC_TABLE.append(c)


def crc32c(b):
    c = 0xFFFFFFFF
    for x in b:
        c = CRC_TABLE[(c ^ x) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def masked(b):
    c = crc32c(b)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def tfrecord(records):
    out = bytearray()
    for r in records:
        n = struct.pack("<Q", len(r))
        out += n + struct.pack("<I", masked(n)) + r + struct.pack("<I", masked(r))
    return bytes(out)


pq = parquet()
write("local/train.parquet", pq)
write("local/train.arrow", b"ARROW1\x00\x00" + struct.pack("<I", 0) + b"ARROW1")
write("local/shard-00000.tfrecord", tfrecord([b"\x0a\x00", b"\x0a\x02\x08\x01"]))
rows = [{"text": "great product", "label": 1}, {"text": "broke in a week", "label": 0}]
write("local/reviews.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
write("local/reviews.csv", "text,label\ngreat product,1\nbroke in a week,0\n")
# Not what its name says: a pickle named .jsonl and a binary named .csv are not datasets here.
write("local/not_jsonl.jsonl", b"\x80\x04\x95\x00\x00")
write("local/not_csv.csv", b"\x00\x01\x02")
# A Parquet file whose footer length points before the start of the file.
write("local/bad_footer.parquet", pq[:-8] + struct.pack("<I", 1 << 30) + b"PAR1")

write("dvc/data/raw.csv.dvc", """outs:
- md5: 3ac7d40ae4cc4c5bbd4b7d0a5f1e0c11
  size: 5120
  hash: md5
  path: raw.csv
""")
write("dvc/data/images.dvc", """outs:
- md5: 9b3d2b3c4f7a1e2d6c5b4a39281706f5.dir
  size: 1048576
  nfiles: 120
  hash: md5
  path: images
""")
write("dvc/data/imported.dvc", """md5: 0123456789abcdef0123456789abcdef
frozen: true
deps:
- path: https://user:secret@data.example.com/exports/faq.csv?sig=abc
outs:
- md5: 00112233445566778899aabbccddeeff
  path: faq.csv
""")
write("dvc/broken.dvc", "outs: [\n")
write("dvc/escape.dvc", "outs:\n- md5: 00112233445566778899aabbccddeeff\n  path: ../../etc/passwd\n")

commit = "a3f4c1b2d5e6f708192a3b4c5d6e7f8091a2b3c4"
cache = "hub/datasets--acme--support-tickets"
write(cache + "/refs/main", commit + "\n")
write(cache + "/snapshots/%s/README.md" % commit, """---
license: cc-by-4.0
task_categories:
- text-classification
language:
- en
size_categories:
- n<1K
---
# Support tickets

Two rows of made-up tickets.
""")
write(cache + "/snapshots/%s/data/train-00000-of-00001.parquet" % commit, pq)
write(cache + "/snapshots/%s/dataset_infos.json" % commit, json.dumps({"default": {"splits": {"train": {"num_examples": 0}}}}) + "\n")

write("cards/sentiment-model/README.md", """---
license: apache-2.0
base_model: distilbert/distilbert-base-uncased
datasets:
- stanfordnlp/imdb
- acme/support-tickets
- ../../etc/passwd
---
# sentiment-model
""")
write("cards/my-dataset/README.md", """---
license: mit
task_categories: [question-answering]
source_datasets: [squad]
---
# my-dataset
""")
write("cards/plain/README.md", "# Just a readme\n")
write("cards/broken/README.md", "---\nlicense: [mit\n---\n")
