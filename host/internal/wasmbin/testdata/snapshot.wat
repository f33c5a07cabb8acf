;; A reactor the wasmbin tests snapshot: data segments, one mutable global
;; set by _initialize. Rebuild: wat2wasm --debug-names snapshot.wat
(module
  (memory (export "memory") 2)
  (global $g (mut i32) (i32.const 0))
  (data (i32.const 8) "abc")
  (data (i32.const 70000) "far")
  (func (export "_initialize") (global.set $g (i32.add (global.get $g) (i32.const 100))))
  (func (export "get") (result i32) (global.get $g))
  (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0))))
