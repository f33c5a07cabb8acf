// Package abi is the contract between dohost and its WebAssembly guests:
// the import module and function names, the status codes, and the binary
// encodings of the records that cross the boundary (requests, responses,
// object information, KV options and listings).
//
// It imports only the standard library, so that a Go guest SDK built with
// GOOS=wasip1 and the host share one definition. ABI.md beside this file is
// the written specification; a guest in any language can be built from it
// alone.
//
// Every record is a sequence of fields in a fixed order. Integers are
// little-endian; a string or byte field is a u32 length followed by that
// many bytes. Decoders never trust a length: each is checked against the
// bytes that remain, so a hostile guest can make a decode fail but never
// read out of bounds or make the host allocate more than it sent.
package abi

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Version is the ABI version this package describes.
const Version = 1

// VersionExportPrefix is the prefix of the export by which a module declares
// the ABI version it was built for: a module built for version 1 exports a
// function named "dohost_abi_v1" taking and returning nothing.
const VersionExportPrefix = "dohost_abi_v"

// VersionExport is the marker export of this version.
const VersionExport = "dohost_abi_v1"

// ImportModule is the name of the module that holds the host functions.
const ImportModule = "dohost"

// Guest exports called by the host. Each handler takes the length of its
// input record, which the guest reads with ResultRead, and returns a Code.
const (
	// ExportClasses lists the classes the module implements: the guest
	// calls Respond with the class names, separated by '\n'.
	ExportClasses = "dohost_classes"
	// ExportWorkerFetch runs the Worker's fetch handler on an encoded Request.
	ExportWorkerFetch = "dohost_worker_fetch"
	// ExportObjectNew constructs the instance's object from an encoded ObjectInfo.
	ExportObjectNew = "dohost_object_new"
	// ExportObjectFetch runs the object's fetch handler on an encoded Request.
	ExportObjectFetch = "dohost_object_fetch"
	// ExportObjectAlarm runs the object's alarm handler on an encoded
	// AlarmInfo.
	ExportObjectAlarm = "dohost_object_alarm"
	// ExportObjectWSMessage runs the object's handler of a message from
	// one of its WebSockets, on an encoded WSMessage.
	ExportObjectWSMessage = "dohost_object_ws_message"
	// ExportObjectWSClose runs the object's handler of a WebSocket its
	// client closed, on an encoded WSClose.
	ExportObjectWSClose = "dohost_object_ws_close"
	// ExportObjectWSError runs the object's handler of a WebSocket the
	// host closed for an error, on an encoded WSError.
	ExportObjectWSError = "dohost_object_ws_error"
	// ExportInitialize is the WASI reactor initializer, run once per instance
	// before anything else when the module exports it.
	ExportInitialize = "_initialize"
)

// Host functions, in the ImportModule.
const (
	FnResultRead     = "result_read"
	FnRespond        = "respond"
	FnFail           = "fail"
	FnLog            = "log"
	FnEnvGet         = "env_get"
	FnKVGet          = "kv_get"
	FnKVPut          = "kv_put"
	FnKVDelete       = "kv_delete"
	FnKVList         = "kv_list"
	FnNSIDFromName   = "ns_id_from_name"
	FnNSNewUniqueID  = "ns_new_unique_id"
	FnNSIDFromString = "ns_id_from_string"
	FnStubFetch      = "stub_fetch"

	FnStorageGet         = "storage_get"
	FnStorageGetMulti    = "storage_get_multi"
	FnStoragePut         = "storage_put"
	FnStoragePutMulti    = "storage_put_multi"
	FnStorageDelete      = "storage_delete"
	FnStorageDeleteMulti = "storage_delete_multi"
	FnStorageList        = "storage_list"
	FnStorageDeleteAll   = "storage_delete_all"
	FnTxnBegin           = "txn_begin"
	FnTxnCommit          = "txn_commit"
	FnTxnRollback        = "txn_rollback"
	FnAlarmGet           = "alarm_get"
	FnAlarmSet           = "alarm_set"
	FnAlarmDelete        = "alarm_delete"

	FnWSAccept           = "ws_accept"
	FnWSSend             = "ws_send"
	FnWSBroadcast        = "ws_broadcast"
	FnWSClose            = "ws_close"
	FnWSList             = "ws_list"
	FnWSAttachmentGet    = "ws_attachment_get"
	FnWSAttachmentSet    = "ws_attachment_set"
	FnWSAutoResponse     = "ws_auto_response"
	FnWSAutoResponseTime = "ws_auto_response_time"
)

