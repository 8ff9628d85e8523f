;; Process benchmarks (bench/procs.sh runs them):
;;
;;   leonardo run bench/procs.wat MODE N
;;
;; MODE 1: spawn N processes that return at once, waiting for each one's end
;;         (a monitor's DOWN) before the next: spawn plus exit, one at a time.
;; MODE 2: N ping-pong round trips with one partner process.
;; MODE 3: N yields by a process alone on its worker: a switch out and back.
;; MODE 4: spawn N processes that each wait in receive, and sleep 1 s so that
;;         all of them get there (for the RSS per process).
;; MODE 5: a loop of N iterations of arithmetic, for the cost of preemption.
;; MODE 7: N ping-pong round trips while a third process computes forever:
;;         with one worker, each round trip waits for the spinner's slice.
;; MODE 6: N yields while another process yields too: each one a switch to
;;         the other process and back.  (MODE 3 yields alone, and a yield
;;         with nobody else to run goes straight on.)
;; MODE 8: N send_after timers to itself, all due in 1 ms, then their N
;;         messages: what a timer costs with many pending at once.
;; MODE 9: N loop iterations of arithmetic shared among 64 processes, which
;;         the workers share out (stealing): how compute scales with --threads.
;; MODE 10: N ping-pong round trips shared among 64 pairs of processes: how
;;         messaging scales with --threads.
;;
;; It prints the nanoseconds the measured part took.  There are no data
;; segments, so a process that touches no memory costs no memory page.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "leonardo" "self" (func $self (result i64)))
  (import "leonardo" "spawn" (func $spawn (param i32 i32 i32 i32 i64) (result i64)))
  (import "leonardo" "send" (func $send (param i64 i64 i32 i32) (result i32)))
  (import "leonardo" "receive" (func $receive (param i32 i32 i64) (result i32)))
  (import "leonardo" "msg_sender" (func $msg_sender (result i64)))
  (import "leonardo" "msg_tag" (func $msg_tag (result i64)))
  (import "leonardo" "yield" (func $yield))
  (import "leonardo" "sleep" (func $sleep (param i64)))
  (import "leonardo" "send_after" (func $send_after (param i64 i64 i64 i32 i32) (result i64)))

  (memory (export "memory") 1)
  (table 7 funcref)
  (elem (i32.const 0) $nop $pong $wait $yielder $spin $crunch $pinger)

  (func $nop (param i64))
  (func $pong (param i64)
    (loop $l
      (drop (call $receive (i32.const 0) (i32.const 0) (i64.const -1)))
      (drop (call $send (call $msg_sender) (call $msg_tag) (i32.const 0) (i32.const 0)))
      (br $l)))
  (func $spin (param i64)
    (loop $l (br $l)))
  (func $yielder (param i64)
    (loop $l (call $yield) (br $l)))
  (func $crunch (param $n i64) (local $i i64) (local $x i64)
    (loop $l
      (local.set $x (i64.add (i64.mul (local.get $x) (i64.const 3)) (local.get $i)))
      (br_if $l (i64.lt_u (local.tee $i (i64.add (local.get $i) (i64.const 1))) (local.get $n))))
    (i64.store (i32.const 48) (local.get $x)))
  ;; n round trips with a partner of its own
  (func $pinger (param $n i64) (local $i i64) (local $pid i64)
    (local.set $pid (call $spawn (i32.const 1) (i32.const 40) (i32.const 1) (i32.const 0) (i64.const 0)))
    (loop $l
      (drop (call $send (local.get $pid) (local.get $i) (i32.const 0) (i32.const 0)))
      (drop (call $receive (i32.const 0) (i32.const 0) (i64.const -1)))
      (br_if $l (i64.lt_u (local.tee $i (i64.add (local.get $i) (i64.const 1))) (local.get $n)))))
  ;; 64 processes of table entry fn, each with argument n/64, monitored; back when all have ended
  (func $fan_out (param $fn i32) (param $n i64) (local $i i64)
    (i64.store (i32.const 40) (i64.div_u (local.get $n) (i64.const 64)))
    (loop $l
      (drop (call $spawn (local.get $fn) (i32.const 40) (i32.const 1) (i32.const 2) (i64.const 0)))
      (br_if $l (i64.lt_u (local.tee $i (i64.add (local.get $i) (i64.const 1))) (i64.const 64))))
    (local.set $i (i64.const 0))
    (loop $l
      (drop (call $receive (i32.const 0) (i32.const 0) (i64.const -1)))
      (br_if $l (i64.lt_u (local.tee $i (i64.add (local.get $i) (i64.const 1))) (i64.const 64)))))
  (func $wait (param i64)
    (drop (call $receive (i32.const 0) (i32.const 0) (i64.const -1))))

  (func $now (result i64)
    (drop (call $clock (i32.const 1) (i64.const 1) (i32.const 32)))
    (i64.load (i32.const 32)))

  ;; argv[i] as a decimal number (0 when missing).
  (func $arg (param $i i32) (result i64)
    (local $p i32) (local $c i32) (local $n i64)
    (drop (call $args_sizes (i32.const 128) (i32.const 132)))
    (if (i32.le_u (i32.load (i32.const 128)) (local.get $i)) (then (return (i64.const 0))))
    (drop (call $args_get (i32.const 128) (i32.const 512)))
    (local.set $p (i32.load (i32.add (i32.const 128) (i32.shl (local.get $i) (i32.const 2)))))
    (block $end
      (loop $digits
        (local.set $c (i32.sub (i32.load8_u (local.get $p)) (i32.const 48)))
        (br_if $end (i32.gt_u (local.get $c) (i32.const 9)))
        (local.set $n (i64.add (i64.mul (local.get $n) (i64.const 10)) (i64.extend_i32_u (local.get $c))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $digits)))
    (local.get $n))

  ;; Print n and a newline.
  (func $print (param $n i64)
    (local $p i32)
    (local.set $p (i32.const 100))
    (i32.store8 (i32.const 100) (i32.const 10))
    (loop $digit
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p) (i32.add (i32.const 48) (i32.wrap_i64 (i64.rem_u (local.get $n) (i64.const 10)))))
      (local.set $n (i64.div_u (local.get $n) (i64.const 10)))
      (br_if $digit (i64.ne (local.get $n) (i64.const 0))))
    (i32.store (i32.const 16) (local.get $p))
    (i32.store (i32.const 20) (i32.sub (i32.const 101) (local.get $p)))
    (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24))))

  (func (export "_start")
    (local $mode i64) (local $n i64) (local $i i64) (local $t0 i64) (local $pid i64) (local $x i64)
    (local.set $mode (call $arg (i32.const 1)))
    (local.set $n (call $arg (i32.const 2)))
    (local.set $t0 (call $now))
    (if (i64.eq (local.get $mode) (i64.const 1)) (then
      (loop $l
        ;; spawn $nop monitored (flag 2), then wait for its DOWN
        (drop (call $spawn (i32.const 0) (i32.const 40) (i32.const 1) (i32.const 2) (i64.const 0)))
        (drop (call $receive (i32.const 0) (i32.const 0) (i64.const -1)))
        (br_if $l (i64.lt_u (local.tee $i (i64.add (local.get $i) (i64.const 1))) (local.get $n))))))
    (if (i64.eq (local.get $mode) (i64.const 2)) (then
      (local.set $pid (call $spawn (i32.const 1) (i32.const 40) (i32.const 1) (i32.const 0) (i64.const 0)))
      (local.set $t0 (call $now))
      (loop $l
        (drop (call $send (local.get $pid) (local.get $i) (i32.const 0) (i32.const 0)))
        (drop (call $receive (i32.const 0) (i32.const 0) (i64.const -1)))
        (br_if $l (i64.lt_u (local.tee $i (i64.add (local.get $i) (i64.const 1))) (local.get $n))))))
    (if (i64.eq (local.get $mode) (i64.const 3)) (then
      (loop $l
        (call $yield)
        (br_if $l (i64.lt_u (local.tee $i (i64.add (local.get $i) (i64.const 1))) (local.get $n))))))
    (if (i64.eq (local.get $mode) (i64.const 4)) (then
      (loop $l
        (drop (call $spawn (i32.const 2) (i32.const 40) (i32.const 1) (i32.const 0) (i64.const 0)))
        (br_if $l (i64.lt_u (local.tee $i (i64.add (local.get $i) (i64.const 1))) (local.get $n))))
      (call $sleep (i64.const 1000))))
    (if (i64.eq (local.get $mode) (i64.const 7)) (then
      (drop (call $spawn (i32.const 4) (i32.const 40) (i32.const 1) (i32.const 0) (i64.const 0)))
      (local.set $pid (call $spawn (i32.const 1) (i32.const 40) (i32.const 1) (i32.const 0) (i64.const 0)))
      (local.set $t0 (call $now))
      (loop $l
        (drop (call $send (local.get $pid) (local.get $i) (i32.const 0) (i32.const 0)))
        (drop (call $receive (i32.const 0) (i32.const 0) (i64.const -1)))
        (br_if $l (i64.lt_u (local.tee $i (i64.add (local.get $i) (i64.const 1))) (local.get $n))))))
    (if (i64.eq (local.get $mode) (i64.const 6)) (then
      (drop (call $spawn (i32.const 3) (i32.const 40) (i32.const 1) (i32.const 0) (i64.const 0)))
      (call $yield)
      (local.set $t0 (call $now))
      (loop $l
        (call $yield)
        (br_if $l (i64.lt_u (local.tee $i (i64.add (local.get $i) (i64.const 1))) (local.get $n))))))
    (if (i64.eq (local.get $mode) (i64.const 8)) (then
      (local.set $pid (call $self))
      (loop $l
        (drop (call $send_after (local.get $pid) (i64.const 1) (local.get $i) (i32.const 0) (i32.const 0)))
        (br_if $l (i64.lt_u (local.tee $i (i64.add (local.get $i) (i64.const 1))) (local.get $n))))
      (local.set $i (i64.const 0))
      (loop $l
        (drop (call $receive (i32.const 0) (i32.const 0) (i64.const -1)))
        (br_if $l (i64.lt_u (local.tee $i (i64.add (local.get $i) (i64.const 1))) (local.get $n))))))
    (if (i64.eq (local.get $mode) (i64.const 9)) (then
      (call $fan_out (i32.const 5) (local.get $n))))
    (if (i64.eq (local.get $mode) (i64.const 10)) (then
      (call $fan_out (i32.const 6) (local.get $n))))
    (if (i64.eq (local.get $mode) (i64.const 5)) (then
      (loop $l
        (local.set $x (i64.add (i64.mul (local.get $x) (i64.const 3)) (local.get $i)))
        (br_if $l (i64.lt_u (local.tee $i (i64.add (local.get $i) (i64.const 1))) (local.get $n))))
      (i64.store (i32.const 48) (local.get $x))))
    (call $print (i64.sub (call $now) (local.get $t0))))
)
