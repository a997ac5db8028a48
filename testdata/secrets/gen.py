#!/usr/bin/env python3
"""Writes the fixtures of chainvet's secret scanner (internal/catalog/secrets).

Run from this folder: /usr/bin/python3 gen.py. Every key written here is
made up: random bytes in the shape of a provider's keys, from a fixed seed,
so the files are the same on every run. None is, or ever was, a live key.

Besides the fixtures it writes MANIFEST.tsv (what each file is, for the
pipeline's manifest test) and SECRETS.tsv (each fixture's fake keys, for
the test that no report ever shows one).
"""
import json
import os
import random
import re
import shutil

rng = random.Random(20261121)

UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
LOWER = UPPER.lower()
DIGITS = "0123456789"
ALNUM = UPPER + LOWER + DIGITS
LETTERS = UPPER + LOWER
HEX = "0123456789abcdef"
URLSAFE = ALNUM + "-_"
BASE64 = ALNUM + "+/"
BASE32 = UPPER + "234567"

# Substrings the scanner treats as placeholders (see filter.go); a random
# key that happens to hold one is drawn again.
PLACEHOLDER = re.compile(
    r"example|xxxx|your_|your-|yourkey|yourtoken|placeholder|changeme|change_me|dummy|fake|sample|redacted|"
    r"replace|insert|here|(.)\1{5}", re.I)


def sequential(s):
    up = down = 1
    s = s.lower()
    for a, b in zip(s, s[1:]):
        up = up + 1 if ord(b) == ord(a) + 1 else 1
        down = down + 1 if ord(b) + 1 == ord(a) else 1
        if up >= 6 or down >= 6:
            return True
    return False


def rand(alphabet, n):
    while True:
        s = "".join(rng.choice(alphabet) for _ in range(n))
        if not PLACEHOLDER.search(s) and not sequential(s):
            return s


def mixed(alphabet, n):
    """A random string holding an upper-case and a lower-case letter and a digit."""
    while True:
        s = rand(alphabet, n)
        if re.search("[A-Z]", s) and re.search("[a-z]", s) and re.search("[0-9]", s):
            return s


secrets = []  # (path, secret)
rows = []  # manifest rows


def write(path, text, *keys):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", newline="\n") as f:
        f.write(text)
    for k in keys:
        secrets.append((path, k))


def row(path, verdict, lo, hi, rules, evidence, description):
    rows.append("\t".join([path, verdict, lo, hi, ",".join(rules), evidence, description]))


def malicious(path, rule, evidence, description, sev="critical"):
    row(path, "malicious", sev, sev, [rule], evidence, description)


def benign(path, description):
    row(path, "benign", "info", "low", [], "", description)


AI = "secret/ai-provider-key"

for d in ("malicious", "benign"):
    shutil.rmtree(d, ignore_errors=True)

# --- OpenAI -----------------------------------------------------------------
k = "sk-proj-" + mixed(URLSAFE, 156)
write("malicious/openai/config.py", f'''import openai

OPENAI_API_KEY = "{k}"
client = openai.OpenAI(api_key=OPENAI_API_KEY)
''', k)
malicious("malicious/openai/config.py", AI, "sk-proj-…(len 164", "project key assigned in Python")

k = "sk-" + mixed(ALNUM, 20) + "T3BlbkFJ" + mixed(ALNUM, 20)
write("malicious/openai/classic.js", f'''const OpenAI = require("openai");
const client = new OpenAI({{ apiKey: '{k}' }});
''', k)
malicious("malicious/openai/classic.js", AI, "OpenAI sk-…(len 51", "classic key with the T3BlbkFJ marker in JavaScript")

k = "sk-svcacct-" + mixed(URLSAFE, 120)
write("malicious/openai/service.env", f"OPENAI_API_KEY={k}\n", k)
malicious("malicious/openai/service.env", AI, "sk-svcacct-…", "service-account key in an env file")

k = "sk-admin-" + mixed(URLSAFE, 100)
write("malicious/openai/admin.yaml", f"openai:\n  admin_key: {k}\n", k)
malicious("malicious/openai/admin.yaml", AI, "sk-admin-…", "admin key in YAML")

k = "sk-proj-" + mixed(URLSAFE, 156)
text = json.dumps({"providers": {"openai": {"apiKey": k}}}, indent=2) + "\n"
text = text.replace(k, k.replace("-", "\\u002d"))
assert k not in text
write("malicious/openai/escaped.json", text, k)
malicious("malicious/openai/escaped.json", AI, "sk-proj-…(len 164", "a key in JSON whose dashes are written as \\u002d escapes")

