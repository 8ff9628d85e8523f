# Shared by bench/run.sh and bench/fuel.sh (sourced).

# name, full-size argument, quick argument
programs=(
    "fib 42 20"
    "sieve 40 1"
    "nbody 10000000 1000"
    "hash 120 1"
    "sort 8000000 10000"
)

# IEEE arithmetic is exact on both sides only without fused multiply-add.
cflags=(-O2 -ffp-contract=off)

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b < a) ? b : a }'; }
