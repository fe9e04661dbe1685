;; trap_start.wat -- a command module whose start function traps during instantiation.
(module
  (memory (export "memory") 1)
  (func $boom (drop (i32.div_u (i32.const 1) (i32.const 0))))
  (start $boom)
  (func (export "_start")))
