;; The storage benchmarks' guest (host/storage_bench_test.go): a Durable
;; Object class "Bench" with no language runtime, so that what a benchmark
;; measures is the host's storage path, not a guest's own work.
;;
;;   GET http://b/put?...   puts key "k", the request's URL as its value
;;   GET http://b/count     lists the object's keys with prefix "k", keys
;;                          only, page by page; answers the count
;;
;; Rebuild: wat2wasm --debug-names guest.wat -o guest.wasm (make guests)
(module
  (import "dohost" "result_read" (func $result_read (param i32 i32) (result i32)))
  (import "dohost" "respond" (func $respond (param i32 i32) (result i32)))
  (import "dohost" "storage_put" (func $storage_put (param i32 i32 i32 i32) (result i32)))
  (import "dohost" "storage_list" (func $storage_list (param i32 i32 i32 i32 i32) (result i32)))

  ;; Memory: constants below 64; the out length at 64; the response at
  ;; 128; list options at 512 (up to 2 KiB with the start key); the
  ;; request at 4096 (up to 60 KiB); a listing's page at 65536 (the rest).
  (memory (export "memory") 32)
  (data (i32.const 0) "Bench")
  (data (i32.const 8) "k")

  (func (export "dohost_abi_v1"))
  (func (export "dohost_classes") (result i32)
    (drop (call $respond (i32.const 0) (i32.const 5)))
    (i32.const 0))
  (func (export "dohost_object_new") (param i32) (result i32) (i32.const 0))

  ;; The Worker: every request is 404 (the benchmarks call the objects).
  (func (export "dohost_worker_fetch") (param i32) (result i32)
    (i32.store (i32.const 128) (i32.const 404))
    (i32.store (i32.const 132) (i32.const 0))
    (i32.store (i32.const 136) (i32.const 0))
    (if (call $respond (i32.const 128) (i32.const 12)) (then (return (i32.const 13))))
    (i32.const 0))

  ;; $reply answers 200 with the decimal $n as its body.
  (func $reply (param $n i32) (result i32)
    (local $p i32) (local $q i32) (local $c i32)
    ;; digits backwards from 255, then moved to 140
    (local.set $p (i32.const 256))
    (loop $digits
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p) (i32.add (i32.const 48) (i32.rem_u (local.get $n) (i32.const 10))))
      (local.set $n (i32.div_u (local.get $n) (i32.const 10)))
      (br_if $digits (local.get $n)))
    (i32.store (i32.const 128) (i32.const 200))
    (i32.store (i32.const 132) (i32.const 0))
    (i32.store (i32.const 136) (i32.sub (i32.const 256) (local.get $p)))
    (local.set $q (i32.const 140))
    (block $done
      (loop $move
        (br_if $done (i32.ge_u (local.get $p) (i32.const 256)))
        (i32.store8 (local.get $q) (i32.load8_u (local.get $p)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br $move)))
    (if (call $respond (i32.const 128) (i32.sub (local.get $q) (i32.const 128)))
      (then (return (i32.const 13))))
    (i32.const 0))

  ;; $count lists every key with prefix "k" and returns how many there
  ;; are, or -1 when a listing fails.
  (func $count (result i32)
    (local $n i32) (local $total i32) (local $p i32) (local $i i32) (local $klen i32)
    (local $last i32) (local $lastlen i32) (local $flags i32) (local $o i32) (local $j i32)
    (local.set $flags (i32.const 2)) ;; keys only
    (loop $page
      ;; StorageListOptions: bytes start, bytes end (empty), bytes prefix "k", flags, limit 0
      (i32.store (i32.const 512) (local.get $lastlen))
      (local.set $j (i32.const 0))
      (block $copied
        (loop $copy
          (br_if $copied (i32.ge_u (local.get $j) (local.get $lastlen)))
          (i32.store8 (i32.add (i32.const 516) (local.get $j)) (i32.load8_u (i32.add (local.get $last) (local.get $j))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $copy)))
      (local.set $o (i32.add (i32.const 516) (local.get $lastlen)))
      (i32.store (local.get $o) (i32.const 0))
      (i32.store (i32.add (local.get $o) (i32.const 4)) (i32.const 1))
      (i32.store8 (i32.add (local.get $o) (i32.const 8)) (i32.const 107)) ;; 'k'
      (i32.store (i32.add (local.get $o) (i32.const 9)) (local.get $flags))
      (i32.store (i32.add (local.get $o) (i32.const 13)) (i32.const 0))
      (if (call $storage_list (i32.const 512) (i32.sub (i32.add (local.get $o) (i32.const 17)) (i32.const 512))
            (i32.const 65536) (i32.const 1900544) (i32.const 64))
        (then (return (i32.const -1))))
      ;; StorageList: u32 n, n × (bytes key, bytes value), u32 more
      (local.set $n (i32.load (i32.const 65536)))
      (local.set $total (i32.add (local.get $total) (local.get $n)))
      (local.set $p (i32.const 65540))
      (local.set $i (i32.const 0))
      (block $walked
        (loop $walk
          (br_if $walked (i32.ge_u (local.get $i) (local.get $n)))
          (local.set $klen (i32.load (local.get $p)))
          (local.set $last (i32.add (local.get $p) (i32.const 4)))
          (local.set $lastlen (local.get $klen))
          (local.set $p (i32.add (local.get $last) (local.get $klen)))
          (local.set $p (i32.add (i32.add (local.get $p) (i32.const 4)) (i32.load (local.get $p))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $walk)))
      (local.set $flags (i32.const 6)) ;; keys only, start after the last key
      ;; a start key longer than the options' room ends the walk
      (if (i32.gt_u (local.get $lastlen) (i32.const 1500)) (then (return (i32.const -1))))
      (br_if $page (i32.load (local.get $p))))
    (local.get $total))

  (func (export "dohost_object_fetch") (param $len i32) (result i32)
    (local $url i32) (local $ulen i32) (local $n i32)
    (if (i32.gt_u (local.get $len) (i32.const 61440)) (then (return (i32.const 13))))
    (drop (call $result_read (i32.const 4096) (local.get $len)))
    ;; Request: str method, str url, ...
    (local.set $url (i32.add (i32.const 4100) (i32.load (i32.const 4096))))
    (local.set $ulen (i32.load (local.get $url)))
    (local.set $url (i32.add (local.get $url) (i32.const 4)))
    ;; "http://b/" is 9 bytes: the 10th says which
    (if (i32.le_u (local.get $ulen) (i32.const 9)) (then (return (i32.const 13))))
    (if (i32.eq (i32.load8_u (i32.add (local.get $url) (i32.const 9))) (i32.const 112)) ;; 'p'
      (then
        (if (call $storage_put (i32.const 8) (i32.const 1) (local.get $url) (local.get $ulen))
          (then (return (i32.const 13))))
        (return (call $reply (i32.const 1)))))
    (local.set $n (call $count))
    (if (i32.lt_s (local.get $n) (i32.const 0)) (then (return (i32.const 13))))
    (call $reply (local.get $n)))
)
