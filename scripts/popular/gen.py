#!/usr/bin/env python3
"""Regenerate the popular-package lists that internal/rules/typosquat embeds.

Usage: gen.py PYPI_TSV NPM_TSV [OUTDIR]

PYPI_TSV has a header with columns name and rank_among_15000_most_downloaded;
NPM_TSV has a header with columns name and downloads_a_month. Each output file
holds one name a line, most popular first, so a name's rank is its line
number. PyPI names are PEP 503-normalised. Standard library only.
"""

import csv
import os
import re
import sys

# TOP is how many names each list keeps: enough to cover what real projects
# depend on, few enough that the embedded lists stay small (~60 KB each).
TOP = 5000


def pep503(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        yield from csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)


def top(pairs):
    """pairs: (sort key, name); returns up to TOP unique names in key order."""
    out, seen = [], set()
    for _, name in sorted(pairs):
        if name and name not in seen:
            seen.add(name)
            out.append(name)
            if len(out) == TOP:
                break
    return out


def pypi(path):
    pairs = []
    for r in rows(path):
        rank = (r.get("rank_among_15000_most_downloaded") or "").strip()
        if rank.isdigit():
            pairs.append(((int(rank), pep503(r["name"])), pep503(r["name"])))
    return top(pairs)


def npm(path):
    pairs = []
    for r in rows(path):
        n = (r.get("downloads_a_month") or "").strip()
        if n.isdigit():
            pairs.append(((-int(n), r["name"]), r["name"].strip().lower()))
    return top(pairs)


def write(path, names):
    with open(path, "w", encoding="utf-8") as f:
        for n in names:
            f.write(n + "\n")


def main(argv):
    if len(argv) not in (3, 4):
        sys.exit(__doc__)
    out = argv[3] if len(argv) == 4 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "internal", "rules", "typosquat")
    write(os.path.join(out, "pypi.txt"), pypi(argv[1]))
    write(os.path.join(out, "npm.txt"), npm(argv[2]))


if __name__ == "__main__":
    main(sys.argv)
