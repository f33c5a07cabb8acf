package abi

import "strconv"

// This file is the ABI as one table: every host function of the import
// module, every handler a guest exports and every status code, with their
// parameters named as ABI.md names them. The host registers its host
// functions from HostFuncs and checks a module's exports against Handlers;
// a test holds ABI.md's tables to these; SDKs for other languages are
// generated from them or checked against them. Adding a host function means
// adding a row here, and the build of each of those fails until it exists
// everywhere.

// ParamType says what one i32 parameter of a host function is. Every
// parameter is an i32 on the wire; its type says how the host reads it.
type ParamType uint8

// Parameter types.
const (
	// Number is a plain number: a log level, a limit.
	Number ParamType = iota
	// Ptr and Len, always together and in that order, are bytes the guest
	// passes: Len bytes of memory at Ptr. Their names are X_ptr and X_len.
	Ptr
	Len
	// OutPtr, OutCap and OutLenPtr are an out buffer (ABI.md §2): the host
	// writes the length of its data, a u32, at OutLenPtr, and the data at
	// OutPtr when it is at most OutCap bytes. result_read has OutPtr and
	// OutCap without OutLenPtr: it returns the length instead.
	OutPtr
	OutCap
	OutLenPtr
	// U32Out is a pointer to a u32 the host writes.
	U32Out
	// U64In is a pointer to a u64 the host reads; U64Out to one it writes.
	U64In
	U64Out
)

// Size is the number of bytes of guest memory a fixed-size pointer
// parameter names, or 0 for the other types.
func (t ParamType) Size() uint32 {
	switch t {
	case OutLenPtr, U32Out:
		return 4
	case U64In, U64Out:
		return 8
	}
	return 0
}

// Param is one parameter of a host function.
type Param struct {
	Name string // as ABI.md names it
	Type ParamType
}

// ResultKind says what the i32 a host function returns means.
type ResultKind uint8

const (
	// Status is a Code.
	Status ResultKind = iota
	// Length is the length of the pending result, or a negative Code on
	// error (result_read).
	Length
)

// HostFunc is one function of the import module ImportModule.
type HostFunc struct {
	Name   string
	Params []Param
	Result ResultKind
	// Object marks a function that acts on the storage or alarm of the
	// object whose handler runs: from the Worker's handler it fails with
	// BAD_STATE.
	Object bool
}

// HasOut reports whether the function ends with an out buffer
// (out_ptr, out_cap, out_len_ptr).
func (f *HostFunc) HasOut() bool {
	n := len(f.Params)
	return n >= 3 && f.Params[n-1].Type == OutLenPtr
}

// ParamNames returns the names of f's parameters, in order.
func (f *HostFunc) ParamNames() []string {
	s := make([]string, len(f.Params))
	for i, p := range f.Params {
		s[i] = p.Name
	}
	return s
}

// Parameter builders for the table below.
func in(x string) []Param  { return []Param{{x + "_ptr", Ptr}, {x + "_len", Len}} }
func val(x string) []Param { return []Param{{x, Number}} }
func out() []Param {
	return []Param{{"out_ptr", OutPtr}, {"out_cap", OutCap}, {"out_len_ptr", OutLenPtr}}
}
func one(name string, t ParamType) []Param { return []Param{{name, t}} }
func params(groups ...[]Param) []Param {
	var ps []Param
	for _, g := range groups {
		ps = append(ps, g...)
	}
	return ps
}

// HostFuncs is the import module of this ABI version, in the order ABI.md
// §4 lists it. A guest that imports a function not listed here, or with
// another number of parameters, is refused at load.
var HostFuncs = []HostFunc{
	// Results and responses.
	{Name: FnResultRead, Params: []Param{{"out_ptr", OutPtr}, {"out_cap", OutCap}}, Result: Length},
	{Name: FnRespond, Params: in("data")},
	{Name: FnFail, Params: in("msg")},
	{Name: FnLog, Params: params(val("level"), in("msg"))},

	// Environment: vars and secrets.
	{Name: FnEnvGet, Params: params(in("name"), out())},

	// KV namespaces.
	{Name: FnKVGet, Params: params(in("b"), in("key"), out())},
	{Name: FnKVPut, Params: params(in("b"), in("key"), in("val"), in("opt"))},
	{Name: FnKVDelete, Params: params(in("b"), in("key"))},
	{Name: FnKVList, Params: params(in("b"), in("prefix"), in("cursor"), val("limit"), out())},

	// Durable Object namespaces and stubs.
	{Name: FnNSIDFromName, Params: params(in("b"), in("name"), out())},
	{Name: FnNSNewUniqueID, Params: params(in("b"), out())},
	{Name: FnNSIDFromString, Params: params(in("b"), in("id"), out())},
	{Name: FnStubFetch, Params: params(in("b"), in("id"), in("req"), out())},

	// Durable Object storage.
	{Name: FnStorageGet, Params: params(in("key"), out()), Object: true},
	{Name: FnStorageGetMulti, Params: params(in("keys"), out()), Object: true},
	{Name: FnStoragePut, Params: params(in("key"), in("val")), Object: true},
	{Name: FnStoragePutMulti, Params: in("entries"), Object: true},
	{Name: FnStorageDelete, Params: in("key"), Object: true},
	{Name: FnStorageDeleteMulti, Params: params(in("keys"), one("count_ptr", U32Out)), Object: true},
	{Name: FnStorageList, Params: params(in("opts"), out()), Object: true},
	{Name: FnStorageDeleteAll, Object: true},

	// Transactions.
	{Name: FnTxnBegin, Object: true},
	{Name: FnTxnCommit, Object: true},
	{Name: FnTxnRollback, Object: true},

	// Alarms.
	{Name: FnAlarmGet, Params: one("time_ptr", U64Out), Object: true},
	{Name: FnAlarmSet, Params: one("time_ptr", U64In), Object: true},
	{Name: FnAlarmDelete, Object: true},

	// WebSockets.
	{Name: FnWSAccept, Params: params(in("tags"), one("socket_ptr", U32Out)), Object: true},
	{Name: FnWSSend, Params: params(val("socket"), val("kind"), in("data")), Object: true},
	{Name: FnWSBroadcast, Params: params(in("tag"), val("except"), val("kind"), in("data"), one("count_ptr", U32Out)), Object: true},
	{Name: FnWSClose, Params: params(val("socket"), val("code"), in("reason")), Object: true},
	{Name: FnWSList, Params: params(in("tag"), out()), Object: true},
	{Name: FnWSAttachmentGet, Params: params(val("socket"), out()), Object: true},
	{Name: FnWSAttachmentSet, Params: params(val("socket"), in("data")), Object: true},
	{Name: FnWSAutoResponse, Params: params(in("request"), in("response")), Object: true},
	{Name: FnWSAutoResponseTime, Params: params(val("socket"), one("time_ptr", U64Out)), Object: true},
}