write("benign/openai/config.py", '''import os

import openai

OPENAI_API_KEY = os.environ["OPENAI_API_KEY"]
client = openai.OpenAI(api_key=OPENAI_API_KEY)
# Set OPENAI_API_KEY=sk-... or "sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" in your shell.
docs = "sk-proj-YOUR_KEY_HERE_YOUR_KEY_HERE_YOUR_KEY_HERE_YOUR_KEY_HERE"
other = "sk-proj-abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
''')
benign("benign/openai/config.py", "key read from the environment; placeholders and a sequential stand-in")

write("benign/openai/service.env", "OPENAI_API_KEY=${OPENAI_API_KEY}\nOPENAI_ORG=<your-org>\n")
benign("benign/openai/service.env", "env file that refers to the variable, no value")

# --- Anthropic --------------------------------------------------------------
k = "sk-ant-api03-" + mixed(URLSAFE, 93) + "AA"
write("malicious/anthropic/client.ts", f'''import Anthropic from "@anthropic-ai/sdk";

const anthropic = new Anthropic({{
  apiKey: "{k}",
}});
''', k)
malicious("malicious/anthropic/client.ts", AI, "sk-ant-…(len 108", "API key in TypeScript")

k = "sk-ant-admin01-" + mixed(URLSAFE, 93) + "AA"
write("malicious/anthropic/admin.toml", f'[anthropic]\nadmin_key = "{k}"\n', k)
malicious("malicious/anthropic/admin.toml", AI, "Anthropic", "admin key in TOML")

write("benign/anthropic/client.ts", '''import Anthropic from "@anthropic-ai/sdk";

// export ANTHROPIC_API_KEY=sk-ant-api03-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxAA
const anthropic = new Anthropic({ apiKey: process.env.ANTHROPIC_API_KEY });
''')
benign("benign/anthropic/client.ts", "key from the environment; an xxxx placeholder in a comment")

# --- Hugging Face -----------------------------------------------------------
k = "hf_" + rand(LETTERS, 34)
write("malicious/huggingface/train.py", f'''from huggingface_hub import login

login(token="{k}")
''', k)
malicious("malicious/huggingface/train.py", AI, "hf_…(len 37", "user access token passed to login()")

k = "api_org_" + rand(LETTERS, 34)
write("malicious/huggingface/org.json", json.dumps({"hub": {"org_token": k}}, indent=2) + "\n", k)
malicious("malicious/huggingface/org.json", AI, "api_org_…", "organisation token in JSON")

write("benign/huggingface/train.py", '''import os
from huggingface_hub import login

login(token=os.environ["HF_TOKEN"])  # e.g. hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
HF_TOKEN = "<your-token>"
''')
benign("benign/huggingface/train.py", "token from the environment, placeholders")

# --- Google -----------------------------------------------------------------
k = "AIza" + mixed(URLSAFE, 35)
write("malicious/google/gemini.go", f'''package main

import "google.golang.org/genai"

const apiKey = "{k}"

func config() *genai.ClientConfig {{ return &genai.ClientConfig{{APIKey: apiKey}} }}
''', k)
malicious("malicious/google/gemini.go", AI, "AIza…(len 39", "Gemini API key in Go")

write("benign/google/gemini.go", '''package main

import "os"

// apiKey is read from GOOGLE_API_KEY (AIzaSy... in the console).
var apiKey = os.Getenv("GOOGLE_API_KEY")
''')
benign("benign/google/gemini.go", "key from the environment; a truncated example")

# --- AWS --------------------------------------------------------------------
kid = "AKIA" + rand(BASE32, 16)
sec = mixed(BASE64, 40)
write("malicious/aws/credentials", f'''[default]
aws_access_key_id = {kid}
aws_secret_access_key = {sec}
region = us-east-1
''', kid, sec)
row("malicious/aws/credentials", "malicious", "critical", "critical", ["secret/aws-key"], "with secret key", "an access key pair in an AWS credentials file")

kid = "ASIA" + rand(BASE32, 16)
write("malicious/aws/main.tf", f'''provider "aws" {{
  region     = "eu-west-1"
  access_key = "{kid}"
}}
''', kid)
malicious("malicious/aws/main.tf", "secret/aws-key", "ASIA…(len 20", "an access key id alone, in Terraform", sev="high")

write("benign/aws/credentials", '''[default]
aws_access_key_id = AKIAIOSFODNN7EXAMPLE
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
''')
benign("benign/aws/credentials", "the key pair from AWS's documentation")