// MaxStorageBatch is the most keys one multi-key storage call takes.
const MaxStorageBatch = 128

// Code is the status every host function and guest handler returns.
type Code int32

// Status codes. Zero is success; NotFound is an ordinary answer; every other
// code is an error whose message the guest can read with ResultRead.
const (
	OK          Code = 0
	NotFound    Code = 1  // the key or object does not exist
	BadPointer  Code = 2  // a pointer or length is outside the guest's memory
	BadEncoding Code = 3  // an input record is malformed
	NoBinding   Code = 4  // the binding name is not granted to this module
	TooLarge    Code = 5  // a key, value, body or count is over its limit
	Invalid     Code = 6  // an argument is not valid (empty key, bad object ID, …)
	Cycle       Code = 7  // the call would wait on itself (A→B→A)
	ObjectError Code = 8  // the called object failed; the message says how
	BadState    Code = 9  // the call is not allowed here (outside a request, …)
	Overloaded  Code = 10 // the host has no room now (a queue, a budget); try again later
	Timeout     Code = 11 // a deadline passed
	Internal    Code = 12 // the host failed (storage I/O); not the guest's fault
	GuestError  Code = 13 // a handler reports failure (a guest's return value)
)

var codeNames = [...]string{
	OK: "ok", NotFound: "not found", BadPointer: "bad pointer", BadEncoding: "bad encoding",
	NoBinding: "no such binding", TooLarge: "too large", Invalid: "invalid argument",
	Cycle: "call cycle", ObjectError: "object error", BadState: "bad state",
	Overloaded: "overloaded", Timeout: "timeout", Internal: "internal error", GuestError: "guest error",
}

// String returns the code's name.
func (c Code) String() string {
	if c >= 0 && int(c) < len(codeNames) {
		return codeNames[c]
	}
	return fmt.Sprintf("code %d", int32(c))
}

// Log levels for FnLog.
const (
	LogDebug = 0
	LogInfo  = 1
	LogWarn  = 2
	LogError = 3
)

// ErrTruncated is returned by decoders when a record ends early or a length
// points past its end.
var ErrTruncated = errors.New("abi: record truncated")

// ErrTrailing is returned by decoders when bytes follow a complete record.
var ErrTrailing = errors.New("abi: trailing bytes after record")

// Header is one HTTP header field. Names from HTTP clients arrive in lower
// case (as the Fetch API gives them); between guests they keep the case
// the sender gave them, and comparisons are the reader's business.
type Header struct {
	Name, Value string
}

// CheckHeaders reports the first header field that HTTP cannot carry: a
// name must be a token (RFC 9110 §5.6.2: letters, digits and
// !#$%&'*+-.^_`|~), and a value may hold no control character but a
// horizontal tab.
func CheckHeaders(h []Header) error {
	for i, f := range h {
		if err := checkHeader(i, f.Name, f.Value); err != nil {
			return err
		}
	}
	return nil
}

// checkHeader checks header i's name and value for CheckHeaders.
func checkHeader[S string | []byte](i int, name, value S) error {
	if len(name) == 0 {
		return fmt.Errorf("header %d: empty name", i)
	}
	for j := 0; j < len(name); j++ {
		if !isTokenChar(name[j]) {
			return fmt.Errorf("header %d: name %q: byte %#02x is not allowed in a header name", i, name, name[j])
		}
	}
	for j := 0; j < len(value); j++ {
		if b := value[j]; b < 0x20 && b != '\t' || b == 0x7f {
			return fmt.Errorf("header %d (%s): control byte %#02x is not allowed in a header value", i, name, b)
		}
	}
	return nil
}

