#!/usr/bin/env bash
# The C benchmarks: each bench/NAME.c is built natively (clang -O2) and for
# wasm32-wasi, both are run, their outputs (which end in a checksum) must
# agree, and one line is printed per program:
#
#   bench NAME LEONARDO_SECONDS NATIVE_SECONDS RATIO
#
# then `bench geomean RATIO`.  Sizes are set so native takes about 0.5-1 s.
# Each side runs from COPIES (default 3) fresh copies of its binary,
# BENCH_RUNS times (default 3) each.  A copy counts its fastest run, since
# other work on the machine only ever adds time, and a side the median of
# its copies: two copies of one binary can run a program 26% apart, every
# time (README.md, "Performance"), so a single file measures its luck.
#
#   bench/run.sh [--quick] [LEONARDO]
#
# --quick runs tiny sizes once: a correctness check of real wasi-libc
# programs under leonardo (the CLI tests use it), not a measurement.
set -euo pipefail

quick=0
if [ "${1:-}" = --quick ]; then
    quick=1
    shift
fi
leonardo=${1:-./leonardo}
runs=${BENCH_RUNS:-3}
copies=${COPIES:-3}
[ "$quick" = 1 ] && runs=1 && copies=1
here=$(cd "$(dirname "$0")" && pwd)
out=${BENCH_OUT:-build/bench}
mkdir -p "$out"

. "$here/common.sh"

bins=$(mktemp -d)
trap 'rm -rf "$bins"' EXIT
for ((c = 0; c < copies; c++)); do
    cp "$leonardo" "$bins/leonardo$c"
done

ratios=()
failed=0
for entry in "${programs[@]}"; do
    read -r name full small <<<"$entry"
    arg=$full
    [ "$quick" = 1 ] && arg=$small
    clang "${cflags[@]}" "$here/$name.c" -o "$out/$name" -lm
    clang --target=wasm32-wasi "${cflags[@]}" "$here/$name.c" -o "$out/$name.wasm"

    natives=()
    leos=()
    status=0
    bad=0
    for ((c = 0; c < copies && bad == 0; c++)); do
        cp "$out/$name" "$bins/$name$c"
        native=""
        leo=""
        for ((run = 0; run < runs; run++)); do
            t0=$(now)
            "$bins/$name$c" "$arg" >"$out/$name.native.out"
            t1=$(now)
            "$bins/leonardo$c" run "$out/$name.wasm" "$arg" >"$out/$name.leonardo.out" 2>"$out/$name.leonardo.err" || status=$?
            t2=$(now)
            if [ "$status" -ne 0 ] || ! cmp -s "$out/$name.native.out" "$out/$name.leonardo.out"; then
                bad=1
                break
            fi
            native=$(min "$native" "$(elapsed "$t0" "$t1")")
            leo=$(min "$leo" "$(elapsed "$t1" "$t2")")
        done
        natives+=("$native")
        leos+=("$leo")
    done
    native=$(printf '%s\n' "${natives[@]}" | median)
    leo=$(printf '%s\n' "${leos[@]}" | median)

    if [ "$bad" -ne 0 ]; then
        echo "bench $name FAILED (exit $status): native printed:" >&2
        cat "$out/$name.native.out" >&2
        echo "leonardo printed:" >&2
        cat "$out/$name.leonardo.out" "$out/$name.leonardo.err" >&2
        failed=$((failed + 1))
        continue
    fi
    ratio=$(awk -v l="$leo" -v n="$native" 'BEGIN { printf "%.2f", (n > 0 ? l / n : 0) }')
    ratios+=("$ratio")
    echo "bench $name $leo $native $ratio    # $(tail -n 1 "$out/$name.native.out")"
done

if [ "${#ratios[@]}" -gt 0 ]; then
    printf '%s\n' "${ratios[@]}" |
        awk '$1 > 0 { s += log($1); n++ } END { if (n) printf "bench geomean %.2f\n", exp(s / n) }'
fi
if [ "$failed" -gt 0 ]; then
    echo "bench: $failed program(s) failed" >&2
    exit 1
fi
