#!/usr/bin/env bash
# WASI file I/O: bench/wasi_copy.c copies a file (COPY_MB MiB, default 256,
# in the page cache after the first run) natively and under leonardo, and
# prints the time of each, their ratio and the throughputs:
#
#   bench wasi_copy LEONARDO_SECONDS NATIVE_SECONDS RATIO    # MiB/s ...
#   bench wasi_copy_busy ...  the same with a computing process sharing the
#                             one worker (--threads 1): the file I/O then
#                             goes to the I/O threads
#
#   bench/wasi_copy.sh [LEONARDO]
set -euo pipefail
leonardo=${1:-./leonardo}
runs=${BENCH_RUNS:-3}
mb=${COPY_MB:-256}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
out=${BENCH_OUT:-build/bench}
mkdir -p "$out"
. "$here/common.sh"

clang "${cflags[@]}" "$here/wasi_copy.c" -o "$out/wasi_copy"
clang --target=wasm32-wasi "${cflags[@]}" -I "$root/include" "$here/wasi_copy.c" -o "$out/wasi_copy.wasm"
src="$out/copy_src.bin"
if [ ! -f "$src" ] || [ "$(stat -c %s "$src")" -ne $((mb * 1048576)) ]; then
    head -c $((mb * 1048576)) /dev/urandom >"$src"
fi

native="" leo="" busy=""
for ((run = 0; run < runs; run++)); do
    t0=$(now)
    "$out/wasi_copy" "$src" "$out/copy_native.bin" >"$out/copy.native.out"
    t1=$(now)
    "$leonardo" run --dir "$out::." "$out/wasi_copy.wasm" copy_src.bin copy_leo.bin >"$out/copy.leonardo.out"
    t2=$(now)
    "$leonardo" run --threads 1 --dir "$out::." "$out/wasi_copy.wasm" copy_src.bin copy_busy.bin busy \
        >"$out/copy.busy.out" 2>/dev/null
    t3=$(now)
    for f in leonardo busy; do
        if ! cmp -s "$out/copy.native.out" "$out/copy.$f.out" || ! cmp -s "$src" "$out/copy_$( [ $f = leonardo ] && echo leo || echo busy).bin"; then
            echo "bench wasi_copy FAILED: the $f copy differs" >&2
            exit 1
        fi
    done
    native=$(min "$native" "$(elapsed "$t0" "$t1")")
    leo=$(min "$leo" "$(elapsed "$t1" "$t2")")
    busy=$(min "$busy" "$(elapsed "$t2" "$t3")")
done
rm -f "$out/copy_native.bin" "$out/copy_leo.bin" "$out/copy_busy.bin"
line() {
    awk -v name="$1" -v l="$2" -v n="$3" -v mb="$mb" -v note="$4" 'BEGIN {
        printf "bench %s %.3f %.3f %.2f    # %.0f MiB/s against %.0f MiB/s native%s\n",
               name, l, n, (n > 0 ? l / n : 0), (l > 0 ? mb / l : 0), (n > 0 ? mb / n : 0), note }'
}
line wasi_copy "$leo" "$native" ""
line wasi_copy_busy "$busy" "$native" ", with a process computing on the same worker"
