#!/usr/bin/python3
"""Writes the fixtures of chainvet diff (internal/diff, cmd/chainvet).

Run from anywhere: /usr/bin/python3 testdata/diff/gen.py
Everything here is small, hand-chosen JSON and text; the script only keeps
the pairs consistent and rewritable.
"""
import hashlib
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def h(s):
    return hashlib.sha256(s.encode()).hexdigest()


def sha1(s):
    return hashlib.sha1(s.encode()).hexdigest()


def write(rel, text):
    p = os.path.join(HERE, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "w", newline="\n") as f:
        f.write(text)


def pkg(eco, name, version, dep="direct", props=None, depends=None, digests=None, ns=""):
    full = (ns + "/" if ns else "") + name
    purl = "pkg:%s/%s@%s" % (eco, full.replace("@", "%40"), version)
    c = {"id": purl, "kind": "package", "name": name, "version": version, "purl": purl,
         "dependency": dep, "properties": {"ecosystem": eco, "pinned": "true"}}
    c["properties"].update(props or {})
    if depends:
        c["dependsOn"] = depends
    if digests:
        c["digests"] = digests
    return c


def report(components):
    return json.dumps({
        "schema": "chainvet/report/v1",
        "tool": {"name": "chainvet", "version": "fixture"},
        "targets": ["."],
        "components": sorted(components, key=lambda c: c["id"]),
        "findings": [],
        "stats": {"files": 0, "members": 0, "bytes": 0, "bytesRead": 0, "durationMs": 0},
    }, indent=1, sort_keys=True) + "\n"


PYPI = {"index": "https://pypi.org/simple"}
BERT1, BERT2 = sha1("bert-1"), sha1("bert-2")
CO1, CO2 = sha1("checkout-1"), sha1("checkout-2")
TICK1, TICK2 = sha1("tickets-1"), sha1("tickets-2")


def common():
    """Components the two reports share unchanged."""
    return [
        pkg("npm", "debug", "2.6.9", dep="transitive"),
        {"id": "notebook:analysis.ipynb", "kind": "notebook", "name": "analysis.ipynb",
         "locations": [{"path": "analysis.ipynb"}]},
    ]


def old_report():
    return report(common() + [
        pkg("pypi", "torch", "2.4.1", props=PYPI),
        pkg("pypi", "numpy", "1.26.4", props=PYPI),
        pkg("pypi", "requests", "2.32.3", props=PYPI),
        pkg("pypi", "transformers", "4.44.0", props=dict(PYPI, hashes="sha256:" + h("transformers-good"))),
        pkg("pypi", "safetensors", "0.4.5", props=PYPI),
        pkg("pypi", "tokenizers", "0.20.0rc1", props=PYPI),
        pkg("pypi", "filelock", "3.16.1", dep="transitive", props=PYPI),
        pkg("npm", "left-pad", "1.3.0"),
        pkg("npm", "express", "4.21.1", depends=["pkg:npm/debug@2.6.9"]),
        pkg("golang", "net", "v0.30.0", ns="golang.org/x"),
        {"id": "pkg:huggingface/google-bert/bert-base-uncased@" + BERT1, "kind": "model",
         "name": "google-bert/bert-base-uncased", "version": BERT1,
         "purl": "pkg:huggingface/google-bert/bert-base-uncased@" + BERT1,
         "properties": {"hub": "huggingface", "pinned": "true"}},
        {"id": "model:models/classifier.pt", "kind": "model", "name": "classifier.pt",
         "digests": [{"algorithm": "sha256", "value": h("classifier-1")}],
         "properties": {"format": "pytorch"}, "locations": [{"path": "models/classifier.pt"}]},
        {"id": "dataset:huggingface/acme/tickets@" + TICK1, "kind": "dataset", "name": "acme/tickets",
         "version": TICK1, "properties": {"hub": "huggingface", "pinned": "true"}},
        {"id": "dataset:data/train.parquet", "kind": "dataset", "name": "train.parquet",
         "properties": {"format": "parquet"}},
        {"id": "service:openai", "kind": "service", "name": "openai",
         "properties": {"provider": "openai", "endpoints": "https://api.openai.com"}},
        {"id": "plugin:.mcp.json#filesystem", "kind": "plugin", "name": "filesystem", "dependency": "direct",
         "properties": {"command": "npx", "transport": "stdio"}},
        {"id": "pkg:github/actions/checkout@" + CO1, "kind": "workflow", "name": "actions/checkout",
         "version": CO1, "purl": "pkg:github/actions/checkout@" + CO1, "dependency": "direct"},
        {"id": "pkg:github/actions/setup-python@v4", "kind": "workflow", "name": "actions/setup-python",
         "version": "v4", "purl": "pkg:github/actions/setup-python@v4", "dependency": "direct"},
        {"id": "pkg:docker/python@3.11-slim", "kind": "container", "name": "python", "version": "3.11-slim",
         "purl": "pkg:docker/python@3.11-slim", "dependency": "direct"},
        {"id": "pkg:docker/ubuntu@sha256:" + h("ubuntu-1"), "kind": "container", "name": "ubuntu",
         "version": "sha256:" + h("ubuntu-1"), "purl": "pkg:docker/ubuntu@sha256%3A" + h("ubuntu-1"),
         "dependency": "direct"},
    ])


