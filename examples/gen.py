"""Writes the example model folder that the README's first command scans.

Run from the repository root: /usr/bin/python3 examples/gen.py
Needs Debian's python3-torch, python3-numpy, python3-sklearn and python3-joblib.

examples/models/sentiment/ is what a small project ships: a PyTorch
state_dict, a scikit-learn pipeline saved with joblib, NumPy arrays and a
config. examples/models/downloaded/ holds one file that looks like a
checkpoint but whose pickle would run `print(...)` when loaded: a harmless
stand-in for a real payload. Nothing here is ever loaded by chainvet.
"""
import io
import json
import os
import pickle
import shutil
import zipfile

import joblib
import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models")
good = os.path.join(root, "sentiment")
bad = os.path.join(root, "downloaded")
os.makedirs(good, exist_ok=True)
os.makedirs(bad, exist_ok=True)

torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Embedding(32, 8), torch.nn.Flatten(), torch.nn.Linear(8 * 4, 2))
torch.save(net.state_dict(), os.path.join(good, "model.pt"))

rng = np.random.default_rng(0)
x = rng.normal(size=(20, 3))
y = (x[:, 0] > 0).astype(int)
clf = make_pipeline(StandardScaler(), LogisticRegression()).fit(x, y)
joblib.dump(clf, os.path.join(good, "classifier.joblib"))

np.save(os.path.join(good, "vocab_vectors.npy"), rng.normal(size=(4, 3)).astype("<f4"))
with open(os.path.join(good, "config.json"), "w") as f:
    json.dump({"architecture": "embedding-linear", "vocab_size": 32, "labels": ["neg", "pos"]}, f, indent=2)
    f.write("\n")


class Payload:
    """Pickles as a call of print(): what a malicious checkpoint does with os.system."""

    def __reduce__(self):
        return (print, ("chainvet example: this print() ran because the checkpoint was unpickled",))


# A torch.save-style zip whose data.pkl carries the payload next to a
# real-looking state dict.
buf = io.BytesIO()
torch.save(net.state_dict(), buf)
src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
state_pickle = src.read("archive/data.pkl")
payload = pickle.dumps({"state": Payload()}, protocol=2)
with zipfile.ZipFile(os.path.join(bad, "checkpoint.pt"), "w", zipfile.ZIP_STORED) as out:
    for info in src.infolist():
        data = payload if info.filename.endswith("data.pkl") else src.read(info.filename)
        zi = zipfile.ZipInfo(info.filename, date_time=(2024, 1, 1, 0, 0, 0))
        out.writestr(zi, data)

# examples/models/zoo/ holds one small, clean model of every other format
# chainvet identifies. They are copies of fixtures that the committed
# generators under testdata/ write (see the README there), so that
# `chainvet scan examples/models` shows each format with its identity.
repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
zoo = os.path.join(root, "zoo")
shutil.rmtree(zoo, ignore_errors=True)
for src, dst in [
    ("testdata/safetensors/benign/linear_f32.safetensors", "linear.safetensors"),
    ("testdata/gguf/benign/chatml_v3.gguf", "tiny-chat.gguf"),
    ("testdata/onnx/benign/mlp.onnx", "mlp.onnx"),
    ("testdata/tensorflow/benign/saved_model", "saved_model"),
    ("testdata/tensorflow/benign/model.tflite", "model.tflite"),
    ("testdata/keras/benign/sequential_deflated.keras", "sequential.keras"),
    ("testdata/keras/benign/sequential_latest.h5", "sequential.h5"),
    ("testdata/templates/benign/chatml.jinja", "chat_template.jinja"),
    ("testdata/repo/mar/image_classifier.mar", "image_classifier.mar"),
    ("testdata/repo/oci/docker-model", "oci-model"),
    ("testdata/repo/hfcache", "hf-cache"),
]:
    s, d = os.path.join(repo, src), os.path.join(zoo, dst)
    os.makedirs(os.path.dirname(d), exist_ok=True)
    if os.path.isdir(s):
        shutil.copytree(s, d, symlinks=True)
    else:
        shutil.copyfile(s, d)

