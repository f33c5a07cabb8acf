//go:build wasip1

package dohost

import (
	"bytes"
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/dohost/dohost/abi"
)

// The guest exports of ABI v1 (abi/ABI.md).

//go:wasmexport dohost_abi_v1
func abiV1() {}

// workerTuned is set once the instance has served as a Worker.
var workerTuned bool

//go:wasmexport dohost_classes
func exportClasses() int32 {
	s := classNames()
	return hostRespond(sptr(s), uint32(len(s)))
}

//go:wasmexport dohost_worker_fetch
func exportWorkerFetch(n uint32) int32 {
	if workerFn == nil {
		return failf("the module has no fetch handler: call dohost.Handle in an init function")
	}
	if !workerTuned {
		// A Worker instance is pooled and serves request after request;
		// the host keeps few of them. Collect its garbage less often.
		workerTuned = true
		debug.SetGCPercent(400)
	}
	return serve(n, func(req *Request) (*Response, error) { return workerFn(req, env) })
}

//go:wasmexport dohost_object_new
func exportObjectNew(n uint32) (code int32) {
	defer recoverTo(&code)
	info, err := abi.DecodeObjectInfo(input(n))
	if err != nil {
		return failf("object info: %v", err)
	}
	ctor := classes[info.Class]
	if ctor == nil {
		return failf("class %q is not registered with dohost.RegisterClass", info.Class)
	}
	theState = &State{id: ObjectID{hex: info.ID, name: info.Name, set: info.HasName}}
	obj := ctor(theState, env)
	if obj == nil {
		return failf("constructor of class %q returned nil", info.Class)
	}
	theObject = obj
	return 0
}

//go:wasmexport dohost_object_fetch
func exportObjectFetch(n uint32) int32 {
	if theObject == nil {
		return failf("object_fetch before object_new")
	}
	return serve(n, theObject.Fetch)
}

//go:wasmexport dohost_object_alarm
func exportObjectAlarm(n uint32) (code int32) {
	defer recoverTo(&code)
	info, err := abi.DecodeAlarmInfo(input(n))
	if err != nil {
		return failf("alarm info: %v", err)
	}
	h, ok := theObject.(AlarmHandler)
	if !ok {
		return failf("the object's class has no Alarm method")
	}
	if err := h.Alarm(AlarmInfo{RetryCount: int(info.RetryCount), IsRetry: info.RetryCount > 0}); err != nil {
		return failf("%v", err)
	}
	return 0
}

// input reads the handler's input record.
func input(n uint32) []byte {
	b := make([]byte, n)
	if n > 0 {
		hostResultRead(bptr(b), n)
	}
	return b
}

func serve(n uint32, h func(*Request) (*Response, error)) (code int32) {
	defer recoverTo(&code)
	req, err := decodeRequest(input(n))
	if err != nil {
		return failf("%v", err)
	}
	resp, err := h(req)
	if err != nil {
		return failf("%v", err)
	}
	if resp == nil {
		return failf("handler returned a nil response and no error")
	}
	enc := encodeResponse(resp)
	if c := hostRespond(bptr(enc), uint32(len(enc))); c != 0 {
		return failf("respond: %s", pending())
	}
	return 0
}

// recoverTo turns a panic in a handler into a failure with its message and
// stack, like an exception thrown from a Workers handler.
func recoverTo(code *int32) {
	if r := recover(); r != nil {
		st := debug.Stack()
		if i := bytes.Index(st, []byte("panic(")); i > 0 {
			st = st[i:]
		}
		*code = failf("panic: %v\n%s", r, st)
	}
}

func failf(format string, args ...any) int32 {
	msg := fmt.Sprintf(format, args...)
	hostFail(sptr(msg), uint32(len(msg)))
	return int32(abi.GuestError)
}

//go:wasmexport dohost_object_ws_message
func exportObjectWSMessage(n uint32) (code int32) {
	defer recoverTo(&code)
	m, err := abi.DecodeWSMessage(input(n))
	if err != nil {
		return failf("ws message: %v", err)
	}
	h, ok := theObject.(WebSocketHandler)
	if !ok {
		return failf("the object's class has no WebSocketMessage method")
	}
	if err := h.WebSocketMessage(WebSocket{id: m.Socket}, Message{Binary: m.Binary, Data: m.Data}); err != nil {
		return failf("%v", err)
	}
	return 0
}

//go:wasmexport dohost_object_ws_close
func exportObjectWSClose(n uint32) (code int32) {
	defer recoverTo(&code)
	c, err := abi.DecodeWSClose(input(n))
	if err != nil {
		return failf("ws close: %v", err)
	}
	if h, ok := theObject.(WebSocketCloseHandler); ok {
		if err := h.WebSocketClose(WebSocket{id: c.Socket}, int(c.Code), c.Reason, c.WasClean); err != nil {
			return failf("%v", err)
		}
	}
	return 0
}

//go:wasmexport dohost_object_ws_error
func exportObjectWSError(n uint32) (code int32) {
	defer recoverTo(&code)
	e, err := abi.DecodeWSError(input(n))
	if err != nil {
		return failf("ws error: %v", err)
	}
	if h, ok := theObject.(WebSocketErrorHandler); ok {
		if err := h.WebSocketError(WebSocket{id: e.Socket}, errors.New(e.Message)); err != nil {
			return failf("%v", err)
		}
	}
	return 0
}
