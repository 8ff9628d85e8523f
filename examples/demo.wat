;; leonardo's demo: the Mandelbrot set in ASCII, computed in f64 and printed
;; line by line through WASI fd_write.  `make demo` runs it:
;;
;;   ./leonardo run examples/demo.wat
;;
;; It also exports fib, to try --invoke:
;;
;;   ./leonardo run --invoke fib examples/demo.wat 90
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit"
    (func $proc_exit (param i32)))

  (memory (export "memory") 1)

  ;; Memory layout:
  ;;    0  the shades, from "escaped at once" to "inside the set"
  ;;   16  an iovec {ptr, len} for fd_write
  ;;   24  fd_write's byte count
  ;;   32  the title line
  ;;  128  the line buffer: $width characters and a newline
  (data (i32.const 0) " .:-=+*#%@")
  (data (i32.const 32) "leonardo demo: the Mandelbrot set, z := z*z + c\n")
  (global $title_len i32 (i32.const 48))
  (global $line i32 (i32.const 128))
  (global $width i32 (i32.const 72))
  (global $height i32 (i32.const 28))
  (global $max_iter i32 (i32.const 500))

  ;; Write len bytes at ptr to stdout; exit with status 1 if that fails.
  (func $print (param $ptr i32) (param $len i32)
    (i32.store (i32.const 16) (local.get $ptr))
    (i32.store (i32.const 20) (local.get $len))
    (if (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24))
      (then (call $proc_exit (i32.const 1)))))

  ;; How many steps z takes to leave the circle |z| <= 2, up to $max_iter.
  (func $escape_time (param $cr f64) (param $ci f64) (result i32)
    (local $zr f64) (local $zi f64) (local $zr2 f64) (local $zi2 f64) (local $n i32)
    (block $escaped
      (loop $step
        (local.set $zr2 (f64.mul (local.get $zr) (local.get $zr)))
        (local.set $zi2 (f64.mul (local.get $zi) (local.get $zi)))
        (br_if $escaped (f64.gt (f64.add (local.get $zr2) (local.get $zi2)) (f64.const 4)))
        ;; z := z*z + c, with the imaginary part first since it needs the old zr
        (local.set $zi (f64.add (f64.mul (f64.const 2)
                                         (f64.mul (local.get $zr) (local.get $zi)))
                                (local.get $ci)))
        (local.set $zr (f64.add (f64.sub (local.get $zr2) (local.get $zi2)) (local.get $cr)))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br_if $step (i32.lt_u (local.get $n) (global.get $max_iter)))))
    (local.get $n))

  ;; The shade for an escape time: '@' inside the set, else cycling bands.
  (func $shade (param $n i32) (result i32)
    (if (result i32) (i32.ge_u (local.get $n) (global.get $max_iter))
      (then (i32.load8_u (i32.const 9)))
      (else (i32.load8_u (i32.rem_u (local.get $n) (i32.const 9))))))

  (func (export "_start")
    (local $x i32) (local $y i32)
    (call $print (i32.const 32) (global.get $title_len))
    (loop $rows
      (local.set $x (i32.const 0))
      (loop $cols
        ;; c = (-2.2 + 3.0 * x / width) + (-1.2 + 2.4 * y / height) i
        (i32.store8
          (i32.add (global.get $line) (local.get $x))
          (call $shade
            (call $escape_time
              (f64.add (f64.const -2.2)
                       (f64.div (f64.mul (f64.const 3.0) (f64.convert_i32_u (local.get $x)))
                                (f64.convert_i32_u (global.get $width))))
              (f64.add (f64.const -1.2)
                       (f64.div (f64.mul (f64.const 2.4) (f64.convert_i32_u (local.get $y)))
                                (f64.convert_i32_u (global.get $height)))))))
        (local.set $x (i32.add (local.get $x) (i32.const 1)))
        (br_if $cols (i32.lt_u (local.get $x) (global.get $width))))
      (i32.store8 (i32.add (global.get $line) (global.get $width)) (i32.const 10))
      (call $print (global.get $line) (i32.add (global.get $width) (i32.const 1)))
      (local.set $y (i32.add (local.get $y) (i32.const 1)))
      (br_if $rows (i32.le_u (local.get $y) (global.get $height)))))

  ;; The n-th Fibonacci number (fib 0 = 0), iteratively in i64.
  (func (export "fib") (param $n i32) (result i64)
    (local $a i64) (local $b i64) (local $t i64)
    (local.set $b (i64.const 1))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $t (i64.add (local.get $a) (local.get $b)))
        (local.set $a (local.get $b))
        (local.set $b (local.get $t))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $a))
)
