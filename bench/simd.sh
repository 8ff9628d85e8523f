#!/usr/bin/env bash
# SIMD: bench/simd.c (a byte scan and a dot product) built twice for
# wasm32-wasi, with wasm SIMD intrinsics (-msimd128) and as scalar C
# (-DSCALAR), both run under leonardo (best of BENCH_RUNS, default 3):
#
#   bench simd SIMD_SECONDS SCALAR_SECONDS SPEEDUP   # the SIMD build against the scalar one
#
#   bench/simd.sh [LEONARDO]
set -euo pipefail
leonardo=${1:-./leonardo}
runs=${BENCH_RUNS:-3}
rounds=${SIMD_ROUNDS:-150}
here=$(cd "$(dirname "$0")" && pwd)
out=${BENCH_OUT:-build/bench}
mkdir -p "$out"
. "$here/common.sh"

clang --target=wasm32-wasi "${cflags[@]}" -msimd128 "$here/simd.c" -o "$out/simd_vector.wasm"
clang --target=wasm32-wasi "${cflags[@]}" -DSCALAR "$here/simd.c" -o "$out/simd_scalar.wasm"
vec="" sca=""
for ((run = 0; run < runs; run++)); do
    t0=$(now)
    "$leonardo" run "$out/simd_vector.wasm" "$rounds" >"$out/simd.vector.out"
    t1=$(now)
    "$leonardo" run "$out/simd_scalar.wasm" "$rounds" >"$out/simd.scalar.out"
    t2=$(now)
    if ! cmp -s "$out/simd.vector.out" "$out/simd.scalar.out"; then
        echo "bench simd FAILED: the SIMD build printed $(cat "$out/simd.vector.out"), the scalar one $(cat "$out/simd.scalar.out")" >&2
        exit 1
    fi
    vec=$(min "$vec" "$(elapsed "$t0" "$t1")")
    sca=$(min "$sca" "$(elapsed "$t1" "$t2")")
done
awk -v v="$vec" -v s="$sca" 'BEGIN { printf "bench simd %.3f %.3f %.2f    # SIMD build, scalar build, speedup\n", v, s, (v > 0 ? s / v : 0) }'
