package guest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/dohost/dohost/abi"
	"github.com/dohost/dohost/host/internal/store"
	"github.com/tetratelabs/wazero/api"
)

// Kind is the handler a Call runs.
type Kind uint8

// Kinds of calls.
const (
	kindInit    Kind = iota // a start function or _initialize: no host calls
	WorkerFetch             // dohost_worker_fetch
	ObjectFetch             // dohost_object_fetch
	Construct               // dohost_object_new
	Classes                 // dohost_classes: respond takes the class list
	Alarm                   // dohost_object_alarm
	WSMessage               // dohost_object_ws_message
	WSClose                 // dohost_object_ws_close
	WSError                 // dohost_object_ws_error
)

// Call is one guest handler call: its input and the pending result of its
// last host call, the response it gave, and the transaction that collects
// its writes. The caller fills in the exported fields before Invoke or
// Run; host functions find the call in their context. A call belongs to
// one goroutine.
type Call struct {
	Kind Kind
	// Txn collects the call's writes; Run commits or discards it.
	Txn *store.Txn
	// Writes counts Txn's bytes against the limits (Module.NewWrites);
	// Run releases it. Nil: no limit.
	Writes *Writes
	// Env holds the bindings the guest may reach.
	Env *Env
	// Storage is the storage of the object whose handler runs (its
	// storage and alarm host functions act on it); nil for the Worker.
	Storage *store.Object
	// Caller is the object whose handler runs, passed back to
	// Namespace.Fetch so that it can tell who waits on whom.
	Caller any
	// Depth is how many objects wait, in a chain of stub calls, up to and
	// with this one: 0 for the Worker, 1 for an object it calls.
	Depth int
	// Log receives the guest's log lines, tagged with who it runs for.
	Log *slog.Logger

	// Response is what the guest passed to respond (a copy).
	Response []byte
	// AlarmChanged is set when the call may have changed its object's
	// alarm: set, deleted, or a rollback that may have undone either.
	AlarmChanged bool
	// Overloaded is set when a stub call found its object's queue full,
	// or the budget of bodies had no room for a response or a stub's
	// request (holdBody).
	Overloaded bool

	inst      *Instance
	kind      Kind
	pending   []byte // the output of the last host call (or the handler's input)
	getBuf    []byte // kv_get reads into it, so that a loop of large gets allocates once
	listBuf   []byte // storage_list encodes its pages into it, for the same reason
	responded bool
	failure   string // set by fail
	clock     clock
	txns      []savepoint // open explicit transactions, innermost last

	// pendHold is what pending holds of the budget of bodies: a stub's
	// response (PassResponse); respHold what Response holds.
	pendHold, respHold hold

	// alarmSet is whether the handler set or deleted its alarm (and no
	// rollback undid it): then the alarm it leaves is its own decision.
	alarmSet bool
	names    []namedID   // IDs this call derived from names
	args     args        // the parameters of the host call under way
	ws       outbox      // WebSocket frames and sockets this call made
	ctx      callContext // what context returns: the parent's and c
}

// calls holds emptied Calls for NewCall: a Call is about 700 bytes, and
// every request makes one or two.
var calls = sync.Pool{New: func() any { return new(Call) }}

// NewCall returns an empty Call. Free gives it back when the handler's
// results have been read.
func NewCall() *Call { return calls.Get().(*Call) }

// Free empties c and keeps it for a later NewCall. Nothing may use c
// afterwards; slices read from it (Response) stay valid.
func (c *Call) Free() {
	c.pendHold.give()
	c.respHold.give()
	*c = Call{}
	calls.Put(c)
}

// savepoint is where an explicit transaction began: the batch's mark and
// whether the alarm had been set by then.
type savepoint struct {
	sp       store.Savepoint
	alarmSet bool
}

