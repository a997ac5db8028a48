#!/usr/bin/env python3
"""Writes a tree for timing chainvet over code: python3 gen.py OUT [PY [NB]].

OUT gets PY Python files (default 20,000; one in ten an ML script that
trips several code rules, the rest ordinary modules) and NB notebooks
(default 1,000), in folders of 200. Not committed: the tree is ~120 MB.
"""
import json
import os
import random
import sys

PLAIN = '''"""Utility module {i}."""
import os
import json
from dataclasses import dataclass


@dataclass
class Record{i}:
    name: str
    size: int = 0

    def describe(self):
        return f"{{self.name}} ({{self.size}} bytes)"


def load(path):
    with open(path) as f:
        return [Record{i}(**r) for r in json.load(f)]


def total(records):
    return sum(r.size for r in records)
''' + "\n".join("def helper_%d(x):\n    return x * %d + len(os.sep)\n" % (k, k) for k in range(40))

ML = '''import torch
import pickle
from transformers import AutoModel, AutoTokenizer
from openai import OpenAI

client = OpenAI()


def answer(q):
    resp = client.chat.completions.create(model="gpt-4o-mini", messages=[{{"role": "user", "content": q}}])
    code = resp.choices[0].message.content
    return eval(code)


def restore(p):
    state = torch.load(p, map_location="cpu")
    with open(p + ".pkl", "rb") as f:
        extra = pickle.load(f)
    model = AutoModel.from_pretrained("acme/model-{i}", trust_remote_code=True)
    tok = AutoTokenizer.from_pretrained("acme/model-{i}", revision="{rev}")
    return state, extra, model, tok
'''


def notebook(i):
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Experiment %d\n" % i]},
        {"cell_type": "code", "metadata": {}, "execution_count": 1, "outputs": [],
         "source": ["%pip install transformers datasets==2.19.0\n"]},
        {"cell_type": "code", "metadata": {}, "execution_count": 2,
         "outputs": [{"output_type": "stream", "name": "stdout", "text": ["loaded %d rows\n" % (i * 10)]}],
         "source": ["from datasets import load_dataset\n", "ds = load_dataset(\"acme/data-%d\")\n" % i, "print(len(ds))\n"]},
        {"cell_type": "code", "metadata": {}, "execution_count": 3, "outputs": [],
         "source": ["import numpy as np\n", "x = np.arange(%d)\n" % i, "x.mean()\n"]},
    ]
    return {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
            "nbformat": 4, "nbformat_minor": 5}


def main():
    out = sys.argv[1]
    n_py = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    n_nb = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    rnd = random.Random(6)
    for i in range(n_py):
        d = os.path.join(out, "src", "pkg%03d" % (i // 200))
        os.makedirs(d, exist_ok=True)
        text = ML.format(i=i, rev="%040x" % rnd.getrandbits(160)) if i % 10 == 0 else PLAIN.format(i=i)
        with open(os.path.join(d, "mod%05d.py" % i), "w") as f:
            f.write(text)
    for i in range(n_nb):
        d = os.path.join(out, "notebooks", "nb%02d" % (i // 200))
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "exp%04d.ipynb" % i), "w") as f:
            json.dump(notebook(i), f, indent=1)


if __name__ == "__main__":
    main()