# --- Azure OpenAI -----------------------------------------------------------
k = rand(HEX, 32)
write("malicious/azure/azure.env", f"AZURE_OPENAI_ENDPOINT=https://contoso.openai.azure.com/\nAZURE_OPENAI_API_KEY={k}\n", k)
malicious("malicious/azure/azure.env", AI, "Azure OpenAI AZURE_OPENAI_API_KEY = …(len 32", "32-hex key under its variable name")

k = rand(HEX, 32)
write("malicious/azure/client.py", f'''import requests

url = "https://contoso.openai.azure.com/openai/deployments/gpt/chat/completions?api-version=2024-06-01"
headers = {{"api-key": "{k}"}}
requests.post(url, headers=headers, json={{}})
''', k)
malicious("malicious/azure/client.py", AI, "Azure OpenAI api-key", "api-key header next to an Azure OpenAI endpoint")

write("benign/azure/client.py", f'''import requests

CHECKSUM = "{rand(HEX, 32)}"
headers = {{"x-request-id": "{rand(HEX, 32)}"}}
requests.get("https://example.invalid", headers=headers)
''')
benign("benign/azure/client.py", "32-hex values with no Azure context")

# --- Replicate, Groq, xAI, OpenRouter --------------------------------------
k = "r8_" + mixed(ALNUM, 37)
write("malicious/replicate/run.sh", f"#!/bin/sh\nexport REPLICATE_API_TOKEN={k}\npython predict.py\n", k)
malicious("malicious/replicate/run.sh", AI, "r8_…", "Replicate token exported in a script")

k = "gsk_" + mixed(ALNUM, 52)
write("malicious/groq/.env.local", f"GROQ_API_KEY={k}\n", k)
malicious("malicious/groq/.env.local", AI, "gsk_…", "Groq key in .env.local")

k = "xai-" + mixed(ALNUM, 80)
write("malicious/xai/settings.json", json.dumps({"grok": {"apiKey": k}}, indent=2) + "\n", k)
malicious("malicious/xai/settings.json", AI, "xai-…", "xAI key in an editor settings file")

k = "sk-or-v1-" + rand(HEX, 64)
write("malicious/openrouter/config.toml", f'[llm]\nbase_url = "https://openrouter.ai/api/v1"\napi_key = "{k}"\n', k)
malicious("malicious/openrouter/config.toml", AI, "sk-or-v1-…", "OpenRouter key in TOML")

write("benign/groq/.env.local", "GROQ_API_KEY=gsk_...\nXAI_API_KEY=xai-your-key\nREPLICATE_API_TOKEN=r8_****\n")
benign("benign/groq/.env.local", "truncated and starred stand-ins")

# --- Cohere, Mistral, Pinecone ----------------------------------------------
k = mixed(ALNUM, 40)
write("malicious/cohere/cohere.yml", f"COHERE_API_KEY: {k}\n", k)
malicious("malicious/cohere/cohere.yml", AI, "Cohere", "40-character key under COHERE_API_KEY")

k = mixed(ALNUM, 32)
write("malicious/mistral/app.rb", f"require 'mistral'\n\nMISTRAL_API_KEY = '{k}'\n", k)
malicious("malicious/mistral/app.rb", AI, "Mistral", "32-character key under MISTRAL_API_KEY")

u = rand(HEX, 32)
k = f"{u[:8]}-{u[8:12]}-{u[12:16]}-{u[16:20]}-{u[20:]}"
write("malicious/pinecone/db.ini", f"[pinecone]\npinecone_api_key = {k}\nenvironment = us-west1-gcp\n", k)
malicious("malicious/pinecone/db.ini", AI, "Pinecone", "UUID key under pinecone_api_key")

k = "pcsk_" + mixed(ALNUM, 6) + "_" + mixed(ALNUM, 63)
write("malicious/pinecone/index.py", f'from pinecone import Pinecone\n\npc = Pinecone(api_key="{k}")\n', k)
malicious("malicious/pinecone/index.py", AI, "pcsk_…", "pcsk_ key passed to the client")

write("benign/cohere/cohere.yml", f"COHERE_MODEL: command-r-plus\nrevision: {rand(HEX, 40)}\nrun_id: {mixed(ALNUM, 40)}\n")
benign("benign/cohere/cohere.yml", "a commit hash and an id that are not under a key's name")

# --- Weights & Biases, LangSmith --------------------------------------------
k = rand(HEX, 40)
write("malicious/wandb/train.py", f'import wandb\n\nwandb.login(key="{k}")\nrun = wandb.init(project="demo")\n', k)
malicious("malicious/wandb/train.py", AI, "Weights & Biases", "40-hex key passed to wandb.login(key=)")

