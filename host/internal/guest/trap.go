package guest

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/dohost/dohost/abi"
	"github.com/tetratelabs/wazero/sys"
)

// ErrTimeout is the cause of a guest call stopped at its time limit. Such
// an error also matches context.DeadlineExceeded.
var ErrTimeout = errors.New("guest: ran past its time limit")

// ErrNoResponse is the failure of a fetch handler that returned success
// without calling respond.
var ErrNoResponse = errors.New("guest: fetch handler returned without a response")

// ErrCommit is the cause of a call whose writes could not be committed:
// the host's failure, not the guest's.
var ErrCommit = errors.New("guest: the handler's writes could not be committed")

// errDeadline is what the fuel function panics with to end a guest call
// that ran past its deadline; describeTrap turns it into ErrTimeout.
var errDeadline = errors.New("deadline")

// errCallDepth ends a guest whose calls nest deeper than maxCallDepth.
var errCallDepth = fmt.Errorf("call stack exhausted: calls nested more than %d deep", maxCallDepth)

// Trap is the error of a call whose guest trapped: unreachable, an
// out-of-bounds access, a stack overflow, proc_exit, running past its time
// limit or growing memory past its limit. The instance must be closed, and
// the call's writes are discarded. Err says what happened; for most traps
// its message ends with the guest's wasm stack trace.
type Trap struct {
	Err error
}

func (t *Trap) Error() string { return t.Err.Error() }

// Unwrap returns the cause (ErrTimeout, context.DeadlineExceeded, …).
func (t *Trap) Unwrap() error { return t.Err }

// IsTrap reports whether err is, or wraps, a *Trap.
func IsTrap(err error) bool {
	if err == nil {
		return false
	}
	var t *Trap
	return errors.As(err, &t)
}

// TrapCause names the cause of a trap for metrics: timeout, stack,
// memory_access, unreachable, arithmetic, table, exit, stopping, canceled
// or other; "" when err is no trap.
func TrapCause(err error) string {
	if err == nil {
		return ""
	}
	var t *Trap
	if !errors.As(err, &t) {
		return ""
	}
	switch {
	case errors.Is(err, ErrTimeout):
		return "timeout"
	case errors.Is(err, ErrStopping):
		return "stopping"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, errCallDepth):
		return "stack"
	}
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		return "exit"
	}
	msg := err.Error()
	for _, c := range []struct{ in, cause string }{
		{"stack overflow", "stack"},
		{"out of bounds memory access", "memory_access"},
		{"unreachable", "unreachable"},
		{"divide by zero", "arithmetic"},
		{"integer overflow", "arithmetic"},
		{"invalid conversion", "arithmetic"},
		{"table", "table"},
		{"indirect call", "table"},
		{"exited with code", "exit"},
	} {
		if strings.Contains(msg, c.in) {
			return c.cause
		}
	}
	return "other"
}

// Failure is the error of a handler that returned a code other than OK,
// like a Workers handler that throws: its writes stand and the instance
// lives on. Message is what the guest passed to fail, possibly with a
// stack trace of its own; it is for the operator's log and for the stub
// caller of the same worker, never for an HTTP client.
type Failure struct {
	Code    abi.Code
	Message string
}

func (f *Failure) Error() string {
	msg := f.Message
	if msg == "" {
		msg = "no message"
	}
	return fmt.Sprintf("handler failed: returned %s (%d): %s", f.Code, int32(f.Code), msg)
}

// describeTrap turns a wazero call error into a Trap that says what
// happened to the guest.
func describeTrap(err error) *Trap {
	switch {
	case errors.Is(err, errDeadline):
		return &Trap{fmt.Errorf("%w (%w)", ErrTimeout, context.DeadlineExceeded)}
	case errors.Is(err, errCallDepth):
		return &Trap{fmt.Errorf("guest trapped: %w", errCallDepth)}
	case errors.Is(err, ErrStopping):
		return &Trap{ErrStopping}
	}
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		switch exit.ExitCode() {
		case sys.ExitCodeDeadlineExceeded:
			return &Trap{fmt.Errorf("%w (%w)", ErrTimeout, context.DeadlineExceeded)}
		case sys.ExitCodeContextCanceled:
			return &Trap{fmt.Errorf("guest call canceled: %w", context.Canceled)}
		default:
			return &Trap{fmt.Errorf("guest exited with code %d", exit.ExitCode())}
		}
	}
	return &Trap{fmt.Errorf("guest trapped: %w", err)}
}
