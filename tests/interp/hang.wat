;; hang.wat -- loops for ever: stopped only by fuel or a deadline.
(module
  (memory (export "memory") 1)
  (func (export "_start") (loop $l (br $l))))
