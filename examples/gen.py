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
print("wrote", root)
