;; interp_fused.wat -- the translator's fusions on their edges: an address an
;; add with a constant or a tee'd add made (32-bit wrap before the offset, the
;; tee'd local still written), compares against immediates in br_if and if
;; (signed, unsigned, i64), f64 ops with a constant (NaN included), an f64
;; op's result stored (and tee'd); any wrong
;; answer is an unreachable trap. Then a fused load just past the memory's end:
;; the run must end with an out-of-bounds trap.
(module
  (memory (export "memory") 1)
  (func $check (param i32)
    (if (i32.eqz (local.get 0)) (then unreachable)))
  (func (export "_start")
    (local $p i32) (local $q i32) (local $i i32) (local $n i64) (local $x f64)
    (i32.store (i32.const 100) (i32.const 0x11223344))
    ;; (p + 96) tee'd, offset 4: address 100
    (local.set $p (i32.const 0))
    (call $check (i32.eq (i32.load offset=4 (local.tee $q (i32.add (local.get $p) (i32.const 96))))
                         (i32.const 0x11223344)))
    (call $check (i32.eq (local.get $q) (i32.const 96)))
    ;; p + k wraps to 100 before the offset is added
    (local.set $p (i32.const 0xfffffff0))
    (call $check (i32.eq (i32.load (local.tee $q (i32.add (local.get $p) (i32.const 0x74))))
                         (i32.const 0x11223344)))
    (call $check (i32.eq (local.get $q) (i32.const 100)))
    (call $check (i32.eq (i32.load8_u offset=1 (i32.sub (i32.const 104) (i32.const 5)))
                         (i32.const 0x44)))
    ;; x + y tee'd, then loaded; (x + k) + y
    (local.set $p (i32.const 60))
    (local.set $i (i32.const 38))
    (call $check (i32.eq (i32.load16_u offset=2 (local.tee $q (i32.add (local.get $p) (local.get $i))))
                         (i32.const 0x3344)))
    (call $check (i32.eq (local.get $q) (i32.const 98)))
    (call $check (i32.eq (i32.load8_s (i32.add (i32.add (local.get $p) (i32.const 2))
                                               (local.get $i)))
                         (i32.const 0x44)))
    ;; loops closed by compares against immediates
    (local.set $i (i32.const 0))
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.ne (local.get $i) (i32.const 10))))
    (call $check (i32.eq (local.get $i) (i32.const 10)))
    (local.set $n (i64.const -5))
    (loop $l2
      (local.set $n (i64.add (local.get $n) (i64.const 1)))
      (br_if $l2 (i64.lt_s (local.get $n) (i64.const 3))))
    (call $check (i64.eq (local.get $n) (i64.const 3)))
    ;; -1 is below 0 signed, above it unsigned
    (local.set $i (i32.const -1))
    (if (i32.lt_s (local.get $i) (i32.const 0)) (then) (else unreachable))
    (if (i32.lt_u (local.get $i) (i32.const 0)) (then unreachable))
    (if (i32.ge_u (local.get $i) (i32.const 0xffffffff)) (then) (else unreachable))
    (if (i64.gt_u (i64.const -1) (i64.const 0x7fffffffffffffff)) (then) (else unreachable))
    (if (i64.le_s (i64.const -1) (i64.const -2)) (then unreachable))
    ;; f64 with constants: arithmetic, compares, NaN
    (local.set $x (f64.const 3))
    (call $check (f64.eq (f64.add (f64.mul (local.get $x) (f64.const 0.5)) (f64.const 1))
                         (f64.const 2.5)))
    (call $check (f64.eq (f64.div (local.get $x) (f64.const 2)) (f64.const 1.5)))
    (call $check (f64.eq (f64.sub (local.get $x) (f64.const 4)) (f64.const -1)))
    (call $check (f64.le (local.get $x) (f64.const 3)))
    (call $check (i32.eqz (f64.lt (local.get $x) (f64.const 3))))
    (call $check (i32.eqz (f64.eq (local.get $x) (f64.const nan))))
    (call $check (f64.ne (local.get $x) (f64.const nan)))
    (call $check (i32.eqz (f64.ge (local.get $x) (f64.const nan))))
    (call $check (f64.ne (f64.add (local.get $x) (f64.const nan)) (f64.const nan)))
    ;; an f64 op's result tee'd and stored: both the local and the memory hold it
    (f64.store offset=8 (i32.const 200) (local.tee $x (f64.mul (local.get $x) (local.get $x))))
    (call $check (f64.eq (local.get $x) (f64.const 9)))
    (call $check (f64.eq (f64.load (i32.const 208)) (f64.const 9)))
    (f64.store (i32.const 216) (f64.sub (local.get $x) (f64.load (i32.const 208))))
    (call $check (i64.eq (i64.load (i32.const 216)) (i64.const 0)))
    ;; a fused load 2 bytes past the end: out of bounds
    (local.set $p (i32.const 65530))
    (drop (i32.load (local.tee $q (i32.add (local.get $p) (i32.const 4)))))))