func isTokenChar(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0
}

// Request is an HTTP request as it crosses the boundary.
//
//	str method, str url, u32 n, n × (str name, str value), bytes body
type Request struct {
	Method  string
	URL     string // absolute: scheme://host/path?query
	Headers []Header
	Body    []byte
}

// Response is an HTTP response as it crosses the boundary.
//
//	u32 status, u32 n, n × (str name, str value), bytes body
type Response struct {
	Status  int
	Headers []Header
	Body    []byte
}

// ObjectInfo is the input of ExportObjectNew.
//
//	str class, str id, u32 hasName, str name
type ObjectInfo struct {
	Class   string
	ID      string // 64 lower-case hex digits
	HasName bool   // the ID came from idFromName
	Name    string
}

// KVPutOptions is the optional options record of FnKVPut.
//
//	u64 expiration (unix seconds, 0 = none), u64 expirationTTL (seconds, 0 = none), bytes metadata
type KVPutOptions struct {
	Expiration    uint64
	ExpirationTTL uint64
	Metadata      []byte
}

// KVListKey is one key in a KVList result.
type KVListKey struct {
	Name       string
	Expiration uint64 // unix seconds, 0 = none
	Metadata   []byte // nil = none
}

// KVList is the result of FnKVList.
//
//	u32 n, n × (str name, u64 expiration, bytes metadata), u32 complete, str cursor
type KVList struct {
	Keys     []KVListKey
	Complete bool
	Cursor   string
}

// Encoder appends fields to a byte slice. The zero value is ready to use.
type Encoder struct {
	B []byte
}

// U32 appends v.
func (e *Encoder) U32(v uint32) { e.B = binary.LittleEndian.AppendUint32(e.B, v) }

// U64 appends v.
func (e *Encoder) U64(v uint64) { e.B = binary.LittleEndian.AppendUint64(e.B, v) }

// Str appends a length-prefixed string.
func (e *Encoder) Str(s string) {
	e.U32(uint32(len(s)))
	e.B = append(e.B, s...)
}

// Bytes appends a length-prefixed byte string.
func (e *Encoder) Bytes(b []byte) {
	e.U32(uint32(len(b)))
	e.B = append(e.B, b...)
}

// headersLen is the length of h's encoding.
func headersLen(h []Header) int {
	n := 4
	for _, f := range h {
		n += 8 + len(f.Name) + len(f.Value)
	}
	return n
}

func (e *Encoder) headers(h []Header) {
	e.U32(uint32(len(h)))
	for _, f := range h {
		e.Str(f.Name)
		e.Str(f.Value)
	}
}

// Decoder reads fields from a byte slice, remembering the first error. After
// an error every read returns a zero value.
type Decoder struct {
	B   []byte
	Err error
}

// U32 reads a u32.
func (d *Decoder) U32() uint32 {
	if d.Err != nil {
		return 0
	}
	if len(d.B) < 4 {
		d.Err = ErrTruncated
		return 0
	}
	v := binary.LittleEndian.Uint32(d.B)
	d.B = d.B[4:]
	return v
}

// U64 reads a u64.
func (d *Decoder) U64() uint64 {
	if d.Err != nil {
		return 0
	}
	if len(d.B) < 8 {
		d.Err = ErrTruncated
		return 0
	}
	v := binary.LittleEndian.Uint64(d.B)
	d.B = d.B[8:]
	return v
}

// Bytes reads a length-prefixed byte string. The result is a view of the
// decoder's input, not a copy.
func (d *Decoder) Bytes() []byte {
	n := d.U32()
	if d.Err != nil {
		return nil
	}
	if uint64(n) > uint64(len(d.B)) {
		d.Err = ErrTruncated
		return nil
	}
	b := d.B[:n:n]
	d.B = d.B[n:]
	return b
}

