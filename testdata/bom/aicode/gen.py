#!/usr/bin/env python3
"""Writes the notebook fixtures of testdata/bom/aicode (stdlib only).

Run from anywhere: python3 testdata/bom/aicode/gen.py
The other files in this folder are hand-written.
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def cell(kind, lines):
    c = {"cell_type": kind, "metadata": {}, "source": lines}
    if kind == "code":
        c["execution_count"] = None
        c["outputs"] = []
    return c


def notebook(cells):
    return {"nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
            "cells": cells}


def write(rel, obj, raw=None):
    path = os.path.join(HERE, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        if raw is not None:
            f.write(raw)
        else:
            json.dump(obj, f, indent=1)
            f.write("\n")


write("app/eval.ipynb", notebook([
    cell("markdown", ["# Evaluate the classifier\n"]),
    cell("code", ["!pip install -q transformers==4.46.3 'datasets>=2.19' boto3\n", "%pip install litellm\n"]),
    cell("code", ["import boto3, json, torch\n", "import litellm\n", "from datasets import load_dataset\n"]),
    cell("code", [
        "bedrock = boto3.client(\"bedrock-runtime\", region_name=\"us-east-1\")\n",
        "imdb = load_dataset(\"stanfordnlp/imdb\", revision=\"e6281661ce1c48d982bc483cf8a173c1bbeb5d31\")\n",
        "resnet = torch.hub.load(\"pytorch/vision:v0.10.0\", \"resnet18\", pretrained=True)\n",
        "reply = litellm.completion(model=\"groq/llama-3.1-8b-instant\", messages=[])\n",
    ]),
]))
# Source as one string rather than a list: nbformat allows both.
write("cases/string_source.ipynb", notebook([
    cell("code", "import ollama\nollama.pull(model=\"qwen2.5:0.5b\")\nclient = ollama.Client(host=\"http://gpu-box:11434\")\n"),
]))
write("cases/broken.ipynb", None, raw='{"cells": [{"cell_type": "code", "source": 42}]}\n')
write("cases/truncated.ipynb", None, raw='{"cells": [{"cell_type": "code", "source": ["import openai\\n"')
