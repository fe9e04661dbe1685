;; interp_grow.wat -- grows its memory by 100 pages (the interpreter reallocates it) and
;; writes a message from the new pages: the host must see memory as it is at each call.
;; Returns from _start without proc_exit (exit status 0).
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (local $p i32)
    (drop (memory.grow (i32.const 100)))
    (local.set $p (i32.const 6553600))
    (i64.store (local.get $p) (i64.const 0x0a6e776f7267)) ;; "grown\n"
    (i32.store (i32.const 16) (local.get $p))
    (i32.store (i32.const 20) (i32.const 6))
    (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24)))))
