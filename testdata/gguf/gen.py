#!/usr/bin/python3
"""Write chainvet's GGUF fixtures: benign/, malicious/ and MANIFEST.tsv.

Run from anywhere (paths are resolved from this file):

    /usr/bin/python3 testdata/gguf/gen.py

It needs only the Python standard library. Files are written field by field
from the GGUF definition (ggml's docs/gguf.md): the magic, a version, tensor
and key/value counts (32-bit in version 1, 64-bit later), typed key/values,
tensor infos (name, dimensions, ggml type, offset), zero padding to the
alignment, then the tensor data, each tensor padded to the alignment as
ggml's writer pads it. Version 1 also writes dimensions and every length as
32 bits. Output is deterministic.

Nothing here is ever loaded, and no template is rendered. The template
payloads are harmless even if a vulnerable loader renders one: they run
`id` or read a class list.
"""

import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

# Metadata value types.
U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
SCALAR = {U8: "B", I8: "b", U16: "H", I16: "h", U32: "I", I32: "i", F32: "f",
          BOOL: "?", U64: "Q", I64: "q", F64: "d"}

# ggml tensor types used here: (id, elements per block, bytes per block).
GGML = {"F32": (0, 1, 4), "F16": (1, 1, 2), "Q8_0": (8, 32, 34), "Q4_K": (12, 256, 144)}

# A pickle that calls os.system('true'), protocol 2, written opcode by opcode.
PICKLE = b"\x80\x02cos\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03."

# An ELF header as a 64-bit Linux executable starts; nothing after it.
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + struct.pack("<HHI", 2, 0x3E, 1) + bytes(40)

MANIFEST = []

# A ChatML-style template of our own: a default system turn, then each
# message between <|im_start|> and <|im_end|>.
CHATML = (
    "{%- if not messages or messages[0]['role'] != 'system' -%}"
    "<|im_start|>system\nYou are a careful assistant.<|im_end|>\n"
    "{%- endif -%}"
    "{%- for m in messages -%}"
    "<|im_start|>{{ m['role'] }}\n{{ m['content'] | trim }}<|im_end|>\n"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}<|im_start|>assistant\n{%- endif -%}"
)

# Payloads, each in its own wording.
DUNDER = (
    "{%- for m in messages -%}{{ m['content'] }}{%- endfor -%}"
    "{{ ().__class__.__base__.__subclasses__() | length }}"
)
CYCLER = (
    "{%- for m in messages -%}{{ m['content'] }}\n{%- endfor -%}"
    "{%- set out = cycler.__init__.__globals__.os.popen('id').read() -%}{{ out }}"
)
JOINER = "{{ joiner.__init__.__globals__['__builtins__']['__import__']('os').system('id') }}"
ATTR_CONCAT = (
    "{%- set u = '_' * 2 -%}"
    "{{ (lipsum | attr(u ~ 'glob' ~ 'als'))['o' ~ 's'] | attr('pop' ~ 'en') }}"
)
ATTR_DYNAMIC = (
    "{%- set name = messages[0]['content'] | trim -%}"
    "{{ (lipsum | attr(name))['os'] }}"
)
NAMESPACE = "{% set ns = namespace() %}{{ ns.__init__.__globals__.__builtins__.eval('1+1') }}"


def pack(e, fmt, *v):
    return struct.pack(e + fmt, *v)


class Writer:
    """Encodes one file's fields for a version and byte order."""

    def __init__(self, version=3, big=False):
        self.v = version
        self.e = ">" if big else "<"

    def n(self, x):  # a length or count
        return pack(self.e, "I" if self.v == 1 else "Q", x)

    def s(self, text):
        b = text.encode() if isinstance(text, str) else text
        return self.n(len(b)) + b

    def value(self, t, v):
        if t == STR:
            return self.s(v)
        if t == ARR:
            et, items = v
            return pack(self.e, "I", et) + self.n(len(items)) + b"".join(self.value(et, x) for x in items)
        return pack(self.e, SCALAR[t], v)

    def kv(self, key, t, v):
        return self.s(key) + pack(self.e, "I", t) + self.value(t, v)

    def info(self, name, dims, gtype, offset):
        d = b"".join(pack(self.e, "I" if self.v == 1 else "Q", x) for x in dims)
        return self.s(name) + pack(self.e, "I", len(dims)) + d + pack(self.e, "I", gtype) + pack(self.e, "Q", offset)


def pad(b, a):
    return b + bytes((a - len(b) % a) % a)


