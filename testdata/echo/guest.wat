;; A Worker that answers every request with 200 and, as the body, the
;; Request record it received, byte for byte: the tests read what the host
;; made of an HTTP request (header names, order, host, cf-connecting-ip).
;; Rebuild: wat2wasm guest.wat -o guest.wasm (make guests)
(module
  (import "dohost" "result_read" (func $result_read (param i32 i32) (result i32)))
  (import "dohost" "respond" (func $respond (param i32 i32) (result i32)))
  (memory (export "memory") 2)
  (func (export "dohost_abi_v1"))
  ;; Response at 0: status 200 (u32), 0 headers (u32), body length (u32),
  ;; then the body: the input record, read to offset 12.
  (func (export "dohost_worker_fetch") (param $len i32) (result i32)
    (local $pages i32)
    ;; Room for the response: the memory grows to hold 12 bytes and the record.
    (local.set $pages (i32.shr_u (i32.add (local.get $len) (i32.const 65547)) (i32.const 16)))
    (if (i32.gt_u (local.get $pages) (memory.size))
      (then (if (i32.eq (memory.grow (i32.sub (local.get $pages) (memory.size))) (i32.const -1))
        (then (return (i32.const 13))))))
    (i32.store (i32.const 0) (i32.const 200))
    (i32.store (i32.const 4) (i32.const 0))
    (i32.store (i32.const 8) (local.get $len))
    (drop (call $result_read (i32.const 12) (local.get $len)))
    (call $respond (i32.const 0) (i32.add (local.get $len) (i32.const 12)))))
