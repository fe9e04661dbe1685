;; interp_trap_div0.wat -- divides by a zero it reads from memory.
(module
  (memory (export "memory") 1)
  (func (export "_start")
    (drop (i32.div_u (i32.const 7) (i32.load (i32.const 0))))))