k = "lsv2_pt_" + rand(HEX, 32) + "_" + rand(HEX, 10)
write("malicious/langsmith/.envrc", f"export LANGCHAIN_TRACING_V2=true\nexport LANGCHAIN_API_KEY={k}\n", k)
malicious("malicious/langsmith/.envrc", AI, "lsv2_pt_…", "LangSmith key in .envrc")

write("benign/wandb/train.py", f'''import os
import wandb

wandb.login(key=os.environ["WANDB_API_KEY"])
run = wandb.init(project="demo", id="{rand(HEX, 40)}")
''')
benign("benign/wandb/train.py", "key from the environment; a 40-hex run id not under a key's name")

# --- GitHub -----------------------------------------------------------------
k = "ghp_" + mixed(ALNUM, 36)
write("malicious/github/.github/workflows/release.yml", f'''name: release
on: push
permissions:
  contents: read
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - run: gh release create v1
        env:
          GH_TOKEN: {k}
''', k)
malicious("malicious/github/.github/workflows/release.yml", "secret/github-token", "ghp_…(len 40", "classic token in a workflow")

k = "github_pat_" + mixed(ALNUM, 22) + "_" + mixed(ALNUM, 59)
write("malicious/github/push.sh", f"#!/bin/bash\ngit push https://x-access-token:{k}@github.com/org/repo.git\n", k)
malicious("malicious/github/push.sh", "secret/github-token", "github_pat_…", "fine-grained token in a push URL")

write("benign/github/.github/workflows/release.yml", '''name: release
on: push
permissions:
  contents: read
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - run: gh release create v1
        env:
          GH_TOKEN: ${{ secrets.GITHUB_TOKEN }}
          EXAMPLE: ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
''')
benign("benign/github/.github/workflows/release.yml", "token from the secrets context")

# --- Slack ------------------------------------------------------------------
k = "xoxb-" + rand(DIGITS, 12) + "-" + rand(DIGITS, 13) + "-" + mixed(ALNUM, 24)
write("malicious/slack/bot.js", f'const {{ WebClient }} = require("@slack/web-api");\nconst web = new WebClient("{k}");\n', k)
malicious("malicious/slack/bot.js", "secret/slack-token", "xoxb-…", "bot token in JavaScript")

k = "https://hooks.slack.com/services/T" + rand(UPPER + DIGITS, 10) + "/B" + rand(UPPER + DIGITS, 10) + "/" + mixed(ALNUM, 24)
write("malicious/slack/notify.py", f'import requests\n\nrequests.post("{k}", json={{"text": "done"}})\n', k)
malicious("malicious/slack/notify.py", "secret/slack-token", "incoming webhook URL", "incoming webhook URL", sev="high")

write("benign/slack/notify.py", '''import os
import requests

# SLACK_WEBHOOK=https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX
requests.post(os.environ["SLACK_WEBHOOK"], json={"text": "done"})
''')
benign("benign/slack/notify.py", "Slack's documented stand-in webhook")

# --- private keys -----------------------------------------------------------
body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" + mixed(BASE64, 1200)
pem = "-----BEGIN PRIVATE KEY-----\n" + "\n".join(body[i:i + 64] for i in range(0, len(body), 64)) + "\n-----END PRIVATE KEY-----\n"
write("malicious/private/deploy.pem", pem, body)
malicious("malicious/private/deploy.pem", "secret/private-key", "-----BEGIN PRIVATE KEY-----", "a PKCS#8 key in a .pem file")

body = "MIIEpAIBAAKCAQEA" + mixed(BASE64, 1500)
pem = "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(body[i:i + 64] for i in range(0, len(body), 64)) + "\n-----END RSA PRIVATE KEY-----\n"
write("malicious/private/service-account.json", json.dumps({
    "type": "service_account",
    "project_id": "demo",
    "private_key": pem,
    "client_email": "svc@demo.iam.gserviceaccount.com",
}, indent=2) + "\n", body)
malicious("malicious/private/service-account.json", "secret/private-key", "RSA PRIVATE KEY", "a key in a JSON string, its newlines escaped")

write("benign/private/parse.py", '''BEGIN = "-----BEGIN RSA PRIVATE KEY-----"
END = "-----END RSA PRIVATE KEY-----"
TEMPLATE = """-----BEGIN PRIVATE KEY-----
...
-----END PRIVATE KEY-----"""


def is_key(text):
    return text.startswith(BEGIN)
''')
benign("benign/private/parse.py", "headers without a body")

