#!/bin/sh
# bench.sh measures chainvet lock and verify against OpenSSL's SHA-256 run
# in parallel over the same files, both with a warm page cache.
#
#   internal/lock/bench.sh [DIR] [GB]
#
# It generates DIR (default /tmp/chainvet-bench, ~GB gigabytes, default 8:
# four large files making 3/4 of it and 2000 small ones), runs each
# contender twice and reports the second run, then deletes DIR. Run it from
# the repository root; it builds the chainvet binary first.
set -eu
dir=${1:-/tmp/chainvet-bench}
gb=${2:-8}
tmp=$(mktemp -d)
bin=${CHAINVET:-$tmp/chainvet} # CHAINVET: a binary already built
[ -n "${CHAINVET:-}" ] || go build -o "$bin" ./cmd/chainvet
rm -rf "$dir"
mkdir -p "$dir/models" "$dir/data"
/usr/bin/python3 - "$dir" "$gb" <<'PY'
import os, sys
d, gb = sys.argv[1], float(sys.argv[2])
block = os.urandom(64 << 20)
big = int(gb * 1e9 * 3 / 4 / 4)
for i in range(4):
    with open(f"{d}/models/model-{i+1:05d}-of-00004.bin", "wb") as f:
        left = big
        while left > 0:
            n = min(left, len(block))
            f.write(block[:n])
            left -= n
small = int(gb * 1e9 / 4 / 2000)
for i in range(2000):
    with open(f"{d}/data/part-{i:04d}.bin", "wb") as f:
        f.write(os.urandom(64) + block[i % 1000 : i % 1000 + small - 64])
PY
now() { date +%s.%N; }
rate() { echo "$bytes $1 $2" | awk '{printf "%.2f GB/s (%.2f s)", $1/($3-$2)/1e9, $3-$2}'; }
run() { # name command...
	name=$1
	shift
	"$@" >/dev/null 2>&1 || true # warm the cache
	t0=$(now)
	status=0
	"$@" >/dev/null 2>&1 || status=$?
	t1=$(now)
	echo "$name: $(rate "$t0" "$t1"), exit $status"
}
n=$(nproc)
bytes=$(du -sb "$dir" | cut -f1)
echo "whole tree: $(find "$dir" -type f | wc -l) files, $bytes bytes, $n cpus, load $(cut -d' ' -f1 /proc/loadavg)"
run "openssl dgst -sha256, xargs -P$n" sh -c "find '$dir' -type f -print0 | xargs -0 -P$n -n1 openssl dgst -sha256"
run "chainvet lock --all-files" "$bin" lock --all-files --allow-unpinned "$dir"
run "chainvet verify" "$bin" verify "$dir"
run "chainvet lock --all-files --shards" "$bin" lock --all-files --shards --allow-unpinned "$dir"
run "chainvet verify (shards)" "$bin" verify "$dir"
# The large files alone: hashing, without process start-up or scanning.
bytes=$(du -sb "$dir/models" | cut -f1)
echo "large files only: $(find "$dir/models" -type f | wc -l) files, $bytes bytes"
run "openssl dgst -sha256, xargs -P$n" sh -c "find '$dir/models' -type f -print0 | xargs -0 -P$n -n1 openssl dgst -sha256"
run "chainvet lock --all-files" "$bin" lock --all-files --allow-unpinned "$dir/models"
run "chainvet verify" "$bin" verify "$dir/models"
rm -rf "$dir" "$tmp"
