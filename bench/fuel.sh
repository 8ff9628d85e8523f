#!/usr/bin/env bash
# The cost of instruction counting (`make bench-fuel`): each benchmark runs
# under a normal leonardo and under one built with -DLW_NO_FUEL, the two
# interleaved so that drift in the host's speed hits both alike.  One line
# per program,
#
#   bench fuel_cost_NAME PERCENT %
#
# then the mean and the largest.  The issue's budget is 5%.
#
# Each binary runs from COPIES (default 3) fresh copies of its file, BENCH_RUNS
# (default 3) times each: on the VM we measure on, two copies of one binary
# have run the same program up to 26% apart, every time (the physical pages
# its code landed on, presumably), so one file measures its own luck.  Each
# copy counts its best run, and each side the median of its copies.
#
#   bench/fuel.sh LEONARDO LEONARDO_NO_FUEL
set -euo pipefail

with=$1
without=$2
runs=${BENCH_RUNS:-3}
copies=${COPIES:-3}
here=$(cd "$(dirname "$0")" && pwd)
out=${BENCH_OUT:-build/bench}
mkdir -p "$out"
. "$here/common.sh"

bins=$(mktemp -d)
trap 'rm -rf "$bins"' EXIT
for ((c = 0; c < copies; c++)); do
    cp "$with" "$bins/with$c"
    cp "$without" "$bins/without$c"
done

worst=""
sum=0
n=0
for entry in "${programs[@]}"; do
    read -r name full _ <<<"$entry"
    clang --target=wasm32-wasi "${cflags[@]}" "$here/$name.c" -o "$out/$name.wasm"
    as=()
    bs=()
    for ((c = 0; c < copies; c++)); do
        a=""
        b=""
        for ((run = 0; run < runs; run++)); do
            t0=$(now)
            "$bins/with$c" run "$out/$name.wasm" "$full" >/dev/null
            t1=$(now)
            "$bins/without$c" run "$out/$name.wasm" "$full" >/dev/null
            t2=$(now)
            a=$(min "$a" "$(elapsed "$t0" "$t1")")
            b=$(min "$b" "$(elapsed "$t1" "$t2")")
        done
        as+=("$a")
        bs+=("$b")
    done
    a=$(printf '%s\n' "${as[@]}" | median)
    b=$(printf '%s\n' "${bs[@]}" | median)
    pct=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%+.1f", (a / b - 1) * 100 }')
    echo "bench fuel_cost_$name $pct %    # $a s with, $b s without (copies with: ${as[*]}; without: ${bs[*]})"
    worst=$(awk -v w="$worst" -v p="$pct" 'BEGIN { print (w == "" || p + 0 > w + 0) ? p : w }')
    sum=$(awk -v s="$sum" -v p="$pct" 'BEGIN { print s + p }')
    n=$((n + 1))
done
awk -v s="$sum" -v n="$n" 'BEGIN { printf "bench fuel_cost_mean %+.1f %%\n", s / n }'
echo "bench fuel_cost_max $worst %"