// HostFuncByName returns the row of HostFuncs named name, or nil.
func HostFuncByName(name string) *HostFunc {
	for i := range HostFuncs {
		if HostFuncs[i].Name == name {
			return &HostFuncs[i]
		}
	}
	return nil
}

// Requirement says when a module must export a handler.
type Requirement uint8

const (
	// Optional handlers are called when the module exports them.
	Optional Requirement = iota
	// Always: every module exports it.
	Always
	// WithClasses: a module whose wrangler.toml binds Durable Object
	// classes exports it.
	WithClasses
)

// Handler is one function a guest exports for the host to call.
type Handler struct {
	Name     string
	Params   []string // i32 parameters, as ABI.md names them
	Results  int      // i32 results
	Required Requirement
}

// Handlers are the exports of this ABI version the host calls (and the
// version marker, which it never calls), in the order ABI.md §3 lists
// them. An export of one of these names with another signature is refused
// at load.
var Handlers = []Handler{
	{Name: VersionExport, Required: Always},
	{Name: ExportInitialize},
	{Name: ExportWorkerFetch, Params: []string{"len"}, Results: 1, Required: Always},
	{Name: ExportClasses, Results: 1, Required: WithClasses},
	{Name: ExportObjectNew, Params: []string{"len"}, Results: 1, Required: WithClasses},
	{Name: ExportObjectFetch, Params: []string{"len"}, Results: 1, Required: WithClasses},
	{Name: ExportObjectAlarm, Params: []string{"len"}, Results: 1},
	{Name: ExportObjectWSMessage, Params: []string{"len"}, Results: 1},
	{Name: ExportObjectWSClose, Params: []string{"len"}, Results: 1},
	{Name: ExportObjectWSError, Params: []string{"len"}, Results: 1},
}

// CodeDef is one status code: its value, the name ABI.md gives it and
// what it means.
type CodeDef struct {
	Code    Code
	Name    string
	Meaning string
}

// Codes are the status codes, in order.
var Codes = []CodeDef{
	{OK, "OK", "success"},
	{NotFound, "NOT_FOUND", "the key does not exist (an answer, not an error)"},
	{BadPointer, "BAD_POINTER", "a pointer/length is outside the guest's memory"},
	{BadEncoding, "BAD_ENCODING", "an input record is malformed"},
	{NoBinding, "NO_BINDING", "the binding name is not in this worker's wrangler.toml"},
	{TooLarge, "TOO_LARGE", "a key, value, metadata, body or count is over its limit"},
	{Invalid, "INVALID", "an argument is not valid"},
	{Cycle, "CYCLE", "the call would wait on itself (object A → B → A)"},
	{ObjectError, "OBJECT_ERROR", "the called object's handler failed or trapped"},
	{BadState, "BAD_STATE", "not allowed now"},
	{Overloaded, "OVERLOADED", "the host has no room now: a queue or a budget is full"},
	{Timeout, "TIMEOUT", "a deadline passed while waiting"},
	{Internal, "INTERNAL", "the host failed; not the guest's fault"},
	{GuestError, "GUEST_ERROR", "returned by a handler to report its own failure"},
}

// Constant returns the name ABI.md gives the code ("NOT_FOUND"), or
// "code N" for a code it does not define.
func (c Code) Constant() string {
	if c >= 0 && int(c) < len(Codes) {
		return Codes[c].Name
	}
	return "code " + strconv.Itoa(int(c))
}
