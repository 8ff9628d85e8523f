#!/usr/bin/env bash
# Tests of the `leonardo` command line: exit statuses, --invoke output, trap
# messages and backtraces, WASI printing/args/environ/exit, bad flags,
# missing and malformed files.
#
#   tests/test_cli.sh [PATH-TO-LEONARDO]
#
# Ends with "cli: N passed, M failed"; exits non-zero if anything failed.
set -uo pipefail

LEO=${1:-./leonardo}
case $LEO in /*) ;; *) LEO=$PWD/$LEO ;; esac
ROOT=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
skip=0

# expect NAME STATUS STDOUT-REGEX STDERR-REGEX -- COMMAND...
# The regexes are extended grep patterns over the whole output ('' = anything).
expect() {
    local name=$1 want=$2 out_re=$3 err_re=$4
    shift 5
    local status=0
    "$@" >"$T/out" 2>"$T/err" </dev/null || status=$?
    local why=""
    [ "$status" = "$want" ] || why="exit status $status, wanted $want"
    if [ -z "$why" ] && [ -n "$out_re" ] && ! grep -Eq -- "$out_re" "$T/out"; then
        why="stdout does not match /$out_re/"
    fi
    if [ -z "$why" ] && [ -n "$err_re" ] && ! grep -Eq -- "$err_re" "$T/err"; then
        why="stderr does not match /$err_re/"
    fi
    # Whatever happens, never a crash: sanitizer reports count as failures.
    if [ -z "$why" ] && grep -Eq 'AddressSanitizer|runtime error:|ThreadSanitizer' "$T/err"; then
        why="sanitizer report"
    fi
    if [ -z "$why" ]; then
        pass=$((pass + 1))
        echo "ok - $name"
    else
        fail=$((fail + 1))
        echo "not ok - $name: $why"
        echo "  command: $*"
        sed 's/^/  stdout: /' "$T/out" | head -n 20
        sed 's/^/  stderr: /' "$T/err" | head -n 20
    fi
}

# ---- fixtures ----

cat >"$T/hello.wat" <<'EOF'
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 8) "hello, world\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 8))
    (i32.store (i32.const 4) (i32.const 13))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 100)))))
EOF

cat >"$T/exit7.wat" <<'EOF'
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start") (call $exit (i32.const 7)) (unreachable)))
EOF

cat >"$T/trap.wat" <<'EOF'
(module
  (func $inner (param i32) (result i32) (i32.div_s (i32.const 1) (local.get 0)))
  (func $outer (result i32) (call $inner (i32.const 0)))
  (func (export "_start") (drop (call $outer))))
EOF

cat >"$T/math.wat" <<'EOF'
(module
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "neg64") (param i64) (result i64) (i64.sub (i64.const 0) (local.get 0)))
  (func (export "half") (param f64) (result f64) (f64.mul (local.get 0) (f64.const 0.5)))
  (func (export "third") (param f32) (result f32) (f32.div (local.get 0) (f32.const 3)))
  (func (export "swap") (param i32 i64) (result i64 i32) (local.get 1) (local.get 0))
  (func (export "nothing"))
  (func (export "spin") (loop $l (br $l))))
EOF

# Write argv[1] (args test) or the first environment string (env test) to stdout.
for what in args environ; do
cat >"$T/$what.wat" <<EOF
(module
  (import "wasi_snapshot_preview1" "${what}_sizes_get" (func \$sizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "${what}_get" (func \$get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func \$fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func \$exit (param i32)))
  (memory (export "memory") 1)
  (func \$strlen (param \$p i32) (result i32) (local \$n i32)
    (block \$done (loop \$next
      (br_if \$done (i32.eqz (i32.load8_u (i32.add (local.get \$p) (local.get \$n)))))
      (local.set \$n (i32.add (local.get \$n) (i32.const 1)))
      (br \$next)))
    (local.get \$n))
  (func (export "_start") (local \$s i32)
    (if (call \$sizes (i32.const 0) (i32.const 4)) (then (call \$exit (i32.const 90))))
    ;; pointers at 1024, strings at 2048
    (if (call \$get (i32.const 1024) (i32.const 2048)) (then (call \$exit (i32.const 91))))
    (if (i32.eqz (i32.load (i32.const 0))) (then (call \$exit (i32.const 92))))
    (local.set \$s (i32.load (i32.const $([ $what = args ] && echo 1028 || echo 1024))))
    (i32.store (i32.const 16) (local.get \$s))
    (i32.store (i32.const 20) (call \$strlen (local.get \$s)))
    (drop (call \$fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24)))))
EOF
done

# fd_write with an iovec pointing past the end of memory must answer EFAULT (21).
cat >"$T/efault.wat" <<'EOF'
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 65530))
    (i32.store (i32.const 4) (i32.const 100))
    (call $exit (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
EOF

# Every WASI function given pointers outside its one-page memory answers
# EFAULT (21), bad descriptors EBADF (8), a bad clock EINVAL (28).  The exit
# status is the number of the first check that failed, 0 if none.
cat >"$T/wasi_bounds.wat" <<'EOF'
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_seek" (func $fd_seek (param i32 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_get" (func $fdstat (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_get" (func $prestat (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $env_sizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory 1)
  (func $want (param $got i32) (param $want i32) (param $check i32)
    (if (i32.ne (local.get $got) (local.get $want)) (then (call $exit (local.get $check)))))
  (func (export "_start")
    (call $want (call $fd_write (i32.const 1) (i32.const 0xfffffff8) (i32.const 1) (i32.const 0)) (i32.const 21) (i32.const 1))
    (call $want (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 0xfffffffe)) (i32.const 21) (i32.const 2))
    (call $want (call $fd_write (i32.const 1) (i32.const 0) (i32.const 0x20000000) (i32.const 8)) (i32.const 21) (i32.const 3))
    ;; an iovec whose buffer runs past the end
    (i32.store (i32.const 0) (i32.const 65000))
    (i32.store (i32.const 4) (i32.const 1000))
    (call $want (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)) (i32.const 21) (i32.const 4))
    (call $want (call $fd_read (i32.const 0) (i32.const 0xfffffff8) (i32.const 1) (i32.const 0)) (i32.const 21) (i32.const 5))
    (call $want (call $args_sizes (i32.const 0xffffffff) (i32.const 0)) (i32.const 21) (i32.const 6))
    (call $want (call $args_get (i32.const 65535) (i32.const 0)) (i32.const 21) (i32.const 7))
    (call $want (call $args_get (i32.const 0) (i32.const 65535)) (i32.const 21) (i32.const 8))
    (call $want (call $env_sizes (i32.const 0) (i32.const 65534)) (i32.const 21) (i32.const 9))
    (call $want (call $clock (i32.const 1) (i64.const 0) (i32.const 65530)) (i32.const 21) (i32.const 10))
    (call $want (call $clock (i32.const 99) (i64.const 0) (i32.const 0)) (i32.const 28) (i32.const 11))
    (call $want (call $random (i32.const 65500) (i32.const 100)) (i32.const 21) (i32.const 12))
    (call $want (call $fdstat (i32.const 1) (i32.const 65520)) (i32.const 21) (i32.const 13))
    (call $want (call $fd_seek (i32.const 1) (i64.const 0) (i32.const 0) (i32.const 65535)) (i32.const 21) (i32.const 14))
    (call $want (call $fd_write (i32.const 7) (i32.const 0) (i32.const 0) (i32.const 0)) (i32.const 8) (i32.const 15))
    (call $want (call $prestat (i32.const 3) (i32.const 0)) (i32.const 8) (i32.const 16))
    (call $want (call $fd_close (i32.const 5)) (i32.const 8) (i32.const 17))
    ;; and the good cases still work
    (call $want (call $clock (i32.const 0) (i64.const 0) (i32.const 65528)) (i32.const 0) (i32.const 18))
    (call $want (call $random (i32.const 65436) (i32.const 100)) (i32.const 0) (i32.const 19))
    (call $want (call $fdstat (i32.const 1) (i32.const 65512)) (i32.const 0) (i32.const 20))))
EOF

cat >"$T/invalid.wat" <<'EOF'
(module (func (export "_start") (result i32) (i64.const 1)))
EOF

cat >"$T/syntax.wat" <<'EOF'
(module
  (func (export "_start")
    (i32.add (i32.const 1)
EOF

cat >"$T/link.wat" <<'EOF'
(module
  (import "wasi_snapshot_preview1" "no_such_function" (func))
  (func (export "_start")))
EOF

cat >"$T/nostart.wat" <<'EOF'
(module (func (export "main")))
EOF

# A binary module exporting answer() = 42: types, functions, exports, code.
printf '\0asm\1\0\0\0\1\5\1\x60\0\1\x7f\3\2\1\0\7\x0a\1\6answer\0\0\x0a\6\1\4\0\x41\x2a\x0b' >"$T/answer.wasm"
# The same returning an i64: decodes, does not validate.
printf '\0asm\1\0\0\0\1\5\1\x60\0\1\x7f\3\2\1\0\7\x0a\1\6answer\0\0\x0a\6\1\4\0\x42\x2a\x0b' >"$T/invalid.wasm"
# The first, cut inside the code section.
head -c 30 "$T/answer.wasm" >"$T/truncated.wasm"
# A bad magic number: read as text, which it is not.
printf 'garbage\0\1\2' >"$T/garbage.wasm"

# ---- the command line itself ----

expect "--help" 0 'usage: leonardo run' '' -- "$LEO" --help
expect "--version" 0 '^leonardo [0-9]' '' -- "$LEO" --version
expect "no arguments" 64 '' 'usage' -- "$LEO"
expect "unknown command" 64 '' "unknown command 'frobnicate'" -- "$LEO" frobnicate
expect "unknown option" 64 '' "unknown option '--bogus'" -- "$LEO" run --bogus "$T/hello.wat"
expect "run without a file" 64 '' 'no FILE' -- "$LEO" run
expect "--fuel without a value" 64 '' '--fuel needs a value' -- "$LEO" run --fuel
expect "--fuel not a number" 64 '' 'positive integer' -- "$LEO" run --fuel lots "$T/hello.wat"
expect "--env without =" 64 '' 'KEY=VALUE' -- "$LEO" run --env FOO "$T/hello.wat"
expect "--threads 0" 64 '' '--threads needs a positive integer' -- "$LEO" run --threads 0 "$T/hello.wat"
expect "--slice not a number" 64 '' '--slice needs a positive integer' -- "$LEO" run --slice x "$T/hello.wat"
expect "--threads 1 --slice 10" 0 '^hello, world$' '' -- "$LEO" run --threads 1 --slice 10 "$T/hello.wat"
expect "missing file" 66 '' 'nonexistent.wasm: No such file' -- "$LEO" run "$T/nonexistent.wasm"
expect "a directory" 66 '' 'is a directory' -- "$LEO" run "$T"

# ---- loading ----

expect "truncated binary" 65 '' 'truncated.wasm: malformed module' -- "$LEO" run "$T/truncated.wasm"
expect "garbage file" 65 '' 'garbage.wasm' -- "$LEO" run "$T/garbage.wasm"
expect "text syntax error has file:line:col" 65 '' 'syntax.wat:[0-9]+:[0-9]+' -- "$LEO" run "$T/syntax.wat"
expect "invalid module" 65 '' 'invalid.wat:[0-9]+:[0-9]+: invalid module: .*type mismatch' -- "$LEO" run "$T/invalid.wat"
expect "invalid binary module" 65 '' 'invalid.wasm: invalid module: .*byte' -- "$LEO" run "$T/invalid.wasm"
expect "unknown import" 65 '' 'no_such_function' -- "$LEO" run "$T/link.wat"
expect "no _start" 64 '' "no exported function '_start'" -- "$LEO" run "$T/nostart.wat"

# ---- the disassembler ----

cat >"$T/dis.wat" <<'EOF'
(module
  (import "env" "log" (func $log (param i32)))
  (func $double (export "twice") (param i32) (result i32)
    (i32.add (local.get 0) (local.get 0)))
  (func $count (param $n i32) (result i32) (local $i i32)
    (loop $again
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $i)))
EOF
# Every defined function (not the import), each under its name, the loop's
# add, compare and branch fused into one increment-and-branch to itself.
expect "dis: every function" 0 '^;; count$' '' -- "$LEO" dis "$T/dis.wat"
if grep -qx ';; double' "$T/out" && ! grep -q ';; log' "$T/out" &&
    grep -Eq '^0002  ADDI_JMP_I32_LT_U +1,1 1,0 #0 [0-9]+,[0-9]+ ->0002$' "$T/out"; then
    pass=$((pass + 1)); echo "ok - dis: names, no import, the fused loop"
else
    fail=$((fail + 1)); echo "not ok - dis: names, no import, the fused loop"; sed 's/^/  out: /' "$T/out"
fi
# One function, by export name, by index and by func[N]: only that one.
for name in twice 1 'func[1]'; do
    expect "dis: by '$name'" 0 '^;; double$' '' -- "$LEO" dis "$T/dis.wat" "$name"
    if grep -q ';; count' "$T/out"; then
        fail=$((fail + 1)); echo "not ok - dis '$name' printed another function too"
    fi
done
expect "dis: an import is not a defined function" 64 '' "no defined function '0'" -- "$LEO" dis "$T/dis.wat" 0
expect "dis: unknown name" 64 '' "no defined function 'nope'" -- "$LEO" dis "$T/dis.wat" nope
expect "dis without a file" 64 '' 'dis: no FILE' -- "$LEO" dis
expect "dis: unknown option" 64 '' "dis: unknown option '-x'" -- "$LEO" dis -x "$T/dis.wat"
expect "dis: missing file" 66 '' 'No such file' -- "$LEO" dis "$T/nonexistent.wasm"
expect "dis: malformed module" 65 '' 'truncated.wasm: malformed module' -- "$LEO" dis "$T/truncated.wasm"
expect "dis: binary module" 0 '^;; ' '' -- "$LEO" dis "$T/answer.wasm"
# A float operand shows as its value, the shortest that reads back.
cat >"$T/fimm.wat" <<'EOF'
(module
  (func $scale (param f64) (result f64) (f64.mul (local.get 0) (f64.const 0.1)))
  (func $shift (param f32) (result f32) (f32.add (local.get 0) (f32.const -0.1))))
EOF
expect "dis: an f64 operand" 0 '^0000  F64_MUL_IMM +0,0 #0\.1$' '' -- "$LEO" dis "$T/fimm.wat" scale
expect "dis: an f32 operand" 0 '^0000  F32_ADD_IMM +0,0 #-0\.1$' '' -- "$LEO" dis "$T/fimm.wat" shift

# ---- running ----

expect "hello via fd_write" 0 '^hello, world$' '' -- "$LEO" run "$T/hello.wat"
expect "binary module --invoke" 0 '^42$' '' -- "$LEO" run --invoke answer "$T/answer.wasm"
expect "proc_exit status" 7 '' '' -- "$LEO" run "$T/exit7.wat"
sed 's/i32.const 7/i32.const 256/' "$T/exit7.wat" >"$T/exit256.wat"
expect "proc_exit(256) is not success" 255 '' '' -- "$LEO" run "$T/exit256.wat"
expect "trap message" 70 '' '^leonardo: trap: integer divide by zero' -- "$LEO" run "$T/trap.wat"
expect "trap backtrace, innermost first" 70 '' 'inner' -- "$LEO" run "$T/trap.wat"
if grep -q inner "$T/err" && ! awk '/inner/ { i = NR } /outer/ { o = NR } END { exit !(i && o && i < o) }' "$T/err"; then
    fail=$((fail + 1)); echo "not ok - backtrace order: inner before outer"; sed 's/^/  stderr: /' "$T/err"
else
    pass=$((pass + 1)); echo "ok - backtrace order"
fi
cat >"$T/recurse.wat" <<'EOF'
(module (func $down (export "down") (call $down)))
EOF
expect "stack exhaustion is a trap" 70 '' '^leonardo: trap: call stack exhausted' -- "$LEO" run --invoke down "$T/recurse.wat"
# A process's table past the implementation limit (2^24 elements) is refused, not allocated.
cat >"$T/bigtable.wat" <<'EOF'
(module (table 100000000 funcref) (func (export "_start")))
EOF
expect "table past the limit" 70 '' 'cannot allocate table 0 of 100000000 elements' -- "$LEO" run "$T/bigtable.wat"
expect "args" 0 '^first-arg$' '' -- "$LEO" run "$T/args.wat" first-arg second
expect "--env" 0 '^GREETING=hi there$' '' -- "$LEO" run --env "GREETING=hi there" "$T/environ.wat"
# (environ.wat prints the first variable, and exits 92 when there is none.)
expect "no host environment without --inherit-env" 92 '' '' -- env -i LW_TEST_VAR=1 "$LEO" run "$T/environ.wat"
expect "--inherit-env" 0 '^LW_TEST_VAR=host$' '' -- env -i LW_TEST_VAR=host "$LEO" run --inherit-env "$T/environ.wat"
expect "--env wins over --inherit-env" 0 '^LW_TEST_VAR=mine$' '' -- \
    env -i LW_TEST_VAR=host "$LEO" run --inherit-env --env LW_TEST_VAR=mine "$T/environ.wat"
expect "fd_write EFAULT on a bad iovec" 21 '' '' -- "$LEO" run "$T/efault.wat"
expect "every WASI function checks its pointers" 0 '' '' -- "$LEO" run "$T/wasi_bounds.wat"
# The same for the functions on files, with a preopened directory as fd 3.
cat >"$T/wasi_bounds2.wat" <<'EOF'
(module
  (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_filestat_get" (func $pstat (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_filestat_set_times" (func $ptimes (param i32 i32 i32 i32 i64 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_readlink" (func $readlink (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_symlink" (func $symlink (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_link" (func $link (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_rename" (func $rename (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_create_directory" (func $mkdir (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_remove_directory" (func $rmdir (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_unlink_file" (func $unlink (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_readdir" (func $readdir (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_dir_name" (func $prename (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_filestat_get" (func $fstat (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_pread" (func $pread (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_pwrite" (func $pwrite (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_tell" (func $tell (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory 1)
  (data (i32.const 100) "f.txt")
  (func $want (param $got i32) (param $want i32) (param $check i32)
    (if (i32.ne (local.get $got) (local.get $want)) (then (call $exit (local.get $check)))))
  (func (export "_start") (local $fd i32)
    ;; path_open: the path, then the fd pointer, out of bounds; then a real open
    (call $want (call $open (i32.const 3) (i32.const 0) (i32.const 0xfffffff0) (i32.const 5) (i32.const 1) (i64.const 0x40) (i64.const 0) (i32.const 0) (i32.const 0)) (i32.const 21) (i32.const 1))
    (call $want (call $open (i32.const 3) (i32.const 0) (i32.const 100) (i32.const 5) (i32.const 1) (i64.const 0x42) (i64.const 0) (i32.const 0) (i32.const 65534)) (i32.const 21) (i32.const 2))
    (call $want (call $open (i32.const 3) (i32.const 0) (i32.const 100) (i32.const 5) (i32.const 1) (i64.const 0x200066) (i64.const 0) (i32.const 0) (i32.const 0)) (i32.const 0) (i32.const 3))
    (local.set $fd (i32.load (i32.const 0)))
    (call $want (call $pstat (i32.const 3) (i32.const 0) (i32.const 100) (i32.const 5) (i32.const 65500)) (i32.const 21) (i32.const 4))
    (call $want (call $pstat (i32.const 3) (i32.const 0) (i32.const 65534) (i32.const 5) (i32.const 0)) (i32.const 21) (i32.const 5))
    (call $want (call $ptimes (i32.const 3) (i32.const 0) (i32.const 65534) (i32.const 5) (i64.const 0) (i64.const 0) (i32.const 0)) (i32.const 21) (i32.const 6))
    (call $want (call $readlink (i32.const 3) (i32.const 100) (i32.const 5) (i32.const 65500) (i32.const 100) (i32.const 0)) (i32.const 21) (i32.const 7))
    (call $want (call $readlink (i32.const 3) (i32.const 100) (i32.const 5) (i32.const 0) (i32.const 10) (i32.const 65534)) (i32.const 21) (i32.const 8))
    (call $want (call $symlink (i32.const 0xfffffff0) (i32.const 5) (i32.const 3) (i32.const 100) (i32.const 5)) (i32.const 21) (i32.const 9))
    (call $want (call $link (i32.const 3) (i32.const 0) (i32.const 100) (i32.const 5) (i32.const 3) (i32.const 65534) (i32.const 5)) (i32.const 21) (i32.const 10))
    (call $want (call $rename (i32.const 3) (i32.const 65534) (i32.const 5) (i32.const 3) (i32.const 100) (i32.const 5)) (i32.const 21) (i32.const 11))
    (call $want (call $mkdir (i32.const 3) (i32.const 65534) (i32.const 5)) (i32.const 21) (i32.const 12))
    (call $want (call $rmdir (i32.const 3) (i32.const 65534) (i32.const 5)) (i32.const 21) (i32.const 13))
    (call $want (call $unlink (i32.const 3) (i32.const 65534) (i32.const 5)) (i32.const 21) (i32.const 14))
    (call $want (call $readdir (i32.const 3) (i32.const 65000) (i32.const 1000) (i64.const 0) (i32.const 0)) (i32.const 21) (i32.const 15))
    (call $want (call $readdir (i32.const 3) (i32.const 0) (i32.const 100) (i64.const 0) (i32.const 65534)) (i32.const 21) (i32.const 16))
    (call $want (call $prename (i32.const 3) (i32.const 65535) (i32.const 100)) (i32.const 21) (i32.const 17))
    (call $want (call $fstat (local.get $fd) (i32.const 65500)) (i32.const 21) (i32.const 18))
    (call $want (call $pread (local.get $fd) (i32.const 0xfffffff8) (i32.const 1) (i64.const 0) (i32.const 0)) (i32.const 21) (i32.const 19))
    (call $want (call $pwrite (local.get $fd) (i32.const 0) (i32.const 1) (i64.const 0) (i32.const 65534)) (i32.const 21) (i32.const 20))
    (call $want (call $tell (local.get $fd) (i32.const 65530)) (i32.const 21) (i32.const 21))
    (call $want (call $poll (i32.const 65500) (i32.const 0) (i32.const 1) (i32.const 0)) (i32.const 21) (i32.const 22))
    (call $want (call $poll (i32.const 0) (i32.const 65520) (i32.const 1) (i32.const 200)) (i32.const 21) (i32.const 23))
    (call $want (call $poll (i32.const 0) (i32.const 100) (i32.const 1) (i32.const 65534)) (i32.const 21) (i32.const 24))
    ;; an fd that is not there, and one without the right
    (call $want (call $fstat (i32.const 77) (i32.const 0)) (i32.const 8) (i32.const 25))
    (call $want (call $readdir (local.get $fd) (i32.const 0) (i32.const 100) (i64.const 0) (i32.const 200)) (i32.const 76) (i32.const 26))))
EOF
mkdir -p "$T/bdir"
expect "every WASI file function checks its pointers" 0 '' '' -- "$LEO" run --dir "$T/bdir::." "$T/wasi_bounds2.wat"
expect "--dir HOST::GUEST" 0 'hello' '' -- "$LEO" run --dir /tmp::/tmp "$T/hello.wat"
expect "--dir of a missing directory" 66 '' '^leonardo: --dir /no/such/dir: No such file or directory$' -- "$LEO" run --dir /no/such/dir "$T/hello.wat"
expect "--dir with an empty guest name" 64 '' 'HOST or HOST::GUEST' -- "$LEO" run --dir /tmp:: "$T/hello.wat"
expect "--fuel runs out" 70 '' 'trap: out of fuel' -- "$LEO" run --fuel 100000 --invoke spin "$T/math.wat"

# ---- --invoke ----

expect "--invoke i32" 0 '^5$' '' -- "$LEO" run --invoke add "$T/math.wat" 2 3
expect "--invoke i32 wraps, prints signed" 0 '^-2$' '' -- "$LEO" run --invoke add "$T/math.wat" 0xffffffff -1
expect "--invoke=NAME form" 0 '^7$' '' -- "$LEO" run --invoke=add "$T/math.wat" 3 4
expect "--invoke i64" 0 '^-9000000000$' '' -- "$LEO" run --invoke neg64 "$T/math.wat" 9000000000
expect "--invoke f64" 0 '^1.25$' '' -- "$LEO" run --invoke half "$T/math.wat" 2.5
expect "--invoke f32" 0 '^0.33333334$' '' -- "$LEO" run --invoke third "$T/math.wat" 1
expect "--invoke two results" 0 '^5$' '' -- "$LEO" run --invoke swap "$T/math.wat" 9 5
if grep -qx 9 "$T/out" && [ "$(wc -l <"$T/out")" = 2 ]; then
    pass=$((pass + 1)); echo "ok - two results, one per line"
else
    fail=$((fail + 1)); echo "not ok - two results, one per line"; cat "$T/out"
fi
expect "--invoke no results" 0 '' '' -- "$LEO" run --invoke nothing "$T/math.wat"
# v128 arguments: SHAPE:LANE,... (lane 0 first); a v128 result prints its bytes in memory order.
cat >"$T/v128.wat" <<'EOF'
(module
  (func (export "addv") (param v128 v128) (result v128) (i32x4.add (local.get 0) (local.get 1)))
  (func (export "lane1") (param v128) (result f64) (f64x2.extract_lane 1 (local.get 0)))
  (func (export "last") (param v128) (result i32) (i8x16.extract_lane_s 15 (local.get 0)))
  (func (export "h7") (param v128) (result i32) (i16x8.extract_lane_u 7 (local.get 0)))
  (func (export "f3") (param v128) (result f32) (f32x4.extract_lane 3 (local.get 0)))
  (func (export "q1") (param v128) (result i64) (i64x2.extract_lane 1 (local.get 0))))
EOF
expect "--invoke v128 i32x4 in, v128 out" 0 '^v128 11 00 00 00 02 00 00 00 03 00 00 00 fd ff ff ff$' '' -- "$LEO" run --invoke addv "$T/v128.wat" i32x4:1,2,3,-4 i32x4:0x10,0,0,1
expect "--invoke v128 f64x2" 0 '^-2.25$' '' -- "$LEO" run --invoke lane1 "$T/v128.wat" f64x2:0.5,-2.25
expect "--invoke v128 i8x16, lane 15" 0 '^-128$' '' -- "$LEO" run --invoke last "$T/v128.wat" i8x16:0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0x80
expect "--invoke v128 i16x8, lane 7" 0 '^65535$' '' -- "$LEO" run --invoke h7 "$T/v128.wat" i16x8:1,2,3,4,5,6,7,-1
expect "--invoke v128 f32x4, lane 3" 0 '^-1.5$' '' -- "$LEO" run --invoke f3 "$T/v128.wat" f32x4:0,0,0,-1.5
expect "--invoke v128 i64x2, lane 1" 0 '^-9000000000$' '' -- "$LEO" run --invoke q1 "$T/v128.wat" i64x2:1,-9000000000
expect "--invoke v128 too few lanes" 64 '' "'i8x16:0,0,0' is not a valid v128 .write SHAPE" -- "$LEO" run --invoke last "$T/v128.wat" i8x16:0,0,0
expect "--invoke v128 too many lanes" 64 '' 'not a valid v128' -- "$LEO" run --invoke lane1 "$T/v128.wat" f64x2:1,2,3
expect "--invoke v128 trailing comma" 64 '' 'not a valid v128' -- "$LEO" run --invoke lane1 "$T/v128.wat" f64x2:1,2,
expect "--invoke v128 lane out of range" 64 '' 'not a valid v128' -- "$LEO" run --invoke h7 "$T/v128.wat" i16x8:1,2,3,4,5,6,7,65536
expect "--invoke v128 without a shape" 64 '' 'not a valid v128' -- "$LEO" run --invoke lane1 "$T/v128.wat" 5
# --invoke runs the export as the root process: it can spawn and receive.
cat >"$T/invproc.wat" <<'EOF'
(module
  (import "leonardo" "spawn_export" (func $spawn (param i32 i32 i32 i32 i32 i64) (result i64)))
  (import "leonardo" "send" (func $send (param i64 i64 i32 i32) (result i32)))
  (import "leonardo" "receive" (func $recv (param i32 i32 i64) (result i32)))
  (import "leonardo" "msg_tag" (func $tag (result i64)))
  (import "leonardo" "self" (func $self (result i64)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory 1)
  (data (i32.const 0) "double")
  (func (export "double") (param $to i64) (param $x i64)
    (drop (call $send (local.get $to) (i64.mul (local.get $x) (i64.const 2)) (i32.const 0) (i32.const 0))))
  (func (export "ask") (param $x i64) (result i64 i32)
    (i64.store (i32.const 16) (call $self))
    (i64.store (i32.const 24) (local.get $x))
    (drop (call $spawn (i32.const 0) (i32.const 6) (i32.const 16) (i32.const 2) (i32.const 0) (i64.const 0)))
    (drop (call $recv (i32.const 0) (i32.const 0) (i64.const 5000)))
    (call $tag) (i32.const 7))
  (func (export "bye") (call $exit (i32.const -1))))
EOF
expect "--invoke runs as a process (spawn, receive, two results)" 0 '^42$' '' -- "$LEO" run --invoke ask "$T/invproc.wat" 21
if ! grep -qx 7 "$T/out"; then fail=$((fail + 1)); echo "not ok - --invoke: second result"; fi
expect "proc_exit(0xffffffff) exits 255, not a trap" 255 '' '' -- "$LEO" run --invoke bye "$T/invproc.wat"
expect "--invoke wrong count" 64 '' 'add takes 2 arguments \(i32 i32\), 1 given' -- "$LEO" run --invoke add "$T/math.wat" 1
expect "--invoke bad number" 64 '' "'x1' is not a valid i32" -- "$LEO" run --invoke add "$T/math.wat" x1 2
expect "--invoke out of range" 64 '' 'not a valid i32' -- "$LEO" run --invoke add "$T/math.wat" 4294967296 0
expect "--invoke unknown export" 64 '' "no exported function 'mul'" -- "$LEO" run --invoke mul "$T/math.wat"

# ---- the shipped demo ----

expect "demo" 0 'Mandelbrot' '' -- "$LEO" run "$ROOT/examples/demo.wat"
expect "demo fib" 0 '^2880067194370816120$' '' -- "$LEO" run --invoke fib "$ROOT/examples/demo.wat" 90

# ---- real C programs built with wasi-libc, when the toolchain is here ----

if echo 'int main(void){return 0;}' | clang --target=wasm32-wasi -x c - -o "$T/probe.wasm" 2>/dev/null; then
    # wasi-libc's startup, argv, getenv, stdin, clocks, getentropy, malloc, exit status.
    cat >"$T/wasi.c" <<'CEOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    printf("argc=%d argv1=%s\n", argc, argc > 1 ? argv[1] : "(none)");
    const char *g = getenv("GREETING");
    printf("GREETING=%s\n", g ? g : "(unset)");
    char line[100];
    if (fgets(line, sizeof line, stdin))
        printf("stdin=%s", line);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    clock_gettime(CLOCK_MONOTONIC, &b);
    int mono = b.tv_sec > a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_nsec >= a.tv_nsec);
    printf("clock %s\n", mono && time(NULL) > 1600000000 ? "ok" : "bad");
    unsigned char r[32] = {0};
    int nonzero = 0;
    if (getentropy(r, sizeof r) == 0)
        for (int i = 0; i < 32; i++)
            nonzero += r[i] != 0;
    printf("random %s\n", nonzero > 16 ? "ok" : "bad");
    char *p = malloc(1 << 20);
    memset(p, 1, 1 << 20);
    printf("malloc %s\n", p[12345] == 1 ? "ok" : "bad");
    fprintf(stderr, "to stderr\n");
    return 3;
}
CEOF
    clang --target=wasm32-wasi -O2 "$T/wasi.c" -o "$T/wasi.wasm"
    # Every preview 1 function links with the right type, and none answers ENOSYS.
    cat >"$T/allwasi.c" <<'CEOF'
#include <stdio.h>
#include <wasi/api.h>
int main(void)
{
    __wasi_timestamp_t t; __wasi_filesize_t fs; __wasi_size_t sz; __wasi_fd_t fd;
    __wasi_filestat_t st; __wasi_fdstat_t fst; char buf[64]; __wasi_iovec_t iov = {(uint8_t *)buf, 64};
    __wasi_ciovec_t ciov = {(const uint8_t *)buf, 1}; __wasi_event_t ev; __wasi_subscription_t sub = {0};
    __wasi_roflags_t rof;
    int r = 0;
    r += __wasi_clock_res_get(1, &t) == 0;
    r += __wasi_fd_advise(1, 0, 0, 0) != 52;
    r += __wasi_fd_allocate(1, 0, 0) != 52;
    r += __wasi_fd_datasync(1) != 52;
    r += __wasi_fd_fdstat_set_flags(1, 0) != 52;
    r += __wasi_fd_fdstat_set_rights(9, 0, 0) != 52;
    r += __wasi_fd_filestat_get(1, &st) != 52;
    r += __wasi_fd_filestat_set_size(1, 0) != 52;
    r += __wasi_fd_filestat_set_times(1, 0, 0, 0) != 52;
    r += __wasi_fd_pread(0, &iov, 1, 0, &sz) != 52;
    r += __wasi_fd_pwrite(1, &ciov, 1, 0, &sz) != 52;
    r += __wasi_fd_readdir(1, (uint8_t *)buf, 64, 0, &sz) != 52;
    r += __wasi_fd_renumber(9, 10) != 52;
    r += __wasi_fd_sync(1) != 52;
    r += __wasi_fd_tell(1, &fs) != 21;
    r += __wasi_path_create_directory(3, "x") != 52;
    r += __wasi_path_filestat_get(3, 0, "x", &st) != 52;
    r += __wasi_path_filestat_set_times(3, 0, "x", 0, 0, 0) != 52;
    r += __wasi_path_link(3, 0, "x", 3, "y") != 52;
    r += __wasi_path_open(3, 0, "x", 0, 0, 0, 0, &fd) != 52;
    r += __wasi_path_readlink(3, "x", (uint8_t *)buf, 64, &sz) != 52;
    r += __wasi_path_remove_directory(3, "x") != 52;
    r += __wasi_path_rename(3, "x", 3, "y") != 52;
    r += __wasi_path_symlink("x", 3, "y") != 52;
    r += __wasi_path_unlink_file(3, "x") != 52;
    r += __wasi_poll_oneoff(&sub, &ev, 1, &sz) != 52;
    r += __wasi_sched_yield() == 0;
    r += __wasi_sock_accept(3, 0, &fd) != 52;
    r += __wasi_sock_recv(3, &iov, 1, 0, &sz, &rof) != 52;
    r += __wasi_sock_send(3, &ciov, 1, 0, &sz) != 52;
    r += __wasi_sock_shutdown(3, 0) != 52;
    r += __wasi_fd_fdstat_get(1, &fst) == 0;
    printf("%d of 32\n", r);
    return 0;
}
CEOF
    clang --target=wasm32-wasi -O2 "$T/allwasi.c" -o "$T/allwasi.wasm"
    expect "C program: every WASI preview 1 import links and is implemented" 0 '^32 of 32$' '' -- "$LEO" run "$T/allwasi.wasm"
    # (the checks after this one read its output)
    # shellcheck disable=SC2016 # $0 and $1 belong to the inner shell
    expect "C program: argv, environ, stdin, exit status" 3 'argc=2 argv1=xyz' 'to stderr' -- \
        sh -c 'echo "a line" | "$0" run --env GREETING=hello "$1" xyz' "$LEO" "$T/wasi.wasm"
    for what in 'GREETING=hello' 'stdin=a line' 'clock ok' 'random ok' 'malloc ok'; do
        if grep -qx "$what" "$T/out"; then
            pass=$((pass + 1)); echo "ok - C program: $what"
        else
            fail=$((fail + 1)); echo "not ok - C program: no line '$what'"; sed 's/^/  stdout: /' "$T/out"
        fi
    done
    # A C guest of the process API (include/leonardo/process.h): spawn by
    # function pointer, ping-pong, a linked crash taken as a message.
    cat >"$T/procs.c" <<'CEOF'
#include <stdio.h>
#include <leonardo/process.h>

static void pong(int64_t unused)
{
    (void)unused;
    for (;;) {
        lw_receive(0, 0, -1);
        lw_send(lw_msg_sender(), lw_msg_tag(), 0, 0);
    }
}

static void crasher(int64_t unused)
{
    (void)unused;
    __builtin_trap();
}

int main(void)
{
    uint64_t p = lw_spawn(pong, 0, LW_SPAWN_LINK);
    for (int64_t i = 0; i < 1000; i++) {
        lw_send(p, i, 0, 0);
        if (lw_receive(0, 0, -1) != LW_MSG_DATA || lw_msg_tag() != i)
            return 1;
    }
    lw_trap_exit(1);
    uint64_t c = lw_spawn(crasher, 0, LW_SPAWN_LINK);
    int64_t want = LW_TAG_EXIT;
    int k = lw_receive(&want, 1, 5000);
    lw_notice n = {0};
    lw_msg_read(&n, sizeof n);
    printf("1000 round trips; crash %s\n",
           k == LW_MSG_EXIT && lw_msg_sender() == c && n.reason == LW_REASON_TRAP ? "seen" : "missed");
    lw_kill(p);
    return 0;
}
CEOF
    clang --target=wasm32-wasi -O2 -I"$ROOT/include" "$T/procs.c" -o "$T/procs.wasm"
    expect "C program: processes (ping-pong, a linked crash as a message)" 0 \
        '^1000 round trips; crash seen$' 'process [0-9]+ died: trap: unreachable \[crasher' -- \
        "$LEO" run "$T/procs.wasm"
    expect "C program: processes on one worker" 0 '^1000 round trips; crash seen$' '' -- \
        "$LEO" run --threads 1 --slice 100 "$T/procs.wasm"

    # A child's WASI table is its parent's, narrowed by the spawn's
    # configuration and never widened; a child's close leaves the parent's fd.
    cat >"$T/caps.c" <<'CEOF'
#include <leonardo/process.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

/* What the child sees, sent to its parent as the tag: the errno of opening
   secret.txt through fd 3 (0: it opened and read "secret"), plus 100 if it
   has no HOME, plus 1000 if a grandchild with every right was refused. */
