;; trap_oob.wat -- loads 4 bytes at the last byte of its one-page memory.
(module
  (memory (export "memory") 1)
  (func (export "_start")
    (drop (i32.load (i32.const 65535)))))
