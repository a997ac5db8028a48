#!/usr/bin/python3
"""Writes the CI and Dockerfile fixtures of testdata/ci and their MANIFEST.tsv.

Each rule of internal/catalog/workflows and internal/catalog/containers has
one risky file that breaks only that rule and a benign twin that breaks
none. Run from anywhere: /usr/bin/python3 testdata/ci/gen.py
"""

import os

HERE = os.path.dirname(os.path.abspath(__file__))

SHA = "11bd71901bbe5b1630ceea73d27597364c9af683"  # actions/checkout v4.2.2
PY_SHA = "0b93645e9fea5318e8bc6e0eb6f3f2b7c1e96bbb"
DIGEST = "sha256:" + "3f1c0b5a" * 8
HUB_SHA = "607a30d783dfa663caf39e06633721c8d4cfcd7e"

# The frame every GitHub fixture shares: read-only token, pinned checkout
# that does not keep the token.
HEAD = """name: {name}
on: {on}
permissions:
  contents: read
jobs:
  build:
    runs-on: {runs_on}
    steps:
      - uses: actions/checkout@""" + SHA + """ # v4.2.2
        with:
          persist-credentials: false
"""


def gh(name, steps, on="push", runs_on="ubuntu-latest", head=None):
    text = (head or HEAD).format(name=name, on=on, runs_on=runs_on)
    return text + steps


FILES = []  # (path, verdict, min, max, rules, evidence, description, text)


def add(path, verdict, lo, hi, rules, evidence, description, text):
    FILES.append((path, verdict, lo, hi, rules, evidence, description, text))


W = "github/.github/workflows/"

add(W + "unpinned-action.yml", "malicious", "high", "high", "workflow/unpinned-action", "@v45",
    "third-party action used by a movable tag",
    gh("unpinned-action", "      - uses: tj-actions/changed-files@v45\n"))
add(W + "unpinned-action-ok.yml", "benign", "info", "info", "", "",
    "third-party action pinned to a full commit, a local action and a docker:// step by digest",
    gh("unpinned-action-ok",
       "      - uses: tj-actions/changed-files@" + PY_SHA + " # v45\n"
       "      - uses: ./.github/actions/setup\n"
       "      - uses: docker://alpine:3.20@" + DIGEST + "\n"))

add(W + "untrusted-checkout.yml", "malicious", "critical", "critical", "workflow/untrusted-checkout",
    "github.event.pull_request.head.sha",
    "pull_request_target checking out the pull request head, then running its tests",
    """name: untrusted-checkout
on: pull_request_target
permissions:
  contents: read
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@""" + SHA + """ # v4.2.2
        with:
          ref: ${{ github.event.pull_request.head.sha }}
          persist-credentials: false
      - run: make test
""")
add(W + "untrusted-checkout-ok.yml", "benign", "info", "info", "", "",
    "pull_request_target that checks out only the base branch and labels the pull request",
    """name: untrusted-checkout-ok
on: pull_request_target
permissions:
  contents: read
jobs:
  label:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@""" + SHA + """ # v4.2.2
        with:
          persist-credentials: false
      - run: ./scripts/label.sh
""")

add(W + "script-injection.yml", "malicious", "critical", "critical", "workflow/script-injection",
    "github.event.issue.title",
    "issue title expanded into a run script and into github-script under issues",
    """name: script-injection
on:
  issues:
    types: [opened]
permissions:
  contents: read
jobs:
  triage:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo "triaging"
          echo "${{ github.event.issue.title }}" | ./triage
      - uses: actions/github-script@""" + PY_SHA + """ # v7
        with:
          script: console.log("${{ github.event.issue.body }}")
""")
add(W + "script-injection-ok.yml", "benign", "info", "info", "", "",
    "issue title passed through env and quoted; only trusted contexts expanded",
    """name: script-injection-ok
on:
  issues:
    types: [opened]
permissions:
  contents: read
jobs:
  triage:
    runs-on: ubuntu-latest
    steps:
      - env:
          TITLE: ${{ github.event.issue.title }}
        run: |
          echo "issue ${{ github.event.issue.number }} in ${{ github.repository }}"
          echo "$TITLE" | ./triage
""")