static void child(int64_t parent)
{
    __wasi_fd_t fd;
    int64_t r = __wasi_path_open(3, 0, "secret.txt", 0, __WASI_RIGHTS_FD_READ, 0, 0, &fd);
    if (r == 0) {
        char buf[16] = {0};
        __wasi_iovec_t iov = {(uint8_t *)buf, sizeof buf - 1};
        __wasi_size_t n;
        r = __wasi_fd_read(fd, &iov, 1, &n) == 0 && strcmp(buf, "secret\n") == 0 ? 0 : 999;
    }
    if (!getenv("HOME"))
        r += 100;
    uint64_t wide = lw_config_new();
    if (wide && lw_config_set_rights(wide, ~0ull) == -1)
        r += 1000;
    (void)__wasi_fd_close(3);
    lw_send((uint64_t)parent, r, 0, 0);
}

static int64_t run(uint64_t config)
{
    int64_t me = (int64_t)lw_self();
    lw_spawn_raw((uint32_t)(uintptr_t)child, &me, 1, 0, config);
    lw_receive(0, 0, 5000);
    return lw_msg_tag();
}

int main(void)
{
    printf("same: %lld\n", (long long)run(0));
    uint64_t c = lw_config_new();
    lw_config_set_fds(c, ~(1ull << 3));
    printf("without fd 3: %lld\n", (long long)run(c));
    c = lw_config_new();
    lw_config_set_rights(c, ~__WASI_RIGHTS_PATH_OPEN);
    printf("without path_open: %lld\n", (long long)run(c));
    c = lw_config_new();
    lw_config_set_rights(c, ~__WASI_RIGHTS_FD_READ);
    printf("without fd_read: %lld\n", (long long)run(c));
    c = lw_config_new();
    lw_config_clear_env(c);
    printf("without env: %lld\n", (long long)run(c));
    __wasi_fd_t fd;
    printf("parent's fd 3 after the children closed theirs: %d\n",
           __wasi_path_open(3, 0, "secret.txt", 0, __WASI_RIGHTS_FD_READ, 0, 0, &fd));
    return 0;
}
CEOF
    clang --target=wasm32-wasi -O2 -I"$ROOT/include" "$T/caps.c" -o "$T/caps.wasm"
    mkdir -p "$T/capdir"
    echo secret >"$T/capdir/secret.txt"
    expect "C program: children get narrowed WASI tables" 0 '' '' -- \
        "$LEO" run --env HOME=/home --dir "$T/capdir::." "$T/caps.wasm"
    for what in 'same: 0' 'without fd 3: 8' 'without path_open: 1076' 'without fd_read: 1076' \
                'without env: 100' "parent's fd 3 after the children closed theirs: 0"; do
        if grep -qx "$what" "$T/out"; then
            pass=$((pass + 1)); echo "ok - children: $what"
        else
            fail=$((fail + 1)); echo "not ok - children: $what"; sed 's/^/  stdout: /' "$T/out"
        fi
    done

    # Sockets handed in by the host: an echo server on a --tcplisten socket.
    # Its accept and recv park the process until the client comes.
    cat >"$T/echo.c" <<'CEOF'
