;; interp_unknown_import.wat -- imports a function no WASI host provides, and one that
;; preview1 does not have.
(module
  (import "env" "lumos_magic" (func (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "no_such_call" (func (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")))
