;; echo.wat -- exec passthrough: prints "arg X" for each argument after argv[0]
;; and "env K=V" for each environment entry, copies stdin to stdout, then
;; exits with status 7.
(module
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $environ_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  ;; 0: count, 4: bytes, 8: "\n", 16: write iovec, 24: nwritten, 32: read
  ;; iovec, 40: nread, 64: pointers, 1024: labels, 2048: strings, 32768: buffer.
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
  ;; prints entries from..count-1 of the pointer array, each after label
  (func $print (param $from i32) (param $count i32) (param $label i32)
    (local $i i32) (local $s i32)
    (local.set $i (local.get $from))
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
    (drop (call $args_sizes_get (i32.const 0) (i32.const 4)))
    (drop (call $args_get (i32.const 64) (i32.const 2048)))
    (call $print (i32.const 1) (i32.load (i32.const 0)) (i32.const 1024))
    (drop (call $environ_sizes_get (i32.const 0) (i32.const 4)))
    (drop (call $environ_get (i32.const 64) (i32.const 2048)))
    (call $print (i32.const 0) (i32.load (i32.const 0)) (i32.const 1028))
    (block $eof
      (loop $next
        (i32.store (i32.const 32) (i32.const 32768))
        (i32.store (i32.const 36) (i32.const 32768))
        (br_if $eof (call $fd_read (i32.const 0) (i32.const 32) (i32.const 1) (i32.const 40)))
        (br_if $eof (i32.eqz (i32.load (i32.const 40))))
        (call $write (i32.const 32768) (i32.load (i32.const 40)))
        (br $next)))
    (call $proc_exit (i32.const 7))))
