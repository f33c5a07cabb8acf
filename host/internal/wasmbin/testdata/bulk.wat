;; memory.fill and memory.copy of every size, overlapping both ways, and out
;; of bounds; a global and a value around them, to show the guard leaves
;; the stack and the module's own globals as they were. Rebuild:
;; wat2wasm --debug-names bulk.wat
(module
  (memory (export "memory") 4)
  (global $g (mut i32) (i32.const 7))
  (func (export "fill") (param $d i32) (param $v i32) (param $n i32) (result i32)
    (i32.const 40)
    (memory.fill (local.get $d) (local.get $v) (local.get $n))
    (i32.add (global.get $g)))
  (func (export "copy") (param $d i32) (param $s i32) (param $n i32) (result i32)
    (i32.const 2)
    (memory.copy (local.get $d) (local.get $s) (local.get $n))
    (i32.add (global.get $g)))
  ;; sum of the bytes in [p, p+n), weighted by position
  (func (export "sum") (param $p i32) (param $n i32) (result i64) (local $i i32) (local $s i64)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $s (i64.add (local.get $s)
          (i64.mul (i64.extend_i32_u (i32.load8_u (i32.add (local.get $p) (local.get $i))))
                   (i64.extend_i32_u (i32.add (local.get $i) (i32.const 1))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $s))
  ;; bytes i*13 at [0, n)
  (func (export "pattern") (param $n i32) (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store8 (local.get $i) (i32.mul (local.get $i) (i32.const 13)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))))