add(W + "permissions.yml", "malicious", "high", "high", "workflow/permissions", "contents: write",
    "write token on pull_request_target, and a job without permissions in a workflow without any",
    """name: permissions
on: pull_request_target
jobs:
  comment:
    runs-on: ubuntu-latest
    permissions:
      contents: write
      pull-requests: write
    steps:
      - run: echo hello
  other:
    runs-on: ubuntu-latest
    steps:
      - run: echo other
""")
add(W + "permissions-ok.yml", "benign", "info", "info", "", "",
    "write scope on push, read-only default",
    """name: permissions-ok
on: push
permissions:
  contents: read
jobs:
  release:
    runs-on: ubuntu-latest
    permissions:
      contents: write
    steps:
      - run: echo release
""")

add(W + "secrets-inherit.yml", "malicious", "medium", "medium", "workflow/secrets-inherit", "secrets: inherit",
    "reusable workflow call passing every secret",
    """name: secrets-inherit
on: push
permissions:
  contents: read
jobs:
  deploy:
    uses: org/shared/.github/workflows/deploy.yml@""" + PY_SHA + """
    secrets: inherit
""")
add(W + "secrets-inherit-ok.yml", "benign", "info", "info", "", "",
    "reusable workflow call naming the one secret it needs",
    """name: secrets-inherit-ok
on: push
permissions:
  contents: read
jobs:
  deploy:
    uses: org/shared/.github/workflows/deploy.yml@""" + PY_SHA + """
    secrets:
      DEPLOY_KEY: ${{ secrets.DEPLOY_KEY }}
""")

add(W + "persist-credentials.yml", "malicious", "low", "low", "workflow/persist-credentials", "actions/checkout",
    "checkout keeping the token in .git/config",
    """name: persist-credentials
on: push
permissions:
  contents: read
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@""" + SHA + """ # v4.2.2
      - run: make
""")
add(W + "persist-credentials-ok.yml", "benign", "info", "info", "", "",
    "checkout with persist-credentials: false",
    gh("persist-credentials-ok", "      - run: make\n"))

add(W + "unpinned-install.yml", "malicious", "high", "high", "workflow/unpinned-install", "pip install",
    "pip install of an unpinned package with a secret in the environment, npm install, npx without version",
    gh("unpinned-install",
       "      - run: pip install transformers torch==2.5.1\n"
       "        env:\n"
       "          HF_TOKEN: ${{ secrets.HF_TOKEN }}\n"
       "      - run: |\n"
       "          npm install\n"
       "          npx create-thing --yes\n"))
add(W + "unpinned-install-ok.yml", "benign", "info", "info", "", "",
    "hashed requirements, exact pins, npm ci and npx with a version",
    gh("unpinned-install-ok",
       "      - run: pip install --require-hashes -r requirements.txt\n"
       "      - run: |\n"
       "          python -m pip install torch==2.5.1 'transformers==4.46.0'\n"
       "          npm ci\n"
       "          npx create-thing@1.2.3 --yes\n"))

add(W + "curl-pipe-shell.yml", "malicious", "high", "high", "workflow/curl-pipe-shell", "| sh",
    "curl piped to sh, bash with process substitution",
    gh("curl-pipe-shell",
       "      - run: curl -fsSL https://get.example.com/install.sh | sh\n"
       "      - run: bash <(wget -qO- https://example.com/setup)\n"))
add(W + "curl-pipe-shell-ok.yml", "benign", "info", "info", "", "",
    "download to a file, check its sha256, run it; curl || fallback is not a pipe",
    gh("curl-pipe-shell-ok",
       "      - run: |\n"
       "          curl -fsSLo install.sh https://get.example.com/install.sh\n"
       "          echo \"" + "ab" * 32 + "  install.sh\" | sha256sum -c -\n"
       "          sh install.sh\n"
       "          curl -fsS https://example.com/health || sh ./fallback.sh\n"))