# --- generic ----------------------------------------------------------------
k = mixed(URLSAFE, 40)
write("malicious/generic/settings.py", f'DEBUG = False\nPAYMENTS_SECRET = "{k}"\n', k)
malicious("malicious/generic/settings.py", "secret/generic", "PAYMENTS_SECRET = …(len 40", "random value under a *SECRET* name", sev="high")

k = mixed(ALNUM, 32)
write("malicious/generic/.npmrc", f"registry=https://registry.npmjs.org/\n//npm.internal.invalid/:_authToken={k}\n", k)
malicious("malicious/generic/.npmrc", "secret/generic", "_authToken", "registry token in .npmrc", sev="high")

write("benign/generic/settings.py", '''import os

SECRET_KEY = "django-insecure-changeme"
TOKENIZER_NAME = "bert-base-uncased"
max_tokens = 1024
api_key = get_key()
API_TOKEN = os.environ.get("API_TOKEN")
SECRET_NAME = "prod/db/password"
CACHE_KEY = "user-profile-v2"
ACCESS_TOKEN = "********************"
''')
benign("benign/generic/settings.py", "words, expressions and stand-ins under credential names")

digest = rand(HEX, 64)
write("benign/generic/Dockerfile", f'''FROM python:3.12-slim@sha256:{digest}
ARG HF_TOKEN
ENV OPENAI_API_KEY=""
RUN --mount=type=secret,id=hf_token pip install -r requirements.txt
''')
benign("benign/generic/Dockerfile", "build secrets mounted, not written")

# --- notebooks --------------------------------------------------------------
k_src = "sk-proj-" + mixed(URLSAFE, 156)
k_out = "hf_" + rand(LETTERS, 34)
nb = {
    "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Demo\n"]},
        {"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [],
         "source": ["import openai\n", "\n", f'client = openai.OpenAI(api_key="{k_src}")\n']},
        {"cell_type": "code", "execution_count": 2, "metadata": {},
         "outputs": [{"name": "stdout", "output_type": "stream", "text": ["token is\n", k_out + "\n"]}],
         "source": ["import os\n", "print('token is')\n", "print(os.environ['HF_TOKEN'])\n"]},
    ],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    "nbformat": 4, "nbformat_minor": 5,
}
text = json.dumps(nb, indent=1) + "\n"
# Write the source key's dashes as JSON escapes, as some writers do: a raw
# scan of the file sees no key.
text = text.replace(k_src, k_src.replace("-", "\\u002d"))
assert k_src not in text
write("malicious/notebook/leak.ipynb", text, k_src, k_out)
row("malicious/notebook/leak.ipynb", "malicious", "critical", "critical", [AI], "hf_…(len 37",
    "a key split by JSON escapes in a cell's source, and a token printed into a cell's output")

k_tb = "gsk_" + mixed(ALNUM, 52)
nb = {
    "cells": [
        {"cell_type": "code", "execution_count": 1, "metadata": {},
         "outputs": [{"output_type": "error", "ename": "AuthenticationError",
                      "evalue": f"Invalid API Key: {k_tb}",
                      "traceback": ["\u001b[0;31mAuthenticationError\u001b[0m: Invalid API Key"]}],
         "source": ["client.chat.completions.create(model='llama3')\n"]},
    ],
    "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
}
write("malicious/notebook/error.ipynb", json.dumps(nb, indent=1) + "\n", k_tb)
malicious("malicious/notebook/error.ipynb", AI, "output", "a key echoed in an error output")

nb = {
    "cells": [
        {"cell_type": "code", "execution_count": 1, "metadata": {},
         "outputs": [{"name": "stdout", "output_type": "stream", "text": ["key: sk-...redacted\n"]}],
         "source": ["import os\n", "key = os.environ['OPENAI_API_KEY']\n", "print('key:', key[:3] + '...redacted')\n"]},
    ],
    "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
}
write("benign/notebook/clean.ipynb", json.dumps(nb, indent=1) + "\n")
benign("benign/notebook/clean.ipynb", "key from the environment, printed redacted")

with open("MANIFEST.tsv", "w", newline="\n") as f:
    f.write("path\tverdict\tmin_severity\tmax_severity\trules\tevidence\tdescription\n")
    f.write("\n".join(rows) + "\n")
with open("SECRETS.tsv", "w", newline="\n") as f:
    f.write("# path\tfake secret written into it (made up by gen.py; never live)\n")
    for p, s in secrets:
        f.write(f"{p}\t{s}\n")
