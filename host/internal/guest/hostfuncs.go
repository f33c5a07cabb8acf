package guest

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/dohost/dohost/abi"
	"github.com/dohost/dohost/host/internal/bigcopy"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// hostFn is the body of one host function. It runs inside a guest handler
// call, after every pointer its row of abi.HostFuncs names has been
// checked against guest memory: a's views are inside it, and its out
// buffer and fixed-size pointers can be written. It returns the status
// code and leaves in c.pending its result, its error message, or nil.
type hostFn func(ctx context.Context, c *Call, a *args) abi.Code

// hostCalls counts the calls of each host function, by every guest of
// the process: for metrics (HostCalls).
var hostCalls = func() map[string]*atomic.Int64 {
	m := map[string]*atomic.Int64{}
	for _, f := range abi.HostFuncs {
		m[f.Name] = new(atomic.Int64)
	}
	return m
}()

// HostCalls returns how many times guests have called each host function
// (result_read aside) since the process started.
func HostCalls() map[string]int64 {
	out := make(map[string]int64, len(hostCalls))
	for name, n := range hostCalls {
		out[name] = n.Load()
	}
	return out
}

// hostFns implements every row of abi.HostFuncs but result_read, which
// returns a length instead of a status and has a wrapper of its own.
var hostFns = map[string]hostFn{
	abi.FnRespond: respond,
	abi.FnFail:    fail,
	abi.FnLog:     logLine,
	abi.FnEnvGet:  envGet,

	abi.FnKVGet:    kvGet,
	abi.FnKVPut:    kvPut,
	abi.FnKVDelete: kvDelete,
	abi.FnKVList:   kvList,

	abi.FnNSIDFromName:   nsIDFromName,
	abi.FnNSNewUniqueID:  nsNewUniqueID,
	abi.FnNSIDFromString: nsIDFromString,
	abi.FnStubFetch:      stubFetch,

	abi.FnStorageGet:         storageGet,
	abi.FnStorageGetMulti:    storageGetMulti,
	abi.FnStoragePut:         storagePut,
	abi.FnStoragePutMulti:    storagePutMulti,
	abi.FnStorageDelete:      storageDelete,
	abi.FnStorageDeleteMulti: storageDeleteMulti,
	abi.FnStorageList:        storageList,
	abi.FnStorageDeleteAll:   storageDeleteAll,

	abi.FnTxnBegin:    txnBegin,
	abi.FnTxnCommit:   txnCommit,
	abi.FnTxnRollback: txnRollback,

	abi.FnAlarmGet:    alarmGet,
	abi.FnAlarmSet:    alarmSet,
	abi.FnAlarmDelete: alarmDelete,

	abi.FnWSAccept:           wsAccept,
	abi.FnWSSend:             wsSend,
	abi.FnWSBroadcast:        wsBroadcast,
	abi.FnWSClose:            wsClose,
	abi.FnWSList:             wsList,
	abi.FnWSAttachmentGet:    wsAttachmentGet,
	abi.FnWSAttachmentSet:    wsAttachmentSet,
	abi.FnWSAutoResponse:     wsAutoResponse,
	abi.FnWSAutoResponseTime: wsAutoResponseTime,
}

// instantiateHostModule registers the import module: one Go function for
// each row of abi.HostFuncs, with the table's parameter names. A row
// without an implementation is a dohost bug, caught by the tests.
func instantiateHostModule(ctx context.Context, rt wazero.Runtime) error {
	b := rt.NewHostModuleBuilder(abi.ImportModule)
	for i := range abi.HostFuncs {
		f := &abi.HostFuncs[i]
		var fn api.GoModuleFunc
		switch {
		case f.Name == abi.FnResultRead:
			fn = resultRead
		case hostFns[f.Name] != nil:
			fn = wrap(f, hostFns[f.Name])
		default:
			return fmt.Errorf("host function %s of abi.HostFuncs has no implementation", f.Name)
		}
		params := make([]api.ValueType, len(f.Params))
		for i := range params {
			params[i] = api.ValueTypeI32
		}
		b.NewFunctionBuilder().
			WithGoModuleFunction(fn, params, []api.ValueType{api.ValueTypeI32}).
			WithParameterNames(f.ParamNames()...).
			Export(f.Name)
	}
	if _, err := b.Instantiate(ctx); err != nil {
		return fmt.Errorf("instantiate host module: %w", err)
	}
	return nil
}

// maxIns is the most Ptr/Len pairs a host function has (kv_put).
const maxIns = 4

// args are one host call's parameters, checked and read as the table
// describes them. A Call keeps one, reused by every host call it makes.
type args struct {
	f   *abi.HostFunc
	mem api.Memory
	s   []uint64

	ins  [maxIns][]byte // views of guest memory, one per Ptr/Len pair
	nIns int
	vals [2]uint32 // Number parameters
	ptrs [2]uint32 // U32Out, U64In and U64Out pointers
	nv   int
	np   int
	next [3]int // how many of ins, vals and ptrs the function has taken

	hasOut                   bool
	outPtr, outCap, outLenAt uint32
}

// in returns the next Ptr/Len pair's bytes: a view of guest memory, valid
// until the host call returns.
func (a *args) in() []byte {
	b := a.ins[a.next[0]]
	a.next[0]++
	return b
}

