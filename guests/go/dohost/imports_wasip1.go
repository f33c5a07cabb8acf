//go:build wasip1

package dohost

import "unsafe"

// The dohost import module, ABI v1 (abi/ABI.md).

//go:wasmimport dohost result_read
func hostResultRead(ptr unsafe.Pointer, cap uint32) int32

//go:wasmimport dohost respond
func hostRespond(ptr unsafe.Pointer, n uint32) int32

//go:wasmimport dohost fail
func hostFail(ptr unsafe.Pointer, n uint32) int32

//go:wasmimport dohost log
func hostLog(level uint32, ptr unsafe.Pointer, n uint32) int32

//go:wasmimport dohost env_get
func hostEnvGet(n unsafe.Pointer, nn uint32, out unsafe.Pointer, outCap uint32, outLen unsafe.Pointer) int32

//go:wasmimport dohost kv_get
func hostKVGet(b unsafe.Pointer, bn uint32, k unsafe.Pointer, kn uint32, out unsafe.Pointer, outCap uint32, outLen unsafe.Pointer) int32

//go:wasmimport dohost kv_put
func hostKVPut(b unsafe.Pointer, bn uint32, k unsafe.Pointer, kn uint32, v unsafe.Pointer, vn uint32, o unsafe.Pointer, on uint32) int32

//go:wasmimport dohost kv_delete
func hostKVDelete(b unsafe.Pointer, bn uint32, k unsafe.Pointer, kn uint32) int32

//go:wasmimport dohost kv_list
func hostKVList(b unsafe.Pointer, bn uint32, p unsafe.Pointer, pn uint32, c unsafe.Pointer, cn uint32, limit uint32, out unsafe.Pointer, outCap uint32, outLen unsafe.Pointer) int32

//go:wasmimport dohost ns_id_from_name
func hostNSIDFromName(b unsafe.Pointer, bn uint32, s unsafe.Pointer, sn uint32, out unsafe.Pointer, outCap uint32, outLen unsafe.Pointer) int32

//go:wasmimport dohost ns_new_unique_id
func hostNSNewUniqueID(b unsafe.Pointer, bn uint32, out unsafe.Pointer, outCap uint32, outLen unsafe.Pointer) int32

//go:wasmimport dohost ns_id_from_string
func hostNSIDFromString(b unsafe.Pointer, bn uint32, s unsafe.Pointer, sn uint32, out unsafe.Pointer, outCap uint32, outLen unsafe.Pointer) int32

//go:wasmimport dohost stub_fetch
func hostStubFetch(b unsafe.Pointer, bn uint32, id unsafe.Pointer, idn uint32, req unsafe.Pointer, reqn uint32, out unsafe.Pointer, outCap uint32, outLen unsafe.Pointer) int32

//go:wasmimport dohost storage_get
func hostStorageGet(k unsafe.Pointer, kn uint32, out unsafe.Pointer, outCap uint32, outLen unsafe.Pointer) int32

//go:wasmimport dohost storage_get_multi
func hostStorageGetMulti(ks unsafe.Pointer, ksn uint32, out unsafe.Pointer, outCap uint32, outLen unsafe.Pointer) int32

//go:wasmimport dohost storage_put
func hostStoragePut(k unsafe.Pointer, kn uint32, v unsafe.Pointer, vn uint32) int32

//go:wasmimport dohost storage_put_multi
func hostStoragePutMulti(es unsafe.Pointer, esn uint32) int32

//go:wasmimport dohost storage_delete
func hostStorageDelete(k unsafe.Pointer, kn uint32) int32

//go:wasmimport dohost storage_delete_multi
func hostStorageDeleteMulti(ks unsafe.Pointer, ksn uint32, count unsafe.Pointer) int32

//go:wasmimport dohost storage_list
func hostStorageList(o unsafe.Pointer, on uint32, out unsafe.Pointer, outCap uint32, outLen unsafe.Pointer) int32

//go:wasmimport dohost storage_delete_all
func hostStorageDeleteAll() int32

//go:wasmimport dohost txn_begin
func hostTxnBegin() int32

//go:wasmimport dohost txn_commit
func hostTxnCommit() int32

//go:wasmimport dohost txn_rollback
func hostTxnRollback() int32

//go:wasmimport dohost alarm_get
func hostAlarmGet(out unsafe.Pointer) int32

//go:wasmimport dohost alarm_set
func hostAlarmSet(t unsafe.Pointer) int32

//go:wasmimport dohost alarm_delete
func hostAlarmDelete() int32

//go:wasmimport dohost ws_accept
func hostWSAccept(tags unsafe.Pointer, tagsn uint32, id unsafe.Pointer) int32

//go:wasmimport dohost ws_send
func hostWSSend(id, kind uint32, d unsafe.Pointer, dn uint32) int32

//go:wasmimport dohost ws_broadcast
func hostWSBroadcast(tag unsafe.Pointer, tagn uint32, except, kind uint32, d unsafe.Pointer, dn uint32, count unsafe.Pointer) int32

//go:wasmimport dohost ws_close
func hostWSClose(id, code uint32, r unsafe.Pointer, rn uint32) int32

//go:wasmimport dohost ws_list
func hostWSList(tag unsafe.Pointer, tagn uint32, out unsafe.Pointer, outCap uint32, outLen unsafe.Pointer) int32

//go:wasmimport dohost ws_attachment_get
func hostWSAttachmentGet(id uint32, out unsafe.Pointer, outCap uint32, outLen unsafe.Pointer) int32

//go:wasmimport dohost ws_attachment_set
func hostWSAttachmentSet(id uint32, d unsafe.Pointer, dn uint32) int32

//go:wasmimport dohost ws_auto_response
func hostWSAutoResponse(req unsafe.Pointer, reqn uint32, resp unsafe.Pointer, respn uint32) int32

//go:wasmimport dohost ws_auto_response_time
func hostWSAutoResponseTime(id uint32, t unsafe.Pointer) int32
