;; no_start.wat -- a reactor, not a command: no _start to run.
(module
  (memory (export "memory") 1)
  (func (export "work") (result i32) (i32.const 1)))
