#!/usr/bin/python3
"""Writes the code-rule fixtures: one file per rule that must fire, and a
benign twin that must not, as .py files and notebooks, with MANIFEST.tsv.

Run from anywhere: /usr/bin/python3 testdata/code/gen.py. Stdlib only;
nothing here is ever run by the tests, only scanned.
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
SHA = "0123456789abcdef0123456789abcdef01234567"

PY = {}  # path -> (source, verdict, min, max, rules, evidence, description)
NB = {}  # path -> (cells, verdict, min, max, rules, evidence, description)


def py(path, verdict, lo, hi, rules, evidence, desc, src):
    PY[path] = (src, verdict, lo, hi, rules, evidence, desc)


def nb(path, verdict, lo, hi, rules, evidence, desc, *cells):
    NB[path] = (cells, verdict, lo, hi, rules, evidence, desc)


py("torch/load_unsafe.py", "malicious", "high", "high", "code/torch-load-unsafe", "weights_only=False",
   "torch.load with weights_only=False, through an alias, split across lines", '''\
import torch as t


def restore(path):
    # weights_only=True is what we should use
    state = t.load(
        path,
        map_location="cpu",
        weights_only=False,
    )
    return state
''')
py("torch/load_safe.py", "benign", "info", "info", "", "",
   "benign twin: torch.load with weights_only=True; torch.load only in a string and a comment", '''\
import torch


def restore(path):
    doc = "torch.load(path) is unsafe"  # torch.load(path)
    return torch.load(path, map_location="cpu", weights_only=True)
''')
py("torch/jit_load.py", "malicious", "medium", "medium", "code/torch-jit-load", "torch.jit.load",
   "TorchScript program loaded with torch.jit.load", '''\
import torch

model = torch.jit.load("model.ts")
''')
py("pickle/loaders.py", "malicious", "high", "high", "code/pickle-load", "read_pickle",
   "pickle.loads, joblib.load, pd.read_pickle, np.load(allow_pickle=True), dill", '''\
import pickle
import joblib
import numpy as np
import pandas as pd
from dill import load as dload

obj = pickle.loads(blob)
clf = joblib.load("model.joblib")
df = pd.read_pickle("frame.pkl")
arr = np.load("objects.npy", allow_pickle=True)
state = dload(open("state.dill", "rb"))
''')
py("pickle/safe.py", "benign", "info", "info", "", "",
   "benign twin: pickle.dumps, np.load without allow_pickle, pd.read_parquet", '''\
import pickle
import numpy as np
import pandas as pd

blob = pickle.dumps({"a": 1})
arr = np.load("weights.npy")
arr2 = np.load("weights.npy", allow_pickle=False)
df = pd.read_parquet("frame.parquet")
''')
py("hub/unpinned.py", "malicious", "medium", "medium", "code/hub-unpinned", "revision",
   "from_pretrained with no revision and with a branch, load_dataset unpinned", '''\
from datasets import load_dataset
from transformers import AutoModelForCausalLM, AutoTokenizer

tok = AutoTokenizer.from_pretrained("Qwen/Qwen2.5-0.5B-Instruct")
model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-0.5B-Instruct", revision="main")
data = load_dataset("stanfordnlp/imdb")
''')
py("hub/pinned.py", "benign", "info", "info", "", "",
   "benign twin: every hub load pinned to a commit; local paths and variables", '''\
from datasets import load_dataset
from transformers import AutoModelForCausalLM, AutoTokenizer

REV = "%s"
tok = AutoTokenizer.from_pretrained("Qwen/Qwen2.5-0.5B-Instruct", revision="%s")
model = AutoModelForCausalLM.from_pretrained("./checkpoints/final")
other = AutoModelForCausalLM.from_pretrained(model_dir)
data = load_dataset("stanfordnlp/imdb", revision="%s")
local = load_dataset("csv", data_files="train.csv")
''' % (SHA, SHA, SHA))
py("remote/trust.py", "malicious", "high", "high", "code/trust-remote-code", "trust_remote_code=True",
   "trust_remote_code=True on a pinned from_pretrained", '''\
from transformers import AutoModel

model = AutoModel.from_pretrained(
    "microsoft/phi-2",
    revision="%s",
    trust_remote_code=True,
)
''' % SHA)
py("remote/no_trust.py", "benign", "info", "info", "", "",
   "benign twin: trust_remote_code=False, and the words only in a comment", '''\
from transformers import AutoModel

# never pass trust_remote_code=True here
model = AutoModel.from_pretrained("microsoft/phi-2", revision="%s", trust_remote_code=False)
''' % SHA)
py("hub/torch_hub.py", "malicious", "high", "high", "code/torch-hub-load", "pytorch/vision",
   "torch.hub.load of a GitHub repository at its default branch", '''\
import torch

model = torch.hub.load("pytorch/vision", "resnet18", weights="DEFAULT")
''')
py("hub/torch_hub_local.py", "benign", "info", "info", "", "",
   "benign twin: torch.hub.load from a local directory", '''\
import torch

model = torch.hub.load("./vendor/vision", "resnet18", source="local")
''')
py("keras/unsafe.py", "malicious", "high", "high", "code/keras-unsafe-load", "safe_mode=False",
   "tf.keras load_model with safe_mode=False and enable_unsafe_deserialization", '''\
import keras
import tensorflow as tf

keras.config.enable_unsafe_deserialization()
model = tf.keras.models.load_model("model.keras", safe_mode=False)
''')
py("keras/safe.py", "benign", "info", "info", "", "",
   "benign twin: load_model in safe mode", '''\
import keras

model = keras.models.load_model("model.keras")
other = keras.saving.load_model("other.keras", safe_mode=True)
''')
py("agents/tools.py", "malicious", "high", "high", "code/langchain-dangerous-tool", "PythonREPLTool",
   "LangChain agent given PythonREPLTool, ShellTool, load_tools terminal and allow_dangerous_code=True", '''\
from langchain.agents import load_tools
from langchain_community.tools import ShellTool
from langchain_experimental.agents import create_pandas_dataframe_agent
from langchain_experimental.tools import PythonREPLTool

tools = [PythonREPLTool(), ShellTool()]
more = load_tools(["llm-math", "terminal"], llm=llm)
agent = create_pandas_dataframe_agent(llm, df, allow_dangerous_code=True)
''')
py("agents/safe_tools.py", "benign", "info", "info", "", "",
   "benign twin: harmless tools; tool names only in strings", '''\
from langchain.agents import load_tools

tools = load_tools(["llm-math", "wikipedia"], llm=llm)
note = "PythonREPLTool() and ShellTool() are not used here"
''')
py("llm/exec_openai.py", "malicious", "critical", "critical", "code/llm-output-exec", "subprocess.run",
   "OpenAI answer stripped, put in an f-string and run with subprocess.run(shell=True)", '''\
import subprocess

from openai import OpenAI

client = OpenAI()


def run_task(task):
    resp = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Write one shell command to " + task}],
    )
    command = resp.choices[0].message.content
    command = command.strip().strip("`")
    full = f"bash -c '{command}'"
    return subprocess.run(full, shell=True, capture_output=True)
''')
py("llm/exec_sql.py", "malicious", "high", "high", "code/llm-output-exec", "cursor.execute",
   "LangChain answer used as a SQL statement", '''\
import sqlite3


def answer(chain, question):
    conn = sqlite3.connect("app.db")
    cursor = conn.cursor()
    sql = chain.invoke({"question": question})
    cursor.execute(sql)
    return cursor.fetchall()
''')
py("llm/safe_use.py", "benign", "info", "info", "", "",
   "benign twin: model output parsed as JSON and used as a SQL parameter; eval of a constant; exec in another function", '''\
import json
import sqlite3

from openai import OpenAI

client = OpenAI()


def classify(text):
    resp = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": text}])
    label = json.loads(resp.choices[0].message.content)["label"]
    conn = sqlite3.connect("app.db")
    conn.execute("INSERT INTO labels VALUES (?)", (label,))
    return eval("1 + 1")


def run(code):
    exec(code)
''')

nb("notebooks/unsafe.ipynb", "malicious", "critical", "critical",
   "code/torch-load-unsafe,code/notebook-pip-unpinned,code/llm-output-exec,code/trust-remote-code", "exec(code)",
   "notebook: unpinned %pip, torch.load without weights_only, trust_remote_code, model output exec'd in a later cell",
   "%pip install transformers 'torch>=2'\n!pip install -r requirements.txt\n",
   "import torch\nfrom openai import OpenAI\nfrom transformers import AutoModel\n",
   "state = torch.load('ckpt.pt')\nm = AutoModel.from_pretrained('org/m', revision='%s', trust_remote_code=True)\n" % SHA,
   "client = OpenAI()\nr = client.chat.completions.create(model='gpt-4o-mini', messages=[])\ncode = r.choices[0].message.content\n",
   "exec(code)\n")
nb("notebooks/safe.ipynb", "benign", "info", "info", "", "",
   "benign twin: every install pinned, torch.load with weights_only=True, model output printed",
   "%pip install transformers==4.46.3 'torch==2.5.1'\n!pip install -e .\n",
   "import torch\nfrom openai import OpenAI\n",
   "state = torch.load('ckpt.pt', weights_only=True)\n",
   "client = OpenAI()\nr = client.chat.completions.create(model='gpt-4o-mini', messages=[])\nprint(r.choices[0].message.content)\n")
nb("notebooks/pip_requirements.ipynb", "benign", "low", "low", "code/notebook-pip-unpinned", "requirements-dev.txt",
   "notebook installing only from a requirements file: low, names the file",
   "!pip install -q -r requirements-dev.txt\n", "import os\nprint(os.environ.get('HOME'))\n")


def notebook(cells):
    out = [{"cell_type": "markdown", "metadata": {}, "source": ["# Fixture\n", "torch.load(f) in markdown is not code\n"]}]
    for c in cells:
        lines = c.splitlines(True)
        out.append({"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": lines})
    return {"cells": out, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def main():
    rows = []
    for path, (src, *row) in sorted(PY.items()):
        write(path, src)
        rows.append([path] + row)
    for path, (cells, *row) in sorted(NB.items()):
        write(path, json.dumps(notebook(cells), indent=1) + "\n")
        rows.append([path] + row)
    header = ["path", "verdict", "min_severity", "max_severity", "rules", "evidence", "description"]
    with open(os.path.join(HERE, "MANIFEST.tsv"), "w") as f:
        f.write("\t".join(header) + "\n")
        for r in rows:
            f.write("\t".join(r) + "\n")


def write(path, text):
    p = os.path.join(HERE, path)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
