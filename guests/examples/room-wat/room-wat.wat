;; The seed example, Cloudflare's "Use KV from Durable Objects", written by
;; hand in WebAssembly text against the dohost ABI (abi/ABI.md), with no
;; language runtime: the same routes and answers as guests/examples/room,
;; at a fraction of the memory. Rebuild: wat2wasm room-wat.wat (make guests).
;;
;;   GET /?roomId=R  → {"room":R,"previousRoom":<last room or null>,"requests":N}
;;   no roomId       → 400 {"error":"missing roomId query parameter: try /?roomId=lobby"}
(module
  (import "dohost" "result_read" (func $result_read (param i32 i32) (result i32)))
  (import "dohost" "respond" (func $respond (param i32 i32) (result i32)))
  (import "dohost" "fail" (func $fail (param i32 i32) (result i32)))
  (import "dohost" "kv_get" (func $kv_get (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "dohost" "kv_put" (func $kv_put (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "dohost" "ns_id_from_name" (func $ns_id_from_name (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "dohost" "stub_fetch" (func $stub_fetch (param i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))

  ;; Memory, packed so that an object touches two or three pages: constants
  ;; below 512; the decoded room at 512 (up to 1 KiB); an object ID at 1536,
  ;; an out length at 1600; the previous room at 1664 (up to 2 KiB); the
  ;; response being built at 4096 (its JSON body first, at 4608); the
  ;; request at 6144 (up to 64 KiB); a stub's response at 72000.
  (memory (export "memory") 3)
  (data (i32.const 0) "YOUR_DO_CLASS")          ;; 13 bytes
  (data (i32.const 16) "YOUR_KV_NAMESPACE")     ;; 17
  (data (i32.const 48) "last-room")             ;; 9
  (data (i32.const 64) "YourDurableObject")     ;; 17
  (data (i32.const 96) "roomId=")               ;; 7
  (data (i32.const 112) "Content-Type")         ;; 12
  (data (i32.const 128) "application/json")     ;; 16
  (data (i32.const 160) "{\"room\":")           ;; 8
  (data (i32.const 176) ",\"previousRoom\":")   ;; 16
  (data (i32.const 208) ",\"requests\":")       ;; 12
  (data (i32.const 224) "null")                 ;; 4
  (data (i32.const 240) "{\"error\":\"missing roomId query parameter: try /?roomId=lobby\"}") ;; 62
  (data (i32.const 320) "0123456789abcdef")

  (global $requests (mut i32) (i32.const 0))    ;; the object's in-memory counter
  (global $room_len (mut i32) (i32.const 0))

  (func (export "dohost_abi_v1"))
  (func (export "dohost_classes") (result i32)
    (drop (call $respond (i32.const 64) (i32.const 17)))
    (i32.const 0))

  ;; $hex: the value of a hex digit, or -1.
  (func $hex (param $c i32) (result i32)
    (if (i32.and (i32.ge_u (local.get $c) (i32.const 48)) (i32.le_u (local.get $c) (i32.const 57)))
      (then (return (i32.sub (local.get $c) (i32.const 48)))))
    (local.set $c (i32.or (local.get $c) (i32.const 32)))
    (if (i32.and (i32.ge_u (local.get $c) (i32.const 97)) (i32.le_u (local.get $c) (i32.const 102)))
      (then (return (i32.sub (local.get $c) (i32.const 87)))))
    (i32.const -1))

  ;; $room reads the request at 6144 and decodes its roomId query
  ;; parameter to 512 ($room_len bytes). It returns 0 when there is none
  ;; (or it is empty), as the Go example's Query().Get does.
  (func $room (result i32)
    (local $p i32) (local $end i32) (local $c i32) (local $out i32) (local $h i32) (local $l i32)
    (local.set $p (i32.add (i32.const 6148) (i32.load (i32.const 6144))))       ;; the URL's length field
    (local.set $end (i32.add (i32.add (local.get $p) (i32.const 4)) (i32.load (local.get $p))))
    (local.set $p (i32.add (local.get $p) (i32.const 4)))
    ;; find '?'
    (block $found
      (loop $scan
        (br_if $found (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $c (i32.load8_u (local.get $p)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br_if $found (i32.eq (local.get $c) (i32.const 63)))                  ;; '?'
        (br_if $found (i32.eq (local.get $c) (i32.const 35)))                  ;; '#'
        (br $scan)))
    ;; each parameter: does it start with "roomId="?
    (block $none
      (loop $param
        (br_if $none (i32.ge_u (local.get $p) (local.get $end)))
        (if (i32.and
              (i32.le_u (i32.add (local.get $p) (i32.const 7)) (local.get $end))
              (i32.and
                (i64.eq (i64.load (local.get $p)) (i64.or (i64.and (i64.load (i32.const 96)) (i64.const 0x00ffffffffffffff)) (i64.and (i64.load (local.get $p)) (i64.const 0xff00000000000000))))
                (i32.const 1)))
          (then
            ;; decode the value up to '&', '#' or the end
            (local.set $p (i32.add (local.get $p) (i32.const 7)))
            (local.set $out (i32.const 512))
            (block $done
              (loop $char
                (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
                (br_if $done (i32.ge_u (local.get $out) (i32.const 1536)))
                (local.set $c (i32.load8_u (local.get $p)))
                (br_if $done (i32.or (i32.eq (local.get $c) (i32.const 38)) (i32.eq (local.get $c) (i32.const 35))))
                (local.set $p (i32.add (local.get $p) (i32.const 1)))
                (if (i32.eq (local.get $c) (i32.const 43)) (then (local.set $c (i32.const 32))))   ;; '+'
                (if (i32.and (i32.eq (local.get $c) (i32.const 37))                               ;; '%XX'
                             (i32.le_u (i32.add (local.get $p) (i32.const 2)) (local.get $end)))
                  (then
                    (local.set $h (call $hex (i32.load8_u (local.get $p))))
                    (local.set $l (call $hex (i32.load8_u (i32.add (local.get $p) (i32.const 1)))))
                    (if (i32.and (i32.ge_s (local.get $h) (i32.const 0)) (i32.ge_s (local.get $l) (i32.const 0)))
                      (then
                        (local.set $c (i32.or (i32.shl (local.get $h) (i32.const 4)) (local.get $l)))
                        (local.set $p (i32.add (local.get $p) (i32.const 2)))))))
                (i32.store8 (local.get $out) (local.get $c))
                (local.set $out (i32.add (local.get $out) (i32.const 1)))
                (br $char)))
            (global.set $room_len (i32.sub (local.get $out) (i32.const 512)))
            (return (i32.ne (global.get $room_len) (i32.const 0)))))
        ;; skip to the next parameter
        (block $next
          (loop $skip
            (br_if $none (i32.ge_u (local.get $p) (local.get $end)))
            (local.set $c (i32.load8_u (local.get $p)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br_if $none (i32.eq (local.get $c) (i32.const 35)))
            (br_if $next (i32.eq (local.get $c) (i32.const 38)))
            (br $skip)))
        (br $param)))
    (i32.const 0))

  ;; $copy copies n bytes from src to dst and returns dst+n.
  (func $copy (param $dst i32) (param $src i32) (param $n i32) (result i32)
    (memory.copy (local.get $dst) (local.get $src) (local.get $n))
    (i32.add (local.get $dst) (local.get $n)))

  ;; $json writes a JSON string of the n bytes at src to dst, quoted and
  ;; escaped, and returns the end.
  (func $json (param $dst i32) (param $src i32) (param $n i32) (result i32)
    (local $end i32) (local $c i32)
    (local.set $end (i32.add (local.get $src) (local.get $n)))
    (i32.store8 (local.get $dst) (i32.const 34))
    (local.set $dst (i32.add (local.get $dst) (i32.const 1)))
    (block $done
      (loop $char
        (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
        (local.set $c (i32.load8_u (local.get $src)))
        (local.set $src (i32.add (local.get $src) (i32.const 1)))
        (if (i32.or (i32.eq (local.get $c) (i32.const 34)) (i32.eq (local.get $c) (i32.const 92)))
          (then                                                   ;; \" and \\
            (i32.store8 (local.get $dst) (i32.const 92))
            (i32.store8 offset=1 (local.get $dst) (local.get $c))
            (local.set $dst (i32.add (local.get $dst) (i32.const 2)))
            (br $char)))
        (if (i32.or (i32.eq (local.get $c) (i32.const 9))
              (i32.or (i32.eq (local.get $c) (i32.const 10)) (i32.eq (local.get $c) (i32.const 13))))
          (then                                                   ;; \t \n \r
            (i32.store8 (local.get $dst) (i32.const 92))
            (i32.store8 offset=1 (local.get $dst)
              (select (i32.const 116) (select (i32.const 110) (i32.const 114) (i32.eq (local.get $c) (i32.const 10)))
                (i32.eq (local.get $c) (i32.const 9))))
            (local.set $dst (i32.add (local.get $dst) (i32.const 2)))
            (br $char)))
        (if (i32.lt_u (local.get $c) (i32.const 32))
          (then                                                   ;; \u00XX
            (i32.store (local.get $dst) (i32.const 0x3030755c))   ;; "\u00"
            (i32.store8 offset=4 (local.get $dst) (i32.load8_u offset=320 (i32.shr_u (local.get $c) (i32.const 4))))
            (i32.store8 offset=5 (local.get $dst) (i32.load8_u offset=320 (i32.and (local.get $c) (i32.const 15))))
            (local.set $dst (i32.add (local.get $dst) (i32.const 6)))
            (br $char)))
        (i32.store8 (local.get $dst) (local.get $c))
        (local.set $dst (i32.add (local.get $dst) (i32.const 1)))
        (br $char)))
    (i32.store8 (local.get $dst) (i32.const 34))
    (i32.add (local.get $dst) (i32.const 1)))

  ;; $decimal writes n in decimal to dst and returns the end.
  (func $decimal (param $dst i32) (param $n i32) (result i32)
    (local $digits i32) (local $m i32)
    (local.set $m (local.get $n))
    (loop $count
      (local.set $digits (i32.add (local.get $digits) (i32.const 1)))
      (local.set $m (i32.div_u (local.get $m) (i32.const 10)))
      (br_if $count (local.get $m)))
    (local.set $m (i32.add (local.get $dst) (local.get $digits)))
    (loop $write
      (local.set $m (i32.sub (local.get $m) (i32.const 1)))
      (i32.store8 (local.get $m) (i32.add (i32.const 48) (i32.rem_u (local.get $n) (i32.const 10))))
      (local.set $n (i32.div_u (local.get $n) (i32.const 10)))
      (br_if $write (i32.gt_u (local.get $m) (local.get $dst))))
    (i32.add (local.get $dst) (local.get $digits)))

  ;; $reply answers with status and a JSON body of n bytes at body.
  (func $reply (param $status i32) (param $body i32) (param $n i32) (result i32)
    (local $p i32)
    (i32.store (i32.const 4096) (local.get $status))
    (i32.store (i32.const 4100) (i32.const 1))                ;; one header
    (i32.store (i32.const 4104) (i32.const 12))
    (local.set $p (call $copy (i32.const 4108) (i32.const 112) (i32.const 12)))
    (i32.store (local.get $p) (i32.const 16))
    (local.set $p (call $copy (i32.add (local.get $p) (i32.const 4)) (i32.const 128) (i32.const 16)))
    (i32.store (local.get $p) (local.get $n))
    (local.set $p (call $copy (i32.add (local.get $p) (i32.const 4)) (local.get $body) (local.get $n)))
    (if (call $respond (i32.const 4096) (i32.sub (local.get $p) (i32.const 4096)))
      (then (return (i32.const 13))))
    (i32.const 0))

  ;; The Worker: route to the room's object.
  (func (export "dohost_worker_fetch") (param $len i32) (result i32)
    (if (i32.gt_u (local.get $len) (i32.const 65536)) (then (return (i32.const 13))))
    (drop (call $result_read (i32.const 6144) (local.get $len)))
    (if (i32.eqz (call $room))
      (then (return (call $reply (i32.const 400) (i32.const 240) (i32.const 62)))))
    (if (call $ns_id_from_name (i32.const 0) (i32.const 13) (i32.const 512) (global.get $room_len)
          (i32.const 1536) (i32.const 64) (i32.const 1600))
      (then (return (i32.const 13))))
    (if (call $stub_fetch (i32.const 0) (i32.const 13) (i32.const 1536) (i32.const 64)
          (i32.const 6144) (local.get $len) (i32.const 72000) (i32.const 65536) (i32.const 1600))
      (then
        (drop (call $fail (i32.const 72000) (i32.load (i32.const 1600))))
        (return (i32.const 13))))
    (if (call $respond (i32.const 72000) (i32.load (i32.const 1600))) (then (return (i32.const 13))))
    (i32.const 0))

  (func (export "dohost_object_new") (param i32) (result i32) (i32.const 0))

  ;; The room: read last-room, write this room, count the request.
  (func (export "dohost_object_fetch") (param $len i32) (result i32)
    (local $p i32) (local $code i32)
    (if (i32.gt_u (local.get $len) (i32.const 65536)) (then (return (i32.const 13))))
    (drop (call $result_read (i32.const 6144) (local.get $len)))
    (drop (call $room))
    (local.set $code (call $kv_get (i32.const 16) (i32.const 17) (i32.const 48) (i32.const 9)
      (i32.const 1664) (i32.const 2048) (i32.const 1600)))
    ;; a previous room longer than 2 KiB was not copied: write the shorter name
    (if (i32.and (i32.eqz (local.get $code)) (i32.gt_u (i32.load (i32.const 1600)) (i32.const 2048)))
      (then (i32.store (i32.const 1600) (i32.const 2048))))
    (if (i32.gt_u (local.get $code) (i32.const 1)) (then (return (i32.const 13))))
    (if (call $kv_put (i32.const 16) (i32.const 17) (i32.const 48) (i32.const 9)
          (i32.const 512) (global.get $room_len) (i32.const 0) (i32.const 0))
      (then (return (i32.const 13))))
    (global.set $requests (i32.add (global.get $requests) (i32.const 1)))
    ;; {"room":R,"previousRoom":P,"requests":N}
    (local.set $p (call $copy (i32.const 4608) (i32.const 160) (i32.const 8)))
    (local.set $p (call $json (local.get $p) (i32.const 512) (global.get $room_len)))
    (local.set $p (call $copy (local.get $p) (i32.const 176) (i32.const 16)))
    (if (i32.eqz (local.get $code))
      (then (local.set $p (call $json (local.get $p) (i32.const 1664) (i32.load (i32.const 1600)))))
      (else (local.set $p (call $copy (local.get $p) (i32.const 224) (i32.const 4)))))
    (local.set $p (call $copy (local.get $p) (i32.const 208) (i32.const 12)))
    (local.set $p (call $decimal (local.get $p) (global.get $requests)))
    (i32.store8 (local.get $p) (i32.const 125))
    (call $reply (i32.const 200) (i32.const 4608) (i32.sub (i32.add (local.get $p) (i32.const 1)) (i32.const 4608))))
)
