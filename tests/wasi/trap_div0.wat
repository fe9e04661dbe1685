;; trap_div0.wat -- divides by a zero it cannot see coming.
(module
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (drop (call $args_sizes_get (i32.const 0) (i32.const 4)))
    ;; argc - 1 is 0 when the module gets no arguments
    (drop (i32.div_u (i32.const 7) (i32.sub (i32.load (i32.const 0)) (i32.const 1))))))
