package host

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/dohost/dohost/abi"
	"github.com/dohost/dohost/host/internal/store"
	"github.com/tetratelabs/wazero/api"
)

// call is the state of one guest handler invocation: its input and the
// pending result of its last host call, the response it gave, and the
// transaction that collects its writes. Host functions find it in their
// context. A call belongs to one goroutine.
type call struct {
	app  *app
	inst *instance
	obj  *object // the object whose handler runs; nil for the Worker
	kind callKind

	txn *store.Txn

	pending   []byte // the output of the last host call (or the handler's input)
	response  []byte // copied from the guest by respond
	responded bool
	failure   string // set by fail

	started   time.Time     // when the guest call began
	deadline  time.Time     // when the fuel function ends it
	lastSlice time.Time     // when the fuel function last ran
	owed      time.Duration // throttling: sleep not yet taken
	throttled bool          // counted in Server.throttled

	txns       []store.Savepoint // open explicit transactions, innermost last
	overloaded bool              // a stub call found its object's queue full

	// names remembers the names this call derived IDs from, so that an
	// object created through its stub learns its name.
	names []namedID
}

type callKind uint8

const (
	kindFetch     callKind = iota // a fetch handler: respond takes a Response
	kindConstruct                 // an object's constructor
	kindClasses                   // dohost_classes: respond takes the class list
	kindInit                      // a start function or _initialize: no host calls
	kindAlarm                     // an object's alarm handler
)

// logger returns the log of the object or worker the call runs for.
func (c *call) logger() *slog.Logger {
	if c.obj != nil {
		return c.obj.log
	}
	return c.app.log
}

type namedID struct {
	ns   *namespace
	id   objectID
	name string
}

type callKey struct{}

func callFrom(ctx context.Context) *call {
	c, _ := ctx.Value(callKey{}).(*call)
	return c
}

// errGuestFailed is returned when a handler returns a non-zero code.
var errGuestFailed = errors.New("handler failed")

// start starts the call's clock: the guest may run until the worker's
// time limit from now.
func (c *call) start() {
	c.started = time.Now()
	c.lastSlice = c.started
	c.deadline = c.started.Add(c.app.cfg.Limits.CPU)
}

// context returns ctx carrying c, for the host functions and the fuel
// function the guest calls.
func (c *call) context(ctx context.Context) context.Context {
	return context.WithValue(ctx, callKey{}, c)
}

// run calls fn with no parameters under c's clock, started now. It
// returns the trap, if the guest traps or runs past its time limit.
func (c *call) run(ctx context.Context, fn api.Function) error {
	c.start()
	stack := c.inst.stack[:]
	err := fn.CallWithStack(c.context(ctx), stack)
	c.end()
	if err != nil {
		return describeTrap(err)
	}
	return nil
}

// blocked stops the call's clock for d, the time it waited in a host
// call for another object: that is neither running time against cpu_ms
// nor a reason to throttle the call.
func (c *call) blocked(d time.Duration) {
	c.started = c.started.Add(d)
	c.lastSlice = c.lastSlice.Add(d)
	c.deadline = c.deadline.Add(d)
}

// end ends the call's clock.
func (c *call) end() {
	if c.throttled {
		c.throttled = false
		c.app.srv.throttled.Add(-1)
	}
}

// invoke runs fn with input as the handler's pending input. It returns an
// error when the guest traps, runs past its time limit, or returns a
// non-zero code (errGuestFailed, with the guest's message). After a trap or
// timeout the instance must not be used again.
func (c *call) invoke(ctx context.Context, fn api.Function, input []byte, hasParam bool) (trapped bool, err error) {
	c.pending = input
	c.start()
	stack := c.inst.stack[:]
	if hasParam {
		stack[0] = uint64(len(input))
	}
	err = fn.CallWithStack(c.context(ctx), stack)
	c.end()
	if err != nil {
		return true, describeTrap(err)
	}
	if code := abi.Code(int32(stack[0])); code != abi.OK {
		msg := c.failure
		if msg == "" {
			msg = "no message"
		}
		return false, fmt.Errorf("%w: returned %s (%d): %s", errGuestFailed, code, int32(code), msg)
	}
	return false, nil
}

// read returns a view of n bytes of guest memory at ptr.
func (c *call) read(mod api.Module, ptr, n uint32) ([]byte, bool) {
	return mod.Memory().Read(ptr, n)
}

// finish ends a host call that has an output buffer: out_ptr, out_cap and
// out_len_ptr at stack[at:at+3]. data (the result, or the error message) is
// the new pending result; its length is written to out_len_ptr and, when it
// fits, its bytes to out_ptr.
func (c *call) finish(mod api.Module, stack []uint64, at int, code abi.Code, data []byte) abi.Code {
	c.pending = data
	mem := mod.Memory()
	outPtr, outCap, lenPtr := uint32(stack[at]), uint32(stack[at+1]), uint32(stack[at+2])
	if !mem.WriteUint32Le(lenPtr, uint32(len(data))) {
		return c.errorf(abi.BadPointer, "out_len_ptr %#x is outside guest memory", lenPtr)
	}
	if uint64(len(data)) <= uint64(outCap) && len(data) > 0 {
		if !mem.Write(outPtr, data) {
			return c.errorf(abi.BadPointer, "out buffer %#x+%d is outside guest memory", outPtr, outCap)
		}
	}
	return code
}

// errorf sets the pending result to a message and returns code.
func (c *call) errorf(code abi.Code, format string, args ...any) abi.Code {
	c.pending = fmt.Appendf(nil, format, args...)
	return code
}

// codeOf maps a store error to a status code and message.
func (c *call) storeError(err error) abi.Code {
	switch {
	case errors.Is(err, store.ErrTooLarge):
		return c.errorf(abi.TooLarge, "%v", err)
	case errors.Is(err, store.ErrInvalid):
		return c.errorf(abi.Invalid, "%v", err)
	default:
		c.app.log.Error("storage error", "err", err)
		return c.errorf(abi.Internal, "storage error: %v", err)
	}
}

func u32(stack []uint64, i int) uint32 { return uint32(stack[i]) }

var le = binary.LittleEndian
