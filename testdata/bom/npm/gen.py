#!/usr/bin/env python3
"""Writes the npm, yarn and pnpm fixtures of chainvet's packages/npm cataloger.

Run from this folder: python3 gen.py. Package names and versions are real;
integrity values are the SHA-512 (or SHA-1) of the text "name@version", not
of the real tarballs, so that they are well-formed and reproducible.
"""
import base64
import hashlib
import json
import os

REG = "https://registry.npmjs.org"


def sri(name, version, alg="sha512"):
    h = hashlib.new(alg, f"{name}@{version}".encode()).digest()
    return f"{alg}-" + base64.b64encode(h).decode()


def hexsum(name, version):
    return hashlib.sha512(f"{name}@{version}".encode()).hexdigest()


def tarball(name, version, reg=REG):
    base = name.split("/")[-1]
    return f"{reg}/{name}/-/{base}-{version}.tgz"


def write(path, text):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def dump(path, obj):
    write(path, json.dumps(obj, indent=2) + "\n")


# package.json: every kind of spec a project writes.
dump("app/package.json", {
    "name": "@acme/chat-ui",
    "version": "1.4.0",
    "private": True,
    "dependencies": {
        "@huggingface/inference": "^2.6.4",
        "openai": "4.28.0",
        "lodash": "~4.17.21",
        "left-pad": "git+https://user:secret@github.com/stevemao/left-pad.git#5a4d3e2a1f0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d",
        "local-utils": "file:../utils",
        "shared": "workspace:*",
        "tiny": "github:acme/tiny#main",
    },
    "devDependencies": {"typescript": "^5.3.3", "vitest": "1.2.2"},
    "optionalDependencies": {"fsevents": "2.3.3"},
    "peerDependencies": {"react": ">=18"},
})

# package-lock.json v3: a direct dependency with a nested copy of a
# transitive one at another version, a dev dependency, a private registry.
def v3_packages():
    return {
        "": {"name": "rag-service", "version": "0.2.0",
             "dependencies": {"express": "^4.18.2", "@acme/embed": "^1.0.0"},
             "devDependencies": {"jest": "^29.7.0"}},
        "node_modules/express": {"version": "4.18.2", "resolved": tarball("express", "4.18.2"),
                                 "integrity": sri("express", "4.18.2"),
                                 "dependencies": {"debug": "2.6.9", "ms": "2.1.3"}},
        "node_modules/debug": {"version": "2.6.9", "resolved": tarball("debug", "2.6.9"),
                               "integrity": sri("debug", "2.6.9"), "dependencies": {"ms": "2.0.0"}},
        "node_modules/debug/node_modules/ms": {"version": "2.0.0", "resolved": tarball("ms", "2.0.0"),
                                               "integrity": sri("ms", "2.0.0", "sha1")},
        "node_modules/ms": {"version": "2.1.3", "resolved": tarball("ms", "2.1.3"),
                            "integrity": sri("ms", "2.1.3")},
        "node_modules/@acme/embed": {"version": "1.0.3",
                                     "resolved": tarball("@acme/embed", "1.0.3", "https://npm.acme.example/repository/npm"),
                                     "integrity": sri("@acme/embed", "1.0.3"),
                                     "dependencies": {"ms": "^2.1.0"}},
        "node_modules/jest": {"version": "29.7.0", "resolved": tarball("jest", "29.7.0"),
                              "integrity": sri("jest", "29.7.0"), "dev": True},
    }

dump("lock-v3/package-lock.json", {"name": "rag-service", "version": "0.2.0", "lockfileVersion": 3,
                                   "requires": True, "packages": v3_packages()})
dump("shrinkwrap/npm-shrinkwrap.json", {"name": "rag-service", "version": "0.2.0", "lockfileVersion": 3,
                                        "requires": True, "packages": v3_packages()})

# package-lock.json v2 carries both maps; the cataloger reads "packages".
v2 = {"name": "rag-service", "version": "0.2.0", "lockfileVersion": 2, "requires": True,
      "packages": v3_packages(), "dependencies": {
          "express": {"version": "4.18.2", "resolved": tarball("express", "4.18.2"),
                      "integrity": sri("express", "4.18.2"), "requires": {"debug": "2.6.9", "ms": "2.1.3"}}}}