// AlarmSet reports whether the handler set or deleted its object's alarm,
// in writes that stand: an alarm handler that re-arms its alarm, even for
// the very time it ran for, keeps it.
func (c *Call) AlarmSet() bool { return c.alarmSet }

// namedID remembers the name an ID was derived from in this call, so that
// an object created through its stub learns its name.
type namedID struct {
	ns   Namespace
	id   string
	name string
}

type callKey struct{}

func callFrom(ctx context.Context) *Call {
	c, _ := ctx.Value(callKey{}).(*Call)
	return c
}

// context returns ctx carrying c, for the host functions and the fuel
// function the guest calls. It is valid until c is freed, like c.
func (c *Call) context(ctx context.Context) context.Context {
	c.ctx = callContext{Context: ctx, c: c}
	return &c.ctx
}

// callContext is a call's context: its parent's, carrying the call (what
// context.WithValue makes, kept in the Call, so that a call allocates no
// context: Calls are pooled).
type callContext struct {
	context.Context
	c *Call
}

// Value returns the call for callKey, and the parent's values otherwise.
func (x *callContext) Value(key any) any {
	if _, ok := key.(callKey); ok {
		return x.c
	}
	return x.Context.Value(key)
}

// Deadline is when the call's time runs out, as it stands now (waits in
// other objects move it later).
func (c *Call) Deadline() time.Time { return c.clock.deadline }

// String names the kind as metrics and logs do: fetch, alarm, ws_message…
func (k Kind) String() string {
	switch k {
	case WorkerFetch, ObjectFetch:
		return "fetch"
	case Construct:
		return "constructor"
	case Classes:
		return "classes"
	case Alarm:
		return "alarm"
	case WSMessage:
		return "ws_message"
	case WSClose:
		return "ws_close"
	case WSError:
		return "ws_error"
	}
	return "init"
}

// handler is the export each kind of call runs.
func (c *Call) handler() string {
	switch c.kind {
	case Construct:
		return abi.ExportObjectNew
	case Classes:
		return abi.ExportClasses
	case Alarm:
		return abi.ExportObjectAlarm
	case WorkerFetch:
		return abi.ExportWorkerFetch
	case ObjectFetch:
		return abi.ExportObjectFetch
	case WSMessage:
		return abi.ExportObjectWSMessage
	case WSClose:
		return abi.ExportObjectWSClose
	case WSError:
		return abi.ExportObjectWSError
	}
	return ""
}

// fetch reports whether the call is a fetch handler's: respond takes a
// Response record.
func (c *Call) fetch() bool { return c.kind == WorkerFetch || c.kind == ObjectFetch }

// Invoke runs the handler c.Kind names on inst with input as its input
// record. It returns nil when the handler succeeded (for a fetch handler:
// it responded), a *Trap when the guest trapped or ran past its time limit
// (inst must then be closed and c.Txn discarded), a *Failure when the
// handler returned another code, or ErrNoResponse. Transactions the
// handler left open are rolled back. Invoke neither commits nor discards
// c.Txn: Run does.
func (i *Instance) Invoke(ctx context.Context, c *Call, input []byte) error {
	c.inst, c.kind = i, c.Kind
	name := c.handler()
	var fn api.Function
	if c.kind == Classes {
		// It runs once per module: its function is not kept (wazero
		// gives each resolved function a call stack of its own).
		fn = i.mod.ExportedFunction(name)
	} else {
		// The constructor's too is kept: it runs again on every revival
		// of a spare, and resolving it anew made 11 KB of garbage per new
		// object (Trim drops it with the others once the object idles).
		fn = i.fn(name)
	}
	if fn == nil {
		return fmt.Errorf("the module exports no %s handler", name)
	}
	load := i.m.load
	if !load.Enter() {
		return ErrStopping
	}
	defer load.Exit()
	c.pending = input
	c.clock.load, c.clock.cpu = load, i.m.cpu
	c.clock.start(i.m.limits.CPU)
	stack := i.stack[:]
	if c.kind != Classes {
		stack[0] = uint64(len(input))
	}
	err := c.callGuest(ctx, fn, stack)
	c.clock.stop()
	c.clearPending()
	i.mem.called()
	if err != nil {
		return describeTrap(err)
	}
	if len(c.txns) > 0 {
		// A transaction the handler never finished did not succeed.
		c.Log.Warn("handler returned inside a transaction; rolled it back", "open", len(c.txns))
		if err := c.Txn.RollbackTo(c.txns[0].sp); err != nil {
			return fmt.Errorf("roll back open transactions: %w", err)
		}
		c.alarmSet = c.txns[0].alarmSet
		c.txns = nil
		c.AlarmChanged = true
	}
	if code := abi.Code(int32(stack[0])); code != abi.OK {
		return &Failure{Code: code, Message: c.failure}
	}
	if c.fetch() && !c.responded {
		return ErrNoResponse
	}
	return nil
}

