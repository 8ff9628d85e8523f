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
# Requirement: every file passes, all 148 of them (the 58 simd_* files
# included), with no crash (no signal, no sanitizer report).  Exit status 0
# when it holds.
#
# Then, where the suite has them, the 3.0 files: their proposals (GC,
# exceptions, memory64, ...) are not implemented, so their assertions may
# fail, but none of them may crash the runtime.  Each must end with its
# summary line and exit status 0 or 1, with no sanitizer report.

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
bad_files=""          # files that break the requirement
simd_files=0 simd_passed=0 all_passed=0

# run_file FILE [ARGS...]: run one script; sets rc, summary, n and m (its
# counts, empty if the run died before its summary) and crashed (1: a
# signal, no summary, or a sanitizer report).
run_file() {
    rf_file=$1
    shift
    "$leonardo" wast "$@" "$rf_file" >"$tmp/out" 2>"$tmp/err"
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
}

for f in "$suite"/*.wast; do
    files=$((files + 1))
    name=$(basename "$f")
    run_file "$f" "$@"
    if [ -n "$n" ]; then
        passed=$((passed + n))
        failed=$((failed + m))
    fi

    ok=0
    [ "$rc" = 0 ] && [ "$crashed" = 0 ] && ok=1
    case "$name" in
    simd_*) simd_files=$((simd_files + 1)); simd_passed=$((simd_passed + ok)) ;;
    esac
    if [ "$ok" = 1 ]; then
        all_passed=$((all_passed + 1))
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
done

echo "spec: $files files, $passed passed, $failed failed"
echo "spec: $all_passed/$files files pass (the simd_* files: $simd_passed/$simd_files)"

# The 3.0 files: no crash, whatever the assertions say.
suite3=${WASM_TESTSUITE:-../shared/wasm-testsuite}/3.0
crashes3=""
if [ -d "$suite3" ]; then
    files3=0 passed3=0 failed3=0
    for f in "$suite3"/*.wast; do
        files3=$((files3 + 1))
        run_file "$f" "$@"
        if [ "$crashed" = 1 ] || { [ "$rc" != 0 ] && [ "$rc" != 1 ]; }; then
            echo "3.0/$(basename "$f"): CRASH (exit status $rc)"
            grep -m 5 -e 'AddressSanitizer' -e 'runtime error:' -e 'SUMMARY' "$tmp/err"
            crashes3="$crashes3 $(basename "$f")"
        else
            passed3=$((passed3 + n))
            failed3=$((failed3 + m))
        fi
    done
    echo "spec: 3.0 (no crash required): $files3 files, $passed3 passed, $failed3 failed," \
         "$(echo $crashes3 | wc -w) crashed"
fi

if [ -n "$bad_files" ] || [ -n "$crashes3" ]; then
    [ -n "$bad_files" ] && echo "spec: FAILED:$bad_files"
    [ -n "$crashes3" ] && echo "spec: CRASHED (3.0):$crashes3"
    exit 1
fi
exit 0
