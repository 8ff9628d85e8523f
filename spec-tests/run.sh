#!/bin/sh
# Run the official spec test suite: every $WASM_TESTSUITE/2.0/*.wast file
# through `leonardo wast`, one process per file so that one crash cannot
# hide the others.
#
#   spec-tests/run.sh [EXTRA WAST ARGS...]      e.g. spec-tests/run.sh --fuel-slice 3
#
# Environment: WASM_TESTSUITE (default ../shared/wasm-testsuite, from the
# repository root), LEONARDO (default ./leonardo), SPEC_VERBOSE=1 to show
# every failure line (by default at most 10 per file).
#
# Requirement, until SIMD is implemented: every non-simd file passes, and
# every simd_* file either passes or is refused cleanly (exit status 1,
# no crash: no signal, no sanitizer report).  Exit status 0 when it holds.

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
suite=${WASM_TESTSUITE:-../shared/wasm-testsuite}/2.0
leonardo=${LEONARDO:-./leonardo}

if [ ! -d "$suite" ]; then
    echo "spec: no test suite at $suite (set WASM_TESTSUITE)"
    exit 2
fi
if [ ! -x "$leonardo" ]; then
    echo "spec: $leonardo is not built"
    exit 2
fi

tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM
# Run a private copy, so that a rebuild during the run cannot pull the binary away.
cp "$leonardo" "$tmp/leonardo" || exit 2
leonardo=$tmp/leonardo

# First the runner itself: a script that must pass and one whose every
# assertion must fail, so a runner that passes everything cannot go unseen.
self=spec-tests/runner
"$leonardo" wast "$@" "$self/pass.wast" >"$tmp/out" 2>&1
rc=$?
want_fail=$(grep -c '^(' "$self/fail.wast")
"$leonardo" wast "$@" "$self/fail.wast" >"$tmp/out2" 2>&1
rc2=$?
if [ "$rc" != 0 ] || [ "$rc2" != 1 ] ||
   ! tail -n 1 "$tmp/out2" | grep -q ": 1 passed, $want_fail failed$"; then
    cat "$tmp/out"
    tail -n 1 "$tmp/out2"
    echo "spec: the runner's self-check failed (want 1 passed, $want_fail failed in fail.wast)"
    exit 1
fi
echo "spec: runner self-check ok"

files=0 passed=0 failed=0
plain_n=0 plain_m=0   # assertion counts of the non-simd files
bad_files=""          # files that break the requirement
simd_refused=0 simd_passed=0 plain_passed=0 plain_files=0

for f in "$suite"/*.wast; do
    files=$((files + 1))
    name=$(basename "$f")
    "$leonardo" wast "$@" "$f" >"$tmp/out" 2>"$tmp/err"
    rc=$?

    # The last line is "FILE: N passed, M failed" unless the run died.
    summary=$(tail -n 1 "$tmp/out")
    n=$(printf '%s\n' "$summary" | sed -n 's/.*: \([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed$/\1/p')
    m=$(printf '%s\n' "$summary" | sed -n 's/.*: \([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed$/\2/p')
    crashed=0
    if [ "$rc" -ge 128 ] || [ -z "$n" ] ||
       grep -q -e 'AddressSanitizer' -e 'LeakSanitizer' -e 'runtime error:' "$tmp/err"; then
        crashed=1
    fi
    if [ -n "$n" ]; then
        passed=$((passed + n))
        failed=$((failed + m))
    fi

    case "$name" in
    simd_*)
        if [ "$crashed" = 1 ] || { [ "$rc" != 0 ] && [ "$rc" != 1 ]; }; then
            echo "$name: CRASH or bad exit status $rc"
            bad_files="$bad_files $name"
        elif [ "$rc" = 0 ]; then
            simd_passed=$((simd_passed + 1))
            echo "$summary"
        else
            simd_refused=$((simd_refused + 1))
            echo "$summary (refused: SIMD)"
        fi
        ;;
    *)
        plain_files=$((plain_files + 1))
        plain_n=$((plain_n + ${n:-0}))
        plain_m=$((plain_m + ${m:-0}))
        if [ "$rc" = 0 ] && [ "$crashed" = 0 ]; then
            plain_passed=$((plain_passed + 1))
            echo "$summary"
        else
            if [ "${SPEC_VERBOSE:-0}" = 1 ]; then
                grep ': FAIL' "$tmp/out"
            else
                grep ': FAIL' "$tmp/out" | head -n 10
            fi
            if [ "$crashed" = 1 ]; then
                echo "$name: CRASH (exit status $rc)"
                grep -m 5 -e 'AddressSanitizer' -e 'runtime error:' -e 'SUMMARY' "$tmp/err"
            else
                echo "$summary"
            fi
            bad_files="$bad_files $name"
        fi
        ;;
    esac
done

echo "spec: $files files, $passed passed, $failed failed"
echo "spec: $plain_passed/$plain_files non-simd files pass ($plain_n passed, $plain_m failed);" \
     "simd files: $simd_passed pass, $simd_refused refused cleanly"
if [ -n "$bad_files" ]; then
    echo "spec: FAILED:$bad_files"
    exit 1
fi
exit 0
