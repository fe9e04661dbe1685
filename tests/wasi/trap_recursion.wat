;; trap_recursion.wat -- recurses without end, each frame keeping locals live.
(module
  (memory (export "memory") 1)
  (func $down (param $n i64) (result i64)
    (local $a i64)
    (local.set $a (i64.add (local.get $n) (i64.const 1)))
    (i64.add (local.get $a) (call $down (local.get $a))))
  (func (export "_start")
    (drop (call $down (i64.const 0)))))
