;; interp_echo.wat -- exec passthrough: prints "arg X" for each argument and "env K=V" for
;; each environment entry, copies stdin to stdout, then exits with status 7.
(module
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $environ_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  ;; 0: count, 4: buffer size, 8: "\n", 16: write iovec, 24: nwritten, 32: read iovec,
  ;; 40: nread, 64: pointer array, 1024: labels, 2048: strings, 32768: stdin buffer.
  (memory (export "memory") 1)
  (data (i32.const 8) "\n")
  (data (i32.const 1024) "arg env ")
  (func $write (param $p i32) (param $len i32)
    (i32.store (i32.const 16) (local.get $p))
    (i32.store (i32.const 20) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24))))
  (func $strlen (param $p i32) (result i32)
    (local $n i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (i32.load8_u (i32.add (local.get $p) (local.get $n)))))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $n))
  (func $print_list (param $count i32) (param $label i32)
    (local $i i32) (local $s i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (call $write (local.get $label) (i32.const 4))
        (local.set $s (i32.load (i32.add (i32.const 64) (i32.shl (local.get $i) (i32.const 2)))))
        (call $write (local.get $s) (call $strlen (local.get $s)))
        (call $write (i32.const 8) (i32.const 1))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))
  (func (export "_start")
    (local $n i32)
    (drop (call $args_sizes_get (i32.const 0) (i32.const 4)))
    (drop (call $args_get (i32.const 64) (i32.const 2048)))
    (call $print_list (i32.load (i32.const 0)) (i32.const 1024))
    (drop (call $environ_sizes_get (i32.const 0) (i32.const 4)))
    (drop (call $environ_get (i32.const 64) (i32.const 2048)))
    (call $print_list (i32.load (i32.const 0)) (i32.const 1028))
    (block $eof
      (loop $next
        (i32.store (i32.const 32) (i32.const 32768))
        (i32.store (i32.const 36) (i32.const 32768))
        (br_if $eof (call $fd_read (i32.const 0) (i32.const 32) (i32.const 1) (i32.const 40)))
        (local.set $n (i32.load (i32.const 40)))
        (br_if $eof (i32.eqz (local.get $n)))
        (call $write (i32.const 32768) (local.get $n))
        (br $next)))
    (call $proc_exit (i32.const 7))))
