;; leonardo's process demo: a ring of 100,000 processes passing a token.
;; `make demo` runs it:
;;
;;   ./leonardo run examples/ring.wat [PROCESSES [LAPS]]
;;
;; The root process spawns the ring, each process knowing the next, sends a
;; token around it LAPS times, and prints how long spawning and passing
;; took.  Every process is its own instance with its own memory; they share
;; only the module's translated code and talk only by messages.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "leonardo" "self" (func $self (result i64)))
  (import "leonardo" "spawn_export" (func $spawn (param i32 i32 i32 i32 i32 i64) (result i64)))
  (import "leonardo" "send" (func $send (param i64 i64 i32 i32) (result i32)))
  (import "leonardo" "receive" (func $receive (param i32 i32 i64) (result i32)))
  (import "leonardo" "msg_tag" (func $msg_tag (result i64)))

  (memory (export "memory") 1)

  ;; Memory layout:
  ;;    0  "node", the export each ring process runs
  ;;   16  an iovec {ptr, len} for fd_write, and its byte count at 24
  ;;   32  clock_time_get's result
  ;;   40  spawn's argument (the next pid)
  ;;   64  a number being formatted (up to 20 digits, right-aligned to 84)
  ;;  128  argv pointers, then argv strings
  (data (i32.const 0) "node")

  (func $write (param $ptr i32) (param $len i32)
    (i32.store (i32.const 16) (local.get $ptr))
    (i32.store (i32.const 20) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24))))

  ;; Print a string given as (data) bytes: the text is passed by address and length.
  (func $print_u64 (param $n i64)
    (local $p i32)
    (local.set $p (i32.const 84))
    (loop $digit
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p) (i32.add (i32.const 48) (i32.wrap_i64 (i64.rem_u (local.get $n) (i64.const 10)))))
      (local.set $n (i64.div_u (local.get $n) (i64.const 10)))
      (br_if $digit (i64.ne (local.get $n) (i64.const 0))))
    (call $write (local.get $p) (i32.sub (i32.const 84) (local.get $p))))

  (func $now (result i64)
    (drop (call $clock (i32.const 1) (i64.const 1) (i32.const 32)))
    (i64.load (i32.const 32)))

  ;; argv[i] as a decimal number, or $default when it is missing or not a number.
  (func $arg (param $i i32) (param $default i64) (result i64)
    (local $p i32) (local $c i32) (local $n i64)
    (drop (call $args_sizes (i32.const 128) (i32.const 132)))
    (if (i32.le_u (i32.load (i32.const 128)) (local.get $i)) (then (return (local.get $default))))
    (drop (call $args_get (i32.const 128) (i32.const 512)))
    (local.set $p (i32.load (i32.add (i32.const 128) (i32.shl (local.get $i) (i32.const 2)))))
    (if (i32.eqz (i32.load8_u (local.get $p))) (then (return (local.get $default))))
    (block $end
      (loop $digits
        (local.set $c (i32.load8_u (local.get $p)))
        (br_if $end (i32.eqz (local.get $c)))
        (if (i32.gt_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 9)) (then (return (local.get $default))))
        (local.set $n (i64.add (i64.mul (local.get $n) (i64.const 10)) (i64.extend_i32_u (i32.sub (local.get $c) (i32.const 48)))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $digits)))
    (local.get $n))

  ;; A ring process: pass every token on to $next; the last lap's token (1) ends it.
  (func (export "node") (param $next i64)
    (local $t i64)
    (loop $pass
      (drop (call $receive (i32.const 0) (i32.const 0) (i64.const -1)))
      (local.set $t (call $msg_tag))
      (drop (call $send (local.get $next) (local.get $t) (i32.const 0) (i32.const 0)))
      (br_if $pass (i64.gt_u (local.get $t) (i64.const 1)))))

  (func (export "_start")
    (local $n i64) (local $laps i64) (local $i i64) (local $first i64)
    (local $t0 i64) (local $t1 i64) (local $t2 i64) (local $t i64)
    (local.set $n (call $arg (i32.const 1) (i64.const 100000)))
    (local.set $laps (call $arg (i32.const 2) (i64.const 10)))
    (if (i64.eqz (local.get $n)) (then (local.set $n (i64.const 1))))
    (if (i64.eqz (local.get $laps)) (then (local.set $laps (i64.const 1))))

    ;; Spawn from the end of the ring back to its start: each new process
    ;; gets the one spawned before it as its next; the last one's next is us.
    (local.set $t0 (call $now))
    (local.set $first (call $self))
    (loop $spawn
      (i64.store (i32.const 40) (local.get $first))
      (local.set $first (call $spawn (i32.const 0) (i32.const 4) (i32.const 40) (i32.const 1) (i32.const 0) (i64.const 0)))
      (if (i64.eqz (local.get $first)) (then unreachable))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br_if $spawn (i64.lt_u (local.get $i) (local.get $n))))
    (local.set $t1 (call $now))

    ;; The token counts down the laps left.
    (local.set $t (local.get $laps))
    (loop $lap
      (drop (call $send (local.get $first) (local.get $t) (i32.const 0) (i32.const 0)))
      (drop (call $receive (i32.const 0) (i32.const 0) (i64.const -1)))
      (local.set $t (i64.sub (call $msg_tag) (i64.const 1)))
      (br_if $lap (i64.ne (local.get $t) (i64.const 0))))
    (local.set $t2 (call $now))

    (call $write (i32.const 1024) (i32.const 0))
    (call $print_u64 (local.get $n))
    (call $write (i32.const 200) (i32.const 0))
    (call $say_spawned (i64.sub (local.get $t1) (local.get $t0)) (local.get $n))
    (call $say_passed (local.get $laps) (i64.mul (local.get $n) (local.get $laps)) (i64.sub (local.get $t2) (local.get $t1))))

  (data (i32.const 256) " processes spawned in ")
  (data (i32.const 288) " us (")
  (data (i32.const 296) " ns each)\n")
  (data (i32.const 320) "ring: ")
  (data (i32.const 336) " laps, ")
  (data (i32.const 352) " messages in ")

  (func $say_spawned (param $ns i64) (param $n i64)
    (call $write (i32.const 256) (i32.const 22))
    (call $print_u64 (i64.div_u (local.get $ns) (i64.const 1000)))
    (call $write (i32.const 288) (i32.const 5))
    (call $print_u64 (i64.div_u (local.get $ns) (local.get $n)))
    (call $write (i32.const 296) (i32.const 10)))

  (func $say_passed (param $laps i64) (param $msgs i64) (param $ns i64)
    (call $write (i32.const 320) (i32.const 6))
    (call $print_u64 (local.get $laps))
    (call $write (i32.const 336) (i32.const 7))
    (call $print_u64 (local.get $msgs))
    (call $write (i32.const 352) (i32.const 13))
    (call $print_u64 (i64.div_u (local.get $ns) (i64.const 1000)))
    (call $write (i32.const 288) (i32.const 5))
    (call $print_u64 (i64.div_u (local.get $ns) (local.get $msgs)))
    (call $write (i32.const 296) (i32.const 10)))
)
