package dohost

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/dohost/dohost/abi"
)

// Error is a failed host call: its status code and the host's message.
type Error struct {
	Op      string   // the SDK call, e.g. "KV.Get"
	Code    abi.Code // see abi/ABI.md
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("dohost: %s: %s: %s", e.Op, e.Code, e.Message)
}

// Is makes errors.Is(err, dohost.ErrCycle) and the other code sentinels work.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Op == "" && t.Message == "" && t.Code == e.Code
}

// Sentinels for errors.Is, one per status code a guest may want to handle.
var (
	ErrNoBinding  = &Error{Code: abi.NoBinding}
	ErrTooLarge   = &Error{Code: abi.TooLarge}
	ErrInvalid    = &Error{Code: abi.Invalid}
	ErrCycle      = &Error{Code: abi.Cycle}
	ErrObject     = &Error{Code: abi.ObjectError}
	ErrOverloaded = &Error{Code: abi.Overloaded}
	ErrTimeout    = &Error{Code: abi.Timeout}
)

// ErrNotOnHost is the message of every host call in a build that is not
// for wasip1, where there is no host to call.
var ErrNotOnHost = errors.New("not running on a dohost host (build with GOOS=wasip1 GOARCH=wasm)")

// scratch receives the output of host calls that fit in it; outLen the
// length of every output. An instance runs one handler at a time, so one of
// each is enough.
var (
	scratch [16 << 10]byte
	outLen  uint32
)

func bptr(b []byte) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(b)) }
func sptr(s string) unsafe.Pointer { return unsafe.Pointer(unsafe.StringData(s)) }

var (
	scratchPtr = unsafe.Pointer(&scratch[0])
	outLenPtr  = unsafe.Pointer(&outLen)
)

// output returns the output of the last call that had an out buffer: its
// result, or its error message. A result that fit is a view of scratch,
// valid until the next host call.
func output() []byte {
	n := outLen
	if n <= uint32(len(scratch)) {
		return scratch[:n]
	}
	b := make([]byte, n)
	hostResultRead(bptr(b), n)
	return b
}

// pending reads the pending result of a call without an out buffer.
func pending() []byte {
	n := hostResultRead(scratchPtr, uint32(len(scratch)))
	if n < 0 {
		return nil
	}
	if int(n) <= len(scratch) {
		return scratch[:n]
	}
	b := make([]byte, n)
	hostResultRead(bptr(b), uint32(n))
	return b
}

// check turns a status code into an error. msg is read only on failure.
func check(op string, code int32, msg func() []byte) error {
	if code == int32(abi.OK) {
		return nil
	}
	return &Error{Op: op, Code: abi.Code(code), Message: string(msg())}
}

func logMessage(level uint32, msg string) {
	hostLog(level, sptr(msg), uint32(len(msg)))
}

// Log writes msg to the host's log at info level, tagged with the worker,
// the object and the request.
func Log(msg string) { logMessage(abi.LogInfo, msg) }

// Logf formats and logs a message at info level.
func Logf(format string, args ...any) { Log(fmt.Sprintf(format, args...)) }

// LogError writes msg to the host's log at error level.
func LogError(msg string) { logMessage(abi.LogError, msg) }
