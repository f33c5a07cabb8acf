;; probe-wat is the probe test guest (testdata/guests/probe) written by hand
;; in WebAssembly text against the ABI alone (abi/ABI.md), with no SDK and
;; no language runtime: the same paths and the same answers as the Go, C,
;; Rust, AssemblyScript and JavaScript probes, so that the conformance
;; suite holds a guest that speaks the raw ABI to the same checks. It
;; serves every path of the C probe (testdata/guests/probe-c); panic is a
;; failure here too, as WebAssembly has no panics. Rebuild: make guests.
;;
;; How it is made, for whoever changes it:
;; - Strings are (pointer, length) pairs; functions that make one return
;;   both (multi-value). Constants are NUL-terminated literals, one in each
;;   64-byte slot from 1024 ($L_…, read with $cstr); append new ones at the
;;   next slot. The status codes' names are the first 15 slots, in order.
;; - Memory: scratch cells below 1024, the literals, then from 65536 a heap
;;   that each handler call starts afresh ($alloc bumps it; memory grows as
;;   needed). What an object keeps between requests (its name, its ID, what
;;   its constructor read) is allocated by the constructor below $base.
;; - Output is built in one builder at a time ($b_open … $b_close) at the
;;   top of the heap; an $alloc while it is open (a host call's result, a
;;   decoded query parameter) moves the builder past the new block.
;; - Every host call leaves its data or its error message as the pending
;;   result; $result copies it to the heap (ABI.md §2). Out buffers are
;;   passed empty (out_cap 0), so every call reads its result the same way.
(module
  (import "dohost" "result_read" (func $result_read (param i32 i32) (result i32)))
  (import "dohost" "respond" (func $respond (param i32 i32) (result i32)))
  (import "dohost" "fail" (func $fail (param i32 i32) (result i32)))
  (import "dohost" "log" (func $log (param i32 i32 i32) (result i32)))
  (import "dohost" "env_get" (func $env_get (param i32 i32 i32 i32 i32) (result i32)))
  (import "dohost" "kv_get" (func $kv_get (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "dohost" "kv_put" (func $kv_put (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "dohost" "kv_delete" (func $kv_delete (param i32 i32 i32 i32) (result i32)))
  (import "dohost" "kv_list" (func $kv_list (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "dohost" "ns_id_from_name" (func $ns_id_from_name (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "dohost" "ns_new_unique_id" (func $ns_new_unique_id (param i32 i32 i32 i32 i32) (result i32)))
  (import "dohost" "ns_id_from_string" (func $ns_id_from_string (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "dohost" "stub_fetch" (func $stub_fetch (param i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "dohost" "storage_get" (func $storage_get (param i32 i32 i32 i32 i32) (result i32)))
  (import "dohost" "storage_get_multi" (func $storage_get_multi (param i32 i32 i32 i32 i32) (result i32)))
  (import "dohost" "storage_put" (func $storage_put (param i32 i32 i32 i32) (result i32)))
  (import "dohost" "storage_put_multi" (func $storage_put_multi (param i32 i32) (result i32)))
  (import "dohost" "storage_delete" (func $storage_delete (param i32 i32) (result i32)))
  (import "dohost" "storage_delete_multi" (func $storage_delete_multi (param i32 i32 i32) (result i32)))
  (import "dohost" "storage_list" (func $storage_list (param i32 i32 i32 i32 i32) (result i32)))
  (import "dohost" "storage_delete_all" (func $storage_delete_all (result i32)))
  (import "dohost" "txn_begin" (func $txn_begin (result i32)))
  (import "dohost" "txn_commit" (func $txn_commit (result i32)))
  (import "dohost" "txn_rollback" (func $txn_rollback (result i32)))
  (import "dohost" "alarm_get" (func $alarm_get (param i32) (result i32)))
  (import "dohost" "alarm_set" (func $alarm_set (param i32) (result i32)))
  (import "dohost" "alarm_delete" (func $alarm_delete (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))

  (memory (export "memory") 2)

  ;; Scratch cells: an out length, a time (u64), a count, WASI's clock
  ;; reading, a poll subscription (48 bytes) and its event (32), an iovec;
  ;; digits of a number are written backwards ending at 480.
  (global $LENP i32 (i32.const 16))
  (global $TIMEP i32 (i32.const 24))
  (global $COUNTP i32 (i32.const 32))
  (global $CLOCKP i32 (i32.const 40))
  (global $SUBP i32 (i32.const 64))
  (global $EVENTP i32 (i32.const 128))
  (global $NEVENTSP i32 (i32.const 168))
  (global $IOVP i32 (i32.const 176))
  (global $DIGITS_END i32 (i32.const 480))
  (data (i32.const 512) "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
  (data (i32.const 592) "0123456789abcdef")

  ;; The heap, and the builder.
  (global $heap (mut i32) (i32.const 65536))
  (global $base (mut i32) (i32.const 65536))
  (global $bopen (mut i32) (i32.const 0))
  (global $b (mut i32) (i32.const 0))
  (global $bn (mut i32) (i32.const 0))

  ;; The request being served (a Request record, ABI.md §5).
  (global $req_p (mut i32) (i32.const 0))
  (global $req_l (mut i32) (i32.const 0))
  (global $method_p (mut i32) (i32.const 0))
  (global $method_l (mut i32) (i32.const 0))
  (global $url_p (mut i32) (i32.const 0))
  (global $url_l (mut i32) (i32.const 0))
  (global $nh (mut i32) (i32.const 0))
  (global $hdrs (mut i32) (i32.const 0))
  (global $body_p (mut i32) (i32.const 0))
  (global $body_l (mut i32) (i32.const 0))

  ;; The object this instance is, once constructed.
  (global $count (mut i64) (i64.const 0))
  (global $has_name (mut i32) (i32.const 0))
  (global $name_p (mut i32) (i32.const 0))
  (global $name_l (mut i32) (i32.const 0))
  (global $id_p (mut i32) (i32.const 0))
  (global $id_l (mut i32) (i32.const 0))
  (global $ctor_found (mut i32) (i32.const 0))
  (global $ctor_p (mut i32) (i32.const 0))
  (global $ctor_l (mut i32) (i32.const 0))

  ;; The literals.
  (global $L_code0 i32 (i32.const 1024)) (data (i32.const 1024) "ok\00")
  (global $L_code1 i32 (i32.const 1088)) (data (i32.const 1088) "not found\00")
  (global $L_code2 i32 (i32.const 1152)) (data (i32.const 1152) "bad pointer\00")
  (global $L_code3 i32 (i32.const 1216)) (data (i32.const 1216) "bad encoding\00")
  (global $L_code4 i32 (i32.const 1280)) (data (i32.const 1280) "no such binding\00")
  (global $L_code5 i32 (i32.const 1344)) (data (i32.const 1344) "too large\00")
  (global $L_code6 i32 (i32.const 1408)) (data (i32.const 1408) "invalid argument\00")
  (global $L_code7 i32 (i32.const 1472)) (data (i32.const 1472) "call cycle\00")
  (global $L_code8 i32 (i32.const 1536)) (data (i32.const 1536) "object error\00")
  (global $L_code9 i32 (i32.const 1600)) (data (i32.const 1600) "bad state\00")
  (global $L_code10 i32 (i32.const 1664)) (data (i32.const 1664) "overloaded\00")
  (global $L_code11 i32 (i32.const 1728)) (data (i32.const 1728) "timeout\00")
  (global $L_code12 i32 (i32.const 1792)) (data (i32.const 1792) "internal error\00")
  (global $L_code13 i32 (i32.const 1856)) (data (i32.const 1856) "guest error\00")
  (global $L_code14 i32 (i32.const 1920)) (data (i32.const 1920) "?\00")
  (global $L_content_type i32 (i32.const 1984)) (data (i32.const 1984) "Content-Type\00")
  (global $L_app_json i32 (i32.const 2048)) (data (i32.const 2048) "application/json\00")
  (global $L_text_plain i32 (i32.const 2112)) (data (i32.const 2112) "text/plain; charset=utf-8\00")
  (global $L_KV i32 (i32.const 2176)) (data (i32.const 2176) "KV\00")
  (global $L_PROBE i32 (i32.const 2240)) (data (i32.const 2240) "PROBE\00")
  (global $L_OTHER i32 (i32.const 2304)) (data (i32.const 2304) "OTHER\00")
  (global $L_NOPE i32 (i32.const 2368)) (data (i32.const 2368) "NOPE\00")
  (global $L_other i32 (i32.const 2432)) (data (i32.const 2432) "other\00")
  (global $L_classes i32 (i32.const 2496)) (data (i32.const 2496) "Probe\nOther\00")
  (global $L_p_key i32 (i32.const 2560)) (data (i32.const 2560) "key\00")
  (global $L_p_value i32 (i32.const 2624)) (data (i32.const 2624) "value\00")
  (global $L_p_meta i32 (i32.const 2688)) (data (i32.const 2688) "meta\00")
  (global $L_p_ttl i32 (i32.const 2752)) (data (i32.const 2752) "ttl\00")
  (global $L_p_prefix i32 (i32.const 2816)) (data (i32.const 2816) "prefix\00")
  (global $L_p_cursor i32 (i32.const 2880)) (data (i32.const 2880) "cursor\00")
  (global $L_p_limit i32 (i32.const 2944)) (data (i32.const 2944) "limit\00")
  (global $L_p_name i32 (i32.const 3008)) (data (i32.const 3008) "name\00")
  (global $L_p_id i32 (i32.const 3072)) (data (i32.const 3072) "id\00")
  (global $L_p_ns i32 (i32.const 3136)) (data (i32.const 3136) "ns\00")
  (global $L_p_secret i32 (i32.const 3200)) (data (i32.const 3200) "secret\00")
  (global $L_p_keysize i32 (i32.const 3264)) (data (i32.const 3264) "keysize\00")
  (global $L_p_size i32 (i32.const 3328)) (data (i32.const 3328) "size\00")
  (global $L_p_keys i32 (i32.const 3392)) (data (i32.const 3392) "keys\00")
  (global $L_p_n i32 (i32.const 3456)) (data (i32.const 3456) "n\00")
  (global $L_p_start i32 (i32.const 3520)) (data (i32.const 3520) "start\00")
  (global $L_p_startAfter i32 (i32.const 3584)) (data (i32.const 3584) "startAfter\00")
  (global $L_p_end i32 (i32.const 3648)) (data (i32.const 3648) "end\00")
  (global $L_p_reverse i32 (i32.const 3712)) (data (i32.const 3712) "reverse\00")
  (global $L_p_keysOnly i32 (i32.const 3776)) (data (i32.const 3776) "keysOnly\00")
  (global $L_p_fail i32 (i32.const 3840)) (data (i32.const 3840) "fail\00")
  (global $L_p_in i32 (i32.const 3904)) (data (i32.const 3904) "in\00")
  (global $L_p_chain i32 (i32.const 3968)) (data (i32.const 3968) "chain\00")
  (global $L_p_ms i32 (i32.const 4032)) (data (i32.const 4032) "ms\00")
  (global $L_p_msg i32 (i32.const 4096)) (data (i32.const 4096) "msg\00")
  (global $L_r_worker_fail i32 (i32.const 4160)) (data (i32.const 4160) "/worker/fail\00")
  (global $L_r_worker_panic i32 (i32.const 4224)) (data (i32.const 4224) "/worker/panic\00")
  (global $L_r_echo i32 (i32.const 4288)) (data (i32.const 4288) "/echo\00")
  (global $L_r_echo_slash i32 (i32.const 4352)) (data (i32.const 4352) "/echo/\00")
  (global $L_r_worker_storage i32 (i32.const 4416)) (data (i32.const 4416) "/worker/storage\00")
  (global $L_r_badheader i32 (i32.const 4480)) (data (i32.const 4480) "/stub/badheader\00")
  (global $L_r_env i32 (i32.const 4544)) (data (i32.const 4544) "/env\00")
  (global $L_r_kv_get i32 (i32.const 4608)) (data (i32.const 4608) "/kv/get\00")
  (global $L_r_kv_put i32 (i32.const 4672)) (data (i32.const 4672) "/kv/put\00")
  (global $L_r_kv_putget i32 (i32.const 4736)) (data (i32.const 4736) "/kv/putget\00")
  (global $L_r_kv_delete i32 (i32.const 4800)) (data (i32.const 4800) "/kv/delete\00")
  (global $L_r_kv_list i32 (i32.const 4864)) (data (i32.const 4864) "/kv/list\00")
  (global $L_r_kv_nobinding i32 (i32.const 4928)) (data (i32.const 4928) "/kv/nobinding\00")
  (global $L_r_id_name i32 (i32.const 4992)) (data (i32.const 4992) "/id/name\00")
  (global $L_r_id_unique i32 (i32.const 5056)) (data (i32.const 5056) "/id/unique\00")
  (global $L_r_id_parse i32 (i32.const 5120)) (data (i32.const 5120) "/id/parse\00")
  (global $L_r_byid i32 (i32.const 5184)) (data (i32.const 5184) "/byid/\00")
  (global $L_r_obj i32 (i32.const 5248)) (data (i32.const 5248) "/obj/\00")
  (global $L_r_p i32 (i32.const 5312)) (data (i32.const 5312) "/p/\00")
  (global $L_o_st i32 (i32.const 5376)) (data (i32.const 5376) "st/\00")
  (global $L_o_alarm i32 (i32.const 5440)) (data (i32.const 5440) "alarm/\00")
  (global $L_o_echo i32 (i32.const 5504)) (data (i32.const 5504) "echo\00")
  (global $L_o_echo_slash i32 (i32.const 5568)) (data (i32.const 5568) "echo/\00")
  (global $L_o_count i32 (i32.const 5632)) (data (i32.const 5632) "count\00")
  (global $L_o_info i32 (i32.const 5696)) (data (i32.const 5696) "info\00")
  (global $L_o_panic i32 (i32.const 5760)) (data (i32.const 5760) "panic\00")
  (global $L_o_fail i32 (i32.const 5824)) (data (i32.const 5824) "fail\00")
  (global $L_o_exit i32 (i32.const 5888)) (data (i32.const 5888) "exit\00")
  (global $L_o_writeexit i32 (i32.const 5952)) (data (i32.const 5952) "writeexit\00")
  (global $L_o_kvput i32 (i32.const 6016)) (data (i32.const 6016) "kvput\00")
  (global $L_o_call i32 (i32.const 6080)) (data (i32.const 6080) "call\00")
  (global $L_o_busy i32 (i32.const 6144)) (data (i32.const 6144) "busy\00")
  (global $L_o_sleep i32 (i32.const 6208)) (data (i32.const 6208) "sleep\00")
  (global $L_o_log i32 (i32.const 6272)) (data (i32.const 6272) "log\00")
  (global $L_o_headers i32 (i32.const 6336)) (data (i32.const 6336) "headers\00")
  (global $L_o_big i32 (i32.const 6400)) (data (i32.const 6400) "big\00")
  (global $L_st_get i32 (i32.const 6464)) (data (i32.const 6464) "st/get\00")
  (global $L_st_put i32 (i32.const 6528)) (data (i32.const 6528) "st/put\00")
  (global $L_st_getmulti i32 (i32.const 6592)) (data (i32.const 6592) "st/getmulti\00")
  (global $L_st_putmulti i32 (i32.const 6656)) (data (i32.const 6656) "st/putmulti\00")
  (global $L_st_delete i32 (i32.const 6720)) (data (i32.const 6720) "st/delete\00")
  (global $L_st_deletemulti i32 (i32.const 6784)) (data (i32.const 6784) "st/deletemulti\00")
  (global $L_st_list i32 (i32.const 6848)) (data (i32.const 6848) "st/list\00")
  (global $L_st_count i32 (i32.const 6912)) (data (i32.const 6912) "st/count\00")
  (global $L_st_deleteall i32 (i32.const 6976)) (data (i32.const 6976) "st/deleteall\00")
  (global $L_st_txn i32 (i32.const 7040)) (data (i32.const 7040) "st/txn\00")
  (global $L_st_nested i32 (i32.const 7104)) (data (i32.const 7104) "st/nested\00")
  (global $L_st_putexit i32 (i32.const 7168)) (data (i32.const 7168) "st/putexit\00")
  (global $L_st_ctor i32 (i32.const 7232)) (data (i32.const 7232) "st/ctor\00")
  (global $L_al_set i32 (i32.const 7296)) (data (i32.const 7296) "alarm/set\00")
  (global $L_al_get i32 (i32.const 7360)) (data (i32.const 7360) "alarm/get\00")
  (global $L_al_delete i32 (i32.const 7424)) (data (i32.const 7424) "alarm/delete\00")
  (global $L_al_runs i32 (i32.const 7488)) (data (i32.const 7488) "alarm/runs\00")
  (global $L_fails_secret i32 (i32.const 7552)) (data (i32.const 7552) "the probe worker fails with a secret: \00")
  (global $L_panics_secret i32 (i32.const 7616)) (data (i32.const 7616) "the probe worker panics with a secret: \00")
  (global $L_no_route i32 (i32.const 7680)) (data (i32.const 7680) "no route \00")
  (global $L_no_storage_op i32 (i32.const 7744)) (data (i32.const 7744) "no storage op \00")
  (global $L_no_object_op i32 (i32.const 7808)) (data (i32.const 7808) "no object op \00")
  (global $L_ok_json i32 (i32.const 7872)) (data (i32.const 7872) "\"ok\"\00")
  (global $L_no_error_json i32 (i32.const 7936)) (data (i32.const 7936) "\"no error\"\00")
  (global $L_null i32 (i32.const 8000)) (data (i32.const 8000) "null\00")
  (global $L_true i32 (i32.const 8064)) (data (i32.const 8064) "true\00")
  (global $L_false i32 (i32.const 8128)) (data (i32.const 8128) "false\00")
  (global $L_busy_json i32 (i32.const 8192)) (data (i32.const 8192) "\"busy\"\00")
  (global $L_slept_json i32 (i32.const 8256)) (data (i32.const 8256) "\"slept\"\00")
  (global $L_j_code i32 (i32.const 8320)) (data (i32.const 8320) "{\"code\":\00")
  (global $L_j_codeName i32 (i32.const 8384)) (data (i32.const 8384) ",\"codeName\":\00")
  (global $L_j_message i32 (i32.const 8448)) (data (i32.const 8448) ",\"message\":\00")
  (global $L_j_body i32 (i32.const 8512)) (data (i32.const 8512) "{\"body\":\"\00")
  (global $L_j_headers i32 (i32.const 8576)) (data (i32.const 8576) "\",\"headers\":[\00")
  (global $L_j_method i32 (i32.const 8640)) (data (i32.const 8640) "],\"method\":\00")
  (global $L_j_url i32 (i32.const 8704)) (data (i32.const 8704) ",\"url\":\00")
  (global $L_j_keys i32 (i32.const 8768)) (data (i32.const 8768) "{\"Keys\":[\00")
  (global $L_j_name_obj i32 (i32.const 8832)) (data (i32.const 8832) "{\"Name\":\00")
  (global $L_j_expiration i32 (i32.const 8896)) (data (i32.const 8896) ",\"Expiration\":\00")
  (global $L_j_metadata i32 (i32.const 8960)) (data (i32.const 8960) ",\"Metadata\":\00")
  (global $L_j_complete i32 (i32.const 9024)) (data (i32.const 9024) "],\"ListComplete\":\00")
  (global $L_j_cursor i32 (i32.const 9088)) (data (i32.const 9088) ",\"Cursor\":\00")
  (global $L_zero_time i32 (i32.const 9152)) (data (i32.const 9152) "\"0001-01-01T00:00:00Z\"\00")
  (global $L_j_found i32 (i32.const 9216)) (data (i32.const 9216) "{\"found\":\00")
  (global $L_j_value i32 (i32.const 9280)) (data (i32.const 9280) ",\"value\":\00")
  (global $L_j_read i32 (i32.const 9344)) (data (i32.const 9344) ",\"read\":\00")
  (global $L_j_hasName i32 (i32.const 9408)) (data (i32.const 9408) "{\"hasName\":\00")
  (global $L_j_id i32 (i32.const 9472)) (data (i32.const 9472) ",\"id\":\00")
  (global $L_j_name i32 (i32.const 9536)) (data (i32.const 9536) ",\"name\":\00")
  (global $L_j_lastRetry i32 (i32.const 9600)) (data (i32.const 9600) "{\"lastRetry\":\00")
  (global $L_j_runs i32 (i32.const 9664)) (data (i32.const 9664) ",\"runs\":\00")
  (global $L_u00 i32 (i32.const 9728)) (data (i32.const 9728) "u00\00")
  (global $L_ufffd i32 (i32.const 9792)) (data (i32.const 9792) "\\ufffd\00")
  (global $L_u202 i32 (i32.const 9856)) (data (i32.const 9856) "\\u202\00")
  (global $L_tx_fails i32 (i32.const 9920)) (data (i32.const 9920) "the transaction fails on purpose\00")
  (global $L_outer i32 (i32.const 9984)) (data (i32.const 9984) "outer\00")
  (global $L_kept i32 (i32.const 10048)) (data (i32.const 10048) "kept\00")
  (global $L_inner i32 (i32.const 10112)) (data (i32.const 10112) "inner\00")
  (global $L_dropped i32 (i32.const 10176)) (data (i32.const 10176) "dropped\00")
  (global $L_before_exit i32 (i32.const 10240)) (data (i32.const 10240) "written-before-exit\00")
  (global $L_starts i32 (i32.const 10304)) (data (i32.const 10304) "starts\00")
  (global $L_k i32 (i32.const 10368)) (data (i32.const 10368) "k\00")
  (global $L_alarmruns i32 (i32.const 10432)) (data (i32.const 10432) "alarmruns\00")
  (global $L_alarmretry i32 (i32.const 10496)) (data (i32.const 10496) "alarmretry\00")
  (global $L_alarmfail i32 (i32.const 10560)) (data (i32.const 10560) "alarmfail\00")
  (global $L_alarmrearm i32 (i32.const 10624)) (data (i32.const 10624) "alarmrearm\00")
  (global $L_alarm_fails i32 (i32.const 10688)) (data (i32.const 10688) "alarm fails on purpose (\00")
  (global $L_more i32 (i32.const 10752)) (data (i32.const 10752) " more)\00")
  (global $L_no_alarm i32 (i32.const 10816)) (data (i32.const 10816) "alarm/get in the alarm handler found no alarm\00")
  (global $L_panics_on i32 (i32.const 10880)) (data (i32.const 10880) "probe panics on request \00")
  (global $L_fails_on i32 (i32.const 10944)) (data (i32.const 10944) "probe fails on request \00")
  (global $L_GET i32 (i32.const 11008)) (data (i32.const 11008) "GET\00")
  (global $L_count_url i32 (i32.const 11072)) (data (i32.const 11072) "http://probe/obj/count\00")
  (global $L_bad_name i32 (i32.const 11136)) (data (i32.const 11136) "Bad Name\00")
  (global $L_x i32 (i32.const 11200)) (data (i32.const 11200) "x\00")
  (global $L_obj_url i32 (i32.const 11264)) (data (i32.const 11264) "http://probe/obj/\00")
  (global $L_call_url i32 (i32.const 11328)) (data (i32.const 11328) "http://probe/obj/call?chain=\00")
  (global $L_stdout i32 (i32.const 11392)) (data (i32.const 11392) "stdout: \00")
  (global $L_x_h i32 (i32.const 11456)) (data (i32.const 11456) "x-h-\00")
  (global $L_x_rep i32 (i32.const 11520)) (data (i32.const 11520) "x-rep\00")
  (global $L_one i32 (i32.const 11584)) (data (i32.const 11584) "1\00")
  (global $L_two i32 (i32.const 11648)) (data (i32.const 11648) "2\00")
  (global $L_h i32 (i32.const 11712)) (data (i32.const 11712) "h\00")
  (global $L_b i32 (i32.const 11776)) (data (i32.const 11776) "b\00")

  ;; ---- Memory ----

  (func $align8 (param $x i32) (result i32)
    (i32.and (i32.add (local.get $x) (i32.const 7)) (i32.const -8)))

  ;; $ensure grows memory to hold the bytes below end.
  (func $ensure (param $end i32)
    (local $have i32)
    (local.set $have (i32.shl (memory.size) (i32.const 16)))
    (if (i32.gt_u (local.get $end) (local.get $have))
      (then
        (if (i32.lt_s
              (memory.grow (i32.shr_u (i32.add (i32.sub (local.get $end) (local.get $have)) (i32.const 65535)) (i32.const 16)))
              (i32.const 0))
          (then unreachable)))))

  ;; $alloc returns n bytes of the heap. While the builder is open the block
  ;; goes after the builder's bytes, and the builder moves past it.
  (func $alloc (param $n i32) (result i32)
    (local $p i32) (local $nb i32)
    (if (global.get $bopen)
      (then
        (local.set $p (call $align8 (i32.add (global.get $b) (global.get $bn))))
        (local.set $nb (call $align8 (i32.add (local.get $p) (local.get $n))))
        (call $ensure (i32.add (local.get $nb) (global.get $bn)))
        (memory.copy (local.get $nb) (global.get $b) (global.get $bn))
        (global.set $b (local.get $nb))
        (return (local.get $p))))
    (local.set $p (call $align8 (global.get $heap)))
    (call $ensure (i32.add (local.get $p) (local.get $n)))
    (global.set $heap (i32.add (local.get $p) (local.get $n)))
    (local.get $p))

  ;; $repeat is n bytes of c.
  (func $repeat (param $c i32) (param $n i32) (result i32 i32)
    (local $p i32)
    (local.set $p (call $alloc (local.get $n)))
    (memory.fill (local.get $p) (local.get $c) (local.get $n))
    (local.get $p) (local.get $n))

  ;; ---- Strings ----

  ;; $cstr is the literal at off, without its NUL.
  (func $cstr (param $off i32) (result i32 i32)
    (local $e i32)
    (local.set $e (local.get $off))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (i32.load8_u (local.get $e))))
        (local.set $e (i32.add (local.get $e) (i32.const 1)))
        (br $next)))
    (local.get $off) (i32.sub (local.get $e) (local.get $off)))

  (func $eq (param $p i32) (param $n i32) (param $q i32) (param $m i32) (result i32)
    (local $i i32)
    (if (i32.ne (local.get $n) (local.get $m)) (then (return (i32.const 0))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (if (i32.ne (i32.load8_u (i32.add (local.get $p) (local.get $i))) (i32.load8_u (i32.add (local.get $q) (local.get $i))))
          (then (return (i32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.const 1))

  ;; $is: does the string equal the literal?
  (func $is (param $p i32) (param $n i32) (param $lit i32) (result i32)
    (call $eq (local.get $p) (local.get $n) (call $cstr (local.get $lit))))

  ;; $prefix is the length of the literal when the string starts with it,
  ;; else -1.
  (func $prefix (param $p i32) (param $n i32) (param $lit i32) (result i32)
    (local $lp i32) (local $ln i32)
    (call $cstr (local.get $lit)) (local.set $ln) (local.set $lp)
    (if (i32.lt_u (local.get $n) (local.get $ln)) (then (return (i32.const -1))))
    (if (result i32) (call $eq (local.get $p) (local.get $ln) (local.get $lp) (local.get $ln))
      (then (local.get $ln))
      (else (i32.const -1))))

  ;; $skip_str is the position after the str (u32 length, bytes) at p.
  (func $skip_str (param $p i32) (result i32)
    (i32.add (i32.add (local.get $p) (i32.const 4)) (i32.load (local.get $p))))

  ;; $str_at is the str at p.
  (func $str_at (param $p i32) (result i32 i32)
    (i32.add (local.get $p) (i32.const 4)) (i32.load (local.get $p)))

  ;; $atoi parses a decimal integer as Go's strconv.Atoi: 0 when it fails.
  (func $atoi (param $p i32) (param $n i32) (result i64)
    (local $i i32) (local $v i64) (local $c i32) (local $neg i32)
    (if (i32.eqz (local.get $n)) (then (return (i64.const 0))))
    (local.set $c (i32.load8_u (local.get $p)))
    (if (i32.or (i32.eq (local.get $c) (i32.const 45)) (i32.eq (local.get $c) (i32.const 43)))
      (then
        (local.set $neg (i32.eq (local.get $c) (i32.const 45)))
        (local.set $i (i32.const 1))
        (if (i32.eq (local.get $n) (i32.const 1)) (then (return (i64.const 0))))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $c (i32.sub (i32.load8_u (i32.add (local.get $p) (local.get $i))) (i32.const 48)))
        (if (i32.gt_u (local.get $c) (i32.const 9)) (then (return (i64.const 0))))
        (local.set $v (i64.add (i64.mul (local.get $v) (i64.const 10)) (i64.extend_i32_u (local.get $c))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (select (i64.sub (i64.const 0) (local.get $v)) (local.get $v) (local.get $neg)))

  ;; $itoa is v in decimal.
  (func $itoa (param $v i64) (result i32 i32)
    (call $b_open)
    (call $b_int (local.get $v))
    (call $b_close))

  ;; $hex is the value of a hex digit, or -1.
  (func $hex (param $c i32) (result i32)
    (if (i32.le_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 9))
      (then (return (i32.sub (local.get $c) (i32.const 48)))))
    (local.set $c (i32.or (local.get $c) (i32.const 32)))
    (if (i32.le_u (i32.sub (local.get $c) (i32.const 97)) (i32.const 5))
      (then (return (i32.sub (local.get $c) (i32.const 87)))))
    (i32.const -1))

  ;; ---- The builder ----

  (func $b_open
    (global.set $b (call $align8 (global.get $heap)))
    (global.set $bn (i32.const 0))
    (global.set $bopen (i32.const 1)))

  ;; $b_close ends the builder and returns what it built.
  (func $b_close (result i32 i32)
    (global.set $bopen (i32.const 0))
    (global.set $heap (i32.add (global.get $b) (global.get $bn)))
    (global.get $b) (global.get $bn))

  ;; $b_room adds n bytes to the builder and returns where they go.
  (func $b_room (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (i32.add (global.get $b) (global.get $bn)))
    (call $ensure (i32.add (local.get $p) (local.get $n)))
    (global.set $bn (i32.add (global.get $bn) (local.get $n)))
    (local.get $p))

  (func $b_add (param $p i32) (param $n i32)
    (memory.copy (call $b_room (local.get $n)) (local.get $p) (local.get $n)))

  (func $b_byte (param $c i32)
    (i32.store8 (call $b_room (i32.const 1)) (local.get $c)))

  (func $b_lit (param $lit i32)
    (call $b_add (call $cstr (local.get $lit))))

  (func $b_u32 (param $v i32)
    (i32.store (call $b_room (i32.const 4)) (local.get $v)))

  ;; $b_str adds a str (or bytes) field of a record: its length, its bytes.
  (func $b_str (param $p i32) (param $n i32)
    (call $b_u32 (local.get $n))
    (call $b_add (local.get $p) (local.get $n)))

  (func $b_int (param $v i64)
    (local $u i64) (local $i i32) (local $neg i32)
    (local.set $neg (i64.lt_s (local.get $v) (i64.const 0)))
    (local.set $u (select (i64.sub (i64.const 0) (local.get $v)) (local.get $v) (local.get $neg)))
    (local.set $i (global.get $DIGITS_END))
    (loop $digit
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (i32.store8 (local.get $i) (i32.add (i32.const 48) (i32.wrap_i64 (i64.rem_u (local.get $u) (i64.const 10)))))
      (local.set $u (i64.div_u (local.get $u) (i64.const 10)))
      (br_if $digit (i64.ne (local.get $u) (i64.const 0))))
    (if (local.get $neg)
      (then
        (local.set $i (i32.sub (local.get $i) (i32.const 1)))
        (i32.store8 (local.get $i) (i32.const 45))))
    (call $b_add (local.get $i) (i32.sub (global.get $DIGITS_END) (local.get $i))))

  ;; $b_two adds v (0-99) in two digits.
  (func $b_two (param $v i64)
    (call $b_byte (i32.add (i32.const 48) (i32.wrap_i64 (i64.div_u (local.get $v) (i64.const 10)))))
    (call $b_byte (i32.add (i32.const 48) (i32.wrap_i64 (i64.rem_u (local.get $v) (i64.const 10))))))

  ;; $utf8_len is the length of the valid UTF-8 sequence at p[i], or 0.
  (func $utf8_len (param $p i32) (param $i i32) (param $n i32) (result i32)
    (local $c i32) (local $len i32) (local $min i32) (local $k i32) (local $d i32)
    (local.set $c (i32.load8_u (i32.add (local.get $p) (local.get $i))))
    (if (i32.lt_u (local.get $c) (i32.const 0x80)) (then (return (i32.const 1))))
    (if (i32.eq (i32.and (local.get $c) (i32.const 0xE0)) (i32.const 0xC0))
      (then (local.set $len (i32.const 2)) (local.set $min (i32.const 0x80)) (local.set $c (i32.and (local.get $c) (i32.const 0x1F))))
      (else
        (if (i32.eq (i32.and (local.get $c) (i32.const 0xF0)) (i32.const 0xE0))
          (then (local.set $len (i32.const 3)) (local.set $min (i32.const 0x800)) (local.set $c (i32.and (local.get $c) (i32.const 0x0F))))
          (else
            (if (i32.eq (i32.and (local.get $c) (i32.const 0xF8)) (i32.const 0xF0))
              (then (local.set $len (i32.const 4)) (local.set $min (i32.const 0x10000)) (local.set $c (i32.and (local.get $c) (i32.const 0x07))))
              (else (return (i32.const 0))))))))
    (if (i32.gt_u (i32.add (local.get $i) (local.get $len)) (local.get $n)) (then (return (i32.const 0))))
    (local.set $k (i32.const 1))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $k) (local.get $len)))
        (local.set $d (i32.load8_u (i32.add (local.get $p) (i32.add (local.get $i) (local.get $k)))))
        (if (i32.ne (i32.and (local.get $d) (i32.const 0xC0)) (i32.const 0x80)) (then (return (i32.const 0))))
        (local.set $c (i32.or (i32.shl (local.get $c) (i32.const 6)) (i32.and (local.get $d) (i32.const 0x3F))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $next)))
    (if (i32.or (i32.lt_u (local.get $c) (local.get $min))
          (i32.or (i32.gt_u (local.get $c) (i32.const 0x10FFFF))
                  (i32.le_u (i32.sub (local.get $c) (i32.const 0xD800)) (i32.const 0x7FF))))
      (then (return (i32.const 0))))
    (local.get $len))

  ;; $b_json adds the string as a JSON string, as Go's encoding/json writes
  ;; it: <, > and & escaped, invalid UTF-8 as \ufffd, U+2028 and U+2029
  ;; escaped.
  (func $b_json (param $p i32) (param $n i32)
    (local $i i32) (local $c i32) (local $k i32) (local $at i32)
    (call $b_byte (i32.const 34))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $at (i32.add (local.get $p) (local.get $i)))
        (local.set $c (i32.load8_u (local.get $at)))
        (if (i32.lt_u (local.get $c) (i32.const 0x80))
          (then
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (if (i32.eqz (i32.or (i32.lt_u (local.get $c) (i32.const 0x20))
                  (i32.or (i32.or (i32.eq (local.get $c) (i32.const 34)) (i32.eq (local.get $c) (i32.const 92)))
                          (i32.or (i32.or (i32.eq (local.get $c) (i32.const 60)) (i32.eq (local.get $c) (i32.const 62)))
                                  (i32.eq (local.get $c) (i32.const 38))))))
              (then (call $b_byte (local.get $c)) (br $next)))
            (call $b_byte (i32.const 92))
            (if (i32.eq (local.get $c) (i32.const 34)) (then (call $b_byte (i32.const 34)) (br $next)))
            (if (i32.eq (local.get $c) (i32.const 92)) (then (call $b_byte (i32.const 92)) (br $next)))
            (if (i32.eq (local.get $c) (i32.const 10)) (then (call $b_byte (i32.const 110)) (br $next)))
            (if (i32.eq (local.get $c) (i32.const 13)) (then (call $b_byte (i32.const 114)) (br $next)))
            (if (i32.eq (local.get $c) (i32.const 9)) (then (call $b_byte (i32.const 116)) (br $next)))
            (call $b_lit (global.get $L_u00))
            (call $b_byte (i32.load8_u (i32.add (i32.const 592) (i32.shr_u (local.get $c) (i32.const 4)))))
            (call $b_byte (i32.load8_u (i32.add (i32.const 592) (i32.and (local.get $c) (i32.const 15)))))
            (br $next)))
        (local.set $k (call $utf8_len (local.get $p) (local.get $i) (local.get $n)))
        (if (i32.eqz (local.get $k))
          (then
            (call $b_lit (global.get $L_ufffd))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $next)))
        (if (i32.and (i32.eq (local.get $k) (i32.const 3))
              (i32.and (i32.eq (local.get $c) (i32.const 0xE2))
                (i32.and (i32.eq (i32.load8_u offset=1 (local.get $at)) (i32.const 0x80))
                         (i32.eq (i32.and (i32.load8_u offset=2 (local.get $at)) (i32.const 0xFE)) (i32.const 0xA8)))))
          (then
            (call $b_lit (global.get $L_u202))
            (call $b_byte (select (i32.const 56) (i32.const 57) (i32.eq (i32.load8_u offset=2 (local.get $at)) (i32.const 0xA8))))
            (local.set $i (i32.add (local.get $i) (i32.const 3)))
            (br $next)))
        (call $b_add (local.get $at) (local.get $k))
        (local.set $i (i32.add (local.get $i) (local.get $k)))
        (br $next)))
    (call $b_byte (i32.const 34)))

  ;; $b_json_at adds the str at p as a JSON string and returns the position
  ;; after it.
  (func $b_json_at (param $p i32) (result i32)
    (call $b_json (call $str_at (local.get $p)))
    (call $skip_str (local.get $p)))

  ;; $b_b64 adds the bytes in standard base64, as Go's encoding/json writes
  ;; a []byte.
  (func $b_b64 (param $p i32) (param $n i32)
    (local $i i32) (local $v i32) (local $o i32) (local $r i32) (local $at i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $r (i32.sub (local.get $n) (local.get $i)))
        (local.set $at (i32.add (local.get $p) (local.get $i)))
        (local.set $v (i32.shl (i32.load8_u (local.get $at)) (i32.const 16)))
        (if (i32.gt_u (local.get $r) (i32.const 1))
          (then (local.set $v (i32.or (local.get $v) (i32.shl (i32.load8_u offset=1 (local.get $at)) (i32.const 8))))))
        (if (i32.gt_u (local.get $r) (i32.const 2))
          (then (local.set $v (i32.or (local.get $v) (i32.load8_u offset=2 (local.get $at))))))
        (local.set $o (call $b_room (i32.const 4)))
        (i32.store8 (local.get $o) (i32.load8_u (i32.add (i32.const 512) (i32.shr_u (local.get $v) (i32.const 18)))))
        (i32.store8 offset=1 (local.get $o) (i32.load8_u (i32.add (i32.const 512) (i32.and (i32.shr_u (local.get $v) (i32.const 12)) (i32.const 63)))))
        (i32.store8 offset=2 (local.get $o)
          (select (i32.load8_u (i32.add (i32.const 512) (i32.and (i32.shr_u (local.get $v) (i32.const 6)) (i32.const 63)))) (i32.const 61)
            (i32.gt_u (local.get $r) (i32.const 1))))
        (i32.store8 offset=3 (local.get $o)
          (select (i32.load8_u (i32.add (i32.const 512) (i32.and (local.get $v) (i32.const 63)))) (i32.const 61)
            (i32.gt_u (local.get $r) (i32.const 2))))
        (local.set $i (i32.add (local.get $i) (i32.const 3)))
        (br $next))))

  ;; $b_time adds unix seconds as Go's time.Time marshals them, in UTC; 0
  ;; is Go's zero time. (Howard Hinnant's civil_from_days.)
  (func $b_time (param $secs i64)
    (local $days i64) (local $rem i64) (local $z i64) (local $era i64) (local $doe i64) (local $yoe i64)
    (local $y i64) (local $doy i64) (local $mp i64) (local $d i64) (local $m i64)
    (if (i64.eqz (local.get $secs)) (then (call $b_lit (global.get $L_zero_time)) (return)))
    (local.set $days (i64.div_u (local.get $secs) (i64.const 86400)))
    (local.set $rem (i64.rem_u (local.get $secs) (i64.const 86400)))
    (local.set $z (i64.add (local.get $days) (i64.const 719468)))
    (local.set $era (i64.div_u (local.get $z) (i64.const 146097)))
    (local.set $doe (i64.sub (local.get $z) (i64.mul (local.get $era) (i64.const 146097))))
    (local.set $yoe (i64.div_u
      (i64.sub (i64.add (i64.sub (local.get $doe) (i64.div_u (local.get $doe) (i64.const 1460)))
                        (i64.div_u (local.get $doe) (i64.const 36524)))
               (i64.div_u (local.get $doe) (i64.const 146096)))
      (i64.const 365)))
    (local.set $y (i64.add (local.get $yoe) (i64.mul (local.get $era) (i64.const 400))))
    (local.set $doy (i64.sub (local.get $doe)
      (i64.sub (i64.add (i64.mul (i64.const 365) (local.get $yoe)) (i64.div_u (local.get $yoe) (i64.const 4)))
               (i64.div_u (local.get $yoe) (i64.const 100)))))
    (local.set $mp (i64.div_u (i64.add (i64.mul (i64.const 5) (local.get $doy)) (i64.const 2)) (i64.const 153)))
    (local.set $d (i64.add (i64.sub (local.get $doy) (i64.div_u (i64.add (i64.mul (i64.const 153) (local.get $mp)) (i64.const 2)) (i64.const 5))) (i64.const 1)))
    (local.set $m (select (i64.add (local.get $mp) (i64.const 3)) (i64.sub (local.get $mp) (i64.const 9)) (i64.lt_u (local.get $mp) (i64.const 10))))
    (if (i64.le_u (local.get $m) (i64.const 2)) (then (local.set $y (i64.add (local.get $y) (i64.const 1)))))
    (call $b_byte (i32.const 34))
    (call $b_int (local.get $y))
    (call $b_byte (i32.const 45))
    (call $b_two (local.get $m))
    (call $b_byte (i32.const 45))
    (call $b_two (local.get $d))
    (call $b_byte (i32.const 84))
    (call $b_two (i64.div_u (local.get $rem) (i64.const 3600)))
    (call $b_byte (i32.const 58))
    (call $b_two (i64.rem_u (i64.div_u (local.get $rem) (i64.const 60)) (i64.const 60)))
    (call $b_byte (i32.const 58))
    (call $b_two (i64.rem_u (local.get $rem) (i64.const 60)))
    (call $b_byte (i32.const 90))
    (call $b_byte (i32.const 34)))

  ;; ---- Host calls ----

  ;; $result copies the pending result (the last host call's data or error
  ;; message) to the heap.
  (func $result (result i32 i32)
    (local $n i32) (local $p i32)
    (local.set $n (call $result_read (i32.const 0) (i32.const 0)))
    (if (i32.lt_s (local.get $n) (i32.const 0)) (then (return (i32.const 0) (i32.const 0))))
    (local.set $p (call $alloc (local.get $n)))
    (drop (call $result_read (local.get $p) (local.get $n)))
    (local.get $p) (local.get $n))

  ;; $fail_call fails the handler with the last host call's message, as a
  ;; Go handler that returns the SDK's error.
  (func $fail_call (result i32)
    (drop (call $fail (call $result)))
    (i32.const 13))

  ;; $fail_with fails the handler with the message.
  (func $fail_with (param $p i32) (param $n i32) (result i32)
    (drop (call $fail (local.get $p) (local.get $n)))
    (i32.const 13))

  (func $now_ms (result i64)
    (drop (call $clock_time_get (i32.const 0) (i64.const 1) (global.get $CLOCKP)))
    (i64.div_u (i64.load (global.get $CLOCKP)) (i64.const 1000000)))

  ;; ---- Requests and responses ----

  ;; $start begins a fetch handler's call: its input, a Request record of
  ;; n bytes, read and split into its fields.
  ;; $input begins a handler call: a fresh heap, and its input record of n
  ;; bytes copied to it.
  (func $input (param $n i32) (result i32)
    (local $p i32)
    (global.set $heap (global.get $base))
    (local.set $p (call $alloc (local.get $n)))
    (drop (call $result_read (local.get $p) (local.get $n)))
    (local.get $p))

  (func $start (param $n i32)
    (local $p i32) (local $i i32)
    (local.set $p (call $input (local.get $n)))
    (global.set $req_p (local.get $p))
    (global.set $req_l (local.get $n))
    (call $str_at (local.get $p)) (global.set $method_l) (global.set $method_p)
    (local.set $p (call $skip_str (local.get $p)))
    (call $str_at (local.get $p)) (global.set $url_l) (global.set $url_p)
    (local.set $p (call $skip_str (local.get $p)))
    (global.set $nh (i32.load (local.get $p)))
    (local.set $p (i32.add (local.get $p) (i32.const 4)))
    (global.set $hdrs (local.get $p))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (global.get $nh)))
        (local.set $p (call $skip_str (call $skip_str (local.get $p))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (call $str_at (local.get $p)) (global.set $body_l) (global.set $body_p))

  (func $url_at (param $i i32) (result i32)
    (i32.load8_u (i32.add (global.get $url_p) (local.get $i))))

  ;; $path is the URL's path (up to '?' or '#'), without a leading /p
  ;; segment (which the routing tests put in front of every path).
  (func $path (result i32 i32)
    (local $i i32) (local $j i32) (local $end i32)
    (block $found
      (loop $next
        (br_if $found (i32.gt_u (i32.add (local.get $j) (i32.const 3)) (global.get $url_l)))
        (if (i32.and (i32.eq (call $url_at (local.get $j)) (i32.const 58))
              (i32.and (i32.eq (call $url_at (i32.add (local.get $j) (i32.const 1))) (i32.const 47))
                       (i32.eq (call $url_at (i32.add (local.get $j) (i32.const 2))) (i32.const 47))))
          (then (local.set $i (i32.add (local.get $j) (i32.const 3))) (br $found)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $next)))
    (block $slash
      (loop $next
        (br_if $slash (i32.ge_u (local.get $i) (global.get $url_l)))
        (br_if $slash (i32.eq (call $url_at (local.get $i)) (i32.const 47)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.set $end (local.get $i))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $end) (global.get $url_l)))
        (br_if $done (i32.eq (call $url_at (local.get $end)) (i32.const 63)))
        (br_if $done (i32.eq (call $url_at (local.get $end)) (i32.const 35)))
        (local.set $end (i32.add (local.get $end) (i32.const 1)))
        (br $next)))
    (if (i32.ge_s (call $prefix (i32.add (global.get $url_p) (local.get $i)) (i32.sub (local.get $end) (local.get $i)) (global.get $L_r_p)) (i32.const 0))
      (then (local.set $i (i32.add (local.get $i) (i32.const 2)))))
    (i32.add (global.get $url_p) (local.get $i)) (i32.sub (local.get $end) (local.get $i)))

  ;; $raw_query is the URL's query as sent: after the first '?', up to '#'
  ;; (empty when there is none).
  (func $raw_query (result i32 i32)
    (local $i i32) (local $end i32) (local $c i32)
    (block $found
      (loop $next
        (if (i32.ge_u (local.get $i) (global.get $url_l)) (then (return (i32.const 0) (i32.const 0))))
        (local.set $c (call $url_at (local.get $i)))
        (if (i32.eq (local.get $c) (i32.const 35)) (then (return (i32.const 0) (i32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $found (i32.eq (local.get $c) (i32.const 63)))
        (br $next)))
    (local.set $end (local.get $i))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $end) (global.get $url_l)))
        (br_if $done (i32.eq (call $url_at (local.get $end)) (i32.const 35)))
        (local.set $end (i32.add (local.get $end) (i32.const 1)))
        (br $next)))
    (i32.add (global.get $url_p) (local.get $i)) (i32.sub (local.get $end) (local.get $i)))

  ;; $unescape decodes a query component ('+' is a space, %XX a byte) to the
  ;; heap; its third result is 0 when an escape is malformed.
  (func $unescape (param $p i32) (param $n i32) (result i32 i32 i32)
    (local $out i32) (local $o i32) (local $i i32) (local $c i32) (local $h i32) (local $l i32)
    (local.set $out (call $alloc (local.get $n)))
    (local.set $o (local.get $out))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $c (i32.load8_u (i32.add (local.get $p) (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (if (i32.eq (local.get $c) (i32.const 43)) (then (local.set $c (i32.const 32))))
        (if (i32.eq (local.get $c) (i32.const 37))
          (then
            (if (i32.gt_u (i32.add (local.get $i) (i32.const 2)) (local.get $n))
              (then (return (local.get $out) (i32.const 0) (i32.const 0))))
            (local.set $h (call $hex (i32.load8_u (i32.add (local.get $p) (local.get $i)))))
            (local.set $l (call $hex (i32.load8_u offset=1 (i32.add (local.get $p) (local.get $i)))))
            (if (i32.or (i32.lt_s (local.get $h) (i32.const 0)) (i32.lt_s (local.get $l) (i32.const 0)))
              (then (return (local.get $out) (i32.const 0) (i32.const 0))))
            (local.set $c (i32.or (i32.shl (local.get $h) (i32.const 4)) (local.get $l)))
            (local.set $i (i32.add (local.get $i) (i32.const 2)))))
        (i32.store8 (local.get $o) (local.get $c))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (br $next)))
    (local.get $out) (i32.sub (local.get $o) (local.get $out)) (i32.const 1))

  ;; $q is the query parameter named by the literal, decoded, as Go's
  ;; URL.Query().Get gives it: the first value; pairs with a ';' or a bad
  ;; escape are skipped; empty when there is none.
  (func $q (param $name i32) (result i32 i32)
    (local $qp i32) (local $qn i32) (local $i i32) (local $j i32) (local $e i32) (local $c i32) (local $semi i32)
    (local $kp i32) (local $kn i32) (local $ok i32) (local $vp i32) (local $vn i32)
    (call $raw_query) (local.set $qn) (local.set $qp)
    (block $none
      (loop $pair
        (br_if $none (i32.ge_u (local.get $i) (local.get $qn)))
        (local.set $j (local.get $i))
        (local.set $semi (i32.const 0))
        (local.set $e (i32.const -1))
        (block $end
          (loop $next
            (br_if $end (i32.ge_u (local.get $j) (local.get $qn)))
            (local.set $c (i32.load8_u (i32.add (local.get $qp) (local.get $j))))
            (br_if $end (i32.eq (local.get $c) (i32.const 38)))
            (if (i32.eq (local.get $c) (i32.const 59)) (then (local.set $semi (i32.const 1))))
            (if (i32.and (i32.eq (local.get $c) (i32.const 61)) (i32.lt_s (local.get $e) (i32.const 0)))
              (then (local.set $e (local.get $j))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $next)))
        (if (i32.and (i32.ne (local.get $j) (local.get $i)) (i32.eqz (local.get $semi)))
          (then
            (if (i32.lt_s (local.get $e) (i32.const 0)) (then (local.set $e (local.get $j))))
            (call $unescape (i32.add (local.get $qp) (local.get $i)) (i32.sub (local.get $e) (local.get $i)))
            (local.set $ok) (local.set $kn) (local.set $kp)
            (if (i32.and (local.get $ok) (call $is (local.get $kp) (local.get $kn) (local.get $name)))
              (then
                (if (i32.lt_u (local.get $e) (local.get $j)) (then (local.set $e (i32.add (local.get $e) (i32.const 1)))))
                (call $unescape (i32.add (local.get $qp) (local.get $e)) (i32.sub (local.get $j) (local.get $e)))
                (local.set $ok) (local.set $vn) (local.set $vp)
                (if (local.get $ok) (then (return (local.get $vp) (local.get $vn))))))))
        (local.set $i (i32.add (local.get $j) (i32.const 1)))
        (br $pair)))
    (i32.const 0) (i32.const 0))

  ;; $qint is the query parameter as an integer (0 when absent or not one).
  (func $qint (param $name i32) (result i64)
    (call $atoi (call $q (local.get $name))))

  ;; $reply answers a fetch: a Response record with the status, a
  ;; Content-Type header when ct (a literal) is not 0, and the body.
  (func $reply (param $status i32) (param $ct i32) (param $p i32) (param $n i32) (result i32)
    (call $b_open)
    (call $b_u32 (local.get $status))
    (if (local.get $ct)
      (then
        (call $b_u32 (i32.const 1))
        (call $b_str (call $cstr (global.get $L_content_type)))
        (call $b_str (call $cstr (local.get $ct))))
      (else (call $b_u32 (i32.const 0))))
    (call $b_str (local.get $p) (local.get $n))
    (call $respond_raw (call $b_close)))

  ;; $respond_raw answers with a Response record as it is (a stub's).
  (func $respond_raw (param $p i32) (param $n i32) (result i32)
    (if (call $respond (local.get $p) (local.get $n)) (then (return (call $fail_call))))
    (i32.const 0))

  (func $json (param $status i32) (param $p i32) (param $n i32) (result i32)
    (call $reply (local.get $status) (global.get $L_app_json) (local.get $p) (local.get $n)))

  (func $json_lit (param $status i32) (param $lit i32) (result i32)
    (call $json (local.get $status) (call $cstr (local.get $lit))))

  (func $json_string (param $status i32) (param $p i32) (param $n i32) (result i32)
    (call $b_open)
    (call $b_json (local.get $p) (local.get $n))
    (call $json (local.get $status) (call $b_close)))

  (func $json_int (param $status i32) (param $v i64) (result i32)
    (call $json (local.get $status) (call $itoa (local.get $v))))

  ;; $text_404 answers 404 with what and the path, in plain text.
  (func $text_404 (param $what i32) (param $p i32) (param $n i32) (result i32)
    (call $b_open)
    (call $b_lit (local.get $what))
    (call $b_add (local.get $p) (local.get $n))
    (call $b_close) (local.set $n) (local.set $p)
    (call $reply (i32.const 404) (global.get $L_text_plain) (local.get $p) (local.get $n)))

  ;; $error_response reports the last host call's error as the Go probe
  ;; does: 502 with its code, the code's name and the host's message.
  (func $error_response (param $code i32) (result i32)
    (local $mp i32) (local $mn i32)
    (call $result) (local.set $mn) (local.set $mp)
    (call $b_open)
    (call $b_lit (global.get $L_j_code))
    (call $b_int (i64.extend_i32_s (local.get $code)))
    (call $b_lit (global.get $L_j_codeName))
    (call $b_json (call $cstr (i32.add (global.get $L_code0) (i32.shl (select (local.get $code) (i32.const 14) (i32.le_u (local.get $code) (i32.const 13))) (i32.const 6)))))
    (call $b_lit (global.get $L_j_message))
    (call $b_json (local.get $mp) (local.get $mn))
    (call $b_byte (i32.const 125))
    (call $json (i32.const 502) (call $b_close)))

  ;; $ok_or_error answers "ok" for code 0, the error otherwise.
  (func $ok_or_error (param $code i32) (result i32)
    (if (result i32) (local.get $code)
      (then (call $error_response (local.get $code)))
      (else (call $json_lit (i32.const 200) (global.get $L_ok_json)))))

  ;; $echo answers with the request as the handler sees it, as the Go probe
  ;; does: method, URL, headers (as the record has them) and body (base64).
  (func $echo (result i32)
    (local $p i32) (local $i i32)
    (call $b_open)
    (call $b_lit (global.get $L_j_body))
    (call $b_b64 (global.get $body_p) (global.get $body_l))
    (call $b_lit (global.get $L_j_headers))
    (local.set $p (global.get $hdrs))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (global.get $nh)))
        (if (local.get $i) (then (call $b_byte (i32.const 44))))
        (call $b_byte (i32.const 91))
        (local.set $p (call $b_json_at (local.get $p)))
        (call $b_byte (i32.const 44))
        (local.set $p (call $b_json_at (local.get $p)))
        (call $b_byte (i32.const 93))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (call $b_lit (global.get $L_j_method))
    (call $b_json (global.get $method_p) (global.get $method_l))
    (call $b_lit (global.get $L_j_url))
    (call $b_json (global.get $url_p) (global.get $url_l))
    (call $b_byte (i32.const 125))
    (call $json (i32.const 200) (call $b_close)))

  ;; $forward sends a Request record (the method, the URL, no headers, no
  ;; body) to the object id of the namespace ns (a literal), and answers
  ;; with its response.
  (func $forward (param $ns i32) (param $idp i32) (param $idn i32) (param $mp i32) (param $mn i32) (param $up i32) (param $un i32) (result i32)
    (call $b_open)
    (call $b_str (local.get $mp) (local.get $mn))
    (call $b_str (local.get $up) (local.get $un))
    (call $b_u32 (i32.const 0))
    (call $b_u32 (i32.const 0))
    (call $stub_answer (local.get $ns) (local.get $idp) (local.get $idn) (call $b_close)))

  ;; $stub_answer sends the Request record at rp to the object id of the
  ;; namespace ns (a literal) and answers with its response, or with the
  ;; call's error.
  (func $stub_answer (param $ns i32) (param $idp i32) (param $idn i32) (param $rp i32) (param $rn i32) (result i32)
    (local $code i32)
    (local.set $code (call $stub_fetch (call $cstr (local.get $ns)) (local.get $idp) (local.get $idn)
      (local.get $rp) (local.get $rn) (i32.const 0) (i32.const 0) (global.get $LENP)))
    (if (local.get $code) (then (return (call $error_response (local.get $code)))))
    (call $respond_raw (call $result)))

  ;; $key_list is a KeyList record of the comma-separated keys, as Go's
  ;; strings.Split gives them, and how many there are.
  (func $key_list (param $p i32) (param $n i32) (result i32 i32 i32)
    (local $i i32) (local $start i32) (local $k i32)
    (local.set $k (i32.const 1))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (if (i32.eq (i32.load8_u (i32.add (local.get $p) (local.get $i))) (i32.const 44))
          (then (local.set $k (i32.add (local.get $k) (i32.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (call $b_open)
    (call $b_u32 (local.get $k))
    (local.set $i (i32.const 0))
    (block $done
      (loop $next
        (if (i32.eq (local.get $i) (local.get $n))
          (then
            (call $b_str (i32.add (local.get $p) (local.get $start)) (i32.sub (local.get $i) (local.get $start)))
            (br $done)))
        (if (i32.eq (i32.load8_u (i32.add (local.get $p) (local.get $i))) (i32.const 44))
          (then
            (call $b_str (i32.add (local.get $p) (local.get $start)) (i32.sub (local.get $i) (local.get $start)))
            (local.set $start (i32.add (local.get $i) (i32.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (call $b_close) (local.get $k))

  ;; ---- The Worker ----

  (func (export "dohost_abi_v1"))

  (func (export "dohost_classes") (result i32)
    (drop (call $respond (call $cstr (global.get $L_classes))))
    (i32.const 0))

  (func (export "dohost_worker_fetch") (param $len i32) (result i32)
    (local $pp i32) (local $pn i32) (local $r i32)
    (call $start (local.get $len))
    (call $path) (local.set $pn) (local.set $pp)
    (if (call $is (local.get $pp) (local.get $pn) (global.get $L_r_worker_fail))
      (then (return (call $worker_fail (global.get $L_fails_secret)))))
    (if (call $is (local.get $pp) (local.get $pn) (global.get $L_r_worker_panic))
      (then (return (call $worker_fail (global.get $L_panics_secret)))))
    (if (i32.or (call $is (local.get $pp) (local.get $pn) (global.get $L_r_echo))
                (i32.ge_s (call $prefix (local.get $pp) (local.get $pn) (global.get $L_r_echo_slash)) (i32.const 0)))
      (then (return (call $echo))))
    (if (call $is (local.get $pp) (local.get $pn) (global.get $L_r_worker_storage))
      (then (return (call $w_storage))))
    (if (call $is (local.get $pp) (local.get $pn) (global.get $L_r_badheader))
      (then (return (call $w_badheader))))
    (if (call $is (local.get $pp) (local.get $pn) (global.get $L_r_env))
      (then (return (call $w_env))))
    (if (call $is (local.get $pp) (local.get $pn) (global.get $L_r_kv_get))
      (then (return (call $w_kv_get))))
    (if (call $is (local.get $pp) (local.get $pn) (global.get $L_r_kv_put))
      (then (return (call $w_kv_put))))
    (if (call $is (local.get $pp) (local.get $pn) (global.get $L_r_kv_putget))
      (then (return (call $w_kv_putget))))
    (if (call $is (local.get $pp) (local.get $pn) (global.get $L_r_kv_delete))
      (then (return (call $ok_or_error (call $kv_delete (call $cstr (global.get $L_KV)) (call $q (global.get $L_p_key)))))))
    (if (call $is (local.get $pp) (local.get $pn) (global.get $L_r_kv_list))
      (then (return (call $w_kv_list))))
    (if (call $is (local.get $pp) (local.get $pn) (global.get $L_r_kv_nobinding))
      (then (return (call $error_response
        (call $kv_get (call $cstr (global.get $L_NOPE)) (call $cstr (global.get $L_x)) (i32.const 0) (i32.const 0) (global.get $LENP))))))
    (if (call $is (local.get $pp) (local.get $pn) (global.get $L_r_id_name))
      (then (return (call $w_id (i32.const 0)))))
    (if (call $is (local.get $pp) (local.get $pn) (global.get $L_r_id_unique))
      (then (return (call $w_id (i32.const 1)))))
    (if (call $is (local.get $pp) (local.get $pn) (global.get $L_r_id_parse))
      (then (return (call $w_id (i32.const 2)))))
    (local.set $r (call $prefix (local.get $pp) (local.get $pn) (global.get $L_r_byid)))
    (if (i32.ge_s (local.get $r) (i32.const 0))
      (then (return (call $w_byid (i32.add (local.get $pp) (local.get $r)) (i32.sub (local.get $pn) (local.get $r))))))
    (if (i32.ge_s (call $prefix (local.get $pp) (local.get $pn) (global.get $L_r_obj)) (i32.const 0))
      (then (return (call $w_obj))))
    (call $text_404 (global.get $L_no_route) (local.get $pp) (local.get $pn)))

  ;; $worker_fail fails the Worker's handler with the literal and the
  ;; secret query parameter (the tests check that the client never sees it).
  (func $worker_fail (param $what i32) (result i32)
    (local $sp i32) (local $sn i32)
    (call $q (global.get $L_p_secret)) (local.set $sn) (local.set $sp)
    (call $b_open)
    (call $b_lit (local.get $what))
    (call $b_add (local.get $sp) (local.get $sn))
    (call $fail_with (call $b_close)))

  ;; $w_storage: storage from the Worker is BAD_STATE.
  (func $w_storage (result i32)
    (local $code i32)
    (local.set $code (call $storage_get (call $cstr (global.get $L_k)) (i32.const 0) (i32.const 0) (global.get $LENP)))
    (if (i32.gt_u (local.get $code) (i32.const 1)) (then (return (call $error_response (local.get $code)))))
    (call $json_lit (i32.const 200) (global.get $L_no_error_json)))

  ;; $w_badheader: a stub call with a header HTTP cannot carry is
  ;; BAD_ENCODING, and nothing is sent.
  (func $w_badheader (result i32)
    (local $code i32) (local $idp i32) (local $idn i32) (local $rp i32) (local $rn i32)
    (if (call $ns_id_from_name (call $cstr (global.get $L_PROBE)) (call $cstr (global.get $L_b)) (i32.const 0) (i32.const 0) (global.get $LENP))
      (then (return (call $fail_call))))
    (call $result) (local.set $idn) (local.set $idp)
    (call $b_open)
    (call $b_str (call $cstr (global.get $L_GET)))
    (call $b_str (call $cstr (global.get $L_count_url)))
    (call $b_u32 (i32.const 1))
    (call $b_str (call $cstr (global.get $L_bad_name)))
    (call $b_str (call $cstr (global.get $L_x)))
    (call $b_u32 (i32.const 0))
    (call $b_close) (local.set $rn) (local.set $rp)
    (local.set $code (call $stub_fetch (call $cstr (global.get $L_PROBE)) (local.get $idp) (local.get $idn)
      (local.get $rp) (local.get $rn) (i32.const 0) (i32.const 0) (global.get $LENP)))
    (if (local.get $code) (then (return (call $error_response (local.get $code)))))
    (call $json_lit (i32.const 200) (global.get $L_no_error_json)))

  (func $w_env (result i32)
    (local $code i32)
    (local.set $code (call $env_get (call $q (global.get $L_p_name)) (i32.const 0) (i32.const 0) (global.get $LENP)))
    (if (i32.eq (local.get $code) (i32.const 1)) (then (return (call $json_lit (i32.const 404) (global.get $L_null)))))
    (if (local.get $code) (then (return (call $fail_call))))
    (call $json_string (i32.const 200) (call $result)))

  (func $w_kv_get (result i32)
    (local $code i32)
    (local.set $code (call $kv_get (call $cstr (global.get $L_KV)) (call $q (global.get $L_p_key)) (i32.const 0) (i32.const 0) (global.get $LENP)))
    (if (i32.eq (local.get $code) (i32.const 1)) (then (return (call $json_lit (i32.const 404) (global.get $L_null)))))
    (if (local.get $code) (then (return (call $fail_call))))
    (call $json_string (i32.const 200) (call $result)))

  ;; $w_kv_put puts with the options of the query: ttl (seconds) and meta.
  (func $w_kv_put (result i32)
    (local $op i32) (local $mp i32) (local $mn i32)
    (call $q (global.get $L_p_meta)) (local.set $mn) (local.set $mp)
    ;; KVPutOptions: u64 expiration (none), u64 expiration_ttl, bytes metadata
    (local.set $op (call $alloc (i32.add (i32.const 20) (local.get $mn))))
    (i64.store (local.get $op) (i64.const 0))
    (i64.store offset=8 (local.get $op) (call $qint (global.get $L_p_ttl)))
    (i32.store offset=16 (local.get $op) (local.get $mn))
    (memory.copy (i32.add (local.get $op) (i32.const 20)) (local.get $mp) (local.get $mn))
    (call $ok_or_error (call $kv_put (call $cstr (global.get $L_KV)) (call $q (global.get $L_p_key)) (call $q (global.get $L_p_value))
      (local.get $op) (i32.add (i32.const 20) (local.get $mn)))))

  ;; $w_kv_putget puts and reads back, answering with the value as the body.
  (func $w_kv_putget (result i32)
    (local $code i32)
    (if (call $kv_put (call $cstr (global.get $L_KV)) (call $q (global.get $L_p_key)) (call $q (global.get $L_p_value)) (i32.const 0) (i32.const 0))
      (then (return (call $fail_call))))
    (local.set $code (call $kv_get (call $cstr (global.get $L_KV)) (call $q (global.get $L_p_key)) (i32.const 0) (i32.const 0) (global.get $LENP)))
    (if (i32.gt_u (local.get $code) (i32.const 1)) (then (return (call $fail_call))))
    (if (local.get $code) (then (return (call $reply (i32.const 200) (i32.const 0) (i32.const 0) (i32.const 0)))))
    (call $reply (i32.const 200) (i32.const 0) (call $result)))

  ;; $w_kv_list answers a KVList page as the Go probe's JSON of it.
  (func $w_kv_list (result i32)
    (local $code i32) (local $p i32) (local $n i32) (local $i i32) (local $m i32)
    (local.set $code (call $kv_list (call $cstr (global.get $L_KV)) (call $q (global.get $L_p_prefix)) (call $q (global.get $L_p_cursor))
      (i32.wrap_i64 (call $qint (global.get $L_p_limit))) (i32.const 0) (i32.const 0) (global.get $LENP)))
    (if (local.get $code) (then (return (call $error_response (local.get $code)))))
    (call $result) (drop) (local.set $p)
    (local.set $n (i32.load (local.get $p)))
    (local.set $p (i32.add (local.get $p) (i32.const 4)))
    (call $b_open)
    (call $b_lit (global.get $L_j_keys))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (if (local.get $i) (then (call $b_byte (i32.const 44))))
        (call $b_lit (global.get $L_j_name_obj))
        (local.set $p (call $b_json_at (local.get $p)))
        (call $b_lit (global.get $L_j_expiration))
        (call $b_time (i64.load (local.get $p)))
        (local.set $p (i32.add (local.get $p) (i32.const 8)))
        (call $b_lit (global.get $L_j_metadata))
        (local.set $m (i32.load (local.get $p)))
        (if (local.get $m)
          (then
            (call $b_byte (i32.const 34))
            (call $b_b64 (call $str_at (local.get $p)))
            (call $b_byte (i32.const 34)))
          (else (call $b_lit (global.get $L_null))))
        (local.set $p (call $skip_str (local.get $p)))
        (call $b_byte (i32.const 125))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (call $b_lit (global.get $L_j_complete))
    (call $b_lit (select (global.get $L_true) (global.get $L_false) (i32.load (local.get $p))))
    (call $b_lit (global.get $L_j_cursor))
    (drop (call $b_json_at (i32.add (local.get $p) (i32.const 4))))
    (call $b_byte (i32.const 125))
    (call $json (i32.const 200) (call $b_close)))

  ;; $w_id: an ID from a name (kind 0), a unique one (1), or parsed (2).
  (func $w_id (param $kind i32) (result i32)
    (local $code i32)
    (if (i32.eqz (local.get $kind))
      (then (local.set $code (call $ns_id_from_name (call $cstr (global.get $L_PROBE)) (call $q (global.get $L_p_name)) (i32.const 0) (i32.const 0) (global.get $LENP)))))
    (if (i32.eq (local.get $kind) (i32.const 1))
      (then (local.set $code (call $ns_new_unique_id (call $cstr (global.get $L_PROBE)) (i32.const 0) (i32.const 0) (global.get $LENP)))))
    (if (i32.eq (local.get $kind) (i32.const 2))
      (then (local.set $code (call $ns_id_from_string (call $cstr (global.get $L_PROBE)) (call $q (global.get $L_p_id)) (i32.const 0) (i32.const 0) (global.get $LENP)))))
    (if (local.get $code)
      (then (return (if (result i32) (i32.eq (local.get $kind) (i32.const 2))
        (then (call $error_response (local.get $code)))
        (else (call $fail_call))))))
    (call $json_string (i32.const 200) (call $result)))

  ;; $w_byid forwards to the object of the id query parameter, at the rest
  ;; of the path under /obj/, with the query ("?" and the query, as Go's
  ;; "?" + RawQuery).
  (func $w_byid (param $rp i32) (param $rn i32) (result i32)
    (local $code i32) (local $idp i32) (local $idn i32) (local $up i32) (local $un i32)
    (local.set $code (call $ns_id_from_string (call $cstr (global.get $L_PROBE)) (call $q (global.get $L_p_id)) (i32.const 0) (i32.const 0) (global.get $LENP)))
    (if (local.get $code) (then (return (call $error_response (local.get $code)))))
    (call $result) (local.set $idn) (local.set $idp)
    (call $b_open)
    (call $b_lit (global.get $L_obj_url))
    (call $b_add (local.get $rp) (local.get $rn))
    (call $b_byte (i32.const 63))
    (call $b_add (call $raw_query))
    (call $b_close) (local.set $un) (local.set $up)
    (call $forward (global.get $L_PROBE) (local.get $idp) (local.get $idn) (global.get $method_p) (global.get $method_l) (local.get $up) (local.get $un)))

  ;; $w_obj sends the request as it came to the object of the name query
  ;; parameter (in namespace OTHER when ns=other), and answers with its
  ;; response.
  (func $w_obj (result i32)
    (local $ns i32) (local $idp i32) (local $idn i32)
    (local.set $ns (select (global.get $L_OTHER) (global.get $L_PROBE)
      (call $is (call $q (global.get $L_p_ns)) (global.get $L_other))))
    (if (call $ns_id_from_name (call $cstr (local.get $ns)) (call $q (global.get $L_p_name)) (i32.const 0) (i32.const 0) (global.get $LENP))
      (then (return (call $fail_call))))
    (call $result) (local.set $idn) (local.set $idp)
    (call $stub_answer (local.get $ns) (local.get $idp) (local.get $idn) (global.get $req_p) (global.get $req_l)))

  ;; ---- The object (classes Probe and Other alike) ----

  ;; The constructor keeps the object's ID and name, and reads storage
  ;; before the first request: it counts the object's starts.
  (func (export "dohost_object_new") (param $len i32) (result i32)
    (local $p i32) (local $code i32)
    (local.set $p (call $input (local.get $len)))
    ;; ObjectInfo: str class, str id, u32 has_name, str name
    (local.set $p (call $skip_str (local.get $p)))
    (call $str_at (local.get $p)) (global.set $id_l) (global.set $id_p)
    (local.set $p (call $skip_str (local.get $p)))
    (global.set $has_name (i32.load (local.get $p)))
    (call $str_at (i32.add (local.get $p) (i32.const 4))) (global.set $name_l) (global.set $name_p)
    (local.set $code (call $storage_get (call $cstr (global.get $L_starts)) (i32.const 0) (i32.const 0) (global.get $LENP)))
    (if (i32.gt_u (local.get $code) (i32.const 1)) (then (return (call $fail_call))))
    (global.set $ctor_found (i32.eqz (local.get $code)))
    (global.set $ctor_l (i32.const 0))
    (if (global.get $ctor_found)
      (then (call $result) (global.set $ctor_l) (global.set $ctor_p)))
    (if (call $storage_put (call $cstr (global.get $L_starts))
          (call $itoa (i64.add (call $atoi (global.get $ctor_p) (global.get $ctor_l)) (i64.const 1))))
      (then (return (call $fail_call))))
    ;; What the object keeps stays below every later call's heap.
    (global.set $base (global.get $heap))
    (i32.const 0))

  ;; $stored_int is the integer stored at the key (a literal), 0 when none.
  (func $stored_int (param $key i32) (result i64)
    (if (call $storage_get (call $cstr (local.get $key)) (i32.const 0) (i32.const 0) (global.get $LENP))
      (then (return (i64.const 0))))
    (call $atoi (call $result)))

  (func $put_int (param $key i32) (param $v i64) (result i32)
    (call $storage_put (call $cstr (local.get $key)) (call $itoa (local.get $v))))

  ;; The alarm counts its runs in storage, and fails while alarmfail is
  ;; above 0; while alarmrearm is, it re-arms for the time it ran for.
  (func (export "dohost_object_alarm") (param $len i32) (result i32)
    (local $retry i32) (local $f i64) (local $r i64) (local $at i64)
    (global.set $heap (global.get $base))
    (drop (call $result_read (global.get $COUNTP) (i32.const 4)))
    (local.set $retry (i32.load (global.get $COUNTP)))
    (if (call $put_int (global.get $L_alarmruns) (i64.add (call $stored_int (global.get $L_alarmruns)) (i64.const 1)))
      (then (return (call $fail_call))))
    (if (call $put_int (global.get $L_alarmretry) (i64.extend_i32_u (local.get $retry)))
      (then (return (call $fail_call))))
    (local.set $f (call $stored_int (global.get $L_alarmfail)))
    (if (i64.gt_s (local.get $f) (i64.const 0))
      (then
        (drop (call $put_int (global.get $L_alarmfail) (i64.sub (local.get $f) (i64.const 1))))
        (call $b_open)
        (call $b_lit (global.get $L_alarm_fails))
        (call $b_int (i64.sub (local.get $f) (i64.const 1)))
        (call $b_lit (global.get $L_more))
        (return (call $fail_with (call $b_close)))))
    (local.set $r (call $stored_int (global.get $L_alarmrearm)))
    (if (i64.gt_s (local.get $r) (i64.const 0))
      (then
        (if (call $alarm_get (global.get $TIMEP))
          (then (return (call $fail_with (call $cstr (global.get $L_no_alarm))))))
        (local.set $at (i64.load (global.get $TIMEP)))
        (drop (call $put_int (global.get $L_alarmrearm) (i64.sub (local.get $r) (i64.const 1))))
        (i64.store (global.get $TIMEP) (local.get $at))
        (if (call $alarm_set (global.get $TIMEP)) (then (return (call $fail_call))))))
    (i32.const 0))

  (func (export "dohost_object_fetch") (param $len i32) (result i32)
    (local $pp i32) (local $pn i32) (local $op i32) (local $on i32) (local $r i32)
    (call $start (local.get $len))
    (global.set $count (i64.add (global.get $count) (i64.const 1)))
    (call $path) (local.set $pn) (local.set $pp)
    (local.set $r (call $prefix (local.get $pp) (local.get $pn) (global.get $L_r_obj)))
    (if (i32.ge_s (local.get $r) (i32.const 0))
      (then
        (local.set $op (i32.add (local.get $pp) (local.get $r)))
        (local.set $on (i32.sub (local.get $pn) (local.get $r)))))
    (if (i32.or (i32.ge_s (call $prefix (local.get $op) (local.get $on) (global.get $L_o_st)) (i32.const 0))
                (i32.ge_s (call $prefix (local.get $op) (local.get $on) (global.get $L_o_alarm)) (i32.const 0)))
      (then (return (call $storage_op (local.get $op) (local.get $on)))))
    (if (i32.or (call $is (local.get $op) (local.get $on) (global.get $L_o_echo))
                (i32.ge_s (call $prefix (local.get $op) (local.get $on) (global.get $L_o_echo_slash)) (i32.const 0)))
      (then (return (call $echo))))
    (if (call $is (local.get $op) (local.get $on) (global.get $L_o_count))
      (then (return (call $json_int (i32.const 200) (global.get $count)))))
    (if (call $is (local.get $op) (local.get $on) (global.get $L_o_info))
      (then (return (call $o_info))))
    (if (call $is (local.get $op) (local.get $on) (global.get $L_o_panic))
      (then (return (call $o_fail (global.get $L_panics_on)))))
    (if (call $is (local.get $op) (local.get $on) (global.get $L_o_fail))
      (then (return (call $o_fail (global.get $L_fails_on)))))
    (if (call $is (local.get $op) (local.get $on) (global.get $L_o_exit))
      (then (call $proc_exit (i32.const 3)) (unreachable)))
    (if (call $is (local.get $op) (local.get $on) (global.get $L_o_writeexit))
      (then
        (if (call $kv_put (call $cstr (global.get $L_KV)) (call $q (global.get $L_p_key)) (call $cstr (global.get $L_before_exit)) (i32.const 0) (i32.const 0))
          (then (return (call $fail_call))))
        (call $proc_exit (i32.const 4))
        (unreachable)))
    (if (call $is (local.get $op) (local.get $on) (global.get $L_o_kvput))
      (then
        (if (call $kv_put (call $cstr (global.get $L_KV)) (call $q (global.get $L_p_key)) (call $q (global.get $L_p_value)) (i32.const 0) (i32.const 0))
          (then (return (call $fail_call))))
        (return (call $json_lit (i32.const 200) (global.get $L_ok_json)))))
    (if (call $is (local.get $op) (local.get $on) (global.get $L_o_call))
      (then (return (call $o_call))))
    (if (call $is (local.get $op) (local.get $on) (global.get $L_o_busy))
      (then (return (call $o_busy))))
    (if (call $is (local.get $op) (local.get $on) (global.get $L_o_sleep))
      (then (return (call $o_sleep))))
    (if (call $is (local.get $op) (local.get $on) (global.get $L_o_log))
      (then (return (call $o_log))))
    (if (call $is (local.get $op) (local.get $on) (global.get $L_o_headers))
      (then (return (call $o_headers))))
    (if (call $is (local.get $op) (local.get $on) (global.get $L_o_big))
      (then (return (call $o_big))))
    (call $text_404 (global.get $L_no_object_op) (local.get $pp) (local.get $pn)))

  (func $o_info (result i32)
    (call $b_open)
    (call $b_lit (global.get $L_j_hasName))
    (call $b_lit (select (global.get $L_true) (global.get $L_false) (global.get $has_name)))
    (call $b_lit (global.get $L_j_id))
    (call $b_json (global.get $id_p) (global.get $id_l))
    (call $b_lit (global.get $L_j_name))
    (call $b_json (global.get $name_p) (select (global.get $name_l) (i32.const 0) (global.get $has_name)))
    (call $b_byte (i32.const 125))
    (call $json (i32.const 200) (call $b_close)))

  ;; $o_fail fails the request with the literal and the request's number.
  (func $o_fail (param $what i32) (result i32)
    (call $b_open)
    (call $b_lit (local.get $what))
    (call $b_int (global.get $count))
    (call $fail_with (call $b_close)))

  ;; $o_call calls along the chain query parameter: the first name's object
  ;; gets the rest; the last answers its own name.
  (func $o_call (result i32)
    (local $cp i32) (local $cn i32) (local $comma i32) (local $idp i32) (local $idn i32) (local $up i32) (local $un i32)
    (call $q (global.get $L_p_chain)) (local.set $cn) (local.set $cp)
    (if (i32.eqz (local.get $cn))
      (then
        (call $b_open)
        (call $b_byte (i32.const 91))
        (call $b_json (global.get $name_p) (select (global.get $name_l) (i32.const 0) (global.get $has_name)))
        (call $b_byte (i32.const 93))
        (return (call $json (i32.const 200) (call $b_close)))))
    (block $found
      (loop $next
        (br_if $found (i32.ge_u (local.get $comma) (local.get $cn)))
        (br_if $found (i32.eq (i32.load8_u (i32.add (local.get $cp) (local.get $comma))) (i32.const 44)))
        (local.set $comma (i32.add (local.get $comma) (i32.const 1)))
        (br $next)))
    (if (call $ns_id_from_name (call $cstr (global.get $L_PROBE)) (local.get $cp) (local.get $comma) (i32.const 0) (i32.const 0) (global.get $LENP))
      (then (return (call $fail_call))))
    (call $result) (local.set $idn) (local.set $idp)
    (call $b_open)
    (call $b_lit (global.get $L_call_url))
    (if (i32.lt_u (local.get $comma) (local.get $cn))
      (then (call $b_add (i32.add (i32.add (local.get $cp) (local.get $comma)) (i32.const 1))
                         (i32.sub (i32.sub (local.get $cn) (local.get $comma)) (i32.const 1)))))
    (call $b_close) (local.set $un) (local.set $up)
    (call $forward (global.get $L_PROBE) (local.get $idp) (local.get $idn) (call $cstr (global.get $L_GET)) (local.get $up) (local.get $un)))

  ;; $o_busy holds the object's turn for ms milliseconds, computing.
  (func $o_busy (result i32)
    (local $until i64)
    (local.set $until (i64.add (call $now_ms) (call $qint (global.get $L_p_ms))))
    (block $done
      (loop $next
        (br_if $done (i64.ge_u (call $now_ms) (local.get $until)))
        (br $next)))
    (call $json_lit (i32.const 200) (global.get $L_busy_json)))

  ;; $o_sleep waits ms milliseconds, holding the object's turn: WASI's
  ;; poll_oneoff on a relative clock, a wait the host does not count as
  ;; running time.
  (func $o_sleep (result i32)
    (local $s i32)
    (local.set $s (global.get $SUBP))
    (memory.fill (local.get $s) (i32.const 0) (i32.const 48))
    ;; subscription: userdata u64, tag u8 (0: clock) at 8, clock id u32 at 16
    ;; (1: monotonic), timeout u64 (ns) at 24, precision u64 at 32, flags u16
    ;; at 40 (0: relative)
    (i32.store offset=16 (local.get $s) (i32.const 1))
    (i64.store offset=24 (local.get $s) (i64.mul (call $qint (global.get $L_p_ms)) (i64.const 1000000)))
    (drop (call $poll_oneoff (local.get $s) (global.get $EVENTP) (i32.const 1) (global.get $NEVENTSP)))
    (call $json_lit (i32.const 200) (global.get $L_slept_json)))

  ;; $o_log logs msg through the host, and writes it to stdout.
  (func $o_log (result i32)
    (local $mp i32) (local $mn i32)
    (call $q (global.get $L_p_msg)) (local.set $mn) (local.set $mp)
    (drop (call $log (i32.const 1) (local.get $mp) (local.get $mn)))
    (call $b_open)
    (call $b_lit (global.get $L_stdout))
    (call $b_add (local.get $mp) (local.get $mn))
    (call $b_byte (i32.const 10))
    (call $b_close) (local.set $mn) (local.set $mp)
    (i32.store (global.get $IOVP) (local.get $mp))
    (i32.store offset=4 (global.get $IOVP) (local.get $mn))
    (drop (call $fd_write (i32.const 1) (global.get $IOVP) (i32.const 1) (global.get $COUNTP)))
    (call $json_lit (i32.const 200) (global.get $L_ok_json)))

  ;; $o_headers answers n headers of growing values (x-h-000: "", x-h-001:
  ;; "v", …), and one name given twice; the body "h".
  (func $o_headers (result i32)
    (local $n i32) (local $i i32) (local $p i32)
    (local.set $n (i32.wrap_i64 (call $qint (global.get $L_p_n))))
    (call $b_open)
    (call $b_u32 (i32.const 200))
    (call $b_u32 (i32.add (local.get $n) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
        (call $b_u32 (i32.const 7))
        (call $b_lit (global.get $L_x_h))
        (call $b_byte (i32.add (i32.const 48) (i32.rem_u (i32.div_u (local.get $i) (i32.const 100)) (i32.const 10))))
        (call $b_byte (i32.add (i32.const 48) (i32.rem_u (i32.div_u (local.get $i) (i32.const 10)) (i32.const 10))))
        (call $b_byte (i32.add (i32.const 48) (i32.rem_u (local.get $i) (i32.const 10))))
        (call $b_u32 (i32.rem_u (local.get $i) (i32.const 50)))
        (local.set $p (call $b_room (i32.rem_u (local.get $i) (i32.const 50))))
        (memory.fill (local.get $p) (i32.const 118) (i32.rem_u (local.get $i) (i32.const 50)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (call $b_str (call $cstr (global.get $L_x_rep)))
    (call $b_str (call $cstr (global.get $L_one)))
    (call $b_str (call $cstr (global.get $L_x_rep)))
    (call $b_str (call $cstr (global.get $L_two)))
    (call $b_str (call $cstr (global.get $L_h)))
    (call $respond_raw (call $b_close)))

  ;; $o_big answers a body of n zero bytes.
  (func $o_big (result i32)
    (call $reply (i32.const 200) (i32.const 0) (call $repeat (i32.const 0) (i32.wrap_i64 (call $qint (global.get $L_p_n))))))

  ;; ---- Storage and alarms ----

  ;; $key is the key query parameter, or keysize bytes of 'k'.
  (func $key (result i32 i32)
    (local $n i64)
    (local.set $n (call $qint (global.get $L_p_keysize)))
    (if (i64.gt_s (local.get $n) (i64.const 0)) (then (return (call $repeat (i32.const 107) (i32.wrap_i64 (local.get $n))))))
    (call $q (global.get $L_p_key)))

  ;; $value is the value query parameter, or size bytes of 'v'.
  (func $value (result i32 i32)
    (local $n i64)
    (local.set $n (call $qint (global.get $L_p_size)))
    (if (i64.gt_s (local.get $n) (i64.const 0)) (then (return (call $repeat (i32.const 118) (i32.wrap_i64 (local.get $n))))))
    (call $q (global.get $L_p_value)))

  (func $storage_op (param $op i32) (param $on i32) (result i32)
    (local $code i32) (local $kp i32) (local $kn i32) (local $vp i32) (local $vn i32)
    (call $key) (local.set $kn) (local.set $kp)
    (call $value) (local.set $vn) (local.set $vp)
    (if (call $is (local.get $op) (local.get $on) (global.get $L_st_get))
      (then
        (local.set $code (call $storage_get (local.get $kp) (local.get $kn) (i32.const 0) (i32.const 0) (global.get $LENP)))
        (if (i32.gt_u (local.get $code) (i32.const 1)) (then (return (call $error_response (local.get $code)))))
        (local.set $vn (i32.const 0))
        (if (i32.eqz (local.get $code)) (then (call $result) (local.set $vn) (local.set $vp)))
        (call $b_open)
        (call $b_lit (global.get $L_j_found))
        (call $b_lit (select (global.get $L_true) (global.get $L_false) (i32.eqz (local.get $code))))
        (call $b_lit (global.get $L_j_value))
        (call $b_json (local.get $vp) (local.get $vn))
        (call $b_byte (i32.const 125))
        (return (call $json (i32.const 200) (call $b_close)))))
    (if (call $is (local.get $op) (local.get $on) (global.get $L_st_put))
      (then (return (call $ok_or_error (call $storage_put (local.get $kp) (local.get $kn) (local.get $vp) (local.get $vn))))))
    (if (call $is (local.get $op) (local.get $on) (global.get $L_st_getmulti))
      (then (return (call $st_getmulti))))
    (if (call $is (local.get $op) (local.get $on) (global.get $L_st_putmulti))
      (then (return (call $st_putmulti (local.get $vp) (local.get $vn)))))
    (if (call $is (local.get $op) (local.get $on) (global.get $L_st_delete))
      (then
        (local.set $code (call $storage_delete (local.get $kp) (local.get $kn)))
        (if (i32.gt_u (local.get $code) (i32.const 1)) (then (return (call $error_response (local.get $code)))))
        (return (call $json_lit (i32.const 200) (select (global.get $L_true) (global.get $L_false) (i32.eqz (local.get $code)))))))
    (if (call $is (local.get $op) (local.get $on) (global.get $L_st_deletemulti))
      (then
        (call $key_list (call $q (global.get $L_p_keys))) (drop) (local.set $kn) (local.set $kp)
        (local.set $code (call $storage_delete_multi (local.get $kp) (local.get $kn) (global.get $COUNTP)))
        (if (local.get $code) (then (return (call $error_response (local.get $code)))))
        (return (call $json_int (i32.const 200) (i64.load32_u (global.get $COUNTP))))))
    (if (call $is (local.get $op) (local.get $on) (global.get $L_st_list))
      (then (return (call $st_list (i32.const 0)))))
    (if (call $is (local.get $op) (local.get $on) (global.get $L_st_count))
      (then (return (call $st_list (i32.const 1)))))
    (if (call $is (local.get $op) (local.get $on) (global.get $L_st_deleteall))
      (then (return (call $ok_or_error (call $storage_delete_all)))))
    (if (call $is (local.get $op) (local.get $on) (global.get $L_st_txn))
      (then (return (call $st_txn (local.get $kp) (local.get $kn) (local.get $vp) (local.get $vn)))))
    (if (call $is (local.get $op) (local.get $on) (global.get $L_st_nested))
      (then
        (local.set $code (call $txn_begin))
        (if (local.get $code) (then (return (call $error_response (local.get $code)))))
        (drop (call $storage_put (call $cstr (global.get $L_outer)) (call $cstr (global.get $L_kept))))
        (drop (call $txn_begin))
        (drop (call $storage_put (call $cstr (global.get $L_inner)) (call $cstr (global.get $L_dropped))))
        (drop (call $txn_rollback)) ;; the inner transaction fails
        (return (call $ok_or_error (call $txn_commit)))))
    (if (call $is (local.get $op) (local.get $on) (global.get $L_st_putexit))
      (then
        (if (call $storage_put (local.get $kp) (local.get $kn) (call $cstr (global.get $L_before_exit)))
          (then (return (call $fail_call))))
        (call $proc_exit (i32.const 5))
        (unreachable)))
    (if (call $is (local.get $op) (local.get $on) (global.get $L_st_ctor))
      (then
        (call $b_open)
        (call $b_lit (global.get $L_j_found))
        (call $b_lit (select (global.get $L_true) (global.get $L_false) (global.get $ctor_found)))
        (call $b_lit (global.get $L_j_read))
        (call $b_json (global.get $ctor_p) (global.get $ctor_l))
        (call $b_byte (i32.const 125))
        (return (call $json (i32.const 200) (call $b_close)))))
    (if (call $is (local.get $op) (local.get $on) (global.get $L_al_set))
      (then
        (i64.store (global.get $TIMEP) (i64.add (call $now_ms) (call $qint (global.get $L_p_in))))
        (return (call $ok_or_error (call $alarm_set (global.get $TIMEP))))))
    (if (call $is (local.get $op) (local.get $on) (global.get $L_al_get))
      (then
        (local.set $code (call $alarm_get (global.get $TIMEP)))
        (if (i32.eq (local.get $code) (i32.const 1)) (then (return (call $json_lit (i32.const 200) (global.get $L_null)))))
        (if (local.get $code) (then (return (call $error_response (local.get $code)))))
        (return (call $json_int (i32.const 200) (i64.load (global.get $TIMEP))))))
    (if (call $is (local.get $op) (local.get $on) (global.get $L_al_delete))
      (then (return (call $ok_or_error (call $alarm_delete)))))
    (if (call $is (local.get $op) (local.get $on) (global.get $L_al_runs))
      (then
        (call $b_open)
        (call $b_lit (global.get $L_j_lastRetry))
        (call $b_int (call $stored_int (global.get $L_alarmretry)))
        (call $b_lit (global.get $L_j_runs))
        (call $b_int (call $stored_int (global.get $L_alarmruns)))
        (call $b_byte (i32.const 125))
        (return (call $json (i32.const 200) (call $b_close)))))
    (call $text_404 (global.get $L_no_storage_op) (local.get $op) (local.get $on)))

  ;; $st_getmulti answers a JSON object of the keys found, in the order
  ;; they were asked for.
  (func $st_getmulti (result i32)
    (local $code i32) (local $kp i32) (local $kn i32) (local $k i32) (local $vp i32) (local $i i32) (local $first i32)
    (call $key_list (call $q (global.get $L_p_keys))) (local.set $k) (local.set $kn) (local.set $kp)
    (local.set $code (call $storage_get_multi (local.get $kp) (local.get $kn) (i32.const 0) (i32.const 0) (global.get $LENP)))
    (if (local.get $code) (then (return (call $error_response (local.get $code)))))
    (call $result) (drop) (local.set $vp)
    ;; the KeyList's entries after its count; the ValueList's likewise
    (local.set $kp (i32.add (local.get $kp) (i32.const 4)))
    (local.set $vp (i32.add (local.get $vp) (i32.const 4)))
    (local.set $first (i32.const 1))
    (call $b_open)
    (call $b_byte (i32.const 123))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $k)))
        (if (i32.load (local.get $vp))
          (then
            (if (i32.eqz (local.get $first)) (then (call $b_byte (i32.const 44))))
            (local.set $first (i32.const 0))
            (drop (call $b_json_at (local.get $kp)))
            (call $b_byte (i32.const 58))
            (drop (call $b_json_at (i32.add (local.get $vp) (i32.const 4))))))
        (local.set $kp (call $skip_str (local.get $kp)))
        (local.set $vp (call $skip_str (i32.add (local.get $vp) (i32.const 4))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (call $b_byte (i32.const 125))
    (call $json (i32.const 200) (call $b_close)))

  ;; $st_putmulti puts n keys (prefix and four digits) with the value, in
  ;; one call.
  (func $st_putmulti (param $vp i32) (param $vn i32) (result i32)
    (local $n i32) (local $i i32) (local $pp i32) (local $pn i32)
    (local.set $n (i32.wrap_i64 (call $qint (global.get $L_p_n))))
    (call $q (global.get $L_p_prefix)) (local.set $pn) (local.set $pp)
    (call $b_open)
    (call $b_u32 (local.get $n))
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
        (call $b_u32 (i32.add (local.get $pn) (i32.const 4)))
        (call $b_add (local.get $pp) (local.get $pn))
        (call $b_byte (i32.add (i32.const 48) (i32.rem_u (i32.div_u (local.get $i) (i32.const 1000)) (i32.const 10))))
        (call $b_byte (i32.add (i32.const 48) (i32.rem_u (i32.div_u (local.get $i) (i32.const 100)) (i32.const 10))))
        (call $b_byte (i32.add (i32.const 48) (i32.rem_u (i32.div_u (local.get $i) (i32.const 10)) (i32.const 10))))
        (call $b_byte (i32.add (i32.const 48) (i32.rem_u (local.get $i) (i32.const 10))))
        (call $b_str (local.get $vp) (local.get $vn))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (call $ok_or_error (call $storage_put_multi (call $b_close))))

  ;; $st_list lists the keys the query selects (prefix, start or
  ;; startAfter, end, reverse, keysOnly, limit) page after page, and answers
  ;; [[key, value], …], or how many there are (count).
  (func $st_list (param $count i32) (result i32)
    (local $sp i32) (local $sn i32) (local $ep i32) (local $en i32) (local $pp i32) (local $pn i32)
    (local $flags i32) (local $limit i64) (local $total i64) (local $code i32) (local $o i32) (local $on i32)
    (local $p i32) (local $n i32) (local $i i32) (local $lastp i32) (local $lastn i32) (local $more i32)
    (call $q (global.get $L_p_prefix)) (local.set $pn) (local.set $pp)
    (call $q (global.get $L_p_start)) (local.set $sn) (local.set $sp)
    (call $q (global.get $L_p_startAfter)) (local.set $n) (local.set $p)
    (if (local.get $n)
      (then (local.set $sp (local.get $p)) (local.set $sn (local.get $n)) (local.set $flags (i32.const 4))))
    (call $q (global.get $L_p_end)) (local.set $en) (local.set $ep)
    (if (local.get $en) (then (local.set $flags (i32.or (local.get $flags) (i32.const 8)))))
    (if (i32.eqz (local.get $count))
      (then
        (call $q (global.get $L_p_reverse)) (local.set $n) (drop)
        (if (local.get $n) (then (local.set $flags (i32.or (local.get $flags) (i32.const 1)))))
        (call $q (global.get $L_p_keysOnly)) (local.set $n) (drop)
        (if (local.get $n) (then (local.set $flags (i32.or (local.get $flags) (i32.const 2)))))
        (local.set $limit (call $qint (global.get $L_p_limit))))
      (else (local.set $flags (i32.or (local.get $flags) (i32.const 2)))))
    (call $b_open)
    (call $b_byte (i32.const 91))
    (loop $page
      ;; StorageListOptions: bytes start, bytes end, bytes prefix, u32 flags,
      ;; u32 limit (0: none), written beside the answer being built.
      (local.set $on (i32.add (i32.add (i32.add (local.get $sn) (local.get $en)) (local.get $pn)) (i32.const 20)))
      (local.set $o (call $alloc (local.get $on)))
      (local.set $p (call $put_str (local.get $o) (local.get $sp) (local.get $sn)))
      (local.set $p (call $put_str (local.get $p) (local.get $ep) (local.get $en)))
      (local.set $p (call $put_str (local.get $p) (local.get $pp) (local.get $pn)))
      (i32.store (local.get $p) (local.get $flags))
      (i32.store offset=4 (local.get $p)
        (select (i32.wrap_i64 (i64.sub (local.get $limit) (local.get $total))) (i32.const 0) (i64.gt_s (local.get $limit) (i64.const 0))))
      (local.set $code (call $storage_list (local.get $o) (local.get $on) (i32.const 0) (i32.const 0) (global.get $LENP)))
      (if (local.get $code)
        (then
          (call $b_close) (drop) (drop)
          (return (call $error_response (local.get $code)))))
      (call $result) (drop) (local.set $p)
      (local.set $n (i32.load (local.get $p)))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (local.set $i (i32.const 0))
      (block $done
        (loop $entry
          (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
          (call $str_at (local.get $p)) (local.set $lastn) (local.set $lastp)
          (if (i32.eqz (local.get $count))
            (then
              (if (i64.ne (i64.add (local.get $total) (i64.extend_i32_u (local.get $i))) (i64.const 0))
                (then (call $b_byte (i32.const 44))))
              (call $b_byte (i32.const 91))
              (local.set $p (call $b_json_at (local.get $p)))
              (call $b_byte (i32.const 44))
              (local.set $p (call $b_json_at (local.get $p)))
              (call $b_byte (i32.const 93)))
            (else (local.set $p (call $skip_str (call $skip_str (local.get $p))))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $entry)))
      (local.set $more (i32.load (local.get $p)))
      (local.set $total (i64.add (local.get $total) (i64.extend_i32_u (local.get $n))))
      (if (i32.and (i32.and (local.get $more) (i32.ne (local.get $n) (i32.const 0)))
                   (i32.or (i64.le_s (local.get $limit) (i64.const 0)) (i64.lt_s (local.get $total) (local.get $limit))))
        (then
          ;; The next page starts after this one's last key.
          (if (i32.and (local.get $flags) (i32.const 1))
            (then (local.set $ep (local.get $lastp)) (local.set $en (local.get $lastn))
                  (local.set $flags (i32.or (local.get $flags) (i32.const 8))))
            (else (local.set $sp (local.get $lastp)) (local.set $sn (local.get $lastn))
                  (local.set $flags (i32.or (local.get $flags) (i32.const 4)))))
          (br $page))))
    (call $b_byte (i32.const 93))
    (call $b_close) (local.set $n) (local.set $p)
    (if (local.get $count) (then (return (call $json_int (i32.const 200) (local.get $total)))))
    (call $json (i32.const 200) (local.get $p) (local.get $n)))

  ;; $put_str writes a str field at dst and returns the position after it.
  (func $put_str (param $dst i32) (param $p i32) (param $n i32) (result i32)
    (i32.store (local.get $dst) (local.get $n))
    (memory.copy (i32.add (local.get $dst) (i32.const 4)) (local.get $p) (local.get $n))
    (i32.add (i32.add (local.get $dst) (i32.const 4)) (local.get $n)))

  ;; $st_txn puts in a transaction, and rolls it back when the put fails or
  ;; the query asks it to (fail).
  (func $st_txn (param $kp i32) (param $kn i32) (param $vp i32) (param $vn i32) (result i32)
    (local $code i32) (local $mp i32) (local $mn i32)
    (local.set $code (call $txn_begin))
    (if (local.get $code) (then (return (call $error_response (local.get $code)))))
    (local.set $code (call $storage_put (local.get $kp) (local.get $kn) (local.get $vp) (local.get $vn)))
    (call $q (global.get $L_p_fail)) (local.set $mn) (drop)
    (if (i32.or (local.get $code) (local.get $mn))
      (then
        (if (local.get $code)
          (then (call $result) (local.set $mn) (local.set $mp))
          (else (call $cstr (global.get $L_tx_fails)) (local.set $mn) (local.set $mp)))
        (drop (call $txn_rollback))
        (return (call $json_string (i32.const 409) (local.get $mp) (local.get $mn)))))
    (call $ok_or_error (call $txn_commit)))
)