add(W + "unpinned-model-download.yml", "malicious", "medium", "medium", "workflow/unpinned-model-download",
    "resolve/main", "hub download without revision, clone without checkout, resolve/main URL",
    gh("unpinned-model-download",
       "      - run: |\n"
       "          huggingface-cli download org/model --local-dir models\n"
       "          git clone https://huggingface.co/org/other\n"
       "          wget https://huggingface.co/org/model/resolve/main/config.json\n"))
add(W + "unpinned-model-download-ok.yml", "benign", "info", "info", "", "",
    "hub download, clone and URL all at a commit",
    gh("unpinned-model-download-ok",
       "      - run: |\n"
       "          huggingface-cli download org/model --revision " + HUB_SHA + " --local-dir models\n"
       "          git clone https://huggingface.co/org/other && git -C other checkout " + HUB_SHA + "\n"
       "          wget https://huggingface.co/org/model/resolve/" + HUB_SHA + "/config.json\n"))

add(W + "self-hosted-public.yml", "malicious", "high", "high", "workflow/self-hosted-public", "self-hosted",
    "self-hosted runner on pull_request",
    gh("self-hosted-public", "      - run: make test\n", on="pull_request", runs_on="[self-hosted, linux, gpu]"))
add(W + "self-hosted-public-ok.yml", "benign", "info", "info", "", "",
    "self-hosted runner on push only",
    gh("self-hosted-public-ok", "      - run: make test\n", on="push", runs_on="[self-hosted, linux, gpu]"))

add("github/action/action.yml", "malicious", "high", "high", "workflow/unpinned-action,workflow/curl-pipe-shell",
    "curl", "composite action: a tag-pinned third-party action and curl | bash",
    """name: setup-tool
description: installs a tool
runs:
  using: composite
  steps:
    - uses: some-org/setup-thing@v2
    - run: curl -sSL https://example.com/tool.sh | bash
      shell: bash
""")

G = "gitlab/"
GL_OK_INCLUDE = ""
add(G + "unpinned-image/.gitlab-ci.yml", "malicious", "high", "high", "gitlab/unpinned-image", "latest",
    "job image by tag and by latest, a service by tag",
    """image: python:3.12
test:
  image: registry.gitlab.com/group/tester:latest
  services:
    - postgres:16
  script:
    - make test
""")
add(G + "unpinned-image-ok/.gitlab-ci.yml", "benign", "info", "info", "", "",
    "images and services by digest, a variable image",
    """image: python:3.12@""" + DIGEST + """
test:
  image: $CI_REGISTRY_IMAGE/tester:$CI_COMMIT_SHA
  services:
    - name: postgres:16@""" + DIGEST + """
      alias: db
  script:
    - make test
""")
add(G + "unpinned-include/.gitlab-ci.yml", "malicious", "high", "high", "gitlab/unpinned-include", "remote:",
    "remote include, project include by branch, component by version",
    """include:
  - remote: https://example.com/ci/shared.yml
  - project: group/ci-templates
    ref: main
    file: /python.yml
  - component: gitlab.com/components/sast/sast@1.2.0
test:
  image: python:3.12@""" + DIGEST + """
  script:
    - make test
""")
add(G + "unpinned-include-ok/.gitlab-ci.yml", "benign", "info", "info", "", "",
    "local and template includes, project and component at a commit",
    """include:
  - local: /ci/lint.yml
  - template: Security/SAST.gitlab-ci.yml
  - project: group/ci-templates
    ref: """ + PY_SHA + """
    file: /python.yml
  - component: gitlab.com/components/sast/sast@""" + PY_SHA + """
test:
  image: python:3.12@""" + DIGEST + """
  script:
    - make test
""")
add(G + "script/.gitlab-ci.yml", "malicious", "high", "high", "workflow/curl-pipe-shell,workflow/unpinned-install",
    "| bash", "script lines: curl | bash, pip install without pins",
    """default:
  image: python:3.12@""" + DIGEST + """
  before_script:
    - pip install requests
test:
  script:
    - curl -sSL https://example.com/setup.sh | bash
    - make test
""")
add(G + "script-ok/.gitlab-ci.yml", "benign", "info", "info", "", "",
    "script lines with hashed installs and a checked download",
    """default:
  image: python:3.12@""" + DIGEST + """
  before_script:
    - pip install --require-hashes -r requirements.txt
test:
  script:
    - curl -sSLo setup.sh https://example.com/setup.sh
    - sha256sum -c setup.sh.sha256
    - bash setup.sh
""")