// Str reads a length-prefixed string (a copy).
func (d *Decoder) Str() string { return string(d.Bytes()) }

// count reads a u32 element count and checks that at least min bytes per
// element remain, so a hostile count cannot make the caller allocate.
func (d *Decoder) count(min int) int {
	n := d.U32()
	if d.Err != nil {
		return 0
	}
	if uint64(n)*uint64(min) > uint64(len(d.B)) {
		d.Err = ErrTruncated
		return 0
	}
	return int(n)
}

func (d *Decoder) headers() []Header {
	n := d.count(8)
	if n == 0 {
		return nil
	}
	// One string holds every name and value, which are its substrings:
	// one allocation for the record's headers, not two for each. A first
	// walk checks the lengths and sizes it.
	b, size := d.B, 0
	for range 2 * n {
		if len(b) < 4 {
			d.Err = ErrTruncated
			return nil
		}
		l := binary.LittleEndian.Uint32(b)
		if uint64(l) > uint64(len(b)-4) {
			d.Err = ErrTruncated
			return nil
		}
		size += int(l)
		b = b[4+l:]
	}
	var sb strings.Builder
	sb.Grow(size)
	b = d.B
	for range 2 * n {
		l := binary.LittleEndian.Uint32(b)
		sb.Write(b[4 : 4+l])
		b = b[4+l:]
	}
	all := sb.String()
	h := make([]Header, n)
	b = d.B
	for i := range h {
		l := binary.LittleEndian.Uint32(b)
		h[i].Name, all, b = all[:l], all[l:], b[4+l:]
		l = binary.LittleEndian.Uint32(b)
		h[i].Value, all, b = all[:l], all[l:], b[4+l:]
	}
	d.B = b
	return h
}

// End reports the decoder's error, or ErrTrailing if input remains.
func (d *Decoder) End() error {
	if d.Err == nil && len(d.B) > 0 {
		d.Err = ErrTrailing
	}
	return d.Err
}

// AppendRequest appends the encoding of r to b.
func AppendRequest(b []byte, r *Request) []byte {
	e := Encoder{B: slices.Grow(b, 4+len(r.Method)+4+len(r.URL)+headersLen(r.Headers)+4+len(r.Body))}
	e.Str(r.Method)
	e.Str(r.URL)
	e.headers(r.Headers)
	e.Bytes(r.Body)
	return e.B
}

// AppendRequestHead appends the encoding of r without its body's bytes:
// everything up to and including the body's length, which is bodyLen
// (r.Body is ignored). The caller appends exactly bodyLen bytes after it,
// so that a body can be read straight into the record.
func AppendRequestHead(b []byte, r *Request, bodyLen int) []byte {
	e := Encoder{B: b}
	e.Str(r.Method)
	e.Str(r.URL)
	e.headers(r.Headers)
	e.U32(uint32(bodyLen))
	return e.B
}

// DecodeRequest decodes an encoded Request. The body is a view of b.
func DecodeRequest(b []byte) (*Request, error) {
	d := Decoder{B: b}
	r := &Request{Method: d.Str(), URL: d.Str()}
	r.Headers = d.headers()
	r.Body = d.Bytes()
	if err := d.End(); err != nil {
		return nil, fmt.Errorf("decode request: %w", err)
	}
	return r, nil
}

// AppendResponse appends the encoding of r to b.
func AppendResponse(b []byte, r *Response) []byte {
	e := Encoder{B: slices.Grow(b, 4+headersLen(r.Headers)+4+len(r.Body))}
	e.U32(uint32(r.Status))
	e.headers(r.Headers)
	e.Bytes(r.Body)
	return e.B
}

