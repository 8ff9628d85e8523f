# Shared by the bench/*.sh scripts (sourced).

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
# The median of the numbers on stdin, one a line.
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
