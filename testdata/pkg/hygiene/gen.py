#!/usr/bin/env python3
"""Writes the lockfile-hygiene fixtures and MANIFEST.tsv. Run from this directory."""
import json
import os

H1 = "sha256:" + "1f" * 32
H2 = "sha256:" + "2e" * 32


def pyproject(deps):
    return ("[project]\nname = \"app\"\nversion = \"0.1.0\"\nrequires-python = \">=3.11\"\n"
            "dependencies = [" + ", ".join('"%s"' % d for d in deps) + "]\n")


def uvlock(pkgs):
    out = "version = 1\nrequires-python = \">=3.11\"\n\n"
    for name, ver in pkgs:
        out += ("[[package]]\nname = \"%s\"\nversion = \"%s\"\n"
                "source = { registry = \"https://pypi.org/simple\" }\n"
                "sdist = { url = \"https://files.pythonhosted.org/packages/%s-%s.tar.gz\", hash = \"%s\" }\n\n"
                % (name, ver, name, ver, H1))
    out += ("[[package]]\nname = \"app\"\nversion = \"0.1.0\"\nsource = { editable = \".\" }\n"
            "dependencies = [" + ", ".join('{ name = "%s" }' % n for n, _ in pkgs) + "]\n")
    return out


def package_json(deps):
    return json.dumps({"name": "app", "version": "1.0.0", "dependencies": deps}, indent=2) + "\n"


def package_lock(pkgs):
    packages = {"": {"name": "app", "version": "1.0.0",
                     "dependencies": {n: r for n, (v, r) in pkgs.items()}}}
    for n, (v, r) in pkgs.items():
        packages["node_modules/" + n] = {
            "version": v,
            "resolved": "https://registry.npmjs.org/%s/-/%s-%s.tgz" % (n, n, v),
            "integrity": "sha512-" + "A" * 86 + "==",
        }
    return json.dumps({"name": "app", "version": "1.0.0", "lockfileVersion": 3,
                       "requires": True, "packages": packages}, indent=2) + "\n"


FILES = {
    "malicious/no-lockfile/pyproject.toml": pyproject(["requests>=2.31", "numpy"]),
    "malicious/no-lockfile-npm/package.json": package_json({"express": "^4.19.2"}),
    "malicious/out-of-sync/pyproject.toml": pyproject(["requests>=2.31", "rich>=13"]),
    "malicious/out-of-sync/uv.lock": uvlock([("requests", "2.32.3")]),
    "malicious/unpinned/requirements.txt": "requests>=2.31\nnumpy\n",
    "malicious/unhashed/requirements.txt": "requests==2.31.0\nurllib3==2.2.2\n",
    "malicious/direct-source/requirements.txt":
        "acme-utils @ git+https://github.com/acme/utils@main\n",
    "malicious/floating/package.json": package_json({"left-pad": "*", "lodash": "latest"}),
    "malicious/floating/package-lock.json": package_lock({"left-pad": ("1.3.0", "*"), "lodash": ("4.17.21", "latest")}),
    "benign/vcs-commit/requirements.txt":
        "acme-tools @ git+https://github.com/acme/tools@5a4d3e2a1f0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d\n",
    "benign/locked-uv/pyproject.toml": pyproject(["requests>=2.31"]),
    "benign/locked-uv/uv.lock": uvlock([("requests", "2.32.3")]),
    "benign/hashed/requirements.txt": "requests==2.32.3 \\\n    --hash=%s\n" % H2,
    "benign/npm-locked/package.json": package_json({"express": "^4.19.2"}),
    "benign/npm-locked/package-lock.json": package_lock({"express": ("4.19.2", "^4.19.2")}),
}

MANIFEST = [
    ("malicious/no-lockfile/pyproject.toml", "malicious", "medium", "medium", "package/no-lockfile", "requests, numpy", "pyproject.toml with dependencies and no lockfile"),
    ("malicious/no-lockfile-npm/package.json", "malicious", "medium", "medium", "package/no-lockfile", "express", "package.json with dependencies and no lockfile"),
    ("malicious/out-of-sync", "malicious", "medium", "medium", "package/lock-out-of-sync", "rich declared but not in the lockfile", "the folder: rich declared in pyproject.toml but missing from uv.lock"),
    ("malicious/out-of-sync/uv.lock", "benign", "info", "low", "", "", "lockfile itself is well formed"),
    ("malicious/unpinned/requirements.txt", "malicious", "low", "low", "package/unpinned", "requests >=2.31", "requirements without == pins"),
    ("malicious/unhashed/requirements.txt", "malicious", "low", "low", "package/unhashed", "requests==2.31.0, urllib3==2.2.2", "exact pins without --hash"),
    ("malicious/direct-source/requirements.txt", "malicious", "medium", "medium", "package/direct-source", "acme-utils from vcs", "VCS dependency on a branch"),
    ("malicious/floating/package.json", "malicious", "medium", "medium", "package/floating-range", "left-pad@*", "npm * and latest ranges"),
    ("benign/vcs-commit/requirements.txt", "benign", "low", "low", "package/direct-source", "acme-tools from vcs", "VCS dependency pinned to a full commit: low, not medium"),
    ("benign/locked-uv/pyproject.toml", "benign", "info", "low", "", "", "pyproject with an in-sync uv.lock"),
    ("benign/locked-uv/uv.lock", "benign", "info", "low", "", "", "uv.lock with hashes"),
    ("benign/hashed/requirements.txt", "benign", "info", "low", "", "", "exact pin with --hash"),
    ("benign/npm-locked/package.json", "benign", "info", "low", "", "", "caret range with a lockfile"),
    ("benign/npm-locked/package-lock.json", "benign", "info", "low", "", "", "package-lock v3 with integrity"),
]

for p, text in FILES.items():
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "w") as f:
        f.write(text)
with open("MANIFEST.tsv", "w") as f:
    f.write("path\tverdict\tmin_severity\tmax_severity\trules\tevidence\tdescription\n")
    for row in MANIFEST:
        f.write("\t".join(row) + "\n")
