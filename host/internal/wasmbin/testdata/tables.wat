;; Two tables, and a function that grows one of them: the table.grow hook
;; is given the number of elements and the table's index.
(module
  (table $a 1 funcref)
  (table $b 2 8 funcref)
  ;; grow(which, n): grows table $a (which = 0) or $b by n elements and
  ;; returns the table's old size, or -1.
  (func (export "grow") (param $which i32) (param $n i32) (result i32)
    (if (result i32) (local.get $which)
      (then (table.grow $b (ref.null func) (local.get $n)))
      (else (table.grow $a (ref.null func) (local.get $n)))))
)
