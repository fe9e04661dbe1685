;; interp_trap_recursion.wat -- recurses without end; each frame keeps a few locals live.
(module
  (memory (export "memory") 1)
  (func $down (param $n i64) (result i64)
    (local $a i64) (local $b i64)
    (local.set $a (i64.add (local.get $n) (i64.const 1)))
    (local.set $b (call $down (local.get $a)))
    (i64.add (local.get $a) (local.get $b)))
  (func (export "_start")
    (drop (call $down (i64.const 0)))))
