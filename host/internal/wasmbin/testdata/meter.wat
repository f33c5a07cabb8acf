;; A module for the wasmbin tests: loops, recursion, indirect calls through
;; a table, ref.func in a global, an import, a start function, mutable
;; globals and data segments. Rebuild: wat2wasm --debug-names meter.wat
(module
  (type $binop (func (param i32 i32) (result i32)))
  (import "env" "twice" (func $twice (param i32) (result i32)))
  (memory (export "memory") 1)
  (table $t 4 funcref)
  (global $counter (mut i32) (i32.const 7))
  (global $wide (mut i64) (i64.const -5))
  (global $fref funcref (ref.func $add))
  (elem (table $t) (i32.const 0) func $add $sub)
  (elem declare func $mul)
  (data (i32.const 16) "hello")
  (data (i32.const 1000) "world")
  (start $init)

  (func $init (global.set $counter (i32.add (global.get $counter) (i32.const 1))))
  (func $add (type $binop) (i32.add (local.get 0) (local.get 1)))
  (func $sub (type $binop) (i32.sub (local.get 0) (local.get 1)))
  (func $mul (type $binop) (i32.mul (local.get 0) (local.get 1)))

  ;; sum of 0..n-1 with a loop
  (func (export "sum") (param $n i32) (result i32) (local $i i32) (local $s i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $s (i32.add (local.get $s) (local.get $i)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $s))

  ;; nested loops: n*m iterations
  (func (export "grid") (param $n i32) (param $m i32) (result i32) (local $i i32) (local $j i32) (local $c i32)
    (loop $outer
      (local.set $j (i32.const 0))
      (loop $inner
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $inner (i32.lt_u (local.get $j) (local.get $m))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $outer (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $c))

  ;; fib without loops: recursion only
  (func $fib (export "fib") (param $n i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))
      (then (local.get $n))
      (else (i32.add (call $fib (i32.sub (local.get $n) (i32.const 1)))
                     (call $fib (i32.sub (local.get $n) (i32.const 2)))))))

  ;; table[i](a, b)
  (func (export "apply") (param $i i32) (param $a i32) (param $b i32) (result i32)
    (call_indirect (type $binop) (local.get $a) (local.get $b) (local.get $i)))

  ;; mul through a funcref in a table slot set at run time
  (func (export "setmul") (table.set $t (i32.const 2) (ref.func $mul)))

  ;; the import, called from inside a loop
  (func (export "imported") (param $n i32) (result i32) (local $s i32)
    (loop $l
      (local.set $s (i32.add (local.get $s) (call $twice (local.get $n))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (i32.gt_s (local.get $n) (i32.const 0))))
    (local.get $s))

  (func (export "counter") (result i32) (global.get $counter))
  (func (export "wide") (result i64) (global.get $wide))
  (func (export "bump") (global.set $counter (i32.add (global.get $counter) (i32.const 10))))
  (func (export "fref_is_null") (result i32) (ref.is_null (global.get $fref)))
  (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))

  ;; multi-value results and an early return inside a block
  (func $pair (param i32) (result i32 i32)
    (if (local.get 0) (then (return (i32.const 1) (i32.const 2))))
    (call $twice (i32.const 5)) (i32.const 3))
  (func (export "pairsum") (param i32) (result i32) (i32.add (call $pair (local.get 0))))
  ;; returns from inside nested blocks and a loop, and branches to the function's label
  (func $nested (export "nested_return") (param $n i32) (result i32)
    (block $a
      (loop $l
        (if (i32.eq (local.get $n) (i32.const 3)) (then (return (call $twice (local.get $n)))))
        (br_if 2 (i32.const 7) (i32.eq (local.get $n) (i32.const 5)))
        (br_if $a (i32.gt_u (local.get $n) (i32.const 10)))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $l)))
    (call $twice (local.get $n)))
  ;; recursion n deep
  (func $recurse (export "recurse") (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (i32.const 0))
      (else (i32.add (i32.const 1) (call $recurse (i32.sub (local.get $n) (i32.const 1)))))))

  ;; traps
  (func $boom (export "boom") unreachable)

  ;; runs forever
  (func (export "spin") (loop $l (br $l)))
  ;; recurses forever without a loop (each level calls twice)
  (func $explode (export "explode") (param $n i32) (result i32)
    (i32.add (call $explode (i32.add (local.get $n) (i32.const 1)))
             (call $explode (i32.add (local.get $n) (i32.const 1)))))
)
