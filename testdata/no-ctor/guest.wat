;; A v1 guest that implements the class "Present" but exports no
;; dohost_object_new: a config that binds a class must be refused at start,
;; naming exactly the handler that is missing.
;; Rebuild: wat2wasm guest.wat -o guest.wasm (make guests)
(module
  (import "dohost" "respond" (func $respond (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "Present")
  (func (export "dohost_abi_v1"))
  (func (export "dohost_classes") (result i32)
    (drop (call $respond (i32.const 16) (i32.const 7)))
    i32.const 0)
  (func (export "dohost_object_fetch") (param i32) (result i32) i32.const 13)
  (func (export "dohost_worker_fetch") (param i32) (result i32) i32.const 13))