#include <stdio.h>
#include <wasi/api.h>

int main(void)
{
    __wasi_fd_t c;
    if (__wasi_sock_accept(3, 0, &c) != 0)
        return 1;
    char buf[64] = "echo: ";
    __wasi_iovec_t in = {(uint8_t *)buf + 6, sizeof buf - 6};
    __wasi_size_t n;
    __wasi_roflags_t rf;
    if (__wasi_sock_recv(c, &in, 1, 0, &n, &rf) != 0)
        return 2;
    __wasi_ciovec_t out = {(const uint8_t *)buf, 6 + n};
    __wasi_size_t sent;
    if (__wasi_sock_send(c, &out, 1, 0, &sent) != 0 || sent != 6 + n)
        return 3;
    printf("served %u bytes; shutdown %d; accept on a connection: %d\n", (unsigned)n,
           __wasi_sock_shutdown(c, __WASI_SDFLAGS_WR), __wasi_sock_accept(c, 0, &c));
    return 0;
}
CEOF
    clang --target=wasm32-wasi -O2 "$T/echo.c" -o "$T/echo.wasm"
    port=$((20000 + RANDOM % 30000))
    "$LEO" run --tcplisten "127.0.0.1:$port" "$T/echo.wasm" >"$T/echo.out" 2>&1 &
    server=$!
    reply=""
    for _ in $(seq 50); do
        if exec 3<>"/dev/tcp/127.0.0.1/$port"; then
            printf 'ping\n' >&3
            read -r reply <&3 || true
            exec 3>&-
            break
        fi 2>/dev/null
        sleep 0.1
    done
    status=0
    wait "$server" || status=$?
    if [ "$reply" = "echo: ping" ] && [ "$status" = 0 ] &&
        grep -qx 'served 5 bytes; shutdown 0; accept on a connection: 76' "$T/echo.out"; then
        pass=$((pass + 1)); echo "ok - --tcplisten: sock_accept, sock_recv, sock_send, sock_shutdown"
    else
        fail=$((fail + 1)); echo "not ok - --tcplisten: reply '$reply', status $status"; sed 's/^/  out: /' "$T/echo.out"
    fi
    expect "C benchmarks (quick sizes) agree with native" 0 'bench geomean' '' -- \
        env BENCH_OUT="$T/bench" bash "$ROOT/bench/run.sh" --quick "$LEO"
else
    skip=$((skip + 1))
    echo "skip - C programs: no clang --target=wasm32-wasi (tools/deps.sh bench installs it)"
fi

echo "cli: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