def new_report():
    return report(common() + [
        pkg("pypi", "torch", "2.5.1", props=PYPI),
        pkg("pypi", "numpy", "2.1.0", props=PYPI),
        pkg("pypi", "requests", "2.32.2", props=PYPI),
        pkg("pypi", "transformers", "4.44.0", props=dict(PYPI, hashes="sha256:" + h("transformers-evil"))),
        pkg("pypi", "safetensors", "0.4.5", props={"index": "https://pypi.evil.example/simple"}),
        pkg("pypi", "tokenizers", "0.20.0", props=PYPI),
        pkg("pypi", "filelock", "3.16.1", dep="direct", props=PYPI),
        pkg("pypi", "accelerate", "1.0.0", props=PYPI),
        pkg("npm", "express", "4.21.2", depends=["pkg:npm/debug@2.6.9", "pkg:npm/path-to-regexp@0.1.12"]),
        pkg("npm", "path-to-regexp", "0.1.12", dep="transitive"),
        pkg("golang", "net", "v0.31.0", ns="golang.org/x"),
        {"id": "pkg:huggingface/google-bert/bert-base-uncased@" + BERT2, "kind": "model",
         "name": "google-bert/bert-base-uncased", "version": BERT2,
         "purl": "pkg:huggingface/google-bert/bert-base-uncased@" + BERT2,
         "properties": {"hub": "huggingface", "pinned": "true"}},
        {"id": "model:models/classifier.pt", "kind": "model", "name": "classifier.pt",
         "digests": [{"algorithm": "sha256", "value": h("classifier-2")}],
         "properties": {"format": "pytorch"}, "locations": [{"path": "models/classifier.pt"}]},
        {"id": "model:models/new.safetensors", "kind": "model", "name": "new.safetensors",
         "digests": [{"algorithm": "sha256", "value": h("new-model")}], "properties": {"format": "safetensors"}},
        {"id": "dataset:huggingface/acme/tickets@" + TICK2, "kind": "dataset", "name": "acme/tickets",
         "version": TICK2, "properties": {"hub": "huggingface", "pinned": "true"}},
        {"id": "service:openai", "kind": "service", "name": "openai",
         "properties": {"provider": "openai", "endpoints": "https://llm-proxy.example.com/v1"}},
        {"id": "service:anthropic", "kind": "service", "name": "anthropic",
         "properties": {"provider": "anthropic", "endpoints": "https://api.anthropic.com"}},
        {"id": "plugin:.mcp.json#filesystem", "kind": "plugin", "name": "filesystem", "dependency": "direct",
         "properties": {"command": "uvx", "transport": "stdio"}},
        {"id": "plugin:.mcp.json#github", "kind": "plugin", "name": "github", "dependency": "direct",
         "properties": {"command": "docker", "transport": "stdio"}},
        {"id": "pkg:github/actions/checkout@" + CO2, "kind": "workflow", "name": "actions/checkout",
         "version": CO2, "purl": "pkg:github/actions/checkout@" + CO2, "dependency": "direct"},
        {"id": "pkg:github/actions/setup-python@v5", "kind": "workflow", "name": "actions/setup-python",
         "version": "v5", "purl": "pkg:github/actions/setup-python@v5", "dependency": "direct"},
        {"id": "pkg:docker/python@3.12-slim", "kind": "container", "name": "python", "version": "3.12-slim",
         "purl": "pkg:docker/python@3.12-slim", "dependency": "direct"},
        {"id": "pkg:docker/ubuntu@sha256:" + h("ubuntu-2"), "kind": "container", "name": "ubuntu",
         "version": "sha256:" + h("ubuntu-2"), "purl": "pkg:docker/ubuntu@sha256%3A" + h("ubuntu-2"),
         "dependency": "direct"},
    ])


