#!/usr/bin/env python3
"""Writes the inputs of chainvet's advisory benchmark into OUT (not committed).

    python3 gen.py OUT [PYPI_RECORDS [NPM_RECORDS]]

OUT/PyPI-all.zip and OUT/npm-all.zip are OSV exports shaped like the public
ones (GHSA records with CVSS vectors, ranges and aliases; PYSEC records;
MAL- records with version lists), sized by default like the public exports
of 2025 (about 22,000 PyPI and 215,000 npm records, most of them MAL-).
Package names come from the committed popular-package lists, so matches
happen at a realistic rate. OUT/tree holds a 5,000-pin requirements.txt
(with hashes) and a 5,000-package package-lock.json over the same names.

The records are synthetic: the public exports cannot be downloaded from the
machines this was written on. Real ones differ in text, not in shape.
"""
import hashlib
import json
import os
import random
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
LISTS = os.path.join(HERE, "..", "..", "..", "internal", "rules", "typosquat")
CVSS = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
DETAILS = ("A synthetic advisory body for the benchmark. " * 30).strip()


def names(eco):
    with open(os.path.join(LISTS, "pypi.txt" if eco == "PyPI" else "npm.txt")) as f:
        return [l.strip() for l in f if l.strip() and not l.startswith("#")]


def record(eco, i, popular, rnd):
    # Ids are unique across the two exports, as real ones are.
    i += 0 if eco == "PyPI" else 1 << 20
    kind = rnd.random()
    stamp = "2025-%02d-%02dT00:00:00Z" % (rnd.randint(1, 12), rnd.randint(1, 28))
    if kind < (0.66 if eco == "PyPI" else 0.97):
        # Malicious packages: mostly unpopular names, one or two versions.
        name = "%s-%s%d" % (rnd.choice(popular), rnd.choice(["dev", "utils", "x", "py"]), i)
        rid = "MAL-2025-%d" % i
        return rid, {
            "id": rid, "modified": stamp, "published": stamp,
            "summary": "Malicious code in %s (%s)" % (name, eco), "details": DETAILS,
            "affected": [{"package": {"ecosystem": eco, "name": name},
                          "versions": ["1.0.%d" % v for v in range(rnd.randint(1, 3))]}],
            "database_specific": {"malicious-packages-origins": [{"source": "bench", "sha256": hashlib.sha256(name.encode()).hexdigest()}]},
        }
    # Vulnerabilities: popular names, ranges with a fix.
    name = popular[int(rnd.paretovariate(1.2)) % len(popular)]
    major = rnd.randint(0, 5)
    rid = ("GHSA-%04x-%04x-%04x" % (i >> 16, i & 0xffff, (i * 13) % 65536)) if rnd.random() < 0.6 else "PYSEC-2025-%d" % i
    return rid, {
        "id": rid, "modified": stamp, "published": stamp,
        "aliases": ["CVE-2025-%d" % (10000 + i)],
        "summary": "Synthetic vulnerability %d in %s" % (i, name), "details": DETAILS,
        "severity": [{"type": "CVSS_V3", "score": CVSS}],
        "affected": [{"package": {"ecosystem": eco, "name": name},
                      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "%d.0.0" % major}, {"fixed": "%d.%d.1" % (major, rnd.randint(0, 9))}]}],
                      "versions": ["%d.0.0" % major]}],
        "database_specific": {"severity": "HIGH"},
    }


def export(path, eco, n, rnd):
    popular = names(eco)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for i in range(n):
            rid, rec = record(eco, i, popular, rnd)
            z.writestr(rid + ".json", json.dumps(rec, indent=2))


def tree(out, rnd):
    os.makedirs(out, exist_ok=True)
    pypi = names("PyPI")[:5000]
    with open(os.path.join(out, "requirements.txt"), "w") as f:
        for n in pypi:
            f.write("%s==%d.%d.%d --hash=sha256:%s\n" % (n, rnd.randint(0, 5), rnd.randint(0, 9), rnd.randint(0, 3),
                                                    hashlib.sha256(n.encode()).hexdigest()))
    npm = names("npm")[:5000]
    pkgs = {"": {"name": "bench", "version": "1.0.0", "dependencies": {n: "^1.0.0" for n in npm[:200]}}}
    for i, n in enumerate(npm):
        pkgs["node_modules/" + n] = {"version": "%d.%d.%d" % (rnd.randint(0, 5), rnd.randint(0, 9), rnd.randint(0, 3)),
                                     "resolved": "https://registry.npmjs.org/%s/-/x.tgz" % n,
                                     "integrity": "sha512-" + "A" * 86 + "==",
                                     **({} if i < 200 else {"dev": False})}
    with open(os.path.join(out, "package-lock.json"), "w") as f:
        json.dump({"name": "bench", "version": "1.0.0", "lockfileVersion": 3, "requires": True, "packages": pkgs}, f, indent=2)
    with open(os.path.join(out, "package.json"), "w") as f:
        json.dump({"name": "bench", "version": "1.0.0", "dependencies": pkgs[""]["dependencies"]}, f, indent=2)


def main():
    out = sys.argv[1]
    n_pypi = int(sys.argv[2]) if len(sys.argv) > 2 else 22000
    n_npm = int(sys.argv[3]) if len(sys.argv) > 3 else 215000
    rnd = random.Random(5)
    os.makedirs(out, exist_ok=True)
    export(os.path.join(out, "PyPI-all.zip"), "PyPI", n_pypi, rnd)
    export(os.path.join(out, "npm-all.zip"), "npm", n_npm, rnd)
    tree(os.path.join(out, "tree"), rnd)


if __name__ == "__main__":
    main()
