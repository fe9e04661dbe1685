;; invalid.wat -- well-formed but invalid (an i32.add of an i64): built with --no-check.
(module
  (func (export "_start") (drop (i32.add (i32.const 1) (i64.const 2)))))