def tensor_bytes(tname, dims, seed):
    tid, block, size = GGML[tname]
    count = 1
    for d in dims:
        count *= d
    assert dims[0] % block == 0
    if tname == "F32":
        return struct.pack("<%df" % count, *[((i * 7 + seed) % 16 - 8) / 16.0 for i in range(count)])
    if tname == "F16":
        return struct.pack("<%de" % count, *[((i * 5 + seed) % 16 - 8) / 16.0 for i in range(count)])
    out = b""
    for blk in range(count // block):  # a scale, then the quants
        out += struct.pack("<e", 0.01 * (blk % 7 + 1)) + bytes((i * 13 + seed + blk) % 256 for i in range(size - 2))
    return out


def gguf(kvs, tensors, version=3, big=False, alignment=32, offsets=None, infos_extra=b"",
         between=None, trailing=b"", counts=None, data_align=None):
    """Assemble a file. tensors: (name, ggml type, dims, data). offsets
    overrides the written offsets; between maps a tensor index to bytes put
    before it (a gap); counts overrides the tensor and key/value counts;
    data_align, when given, pads tensor data to it instead of alignment."""
    data_align = data_align or alignment
    w = Writer(version, big)
    body = b"".join(w.kv(*kv) for kv in kvs)
    data, offs = b"", []
    for i, (name, tname, dims, blob) in enumerate(tensors):
        if between and i in between:
            data += between[i]
            data = pad(data, data_align)
        offs.append(len(data))
        data = pad(data + blob, data_align)
    if offsets is not None:
        offs = offsets
    infos = b"".join(w.info(name, dims, GGML[tname][0] if isinstance(tname, str) else tname, off)
                     for (name, tname, dims, _), off in zip(tensors, offs)) + infos_extra
    nt, nkv = counts or (len(tensors), len(kvs))
    head = b"GGUF" + pack(w.e, "I", version) + w.n(nt) + w.n(nkv)
    return pad(head + body + infos, alignment) + data + trailing


def identity(arch="llama", name="chainvet tiny llama", file_type=7):
    """Realistic metadata of a small llama-architecture model."""
    tokens = ["<unk>", "<s>", "</s>", "▁hello", "▁world", "▁the", "▁a", "."]
    return [
        ("general.architecture", STR, arch),
        ("general.name", STR, name),
        ("general.organization", STR, "Chainvet Fixtures"),
        ("general.size_label", STR, "1K"),
        ("general.license", STR, "apache-2.0"),
        ("general.file_type", U32, file_type),
        ("general.quantization_version", U32, 2),
        ("general.base_model.count", U32, 1),
        ("general.base_model.0.name", STR, "Tiny Base"),
        ("general.base_model.0.organization", STR, "Chainvet Fixtures"),
        ("general.base_model.0.repo_url", STR, "https://huggingface.co/chainvet-fixtures/tiny-base"),
        ("general.datasets", ARR, (STR, ["chainvet-fixtures/tiny-corpus", "chainvet-fixtures/tiny-chat"])),
        ("general.tags", ARR, (STR, ["text-generation", "fixture"])),
        (arch + ".context_length", U32, 2048),
        (arch + ".embedding_length", U32, 64),
        (arch + ".block_count", U32, 1),
        (arch + ".feed_forward_length", U32, 128),
        (arch + ".attention.head_count", U32, 4),
        (arch + ".attention.layer_norm_rms_epsilon", F32, 1e-5),
        (arch + ".rope.freq_base", F32, 10000.0),
        ("tokenizer.ggml.model", STR, "llama"),
        ("tokenizer.ggml.tokens", ARR, (STR, tokens)),
        ("tokenizer.ggml.scores", ARR, (F32, [float(-i) for i in range(len(tokens))])),
        ("tokenizer.ggml.token_type", ARR, (I32, [2, 3, 3] + [1] * (len(tokens) - 3))),
        ("tokenizer.ggml.bos_token_id", U32, 1),
        ("tokenizer.ggml.eos_token_id", U32, 2),
        ("tokenizer.ggml.add_bos_token", BOOL, True),
    ]


def weights():
    """A few small tensors: Q8_0 embeddings, an F32 norm, an F16 output."""
    return [
        ("token_embd.weight", "Q8_0", [64, 8], tensor_bytes("Q8_0", [64, 8], 1)),
        ("blk.0.attn_norm.weight", "F32", [64], tensor_bytes("F32", [64], 2)),
        ("output_norm.weight", "F32", [64], tensor_bytes("F32", [64], 3)),
        ("output.weight", "F16", [64, 8], tensor_bytes("F16", [64, 8], 4)),
    ]


PARAMS = 64 * 8 + 64 + 64 + 64 * 8


def write(rel, b, verdict, lo, hi, rules, evidence, desc):
    path = os.path.join(HERE, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(b)
    assert len(b) < 16 << 10, (rel, len(b))
    MANIFEST.append((rel, verdict, lo, hi, ",".join(rules), evidence, desc))


def with_template(src, key="tokenizer.chat_template", base=None):
    return (base or identity()) + [(key, STR, src)]


def main():
    for d in ("benign", "malicious"):
        shutil.rmtree(os.path.join(HERE, d), ignore_errors=True)

    ok = ("benign", "info", "low", [], "")
    write("benign/llama_v3.gguf", gguf(identity(), weights()), *ok,
          "v3, llama architecture, Q8_0/F32/F16 tensors, licence, base model and datasets")
    write("benign/llama_v2.gguf", gguf(identity(), weights(), version=2), *ok, "the same model as GGUF v2")
    write("benign/llama_v1.gguf", gguf(identity(), weights(), version=1), *ok,
          "the same model as GGUF v1 (32-bit counts, lengths and dimensions)")
    write("benign/llama_v3_big_endian.gguf", gguf(identity(), weights(), big=True), *ok,
          "the same model, big-endian as written on a big-endian machine")
    write("benign/chatml_v3.gguf", gguf(with_template(CHATML), weights()), *ok,
          "v3 with a ChatML-style chat template of our own")
    write("benign/aligned_64.gguf",
          gguf([("general.alignment", U32, 64)] + identity(file_type=1), weights(), alignment=64), *ok,
          "general.alignment 64: header and tensors padded to 64 bytes")
    write("benign/vocab_only.gguf", gguf(identity(), []), *ok,
          "no tensors: a vocabulary-only file as llama.cpp writes for tokenizer tests")

    # --- templates that reach code ---
    crit = ("malicious", "high", "critical")
    write("malicious/template_dunder.gguf", gguf(with_template(DUNDER), weights()), *crit,
          ["template/dunder-access"], "tokenizer.chat_template",
          "chat template walks ().__class__.__base__.__subclasses__()")
    write("malicious/template_cycler.gguf", gguf(with_template(CYCLER), weights()), *crit,
          ["template/global-escalation"], "tokenizer.chat_template",
          "chat template reaches os.popen('id') through cycler.__init__.__globals__")
    write("malicious/template_joiner_import.gguf", gguf(with_template(JOINER), weights()), *crit,
          ["template/global-escalation"], "tokenizer.chat_template",
          "chat template imports os through joiner.__init__.__globals__['__builtins__']")
    write("malicious/template_attr_concat.gguf", gguf(with_template(ATTR_CONCAT), weights()), *crit,
          ["template/global-escalation"], "tokenizer.chat_template",
          "attr() and subscripts with names built by concatenation reach lipsum's globals and popen")
    write("malicious/template_attr_dynamic.gguf", gguf(with_template(ATTR_DYNAMIC), weights()), *crit,
          ["template/dynamic-attribute"], "tokenizer.chat_template",
          "attr() with a name taken from the first message: what it reaches is chosen at render time")
    write("malicious/template_named_key.gguf",
          gguf(with_template(CHATML) + [("tokenizer.chat_template.tool_use", STR, NAMESPACE)], weights()), *crit,
          ["template/global-escalation"], "tokenizer.chat_template.tool_use",
          "benign default template, payload in the named template tokenizer.chat_template.tool_use")
    write("malicious/template_other_key.gguf",
          gguf(identity() + [("custom.prompt_template", STR, CYCLER)], weights()), *crit,
          ["template/global-escalation"], "custom.prompt_template",
          "payload in a non-standard key whose name says template")
    write("malicious/duplicate_template_key.gguf",
          gguf(with_template(CHATML) + [("tokenizer.chat_template", STR, CYCLER)], weights()), *crit,
          ["gguf/duplicate-key", "template/global-escalation"], "tokenizer.chat_template",
          "tokenizer.chat_template twice: benign first, payload second, for readers that keep the last")

    # --- lying counts and lengths ---
    med = ("malicious", "medium", "medium")
    w = Writer(3)
    head = b"GGUF" + pack("<", "I", 3)
    write("malicious/string_length_overflow.gguf",
          head + w.n(0) + w.n(1) + w.n(2 ** 63) + b"general.name" + bytes(64), *med,
          ["gguf/malformed"], "runs past the end", "a key whose length is 2^63")
    write("malicious/kv_count_overflow.gguf",
          head + w.n(0) + w.n(2 ** 62) + w.kv("general.architecture", STR, "llama"), *med,
          ["gguf/malformed"], "cannot fit", "key/value count 2^62 in a file of a few dozen bytes")
    write("malicious/tensor_count_overflow.gguf",
          head + w.n(2 ** 40) + w.n(1) + w.kv("general.architecture", STR, "llama"), *med,
          ["gguf/malformed"], "cannot fit", "tensor count 2^40")
    write("malicious/array_count_overflow.gguf",
          head + w.n(0) + w.n(1) + w.s("tokenizer.ggml.tokens") + pack("<", "I", ARR) + pack("<", "I", STR)
          + w.n(2 ** 60) + w.s("a"), *med,
          ["gguf/malformed"], "cannot fit", "an array of strings claiming 2^60 elements")
    nest = pack("<", "I", ARR) + w.n(1)
    bomb = w.s("general.nest") + pack("<", "I", ARR) + nest * 100 + pack("<", "I", U8) + w.n(0)
    write("malicious/array_nesting_bomb.gguf", head + w.n(0) + w.n(1) + bomb, *("malicious", "high", "high"),
          ["scan/limit"], "deeper than", "an array nested 101 deep")
    write("malicious/unknown_value_type.gguf",
          head + w.n(0) + w.n(1) + w.s("general.name") + pack("<", "I", 99) + bytes(16), *med,
          ["gguf/malformed"], "unknown value type 99", "a key/value of type 99")
    write("malicious/bad_version.gguf", b"GGUF" + pack("<", "I", 4) + w.n(0) + w.n(0), *med,
          ["gguf/malformed"], "version 4", "version 4, which no reader knows")

    # --- tensor layout ---
    ws = weights()
    good = gguf(identity(), ws)
    write("malicious/truncated_header.gguf", good[:1400], *med, ["gguf/malformed"], "cannot fit",
          "a v3 file cut off inside its key/values")
    write("malicious/truncated_data.gguf", good[: len(good) - 600], *med,
          ["gguf/offset-out-of-range"], "run past the end of the file",
          "a v3 file cut off inside its tensor data")
    far = [0, 544, 2 ** 40, 1056]
    write("malicious/tensor_offset_outside.gguf", gguf(identity(), ws, offsets=far), *med,
          ["gguf/offset-out-of-range"], "output_norm.weight", "a tensor offset 2^40, far past the end of the file")
    small = [("a.weight", "F32", [4], tensor_bytes("F32", [4], 1)), ("b.weight", "F32", [4], tensor_bytes("F32", [4], 2))]
    write("malicious/misaligned.gguf", gguf(identity(), small, data_align=16), *med,
          ["gguf/misaligned"], "not a multiple of the alignment", "second tensor at offset 16 with alignment 32")
    write("malicious/overlap.gguf", gguf(identity(), ws, offsets=[0, 544, 544, 1056]), *med,
          ["gguf/overlap"], "overlaps", "two tensors at the same offset")
    write("malicious/unknown_tensor_type.gguf",
          gguf(identity(), [("x.weight", 99, [32], bytes(64))]), *med,
          ["gguf/malformed"], "unknown ggml type 99", "a tensor of ggml type 99")
    write("malicious/bad_block.gguf",
          gguf(identity(), [("x.weight", "Q8_0", [48], bytes(68))]), *med,
          ["gguf/malformed"], "not a multiple", "a Q8_0 row of 48 elements, not whole 32-element blocks")
    write("malicious/bad_alignment.gguf",
          gguf([("general.alignment", U32, 33)] + identity(), small, alignment=32), *med,
          ["gguf/malformed"], "general.alignment is 33", "general.alignment 33, not a power of two")
    write("malicious/too_many_dims.gguf",
          gguf(identity(), [("x.weight", "F32", [1, 1, 1, 1, 4], bytes(16))]), *med,
          ["gguf/malformed"], "5 dimensions", "a tensor with 5 dimensions")
    write("malicious/duplicate_tensor.gguf",
          gguf(identity(), [small[0], ("a.weight", "F32", [4], tensor_bytes("F32", [4], 3))]), *med,
          ["gguf/duplicate-key"], "tensor name", "two tensors named a.weight")

    # --- hidden content ---
    high = ("malicious", "high", "high")
    write("malicious/gap_pickle.gguf", gguf(identity(), ws, between={2: PICKLE}), *high,
          ["gguf/hidden-data"], "a pickle", "a pickle calling os.system hidden between two tensors")
    write("malicious/trailing_elf.gguf", gguf(identity(), ws, trailing=ELF), *high,
          ["gguf/hidden-data"], "an ELF executable", "an ELF header appended after the last tensor")
    write("malicious/trailing_text.gguf", gguf(identity(), ws, trailing=b"chainvet-fixture trailing bytes\n"), *med,
          ["gguf/hidden-data"], "after tensor", "text appended after the last tensor's padding")
    write("malicious/pickle_named.gguf", PICKLE, "malicious", "high", "critical",
          ["model/extension-mismatch"], "os.system", "a pickle calling os.system named .gguf")

    with open(os.path.join(HERE, "MANIFEST.tsv"), "w") as f:
        f.write("path\tverdict\tmin_severity\tmax_severity\trules\tevidence\tdescription\n")
        for row in MANIFEST:
            f.write("\t".join(row) + "\n")


if __name__ == "__main__":
    main()
