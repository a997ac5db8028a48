#!/usr/bin/python3
"""Writes pep440.tsv: how pypa/packaging orders versions and evaluates
specifier sets, for version's differential test.

Run from this directory with Debian's python3 (python3-packaging):
    /usr/bin/python3 gen_oracle.py
Lines: "rank<TAB>n<TAB>version" (equal versions share n) and
"spec<TAB>set<TAB>prereleases 0|1<TAB>space-separated versions contained".
"""
import sys

sys.path.insert(0, "/usr/lib/python3/dist-packages")
from packaging.specifiers import SpecifierSet  # noqa: E402
from packaging.version import Version  # noqa: E402

VERSIONS = """0.9.9 1.0 1.0.0 1.0.dev1 1.0a1 1.0a1.dev2 1.0a1.post1 1.0b1 1.0rc1
1.0c2 1.0.post1 1.0.post1.dev1 1.0-1 1.0+abc 1.0+abc.1 1.0+1 1.0+1.abc
1.0+abc.a 1!0.5 1.1 1.1.dev0 1.1a1 2.0 2.0.post1 1.0.0.0.1 1.0rc1.post1
1.0.dev1+loc 1.0a1+loc v1.0 1.0r2 1.0rev3 1.0_a_5 1.0.preview.1 1.01
2.0.0.0 1.0.POST2 1.0-dev 2!1.0""".split()

SPECS = ["", "~=1.0", "~=1.0.0", "==1.0", "==1.0.*", "==1.*", "!=1.0",
         "!=1.0.*", "<1.1", "<=1.0", "<1.0", "<2.0", ">1.0", ">=1.0",
         ">1.0.post0", ">=1.0a1", "<1.1a1", ">=1.0,<2.0", "==1.0+abc",
         "!=1.0+abc", "===1.0", "~=1.0a1", ">1.0rc1", ">0.9,!=1.0.post1",
         "<=2.0.dev0", "==2.0.*,>=1.5", "~=1.1.0.0"]

def main():
    out = []
    vs = sorted(VERSIONS, key=Version)
    rank = 0
    for i, v in enumerate(vs):
        if i and Version(vs[i - 1]) != Version(v):
            rank += 1
        out.append(f"rank\t{rank}\t{v}")
    for s in SPECS:
        ss = SpecifierSet(s)
        for pre in (None, True):
            hit = [v for v in VERSIONS if ss.contains(v, prereleases=pre)]
            out.append(f"spec\t{s}\t{int(bool(pre))}\t{' '.join(hit)}")
    with open("pep440.tsv", "w") as f:
        f.write("\n".join(out) + "\n")

main()