D = "docker/"
BASE = "FROM python:3.12-slim@" + DIGEST + "\n"
add(D + "unpinned-base/Dockerfile", "malicious", "high", "high", "docker/unpinned-base", "FROM ubuntu",
    "bases by tag, by no tag and by an ARG default; a syntax directive by tag",
    """# syntax=docker/dockerfile:1
ARG BASE=python:3.12-slim
FROM ${BASE} AS build
FROM ubuntu
COPY --from=build /app /app
""")
add(D + "unpinned-base-ok/Dockerfile", "benign", "info", "info", "", "",
    "bases by digest, scratch, an earlier stage, a pinned syntax directive",
    "# syntax=docker/dockerfile:1@" + DIGEST + "\n" + BASE.replace("\n", " AS build\n") +
    "FROM build AS test\nFROM scratch\nCOPY --from=build /app /app\n")
add(D + "curl-pipe-shell/Dockerfile", "malicious", "high", "high", "docker/curl-pipe-shell", "| sh",
    "curl piped to sh across a continuation, and in a heredoc",
    BASE + "RUN apt-get update && \\\n    curl -fsSL https://get.example.com/install.sh \\\n    | sh\n"
    "RUN <<EOF\nset -e\nwget -qO- https://example.com/setup | bash\nEOF\n")
add(D + "curl-pipe-shell-ok/Dockerfile", "benign", "info", "info", "", "",
    "download, check, run",
    BASE + "RUN curl -fsSLo /tmp/i.sh https://get.example.com/install.sh && \\\n"
    "    echo \"" + "ab" * 32 + "  /tmp/i.sh\" | sha256sum -c - && sh /tmp/i.sh\n")
add(D + "add-url/Dockerfile", "malicious", "medium", "medium", "docker/add-url", "ADD https://",
    "ADD of a URL without --checksum",
    BASE + "ADD https://example.com/tool.tar.gz /opt/\n")
add(D + "add-url-ok/Dockerfile", "benign", "info", "info", "", "",
    "ADD of a URL with --checksum, ADD of a local file",
    BASE + "ADD --checksum=sha256:" + "ab" * 32 + " https://example.com/tool.tar.gz /opt/\nADD app.tar.gz /opt/\n")
add(D + "unpinned-install/Dockerfile", "malicious", "medium", "medium", "docker/unpinned-install", "pip install",
    "pip install without ==, npm install -g without a version",
    BASE + "RUN pip install --no-cache-dir transformers\nRUN npm install -g left-pad\n")
add(D + "unpinned-install-ok/Dockerfile", "benign", "info", "info", "", "",
    "exact pins, hashed requirements, apt-get (not judged)",
    BASE + "RUN pip install --no-cache-dir transformers==4.46.0 && pip install --require-hashes -r req.txt\n"
    "RUN npm install -g left-pad@1.3.0 && apt-get install -y curl\n")


def main():
    rows = ["path\tverdict\tmin_severity\tmax_severity\trules\tevidence\tdescription"]
    for path, verdict, lo, hi, rules, evidence, description, text in FILES:
        full = os.path.join(HERE, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", newline="\n") as f:
            f.write(text)
        rows.append("\t".join([path, verdict, lo, hi, rules, evidence, description]))
    with open(os.path.join(HERE, "MANIFEST.tsv"), "w", newline="\n") as f:
        f.write("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
