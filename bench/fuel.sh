#!/usr/bin/env bash
# The cost of instruction counting (`make bench-fuel`): each benchmark runs
# under a normal leonardo and under one built with -DLW_NO_FUEL, the two
# interleaved so that drift in the host's speed hits both alike.  The best
# of BENCH_RUNS (default 5) runs counts on each side.  One line per program,
#
#   bench fuel_cost_NAME PERCENT %
#
# then the largest.  The issue's budget is 5%.
#
#   bench/fuel.sh LEONARDO LEONARDO_NO_FUEL
set -euo pipefail

with=$1
without=$2
runs=${BENCH_RUNS:-5}
here=$(cd "$(dirname "$0")" && pwd)
out=${BENCH_OUT:-build/bench}
mkdir -p "$out"
. "$here/common.sh"

worst=""
for entry in "${programs[@]}"; do
    read -r name full _ <<<"$entry"
    clang --target=wasm32-wasi "${cflags[@]}" "$here/$name.c" -o "$out/$name.wasm"
    a=""
    b=""
    for ((run = 0; run < runs; run++)); do
        t0=$(now)
        "$with" run "$out/$name.wasm" "$full" >/dev/null
        t1=$(now)
        "$without" run "$out/$name.wasm" "$full" >/dev/null
        t2=$(now)
        a=$(min "$a" "$(elapsed "$t0" "$t1")")
        b=$(min "$b" "$(elapsed "$t1" "$t2")")
    done
    pct=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%+.1f", (a / b - 1) * 100 }')
    echo "bench fuel_cost_$name $pct %    # $a s with, $b s without"
    worst=$(awk -v w="$worst" -v p="$pct" 'BEGIN { print (w == "" || p + 0 > w + 0) ? p : w }')
done
echo "bench fuel_cost_max $worst %"