// val returns the next Number parameter.
func (a *args) val() uint32 {
	v := a.vals[a.next[1]]
	a.next[1]++
	return v
}

// ptr returns the next fixed-size pointer (U32Out, U64In, U64Out).
func (a *args) ptr() uint32 {
	p := a.ptrs[a.next[2]]
	a.next[2]++
	return p
}

// load reads s as f's parameters, checking every pointer f names against
// mem. It returns OK, or BAD_POINTER with a message naming the first
// parameter that is outside memory.
func (a *args) load(c *Call, f *abi.HostFunc, mem api.Memory, s []uint64) abi.Code {
	*a = args{f: f, mem: mem, s: s}
	size := uint64(mem.Size())
	var bad abi.Code
	badf := func(format string, v ...any) {
		if bad == abi.OK {
			bad = c.errorf(abi.BadPointer, format, v...)
		}
	}
	for i := 0; i < len(f.Params); i++ {
		p, v := f.Params[i], uint32(s[i])
		switch p.Type {
		case abi.Number:
			a.vals[a.nv] = v
			a.nv++
		case abi.Ptr:
			n := uint32(s[i+1])
			b, ok := mem.Read(v, n)
			if !ok {
				badf("%s/%s %#x+%d is outside guest memory (%d bytes)", p.Name, f.Params[i+1].Name, v, n, size)
			}
			a.ins[a.nIns] = b
			a.nIns++
			i++
		case abi.OutPtr:
			a.hasOut, a.outPtr, a.outCap = true, v, uint32(s[i+1])
			if uint64(v)+uint64(a.outCap) > size {
				badf("%s/%s %#x+%d is outside guest memory (%d bytes)", p.Name, f.Params[i+1].Name, v, a.outCap, size)
			}
			i++
		case abi.OutLenPtr, abi.U32Out, abi.U64In, abi.U64Out:
			if uint64(v)+uint64(p.Type.Size()) > size {
				badf("%s %#x is outside guest memory (%d bytes)", p.Name, v, size)
			}
			if p.Type == abi.OutLenPtr {
				a.outLenAt = v
			} else {
				a.ptrs[a.np] = v
				a.np++
			}
		}
	}
	return bad
}

// finish ends a host call with an out buffer: the pending result (the
// data, or the error message) has its length written to out_len_ptr and,
// when it fits, is copied to out_ptr. Where a pointer is bad, it writes
// what it can.
func (a *args) finish(c *Call) {
	n := uint64(len(c.pending))
	size := uint64(a.mem.Size())
	if uint64(a.outLenAt)+4 <= size {
		a.mem.WriteUint32Le(a.outLenAt, uint32(n))
	}
	if n > 0 && n <= uint64(a.outCap) && uint64(a.outPtr)+n <= size {
		copyOut(a.mem, a.outPtr, c.pending, c.clock.tick)
	}
}

// copyOut writes data to the guest's memory at ptr, a piece at a time
// with the call's clock ticking between (bigcopy.CopyBetween), if it fits
// there.
func copyOut(mem api.Memory, ptr uint32, data []byte, tick func()) {
	if dst, ok := mem.Read(ptr, uint32(len(data))); ok {
		bigcopy.CopyBetween(dst, data, tick)
	}
}

// wrap makes a GoModuleFunc of h, a host function of the row f: it finds
// the call, replaces its pending result, checks the pointers and, for a
// function of an object's storage, that an object's handler runs, then
// runs h and writes the out buffer.
func wrap(f *abi.HostFunc, h hostFn) api.GoModuleFunc {
	hasOut := f.HasOut()
	calls := hostCalls[f.Name]
	var lens []int // the Len parameters: the bytes the guest passes in
	for i, p := range f.Params {
		if p.Type == abi.Len {
			lens = append(lens, i)
		}
	}
	return func(ctx context.Context, mod api.Module, s []uint64) {
		c := callFrom(ctx)
		if c == nil || c.kind == kindInit {
			// Outside a handler: during _initialize or a start function.
			s[0] = uint64(uint32(abi.BadState))
			return
		}
		// The time since the last check is the call's: a throttled call
		// waits its turn here, before the host call does its work, and
		// a call about to copy megabytes counts as long already.
		var in uint64
		for _, i := range lens {
			in += uint64(uint32(s[i]))
		}
		c.clock.tickAhead(time.Duration(in) * copyCost)
		calls.Add(1)
		c.clearPending()
		a := &c.args
		code := a.load(c, f, mod.Memory(), s)
		if code == abi.OK && f.Object && c.Storage == nil {
			code = c.errorf(abi.BadState, "%s acts on a Durable Object's storage: the Worker has none", f.Name)
		}
		if code == abi.OK {
			// Host work holds no guest P: it may wait (a commit, another
			// object), and the P is for guest code. The next yield takes
			// one again.
			c.clock.leaveProc()
			code = h(ctx, c, a)
		}
		if hasOut {
			a.finish(c)
		}
		s[0] = uint64(uint32(code))
		// The host call's time is the call's time: it counts from the
		// reading above, and the next check reads it — the next host
		// call's, so that a loop of costly host calls meets its deadline
		// (and its throttling) at each of them, or the next fuel slice's
		// (a host call costs importCallWeight of it), or the call's end
		// (clock.stop). No reading here: one less for every host call.
	}
}