# examples/app/ is a small AI application, for `chainvet bom examples/app`:
# a Python service calling two AI APIs, a notebook, requirements and a
# Poetry lockfile, an npm front end, a GitHub workflow, an MCP config, a
# Dockerfile, a model in Hugging Face cache layout and a dataset.
app = os.path.join(os.path.dirname(root), "app")
shutil.rmtree(app, ignore_errors=True)
files = {
    "service.py": """\
\"\"\"Answers support questions: classifies with a pinned local model, drafts with OpenAI, reviews with Claude.\"\"\"
import os

import anthropic
from datasets import load_dataset
from openai import OpenAI
from transformers import AutoModelForSequenceClassification

openai_client = OpenAI(api_key=os.environ["OPENAI_API_KEY"])
claude = anthropic.Anthropic(api_key=os.getenv("ANTHROPIC_API_KEY"))
classifier = AutoModelForSequenceClassification.from_pretrained(
    "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
    revision="714eb0fa89d2f80546fda750413ed43d93601a13",
)
faq = load_dataset("acme/support-faq", split="train")


def answer(question):
    draft = openai_client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": question}])
    review = claude.messages.create(model="claude-sonnet-4-5", max_tokens=256,
                                    messages=[{"role": "user", "content": draft.choices[0].message.content}])
    return review.content[0].text
""",
    "requirements.txt": """\
# Runtime dependencies, pinned.
openai==1.51.0
anthropic==0.39.0
transformers==4.46.3
datasets==3.1.0
torch==2.5.1 ; platform_system == "Linux"
sentence-transformers>=3.0
""",
    "pyproject.toml": """\
[tool.poetry]
name = "support-bot"
version = "0.1.0"
description = "Answers support questions"
authors = ["Acme <ml@acme.example>"]

[tool.poetry.dependencies]
python = "^3.11"
openai = "1.51.0"
httpx = "^0.27"
""",
    "poetry.lock": """\
[[package]]
name = "openai"
version = "1.51.0"
description = "The official Python library for the openai API"
optional = false
python-versions = ">=3.7.1"
files = [
    {file = "openai-1.51.0-py3-none-any.whl", hash = "sha256:d9affafb7e51e5a27dce78589d4964ce4d6f6d560307265933a94b2e3f3c5d2c"},
]

[package.dependencies]
httpx = ">=0.23.0,<1"

[[package]]
name = "httpx"
version = "0.27.2"
description = "The next generation HTTP client."
optional = false
python-versions = ">=3.8"
files = [
    {file = "httpx-0.27.2-py3-none-any.whl", hash = "sha256:7bb2708e112d8fdd7829cd4243970f0c223274051cb35ee80c03301ee29a3df0"},
]

[metadata]
lock-version = "2.0"
python-versions = "^3.11"
content-hash = "0000000000000000000000000000000000000000000000000000000000000000"
""",
    "frontend/package.json": """\
{
  "name": "support-ui",
  "version": "0.1.0",
  "private": true,
  "dependencies": {
    "react": "^18.3.1"
  }
}
""",
    "frontend/package-lock.json": """\
{
  "name": "support-ui",
  "version": "0.1.0",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": {
      "name": "support-ui",
      "version": "0.1.0",
      "dependencies": {
        "react": "^18.3.1"
      }
    },
    "node_modules/react": {
      "version": "18.3.1",
      "resolved": "https://registry.npmjs.org/react/-/react-18.3.1.tgz",
      "integrity": "sha512-wS+hAgJShR0KhEvPJArfuPVN1+Hz1t0Y6n5jLrGQbkb4urgPE/0Rve+1kMB1v/oWgHgm4WIcV+i7F2pTVj+2iQ==",
      "dependencies": {
        "loose-envify": "^1.1.0"
      }
    },
    "node_modules/loose-envify": {
      "version": "1.4.0",
      "resolved": "https://registry.npmjs.org/loose-envify/-/loose-envify-1.4.0.tgz",
      "integrity": "sha512-lyuxPGr/Wfhrlem2CL/UcnUc1zcqKAImBDzukY7Y5F/yQiNdko6+fRLevlw1HgMySw7f611UIY408EtxRSoK3Q=="
    }
  }
}
""",
    ".github/workflows/ci.yml": """\
name: ci
on: [push]
permissions:
  contents: read
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - run: pip install -r requirements.txt && python -m pytest
""",
    ".mcp.json": """\
{
  "mcpServers": {
    "docs": {
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-filesystem@2025.1.14", "./docs"]
    },
    "fetch": {
      "command": "uvx",
      "args": ["mcp-server-fetch==2025.4.7"]
    }
  }
}
""",
    "Dockerfile": """\
FROM python:3.12-slim@sha256:2b0079146a74e23bf4ae8f6a28e1b484c6292f6fb904cbb51825b4a19812fcd8
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt && pip install gunicorn==23.0.0
COPY service.py .
CMD ["gunicorn", "service:app"]
""",
    ".chainvet.yaml": """\
owners:
  - match: "models/**"
    owner: team-ml
    criticality: tier1
  - match: "pkg:pypi/*"
    owner: team-platform
""",
}
for name, text in files.items():
    path = os.path.join(app, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
notebook = {
    "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Exploring the FAQ data"]},
        {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
         "source": ["!pip install pandas==2.2.3\n", "from transformers import pipeline\n",
                    "sentiment = pipeline(\"sentiment-analysis\", model=\"cardiffnlp/twitter-roberta-base-sentiment-latest\")\n"]},
    ],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    "nbformat": 4, "nbformat_minor": 5,
}
os.makedirs(os.path.join(app, "notebooks"), exist_ok=True)
with open(os.path.join(app, "notebooks", "explore.ipynb"), "w") as f:
    json.dump(notebook, f, indent=1)
    f.write("\n")
shutil.copytree(os.path.join(repo, "testdata/repo/hfcache"), os.path.join(app, "models"), symlinks=True)
os.makedirs(os.path.join(app, "data"))
shutil.copyfile(os.path.join(repo, "testdata/bom/datasets/local/train.parquet"), os.path.join(app, "data", "faq.parquet"))
print("wrote", root)
