//go:build !wasip1

package dohost

import (
	"unsafe"

	"github.com/dohost/dohost/abi"
)

// Outside wasip1 there is no host: every call fails with abi.BadState and
// the message of ErrNotOnHost.

var notOnHost = []byte(ErrNotOnHost.Error())

func hostResultRead(ptr unsafe.Pointer, n uint32) int32 {
	copy(unsafe.Slice((*byte)(ptr), n), notOnHost)
	return int32(len(notOnHost))
}

func noHost() int32 {
	outLen = uint32(len(notOnHost))
	copy(scratch[:], notOnHost)
	return int32(abi.BadState)
}

func hostRespond(unsafe.Pointer, uint32) int32     { return noHost() }
func hostFail(unsafe.Pointer, uint32) int32        { return noHost() }
func hostLog(uint32, unsafe.Pointer, uint32) int32 { return noHost() }
func hostKVDelete(_, _, _, _ any) int32            { return noHost() }
func hostKVGet(_, _, _, _, _, _, _ any) int32      { return noHost() }
func hostEnvGet(_, _, _, _, _ any) int32           { return noHost() }
func hostKVPut(_, _, _, _, _, _, _, _ any) int32   { return noHost() }
func hostKVList(_, _, _, _, _, _, _, _, _, _ any) int32 {
	return noHost()
}
func hostNSIDFromName(_, _, _, _, _, _, _ any) int32   { return noHost() }
func hostNSNewUniqueID(_, _, _, _, _ any) int32        { return noHost() }
func hostNSIDFromString(_, _, _, _, _, _, _ any) int32 { return noHost() }
func hostStubFetch(_, _, _, _, _, _, _, _, _ any) int32 {
	return noHost()
}
func hostStorageGet(_, _, _, _, _ any) int32        { return noHost() }
func hostStorageGetMulti(_, _, _, _, _ any) int32   { return noHost() }
func hostStoragePut(_, _, _, _ any) int32           { return noHost() }
func hostStoragePutMulti(_, _ any) int32            { return noHost() }
func hostStorageDelete(_, _ any) int32              { return noHost() }
func hostStorageDeleteMulti(_, _, _ any) int32      { return noHost() }
func hostStorageList(_, _, _, _, _ any) int32       { return noHost() }
func hostStorageDeleteAll() int32                   { return noHost() }
func hostTxnBegin() int32                           { return noHost() }
func hostTxnCommit() int32                          { return noHost() }
func hostTxnRollback() int32                        { return noHost() }
func hostAlarmGet(any) int32                        { return noHost() }
func hostAlarmSet(any) int32                        { return noHost() }
func hostAlarmDelete() int32                        { return noHost() }
func hostWSAccept(_, _, _ any) int32                { return noHost() }
func hostWSSend(_, _, _, _ any) int32               { return noHost() }
func hostWSBroadcast(_, _, _, _, _, _, _ any) int32 { return noHost() }
func hostWSClose(_, _, _, _ any) int32              { return noHost() }
func hostWSList(_, _, _, _, _ any) int32            { return noHost() }
func hostWSAttachmentGet(_, _, _, _ any) int32      { return noHost() }
func hostWSAttachmentSet(_, _, _ any) int32         { return noHost() }
func hostWSAutoResponse(_, _, _, _ any) int32       { return noHost() }
func hostWSAutoResponseTime(_, _ any) int32         { return noHost() }
