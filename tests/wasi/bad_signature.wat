;; bad_signature.wat -- imports fd_write with a type that is not preview1's.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start") (drop (call $fd_write (i32.const 1) (i32.const 0)))))
