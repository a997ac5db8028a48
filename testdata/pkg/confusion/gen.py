#!/usr/bin/env python3
"""Writes the dependency-confusion fixtures and MANIFEST.tsv. Run from this directory."""
import os

FILES = {
    # The torchtriton set-up of December 2022: PyTorch's nightly index given
    # as an extra index, so PyPI's higher-versioned torchtriton won.
    "malicious/torchtriton/requirements.txt":
        "--extra-index-url https://download.pytorch.org/whl/nightly/cpu\n"
        "torch==2.0.0.dev20221230\n"
        "torchtriton==2.0.0+0d7e753227\n",
    "malicious/pipconf/pip.conf":
        "[global]\nindex-url = https://pypi.org/simple\n"
        "extra-index-url = https://ci:s3cret@pkgs.internal.example/simple\n",
    "malicious/docker/Dockerfile":
        "FROM python:3.12-slim\n"
        "ENV PIP_EXTRA_INDEX_URL=https://pkgs.internal.example/simple\n"
        "RUN pip install acme-utils==1.2.0\n",
    "malicious/ci/gitlab-ci.yml":
        "build:\n  image: python:3.12\n  variables:\n"
        "    PIP_EXTRA_INDEX_URL: https://pkgs.internal.example/simple\n"
        "  script:\n    - pip install -r requirements.txt\n",
    "malicious/npmrc/.npmrc":
        "registry=https://npm.internal.example/\n",
    "malicious/poetry-supplemental/pyproject.toml":
        "[tool.poetry]\nname = \"app\"\nversion = \"0.1.0\"\n\n"
        "[tool.poetry.dependencies]\npython = \"^3.11\"\nacme-utils = \"^1.2\"\n\n"
        "[[tool.poetry.source]]\nname = \"internal\"\nurl = \"https://pkgs.internal.example/simple\"\npriority = \"supplemental\"\n",
    "malicious/uv-unsafe/pyproject.toml":
        "[project]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\"acme-utils==1.2.0\"]\n\n"
        "[tool.uv]\nindex-strategy = \"unsafe-best-match\"\n\n"
        "[[tool.uv.index]]\nname = \"internal\"\nurl = \"https://pkgs.internal.example/simple\"\n",
    "benign/index-url/requirements.txt":
        "--index-url https://pkgs.internal.example/simple\n"
        "torch==2.0.0\n",
    "benign/pypi-extra/requirements.txt":
        "--extra-index-url https://pypi.org/simple\n"
        "requests==2.32.3\n",
    "benign/uv/pyproject.toml":
        "[project]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\"acme-utils==1.2.0\"]\n\n"
        "[[tool.uv.index]]\nname = \"internal\"\nurl = \"https://pkgs.internal.example/simple\"\nexplicit = true\n\n"
        "[tool.uv.sources]\nacme-utils = { index = \"internal\" }\n",
    "benign/uv/uv.lock":
        "version = 1\nrequires-python = \">=3.12\"\n\n"
        "[[package]]\nname = \"acme-utils\"\nversion = \"1.2.0\"\n"
        "source = { registry = \"https://pkgs.internal.example/simple\" }\n"
        "sdist = { url = \"https://pkgs.internal.example/files/acme_utils-1.2.0.tar.gz\", hash = \"sha256:" + "ab" * 32 + "\" }\n\n"
        "[[package]]\nname = \"app\"\nversion = \"0.1.0\"\nsource = { editable = \".\" }\n"
        "dependencies = [{ name = \"acme-utils\" }]\n",
    "benign/npm-scoped/.npmrc":
        "registry=https://registry.npmjs.org/\n@acme:registry=https://npm.internal.example/\n",
}

MANIFEST = [
    ("malicious/torchtriton/requirements.txt", "malicious", "high", "high", "package/dependency-confusion", "torchtriton with extra index https://download.pytorch.org/whl/nightly/cpu", "torchtriton nightly set-up: extra index beside PyPI"),
    ("malicious/pipconf/pip.conf", "malicious", "high", "high", "package/dependency-confusion", "extra index https://***@pkgs.internal.example/simple", "pip.conf adds a private extra index (credentials redacted)"),
    ("malicious/docker/Dockerfile", "malicious", "high", "high", "package/dependency-confusion", "extra index https://pkgs.internal.example/simple", "Dockerfile ENV PIP_EXTRA_INDEX_URL"),
    ("malicious/ci/gitlab-ci.yml", "malicious", "high", "high", "package/dependency-confusion", "extra index https://pkgs.internal.example/simple", "CI variable PIP_EXTRA_INDEX_URL"),
    ("malicious/npmrc/.npmrc", "malicious", "medium", "medium", "package/npm-registry-override", "registry=https://npm.internal.example/", "npm default registry moved to a private one"),
    ("malicious/poetry-supplemental/pyproject.toml", "malicious", "high", "high", "package/dependency-confusion", "poetry source \"internal\" https://pkgs.internal.example/simple priority supplemental", "Poetry supplemental source: PyPI answers first for private names"),
    ("malicious/uv-unsafe/pyproject.toml", "malicious", "high", "high", "package/dependency-confusion", "index-strategy = \"unsafe-best-match\" with index https://pkgs.internal.example/simple", "uv unsafe-best-match merges the private index with PyPI"),
    ("benign/index-url/requirements.txt", "benign", "info", "low", "", "", "single private --index-url"),
    ("benign/pypi-extra/requirements.txt", "benign", "info", "low", "", "", "extra index is PyPI itself"),
    ("benign/uv/pyproject.toml", "benign", "info", "low", "", "", "uv index with explicit = true and a per-package source"),
    ("benign/npm-scoped/.npmrc", "benign", "info", "low", "", "", "private registry only for the @acme scope"),
]

for p, text in FILES.items():
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "w") as f:
        f.write(text)
with open("MANIFEST.tsv", "w") as f:
    f.write("path\tverdict\tmin_severity\tmax_severity\trules\tevidence\tdescription\n")
    for row in MANIFEST:
        f.write("\t".join(row) + "\n")
