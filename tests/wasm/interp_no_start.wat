;; interp_no_start.wat -- a valid module with no _start export (a library, not a command).
(module
  (memory (export "memory") 1)
  (func (export "main") (result i32) (i32.const 0)))