dump("lock-v2/package-lock.json", v2)

# package-lock.json v1: nested dependencies and requires.
dump("lock-v1/package-lock.json", {
    "name": "old-bot", "version": "1.0.0", "lockfileVersion": 1, "requires": True,
    "dependencies": {
        "axios": {"version": "0.21.4", "resolved": tarball("axios", "0.21.4"),
                  "integrity": sri("axios", "0.21.4"), "requires": {"follow-redirects": "^1.14.0"}},
        "follow-redirects": {"version": "1.15.5", "resolved": tarball("follow-redirects", "1.15.5"),
                             "integrity": sri("follow-redirects", "1.15.5")},
        "debug": {"version": "4.3.4", "resolved": tarball("debug", "4.3.4"), "integrity": sri("debug", "4.3.4"),
                  "dev": True, "requires": {"ms": "2.1.2"},
                  "dependencies": {"ms": {"version": "2.1.2", "resolved": tarball("ms", "2.1.2"),
                                          "integrity": sri("ms", "2.1.2"), "dev": True}}},
        "left-pad": {"version": "github:stevemao/left-pad#5a4d3e2a1f0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d",
                     "from": "github:stevemao/left-pad"},
    }})

# yarn.lock v1 (classic).
def yentry(descs, name, version, deps=None, reg="https://registry.yarnpkg.com"):
    head = ", ".join(f'"{d}"' if d.startswith("@") or " " in d else d for d in descs) + ":"
    out = [head, f'  version "{version}"',
           f'  resolved "{tarball(name, version, reg)}#{hashlib.sha1(f"{name}@{version}".encode()).hexdigest()}"',
           f"  integrity {sri(name, version)}"]
    if deps:
        out.append("  dependencies:")
        for n, r in deps.items():
            q = f'"{n}"' if n.startswith("@") else n
            out.append(f'    {q} "{r}"')
    return "\n".join(out) + "\n"

write("yarn-v1/yarn.lock", "# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.\n# yarn lockfile v1\n\n\n" + "\n".join([
    yentry(["@anthropic-ai/sdk@^0.14.0"], "@anthropic-ai/sdk", "0.14.0", {"node-fetch": "^2.6.7", "@types/node": "^18.11.18"}),
    yentry(["@types/node@^18.11.18"], "@types/node", "18.19.14"),
    yentry(["node-fetch@^2.6.7", "node-fetch@^2.6.1"], "node-fetch", "2.7.0", {"whatwg-url": "^5.0.0"}),
    yentry(["whatwg-url@^5.0.0"], "whatwg-url", "5.0.0"),
    yentry(["private-lib@^1.2.0"], "private-lib", "1.2.3", reg="https://npm.internal.example"),
]))

# yarn berry.
def bentry(desc, name, version, deps=None):
    out = [f'"{desc}":', f"  version: {version}", f'  resolution: "{name}@npm:{version}"']
    if deps:
        out.append("  dependencies:")
        for n, r in deps.items():
            out.append(f'    {n}: "{r}"' if n.startswith("@") is False else f'    "{n}": "{r}"')
    out += [f"  checksum: 10c0/{hexsum(name, version)}", "  languageName: node", "  linkType: hard"]
    return "\n".join(out) + "\n"

write("yarn-berry/yarn.lock", "# This file is generated by running \"yarn install\" inside your project.\n# Manual changes might be lost - proceed with caution!\n\n__metadata:\n  version: 8\n  cacheKey: 10c0\n\n" + "\n".join([
    bentry("langchain@npm:^0.1.20", "langchain", "0.1.20", {"zod": "npm:^3.22.4"}),
    bentry("zod@npm:^3.22.3, zod@npm:^3.22.4", "zod", "3.22.4"),
    '"ai-app@workspace:.":\n  version: 0.0.0-use.local\n  resolution: "ai-app@workspace:."\n  dependencies:\n    langchain: "npm:^0.1.20"\n  languageName: unknown\n  linkType: soft\n',
]))

