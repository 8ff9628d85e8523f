#!/usr/bin/env bash
# Run every test of `make check` and end with one summary.
#
#   tools/check.sh --leonardo PATH --spec 0|1 TESTPROGRAM...
#
# Each step runs to the end even when an earlier one failed, so one report
# shows everything that is wrong.  The last line is "check: N passed, M
# failed", counting steps (test programs and suites).
set -uo pipefail

leonardo=./leonardo
spec=1
while [ $# -gt 0 ]; do
    case $1 in
        --leonardo) leonardo=$2; shift 2 ;;
        --spec) spec=$2; shift 2 ;;
        *) break ;;
    esac
done

logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT
names=()
verdicts=()
summaries=()

# step NAME SUMMARY-REGEX COMMAND...: run, show the output, remember the verdict.
step() {
    local name=$1 pattern=$2
    shift 2
    local log="$logdir/${#names[@]}.log"
    echo "---- $name"
    "$@" 2>&1 | tee "$log"
    local rc=${PIPESTATUS[0]}
    local summary
    summary=$(grep -E "$pattern" "$log" | tail -n 3 | tr '\n' ' ')
    [ -n "$summary" ] || summary=$(tail -n 1 "$log")
    names+=("$name")
    summaries+=("$summary")
    if [ "$rc" -eq 0 ]; then verdicts+=(PASS); else verdicts+=("FAIL (exit $rc)"); fi
}

for t in "$@"; do
    step "$(basename "$t")" '^[0-9]+%: Checks:' "$t"
done

step test_cli.sh 'passed, [0-9]+ failed' bash tests/test_cli.sh "$leonardo"

if [ "$spec" = 1 ]; then
    if grep -q '^spec:' GNUmakefile; then
        step "make spec" '^spec:' make --no-print-directory spec
    else
        echo "---- make spec: no spec target yet, skipped"
    fi
fi

echo
echo "==== make check summary"
pass=0
fail=0
for i in "${!names[@]}"; do
    printf '%-28s %-14s %s\n' "${names[$i]}" "${verdicts[$i]}" "${summaries[$i]}"
    if [ "${verdicts[$i]}" = PASS ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
done
if [ "$fail" -eq 0 ]; then
    echo "==== OVERALL: PASS"
else
    echo "==== OVERALL: FAIL"
fi
echo "check: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