// DecodeResponse decodes an encoded Response. The body is a view of b.
// Status codes outside 100–599 are an error, as net/http would refuse them.
func DecodeResponse(b []byte) (*Response, error) {
	d := Decoder{B: b}
	st := d.U32()
	r := &Response{Status: int(st)}
	r.Headers = d.headers()
	r.Body = d.Bytes()
	if err := d.End(); err != nil {
		return nil, fmt.Errorf("decode response: %w", err)
	}
	if err := checkStatus(st); err != nil {
		return nil, err
	}
	return r, nil
}

// checkStatus checks a decoded response's status, for DecodeResponse and
// CheckResponse.
func checkStatus(st uint32) error {
	if st < 100 || st > 599 {
		return fmt.Errorf("decode response: status %d is not in 100-599", st)
	}
	return nil
}

// CheckResponse checks an encoded Response as DecodeResponse and then
// CheckHeaders on its headers would, without decoding it (nothing is
// allocated), and returns the length of its body. A malformed encoding is
// reported as DecodeResponse reports it; a header that is not allowed, as
// CheckHeaders does, prefixed with "response: ".
func CheckResponse(b []byte) (bodyLen int, err error) {
	d := Decoder{B: b}
	st := d.U32()
	var bad error // the first header not allowed
	n := d.count(8)
	for i := 0; i < n && d.Err == nil; i++ {
		name, value := d.Bytes(), d.Bytes()
		if d.Err == nil && bad == nil {
			bad = checkHeader(i, name, value)
		}
	}
	body := d.Bytes()
	if err := d.End(); err != nil {
		return 0, fmt.Errorf("decode response: %w", err)
	}
	if err := checkStatus(st); err != nil {
		return 0, err
	}
	if bad != nil {
		return 0, fmt.Errorf("response: %w", bad)
	}
	return len(body), nil
}

// AppendObjectInfo appends the encoding of o to b.
func AppendObjectInfo(b []byte, o *ObjectInfo) []byte {
	e := Encoder{B: b}
	e.Str(o.Class)
	e.Str(o.ID)
	if o.HasName {
		e.U32(1)
	} else {
		e.U32(0)
	}
	e.Str(o.Name)
	return e.B
}

// DecodeObjectInfo decodes an encoded ObjectInfo.
func DecodeObjectInfo(b []byte) (*ObjectInfo, error) {
	d := Decoder{B: b}
	o := &ObjectInfo{Class: d.Str(), ID: d.Str(), HasName: d.U32() != 0, Name: d.Str()}
	if err := d.End(); err != nil {
		return nil, fmt.Errorf("decode object info: %w", err)
	}
	return o, nil
}

// AppendKVPutOptions appends the encoding of o to b.
func AppendKVPutOptions(b []byte, o *KVPutOptions) []byte {
	e := Encoder{B: b}
	e.U64(o.Expiration)
	e.U64(o.ExpirationTTL)
	e.Bytes(o.Metadata)
	return e.B
}

// DecodeKVPutOptions decodes an encoded KVPutOptions. An empty input is the
// zero options. Metadata is a view of b.
func DecodeKVPutOptions(b []byte) (*KVPutOptions, error) {
	o := &KVPutOptions{}
	if len(b) == 0 {
		return o, nil
	}
	d := Decoder{B: b}
	o.Expiration = d.U64()
	o.ExpirationTTL = d.U64()
	o.Metadata = d.Bytes()
	if err := d.End(); err != nil {
		return nil, fmt.Errorf("decode kv put options: %w", err)
	}
	if len(o.Metadata) == 0 {
		o.Metadata = nil
	}
	return o, nil
}

// AppendKVList appends the encoding of l to b.
func AppendKVList(b []byte, l *KVList) []byte {
	e := Encoder{B: b}
	e.U32(uint32(len(l.Keys)))
	for _, k := range l.Keys {
		e.Str(k.Name)
		e.U64(k.Expiration)
		e.Bytes(k.Metadata)
	}
	if l.Complete {
		e.U32(1)
	} else {
		e.U32(0)
	}
	e.Str(l.Cursor)
	return e.B
}