# pnpm-lock.yaml 5.4, 6.0 and 9.0.
write("pnpm-v5/pnpm-lock.yaml", f"""lockfileVersion: 5.4

specifiers:
  string_decoder: ^1.3.0
  react-dom: ^18.2.0

dependencies:
  string_decoder: 1.3.0
  react-dom: 18.2.0_react@18.2.0

packages:

  /string_decoder/1.3.0:
    resolution: {{integrity: {sri('string_decoder', '1.3.0')}}}
    dependencies:
      safe-buffer: 5.2.1
    dev: false

  /safe-buffer/5.2.1:
    resolution: {{integrity: {sri('safe-buffer', '5.2.1')}}}
    dev: false

  /react-dom/18.2.0_react@18.2.0:
    resolution: {{integrity: {sri('react-dom', '18.2.0')}}}
    peerDependencies:
      react: ^18.2.0
    dependencies:
      react: 18.2.0
    dev: false

  /react/18.2.0:
    resolution: {{integrity: {sri('react', '18.2.0')}}}
    dev: false
""")

write("pnpm-v6/pnpm-lock.yaml", f"""lockfileVersion: '6.0'

settings:
  autoInstallPeers: true
  excludeLinksFromLockfile: false

dependencies:
  '@xenova/transformers':
    specifier: ^2.15.0
    version: 2.15.0

devDependencies:
  typescript:
    specifier: ^5.3.3
    version: 5.3.3

packages:

  /@xenova/transformers@2.15.0:
    resolution: {{integrity: {sri('@xenova/transformers', '2.15.0')}}}
    dependencies:
      onnxruntime-web: 1.14.0
    dev: false

  /onnxruntime-web@1.14.0:
    resolution: {{integrity: {sri('onnxruntime-web', '1.14.0')}}}
    dev: false

  /typescript@5.3.3:
    resolution: {{integrity: {sri('typescript', '5.3.3')}}}
    engines: {{node: '>=14.17'}}
    hasBin: true
    dev: true
""")

write("pnpm-v9/pnpm-lock.yaml", f"""lockfileVersion: '9.0'

settings:
  autoInstallPeers: true
  excludeLinksFromLockfile: false

importers:

  .:
    dependencies:
      '@modelcontextprotocol/sdk':
        specifier: ^1.0.0
        version: 1.0.4
      use-sync:
        specifier: ^1.2.0
        version: 1.2.0(react@18.2.0)

packages:

  '@modelcontextprotocol/sdk@1.0.4':
    resolution: {{integrity: {sri('@modelcontextprotocol/sdk', '1.0.4')}}}

  raw-body@3.0.0:
    resolution: {{integrity: {sri('raw-body', '3.0.0')}}}

  react@18.2.0:
    resolution: {{integrity: {sri('react', '18.2.0')}}}

  use-sync@1.2.0:
    resolution: {{integrity: {sri('use-sync', '1.2.0')}}}
    peerDependencies:
      react: ^16.8.0 || ^17.0.0 || ^18.0.0

snapshots:

  '@modelcontextprotocol/sdk@1.0.4':
    dependencies:
      raw-body: 3.0.0

  raw-body@3.0.0: {{}}

  react@18.2.0: {{}}

  use-sync@1.2.0(react@18.2.0):
    dependencies:
      react: 18.2.0
""")

# Files that do not parse.
write("malformed-json/package.json", '{\n  "name": "broken",\n  "dependencies": {\n    "lodash": "^4.17.21",\n')
write("malformed-yarn/yarn.lock", "# yarn lockfile v1\n\n\nlodash@^4.17.21:\n  version \"4.17.21\"\n      resolved \"https://registry.yarnpkg.com/lodash/-/lodash-4.17.21.tgz\"\n")
write("malformed-pnpm/pnpm-lock.yaml", "lockfileVersion: '9.0'\npackages:\n  lodash@4.17.21: [unclosed\n")
write("malformed-lock/package-lock.json", '{"name": "x", "lockfileVersion": 3, "packages": {"node_modules/a": {"version": 3}}}\n')
