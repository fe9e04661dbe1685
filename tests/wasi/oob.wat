;; oob.wat -- out-of-bounds guest pointers and lengths: each call gets one
;; pointer or length that leaves the 64 KiB memory (past the end, straddling
;; it, or wrapping around 32 bits) and the errno it returns is printed as
;; "label: N" (21 is EFAULT). A failed fd_write must write nothing: the text
;; "LEAK" never appears. Needs a preopened directory (fd 3). Exits with 9.
;; Given any argument it leaves out "fd_write iovs_len wraps": node's
;; uvwasi allocates iovs_len entries before it looks at them (8.6 GB for
;; this one), which takes minutes on a loaded machine.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $environ_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_dir_name" (func $fd_prestat_dir_name (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_filestat_get" (func $fd_filestat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  ;; 0-63: results; 1024: labels; 3072: number text; 4096: iovecs for printing;
  ;; 4160: test iovecs; 5000: "LEAK\n"; 6000: "file.txt".
  (memory (export "memory") 1)
  (data (i32.const 5000) "LEAK\n")
  (data (i32.const 6000) "file.txt")
  (data (i32.const 1024) "fd_write iovs at end|fd_write iovs straddle end|fd_write buffer straddles end|fd_write buffer wraps 32 bits|fd_write iovs_len wraps|fd_write result at end|fd_read buffer past end|fd_read result straddles end|args_sizes_get result at end|args_get argv straddles end|args_get buffer wraps|environ_get buffer past end|path_open path straddles end|path_open path wraps|path_open result past end|random_get straddles end|random_get wraps|random_get 0 bytes at end|clock_time_get straddles end|clock_time_get last 8 bytes|fd_prestat_dir_name past end|fd_filestat_get straddles end|poll_oneoff events past end|")

  ;; Writes len bytes at p to stdout (pointers that are surely valid).
  (func $out (param $p i32) (param $len i32)
    (i32.store (i32.const 4096) (local.get $p))
    (i32.store (i32.const 4100) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 4096) (i32.const 1) (i32.const 4104))))

  ;; Prints label number $n (the $n-th '|'-terminated label) and the errno.
  (func $say (param $n i32) (param $errno i32)
    (local $p i32) (local $start i32) (local $len i32) (local $v i32) (local $q i32)
    (local.set $p (i32.const 1024))
    ;; skip $n labels
    (block $found
      (loop $skip
        (br_if $found (i32.eqz (local.get $n)))
        (block $end
          (loop $ch
            (br_if $end (i32.eq (i32.load8_u (local.get $p)) (i32.const 124)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $ch)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $skip)))
    (local.set $start (local.get $p))
    (block $end
      (loop $ch
        (br_if $end (i32.eq (i32.load8_u (local.get $p)) (i32.const 124)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $ch)))
    (call $out (local.get $start) (i32.sub (local.get $p) (local.get $start)))
    ;; ": " then the number, right to left from 3100, then "\n"
    (i32.store8 (i32.const 3072) (i32.const 58))
    (i32.store8 (i32.const 3073) (i32.const 32))
    (call $out (i32.const 3072) (i32.const 2))
    (local.set $q (i32.const 3100))
    (local.set $v (local.get $errno))
    (loop $digit
      (local.set $q (i32.sub (local.get $q) (i32.const 1)))
      (i32.store8 (local.get $q) (i32.add (i32.const 48) (i32.rem_u (local.get $v) (i32.const 10))))
      (local.set $v (i32.div_u (local.get $v) (i32.const 10)))
      (br_if $digit (local.get $v)))
    (i32.store8 (i32.const 3100) (i32.const 10))
    (call $out (local.get $q) (i32.sub (i32.const 3101) (local.get $q))))

  ;; Sets the test iovec at 4160 to (buf, len).
  (func $iov (param $buf i32) (param $len i32)
    (i32.store (i32.const 4160) (local.get $buf))
    (i32.store (i32.const 4164) (local.get $len)))

  (func (export "_start")
    (call $iov (i32.const 5000) (i32.const 5))
    ;; the iovec array itself outside memory
    (call $say (i32.const 0) (call $fd_write (i32.const 1) (i32.const 65536) (i32.const 1) (i32.const 0)))
    (call $say (i32.const 1) (call $fd_write (i32.const 1) (i32.const 65532) (i32.const 1) (i32.const 0)))
    ;; a buffer that straddles the end, and one whose end wraps past 2^32
    (call $iov (i32.const 65530) (i32.const 100))
    (call $say (i32.const 2) (call $fd_write (i32.const 1) (i32.const 4160) (i32.const 1) (i32.const 0)))
    (call $iov (i32.const 0xfffffff0) (i32.const 0x20))
    (call $say (i32.const 3) (call $fd_write (i32.const 1) (i32.const 4160) (i32.const 1) (i32.const 0)))
    ;; iovs_len * 8 wraps 32 bits to a small number
    (call $iov (i32.const 5000) (i32.const 5))
    (drop (call $args_sizes_get (i32.const 48) (i32.const 52)))
    (if (i32.lt_u (i32.load (i32.const 48)) (i32.const 2))
      (then (call $say (i32.const 4) (call $fd_write (i32.const 1) (i32.const 4160) (i32.const 0x20000001) (i32.const 0)))))
    ;; a good buffer, but nowhere to put the count: nothing may be written
    (call $say (i32.const 5) (call $fd_write (i32.const 1) (i32.const 4160) (i32.const 1) (i32.const 65534)))
    (call $iov (i32.const 65536) (i32.const 1))
    (call $say (i32.const 6) (call $fd_read (i32.const 0) (i32.const 4160) (i32.const 1) (i32.const 0)))
    (call $iov (i32.const 64) (i32.const 1))
    (call $say (i32.const 7) (call $fd_read (i32.const 0) (i32.const 4160) (i32.const 1) (i32.const 65533)))
    (call $say (i32.const 8) (call $args_sizes_get (i32.const 65536) (i32.const 0)))
    (call $say (i32.const 9) (call $args_get (i32.const 65534) (i32.const 0)))
    (call $say (i32.const 10) (call $args_get (i32.const 0) (i32.const 0xffffffff)))
    (call $say (i32.const 11) (call $environ_get (i32.const 0) (i32.const 0x10000)))
    (call $say (i32.const 12) (call $path_open (i32.const 3) (i32.const 0) (i32.const 65530) (i32.const 100)
      (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 0)))
    (call $say (i32.const 13) (call $path_open (i32.const 3) (i32.const 0) (i32.const 0xffffffff) (i32.const 2)
      (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 0)))
    (call $say (i32.const 14) (call $path_open (i32.const 3) (i32.const 0) (i32.const 6000) (i32.const 8)
      (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 65536)))
    (call $say (i32.const 15) (call $random_get (i32.const 65500) (i32.const 100)))
    (call $say (i32.const 16) (call $random_get (i32.const 0xffffffff) (i32.const 2)))
    (call $say (i32.const 17) (call $random_get (i32.const 65536) (i32.const 0)))
    (call $say (i32.const 18) (call $clock_time_get (i32.const 1) (i64.const 0) (i32.const 65532)))
    (call $say (i32.const 19) (call $clock_time_get (i32.const 1) (i64.const 0) (i32.const 65528)))
    (call $say (i32.const 20) (call $fd_prestat_dir_name (i32.const 3) (i32.const 65536) (i32.const 100)))
    (call $say (i32.const 21) (call $fd_filestat_get (i32.const 1) (i32.const 65500)))
    ;; one clock subscription at 0 (timeout 0), events array past the end
    (i64.store (i32.const 0) (i64.const 0))
    (i64.store (i32.const 8) (i64.const 0))
    (i64.store (i32.const 16) (i64.const 1))
    (i64.store (i32.const 24) (i64.const 0))
    (i64.store (i32.const 32) (i64.const 0))
    (i64.store (i32.const 40) (i64.const 0))
    (call $say (i32.const 22) (call $poll_oneoff (i32.const 0) (i32.const 65520) (i32.const 1) (i32.const 48)))
    (call $proc_exit (i32.const 9))))