// DecodeKVList decodes an encoded KVList.
func DecodeKVList(b []byte) (*KVList, error) {
	d := Decoder{B: b}
	n := d.count(16)
	l := &KVList{}
	if n > 0 {
		l.Keys = make([]KVListKey, n)
	}
	for i := range l.Keys {
		l.Keys[i].Name = d.Str()
		l.Keys[i].Expiration = d.U64()
		if m := d.Bytes(); len(m) > 0 {
			l.Keys[i].Metadata = append([]byte(nil), m...)
		}
	}
	l.Complete = d.U32() != 0
	l.Cursor = d.Str()
	if err := d.End(); err != nil {
		return nil, fmt.Errorf("decode kv list: %w", err)
	}
	return l, nil
}

// AppendKeyList appends a KeyList: u32 n, n × bytes key.
func AppendKeyList(b []byte, keys [][]byte) []byte {
	e := Encoder{B: b}
	e.U32(uint32(len(keys)))
	for _, k := range keys {
		e.Bytes(k)
	}
	return e.B
}

// DecodeKeyList decodes a KeyList. The keys are views of b.
func DecodeKeyList(b []byte) ([][]byte, error) {
	d := Decoder{B: b}
	n := d.count(4)
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = d.Bytes()
	}
	if err := d.End(); err != nil {
		return nil, fmt.Errorf("decode key list: %w", err)
	}
	return keys, nil
}

// Entry is a key and its value.
type Entry struct {
	Key, Value []byte
}

// AppendEntryList appends an EntryList: u32 n, n × (bytes key, bytes value).
func AppendEntryList(b []byte, es []Entry) []byte {
	e := Encoder{B: b}
	e.U32(uint32(len(es)))
	for _, x := range es {
		e.Bytes(x.Key)
		e.Bytes(x.Value)
	}
	return e.B
}

// DecodeEntryList decodes an EntryList. Keys and values are views of b.
func DecodeEntryList(b []byte) ([]Entry, error) {
	d := Decoder{B: b}
	n := d.count(8)
	es := make([]Entry, n)
	for i := range es {
		es[i].Key = d.Bytes()
		es[i].Value = d.Bytes()
	}
	if err := d.End(); err != nil {
		return nil, fmt.Errorf("decode entry list: %w", err)
	}
	return es, nil
}

// Value is one result of a multi-key get: Found is false for a missing key.
type Value struct {
	Found bool
	Value []byte
}

// AppendValueList appends a ValueList: u32 n, n × (u32 found, bytes value).
func AppendValueList(b []byte, vs []Value) []byte {
	e := Encoder{B: b}
	e.U32(uint32(len(vs)))
	for _, v := range vs {
		if v.Found {
			e.U32(1)
		} else {
			e.U32(0)
		}
		e.Bytes(v.Value)
	}
	return e.B
}

// DecodeValueList decodes a ValueList. Values are views of b.
func DecodeValueList(b []byte) ([]Value, error) {
	d := Decoder{B: b}
	n := d.count(8)
	vs := make([]Value, n)
	for i := range vs {
		vs[i].Found = d.U32() != 0
		vs[i].Value = d.Bytes()
	}
	if err := d.End(); err != nil {
		return nil, fmt.Errorf("decode value list: %w", err)
	}
	return vs, nil
}

// Flags of StorageListOptions.
const (
	ListReverse    = 1 << 0 // newest key first: descending byte order
	ListKeysOnly   = 1 << 1 // values are left empty
	ListStartAfter = 1 << 2 // start is exclusive
	ListHasEnd     = 1 << 3 // end is set (an empty end then selects nothing)
)

// StorageListOptions select the keys of a storage listing: those in
// [Start, End) that begin with Prefix, at most Limit (0: all).
//
//	bytes start, bytes end, bytes prefix, u32 flags, u32 limit
type StorageListOptions struct {
	Start, End, Prefix []byte
	Flags              uint32
	Limit              uint32
}

