#!/bin/sh
# bench.sh measures signing a model folder (chainvet's model signing:
# hashing every file, then one signature) against OpenSSL's SHA-256 run in
# parallel over the same files, with a warm page cache.
#
#   internal/attest/modelsig/bench.sh [DIR] [GB]
#
# It generates DIR (default /tmp/chainvet-modelsig-bench, ~GB gigabytes,
# default 8: four large files making 3/4 of it and 2000 small ones), runs
# OpenSSL once to warm the cache and once timed, then the Go benchmark
# (files and shards serialization), and deletes DIR. Run it from the
# repository root.
set -eu
dir=${1:-/tmp/chainvet-modelsig-bench}
gb=${2:-8}
rm -rf "$dir"
mkdir -p "$dir"
/usr/bin/python3 - "$dir" "$gb" <<'PY'
import os, sys
d, gb = sys.argv[1], float(sys.argv[2])
block = os.urandom(64 << 20)
big = int(gb * 1e9 * 3 / 4 / 4)
for i in range(4):
    with open(f"{d}/model-{i+1:05d}-of-00004.bin", "wb") as f:
        left = big
        while left > 0:
            n = min(left, len(block))
            f.write(block[:n])
            left -= n
small = int(gb * 1e9 / 4 / 2000)
os.mkdir(f"{d}/data")
for i in range(2000):
    with open(f"{d}/data/part-{i:04d}.bin", "wb") as f:
        f.write(os.urandom(64) + block[i % 1000 : i % 1000 + small - 64])
PY
bytes=$(du -sb "$dir" | cut -f1)
ncpu=$(nproc)
# The large files one per process, so that they too spread over the cores.
openssl_run() {
	find "$dir" -maxdepth 1 -type f -print0 | xargs -0 -P "$ncpu" -n 1 openssl dgst -sha256 >/dev/null
	find "$dir/data" -type f -print0 | xargs -0 -P "$ncpu" -n 64 openssl dgst -sha256 >/dev/null
}
openssl_run
t0=$(date +%s.%N)
openssl_run
t1=$(date +%s.%N)
echo "$bytes $t0 $t1 $ncpu" | awk '{printf "openssl dgst -sha256, %d parallel: %.2f GB/s (%.2f s, %.2f GB)\n", $4, $1/($3-$2)/1e9, $3-$2, $1/1e9}'
CHAINVET_BENCH_MODEL=$dir go test -run '^$' -bench BenchmarkSign -benchtime 2x ./internal/attest/modelsig/
rm -rf "$dir"