def cdx(components, deps):
    return json.dumps({
        "bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
        "metadata": {"component": {"bom-ref": "root-app", "type": "application", "name": "shop"}},
        "components": components, "dependencies": deps,
    }, indent=1) + "\n"


def lib(name, version, digest_seed):
    ref = "pkg:pypi/%s@%s?package-id=%s" % (name, version, h(name)[:8])
    return {"bom-ref": ref, "type": "library", "name": name, "version": version,
            "purl": "pkg:pypi/%s@%s" % (name, version),
            "hashes": [{"alg": "SHA-256", "content": h(digest_seed)}]}, ref


def other_boms():
    """A BOM as another tool writes it: bom-refs that are not purls,
    SHA-256 hashes, direct dependencies only through the root's entry."""
    flask2, rf2 = lib("flask", "2.3.3", "flask-2.3.3")
    werk2, rw2 = lib("werkzeug", "2.3.8", "werkzeug-2.3.8")
    itsd, ri = lib("itsdangerous", "2.1.2", "itsdangerous")
    jinja, rj = lib("jinja2", "3.1.4", "jinja2-good")
    old = cdx([flask2, werk2, itsd, jinja], [
        {"ref": "root-app", "dependsOn": [rf2, rj]},
        {"ref": rf2, "dependsOn": [rw2, ri]},
    ])
    flask3, rf3 = lib("flask", "3.0.3", "flask-3.0.3")
    werk3, rw3 = lib("werkzeug", "3.0.6", "werkzeug-3.0.6")
    blinker, rb = lib("blinker", "1.8.2", "blinker")
    jinja_bad, rjb = lib("jinja2", "3.1.4", "jinja2-tampered")
    new = cdx([flask3, werk3, itsd, blinker, jinja_bad], [
        {"ref": "root-app", "dependsOn": [rf3, rjb]},
        {"ref": rf3, "dependsOn": [rw3, ri, rb]},
    ])
    return old, new


APPROVALS = """\
# Approvals for the fixture reports: see internal/diff/approval.go.
approvals:
  - component: pkg:pypi/torch
    versions: ">=2.5,<3"
    approved_by: alice@example.com
    reason: CUDA 12.4 wheels
    expires: 2026-12-31
  - component: pkg:pypi/numpy
    versions: "*"
    approved_by: bob@example.com
    reason: NumPy 2 migration, tracked in #42
    expires: 2026-01-31
  - component: "pkg:github/actions/*"
    kind: workflow
    approved_by: ci-team
    reason: routine action updates
    expires: 2026-12-31
"""

# Two small project trees for the command's tests: the second bumps a
# pin, adds a requirement, changes an image tag and an MCP server.
TREE_OLD = {
    "requirements.txt": "torch==2.4.1\nrequests==2.32.3\n",
    "Dockerfile": "FROM python:3.11-slim\n",
    ".mcp.json": json.dumps({"mcpServers": {"fs": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem@2025.1.14", "."]}}}, indent=1) + "\n",
}
TREE_NEW = {
    "requirements.txt": "torch==2.5.1\nrequests==2.32.3\naccelerate==1.0.0\n",
    "Dockerfile": "FROM python:3.12-slim\n",
    ".mcp.json": json.dumps({"mcpServers": {"fs": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem@2025.3.28", "."]}}}, indent=1) + "\n",
}


def main():
    write("reports/old.json", old_report())
    write("reports/new.json", new_report())
    old, new = other_boms()
    write("cyclonedx/old.cdx.json", old)
    write("cyclonedx/new.cdx.json", new)
    write("approvals/chainvet-approvals.yaml", APPROVALS)
    for name, text in TREE_OLD.items():
        write("trees/old/" + name, text)
    for name, text in TREE_NEW.items():
        write("trees/new/" + name, text)


if __name__ == "__main__":
    main()
