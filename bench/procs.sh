#!/usr/bin/env bash
# Process benchmarks (`make bench` runs them after the C programs), one
# line each:
#
#   bench NAME VALUE UNIT
#
#   spawn_exit_ns               spawn plus exit of a process of a small module, one at a time
#   pingpong_rtt_ns             a message there and back between two processes
#   yield_ns                    a yield with nothing else to run (it goes straight on)
#   yield_switch_ns             a yield to another yielding process and back, on one worker
#   send_after_ns               a send_after timer set, fired and received, 100,000 pending at once
#   procs_1m_rss_kib_per_proc   RSS / N with 1,000,000 processes each waiting in receive
#   preempt_overhead_pct        a compute loop under leonardo against a build without
#                               instruction counting (so without preemption either)
#   scale_compute_x             the speedup of 64 computing processes on every core
#                               (--threads $(nproc), the default) over one worker
#   scale_pingpong_x            the same for 64 ping-pong pairs
#
# Each timed figure is the median of BENCH_RUNS (default 5) runs of
# bench/procs.wat, which times itself; see that file for what each mode does.
#
#   bench/procs.sh LEONARDO [LEONARDO_NO_FUEL]
set -euo pipefail

leo=$1
nofuel=${2:-}
runs=${BENCH_RUNS:-5}
here=$(cd "$(dirname "$0")" && pwd)
wat=$here/procs.wat

. "$here/common.sh"

# per_op NAME MODE N: the median of the runs' nanoseconds, divided by N.
per_op() {
    local name=$1 mode=$2 n=$3
    local ns
    ns=$(for ((i = 0; i < runs; i++)); do "$leo" run "$wat" "$mode" "$n"; done | median)
    awk -v name="$name" -v ns="$ns" -v n="$n" 'BEGIN { printf "bench %s %.1f ns\n", name, ns / n }'
}

per_op spawn_exit_ns 1 20000
per_op pingpong_rtt_ns 2 200000
per_op yield_ns 3 2000000
# One worker, so that the two processes really take turns.
per_op_threads1() {
    local ns
    ns=$(for ((i = 0; i < runs; i++)); do "$leo" run --threads 1 "$wat" 6 "$1"; done | median)
    awk -v ns="$ns" -v n="$1" 'BEGIN { printf "bench yield_switch_ns %.1f ns\n", ns / n }'
}
per_op_threads1 1000000
per_op send_after_ns 8 100000

n=1000000
kib=$(/usr/bin/time -f %M "$leo" run "$wat" 4 "$n" 2>&1 >/dev/null | tail -n 1)
awk -v kib="$kib" -v n="$n" 'BEGIN { printf "bench procs_1m_rss_kib_per_proc %.2f KiB\n", kib / n }'

if [ -n "$nofuel" ]; then
    loop=300000000
    with=$(for ((i = 0; i < runs; i++)); do "$leo" run "$wat" 5 "$loop"; done | median)
    without=$(for ((i = 0; i < runs; i++)); do "$nofuel" run "$wat" 5 "$loop"; done | median)
    awk -v a="$with" -v b="$without" 'BEGIN { printf "bench preempt_overhead_pct %.1f %%\n", (a / b - 1) * 100 }'
fi

# scale NAME MODE N: the median time on one worker over the median on all.
scale() {
    local name=$1 mode=$2 n=$3
    local one all
    one=$(for ((i = 0; i < runs; i++)); do "$leo" run --threads 1 "$wat" "$mode" "$n"; done | median)
    all=$(for ((i = 0; i < runs; i++)); do "$leo" run "$wat" "$mode" "$n"; done | median)
    awk -v name="$name" -v a="$one" -v b="$all" -v c="$(nproc)" \
        'BEGIN { printf "bench %s %.2f x    # %d workers against 1\n", name, a / b, c }'
}
scale scale_compute_x 9 640000000
scale scale_pingpong_x 10 6400000