// Run invokes c on inst and settles its writes in one place: after a trap
// they are discarded (and inst must be closed); otherwise they are
// committed, synced, before Run returns. It returns Invoke's error, or one
// that matches ErrCommit and wraps the store's.
func (i *Instance) Run(ctx context.Context, c *Call, input []byte) error {
	defer c.Writes.Release()
	err := i.Invoke(ctx, c, input)
	if IsTrap(err) {
		c.Txn.Discard()
		return err
	}
	if cerr := Commit(c.Txn, c.Writes); cerr != nil {
		return cerr
	}
	return err
}

// Commit commits txn, synced, for the calls whose writes ws counted:
// their bytes count toward the account's stored data first. The commit of
// an account held down to its share of the cores (Load's share) is woken
// after the others it shares its sync with (store.Txn.SetBehind). Its
// error wraps ErrCommit.
func Commit(txn *store.Txn, ws ...*Writes) error {
	behind := false
	for _, w := range ws {
		w.beforeCommit()
		behind = behind || w.held()
	}
	txn.SetBehind(behind)
	if err := txn.Commit(); err != nil {
		return fmt.Errorf("%w: %w", ErrCommit, err)
	}
	return nil
}

// run calls fn, with no parameters, as c's guest code: an initializer. It
// returns the trap, if the guest traps or runs past its time limit.
func (c *Call) run(ctx context.Context, fn api.Function) error {
	load := c.inst.m.load
	if !load.Enter() {
		return ErrStopping
	}
	defer load.Exit()
	c.clock.load, c.clock.cpu = load, c.inst.m.cpu
	c.clock.start(c.inst.m.limits.startup())
	err := c.callGuest(ctx, fn, c.inst.stack[:])
	c.clock.stop()
	if err != nil {
		return describeTrap(err)
	}
	return nil
}

// callGuest calls fn of c's instance with stack, the call running on the
// instance meanwhile (Instance.cur: its sleeps wait on c's clock).
func (c *Call) callGuest(ctx context.Context, fn api.Function, stack []uint64) error {
	c.inst.cur = c
	defer func() { c.inst.cur = nil }()
	err := fn.CallWithStack(c.context(ctx), stack)
	c.inst.stdout.endCall()
	c.inst.stderr.endCall()
	return err
}

// errorf sets the pending result to a message and returns code.
func (c *Call) errorf(code abi.Code, format string, args ...any) abi.Code {
	c.pending = fmt.Appendf(nil, format, args...)
	return code
}

// storeError maps a store error to a status code and message.
func (c *Call) storeError(err error) abi.Code {
	switch {
	case errors.Is(err, store.ErrTooLarge):
		return c.errorf(abi.TooLarge, "%v", err)
	case errors.Is(err, store.ErrInvalid):
		return c.errorf(abi.Invalid, "%v", err)
	default:
		c.Log.Error("storage error", "err", err)
		return c.errorf(abi.Internal, "storage error: %v", err)
	}
}
