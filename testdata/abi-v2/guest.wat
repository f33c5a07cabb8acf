;; A guest built for a future dohost ABI, v2: the host must refuse it at
;; load with a message that names both versions.
;; Rebuild: wat2wasm guest.wat -o guest.wasm (make guests)
(module
  (memory (export "memory") 1)
  (func (export "dohost_abi_v2"))
  (func (export "dohost_worker_fetch") (param i32) (result i32)
    i32.const 0))