// AppendStorageListOptions appends the encoding of o to b.
func AppendStorageListOptions(b []byte, o *StorageListOptions) []byte {
	e := Encoder{B: b}
	e.Bytes(o.Start)
	e.Bytes(o.End)
	e.Bytes(o.Prefix)
	e.U32(o.Flags)
	e.U32(o.Limit)
	return e.B
}

// DecodeStorageListOptions decodes an encoded StorageListOptions. Its byte
// fields are views of b.
func DecodeStorageListOptions(b []byte) (*StorageListOptions, error) {
	d := Decoder{B: b}
	o := &StorageListOptions{Start: d.Bytes(), End: d.Bytes(), Prefix: d.Bytes(), Flags: d.U32(), Limit: d.U32()}
	if err := d.End(); err != nil {
		return nil, fmt.Errorf("decode storage list options: %w", err)
	}
	if o.Flags&^(ListReverse|ListKeysOnly|ListStartAfter|ListHasEnd) != 0 {
		return nil, fmt.Errorf("decode storage list options: unknown flags %#x", o.Flags)
	}
	return o, nil
}

// StorageList is one page of a storage listing. More is true when the page
// stopped at the host's page size before the listing ended: the next page
// starts after the last key (for a reverse listing, ends at it).
//
//	u32 n, n × (bytes key, bytes value), u32 more
type StorageList struct {
	Entries []Entry
	More    bool
}

// AppendStorageList appends the encoding of l to b.
func AppendStorageList(b []byte, l *StorageList) []byte {
	var w StorageListWriter
	w.Start(b)
	for _, e := range l.Entries {
		w.Add(e.Key, e.Value)
	}
	return w.Finish(l.More)
}

// A StorageListWriter encodes a StorageList an entry at a time, for a
// host that produces a page without holding its entries: Start, Add for
// each entry, Finish.
type StorageListWriter struct {
	e     Encoder
	start int    // where the list begins in e.B
	n     uint32 // entries added
}

// Start begins a StorageList appended to b.
func (w *StorageListWriter) Start(b []byte) {
	w.start, w.n = len(b), 0
	w.e.B = append(b, 0, 0, 0, 0) // n, set by Finish
}

// Add appends an entry.
func (w *StorageListWriter) Add(key, value []byte) {
	w.e.Bytes(key)
	w.e.Bytes(value)
	w.n++
}

// Finish ends the list with its more flag and returns b with the list
// appended.
func (w *StorageListWriter) Finish(more bool) []byte {
	binary.LittleEndian.PutUint32(w.e.B[w.start:], w.n)
	if more {
		w.e.U32(1)
	} else {
		w.e.U32(0)
	}
	return w.e.B
}

// DecodeStorageList decodes an encoded StorageList. Keys and values are
// views of b.
func DecodeStorageList(b []byte) (*StorageList, error) {
	d := Decoder{B: b}
	n := d.count(8)
	l := &StorageList{Entries: make([]Entry, n)}
	for i := range l.Entries {
		l.Entries[i].Key = d.Bytes()
		l.Entries[i].Value = d.Bytes()
	}
	l.More = d.U32() != 0
	if err := d.End(); err != nil {
		return nil, fmt.Errorf("decode storage list: %w", err)
	}
	return l, nil
}

// AlarmInfo is the input of ExportObjectAlarm: how many times the handler
// has already failed for this alarm (0 on the first run).
//
//	u32 retry_count
type AlarmInfo struct {
	RetryCount uint32
}

// AppendAlarmInfo appends the encoding of a to b.
func AppendAlarmInfo(b []byte, a *AlarmInfo) []byte {
	e := Encoder{B: b}
	e.U32(a.RetryCount)
	return e.B
}

// DecodeAlarmInfo decodes an encoded AlarmInfo.
func DecodeAlarmInfo(b []byte) (*AlarmInfo, error) {
	d := Decoder{B: b}
	a := &AlarmInfo{RetryCount: d.U32()}
	if err := d.End(); err != nil {
		return nil, fmt.Errorf("decode alarm info: %w", err)
	}
	return a, nil
}
