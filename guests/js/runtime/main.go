// Command runtime is dohost's JavaScript runtime: a guest, built with the Go
// SDK, that runs a Workers module with the goja interpreter inside the same
// WebAssembly sandbox as every other guest.
//
// The host bundles the Worker's src/index.js (or .ts) with esbuild and
// appends the bundle to this module as the custom section "dohost.js"; it
// gives an instance that section as the file /bundle.js while the module
// initializes. Initializing evaluates the prelude (the Workers API,
// prelude.js) and the bundle, then registers the bundle's default export as
// the Worker's fetch handler and each exported class as a Durable Object
// class. The host snapshots the instance after that, so every object starts
// with the bundle already evaluated.
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o dohost-js.wasm .
package main

import (
	_ "embed"
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/dohost/dohost/guests/go/dohost"
	"github.com/dop251/goja"
)

//go:embed prelude.js
var prelude string

// BundlePath is where an instance finds the Worker's bundle while the
// module initializes.
const BundlePath = "/bundle.js"

func init() {
	src, err := os.ReadFile(BundlePath)
	if err != nil {
		// Not given a bundle: every request says so.
		dohost.Handle(func(*dohost.Request, *dohost.Env) (*dohost.Response, error) {
			return nil, fmt.Errorf("dohost's JavaScript runtime was started without a bundle: %v", err)
		})
		return
	}
	if err := load(string(src)); err != nil {
		dohost.Handle(func(*dohost.Request, *dohost.Env) (*dohost.Response, error) { return nil, err })
	}
	// Collect what evaluating the bundle left behind before the host
	// takes the snapshot: every object starts with a heap of live data
	// only and a full allowance before its first collection, instead of
	// paying for a collection of the whole runtime in its first request.
	// Before that, grow the heap's memory once, so that the snapshot has
	// room for what requests allocate: an instance whose memory never
	// grows past the snapshot's can be reset and reused for another
	// object.
	reserve = make([]byte, heapReserve)
	reserve = nil
	runtime.GC()
}

// heapReserve is the room the snapshot's memory keeps for requests'
// allocations; untouched, it costs an instance nothing.
const heapReserve = 8 << 20

var reserve []byte

func main() {}

// js is the runtime's one interpreter, the parts of the prelude the
// runtime calls (__dohost_api, looked up once), and the Worker's env.
var js struct {
	vm      *goja.Runtime
	api     *goja.Object
	wire    goja.Callable    // a Response as the host takes it
	request goja.Callable    // a Request from what the host gives
	socket  goja.Callable    // the WebSocket object of a socket id
	context goja.Constructor // ExecutionContext
	state   goja.Constructor // DurableObjectState
	env     goja.Value       // the Worker's env
}

// boot makes the interpreter, with host as __dohost, and evaluates the
// prelude.
func boot(host func(*goja.Runtime) *goja.Object) error {
	vm := goja.New()
	js.vm = vm
	if err := vm.Set("__dohost", host(vm)); err != nil {
		return err
	}
	if _, err := vm.RunScript("dohost:prelude.js", prelude); err != nil {
		return fmt.Errorf("prelude: %s", describe(err))
	}
	js.api = vm.Get("__dohost_api").ToObject(vm)
	js.wire = callable(js.api.Get("wire"))
	js.request = callable(js.api.Get("request"))
	js.socket = callable(js.api.Get("socket"))
	js.context = constructor(js.api.Get("ExecutionContext"))
	js.state = constructor(js.api.Get("DurableObjectState"))
	return nil
}

// makeEnv sets the Worker's env from the bundle's __dohost_bindings.
func makeEnv() error {
	bindings := js.vm.Get("__dohost_bindings")
	if bindings == nil || goja.IsUndefined(bindings) {
		bindings = js.vm.NewObject()
	}
	env, err := callable(js.api.Get("makeEnv"))(goja.Undefined(), bindings)
	if err != nil {
		return fmt.Errorf("env: %s", describe(err))
	}
	js.env = env
	return nil
}

// load evaluates the prelude and the bundle and registers what the bundle
// exports.
func load(bundle string) error {
	if err := boot(hostObject); err != nil {
		return err
	}
	vm := js.vm
	if _, err := vm.RunScript("bundle.js", bundle); err != nil {
		return fmt.Errorf("loading the Worker: %s", describe(err))
	}
	mod := vm.Get("__dohost_module")
	if mod == nil || goja.IsUndefined(mod) {
		return fmt.Errorf("the bundle defines no module (__dohost_module): was it built by dohost?")
	}
	exports := mod.ToObject(vm)
	if err := makeEnv(); err != nil {
		return err
	}
	if def := exports.Get("default"); def != nil && !goja.IsUndefined(def) {
		if err := registerWorker(def); err != nil {
			return err
		}
	}
	for _, name := range exports.Keys() {
		if name == "default" {
			continue
		}
		v := exports.Get(name)
		if _, ok := goja.AssertConstructor(v); ok {
			registerClass(name, v.ToObject(vm))
		}
	}
	return nil
}

// registerWorker makes the default export's fetch the Worker's handler:
// an object with fetch(request, env, ctx), or a WorkerEntrypoint class.
func registerWorker(def goja.Value) error {
	vm := js.vm
	if ctor, ok := goja.AssertConstructor(def); ok {
		// class extends WorkerEntrypoint: one instance serves every request.
		ctxv, err := newExecutionContext()
		if err != nil {
			return err
		}
		obj, err := ctor(nil, ctxv, js.env)
		if err != nil {
			return fmt.Errorf("constructing the default export: %s", describe(err))
		}
		def = obj
	}
	o := def.ToObject(vm)
	fetch, ok := goja.AssertFunction(o.Get("fetch"))
	if !ok {
		return nil // no fetch handler: the host says so if a request comes
	}
	dohost.Handle(func(req *dohost.Request, _ *dohost.Env) (*dohost.Response, error) {
		ctxv, err := newExecutionContext()
		if err != nil {
			return nil, err
		}
		r, err := toJSRequest(req)
		if err != nil {
			return nil, err
		}
		return respond("fetch", fetch, o, r, js.env, ctxv)
	})
	return nil
}

func newExecutionContext() (goja.Value, error) {
	v, err := js.context(nil)
	if err != nil {
		return nil, fmt.Errorf("ExecutionContext: %s", describe(err))
	}
	return v, nil
}

// registerClass makes the exported class name a Durable Object class.
func registerClass(name string, class *goja.Object) {
	dohost.RegisterClass(name, func(state *dohost.State, _ *dohost.Env) dohost.Object {
		theState = state
		return &object{class: name, ctor: class, state: state}
	})
}

// object is one Durable Object: its JavaScript instance is made at its
// first event, so that a constructor's exception fails that event with
// the exception's message (the Go SDK's constructors cannot fail).
type object struct {
	class string
	ctor  *goja.Object
	state *dohost.State
	this  *goja.Object
}

func (o *object) instance() (*goja.Object, error) {
	if o.this != nil {
		return o.this, nil
	}
	vm := js.vm
	id := o.state.ID()
	var name goja.Value = goja.Null()
	if n, ok := id.Name(); ok {
		name = vm.ToValue(n)
	}
	ctxv, err := js.state(nil, vm.ToValue(id.String()), name)
	if err != nil {
		return nil, fmt.Errorf("DurableObjectState: %s", describe(err))
	}
	ctor, _ := goja.AssertConstructor(o.ctor)
	this, err := ctor(nil, ctxv, js.env)
	if err != nil {
		return nil, fmt.Errorf("constructor of %s: %s", o.class, describe(err))
	}
	// A constructor's blockConcurrencyWhile ran its callback; its
	// promise settled as the constructor returned (nothing waits here).
	o.this = this
	return this, nil
}

// Fetch calls the instance's fetch(request).
func (o *object) Fetch(req *dohost.Request) (*dohost.Response, error) {
	this, err := o.instance()
	if err != nil {
		return nil, err
	}
	fetch, ok := goja.AssertFunction(this.Get("fetch"))
	if !ok {
		return nil, fmt.Errorf("class %s has no fetch method", o.class)
	}
	r, err := toJSRequest(req)
	if err != nil {
		return nil, err
	}
	return respond(o.class+".fetch", fetch, this, r)
}

// Alarm calls the instance's alarm(info).
func (o *object) Alarm(info dohost.AlarmInfo) error {
	this, err := o.instance()
	if err != nil {
		return err
	}
	alarm, ok := goja.AssertFunction(this.Get("alarm"))
	if !ok {
		return fmt.Errorf("class %s has no alarm method", o.class)
	}
	i := js.vm.NewObject()
	_ = i.Set("retryCount", info.RetryCount)
	_ = i.Set("isRetry", info.IsRetry)
	v, err := alarm(this, i)
	if err != nil {
		return fmt.Errorf("%s.alarm: %s", o.class, describe(err))
	}
	_, err = settle(o.class+".alarm", v)
	return err
}

// WebSocketMessage calls the instance's webSocketMessage(ws, message): a
// string for a text message, an ArrayBuffer for a binary one.
func (o *object) WebSocketMessage(ws dohost.WebSocket, msg dohost.Message) error {
	var m goja.Value
	if msg.Binary {
		m = js.vm.ToValue(js.vm.NewArrayBuffer(msg.Data))
	} else {
		m = js.vm.ToValue(msg.Text())
	}
	return o.socketEvent("webSocketMessage", ws, m)
}

// WebSocketClose calls the instance's webSocketClose(ws, code, reason,
// wasClean), if it has one.
func (o *object) WebSocketClose(ws dohost.WebSocket, code int, reason string, wasClean bool) error {
	vm := js.vm
	return o.socketEvent("webSocketClose", ws, vm.ToValue(code), vm.ToValue(reason), vm.ToValue(wasClean))
}

// WebSocketError calls the instance's webSocketError(ws, error), if it
// has one.
func (o *object) WebSocketError(ws dohost.WebSocket, err error) error {
	return o.socketEvent("webSocketError", ws, js.vm.NewGoError(err))
}

// socketEvent calls the handler method of the instance with the socket's
// JavaScript object and args. A class without webSocketMessage fails the
// event; one without webSocketClose or webSocketError ignores it.
func (o *object) socketEvent(method string, ws dohost.WebSocket, args ...goja.Value) error {
	this, err := o.instance()
	if err != nil {
		return err
	}
	f, ok := goja.AssertFunction(this.Get(method))
	if !ok {
		if method == "webSocketMessage" {
			return fmt.Errorf("class %s accepted a WebSocket but has no webSocketMessage method", o.class)
		}
		return nil
	}
	sockets[ws.ID()] = ws
	wsv, err := js.socket(goja.Undefined(), js.vm.ToValue(ws.ID()))
	if err != nil {
		return fmt.Errorf("%s.%s: %s", o.class, method, describe(err))
	}
	v, err := f(this, append([]goja.Value{wsv}, args...)...)
	if err != nil {
		return fmt.Errorf("%s.%s: %s", o.class, method, describe(err))
	}
	_, err = settle(o.class+"."+method, v)
	return err
}

// respond calls a fetch handler and turns what it returns (a Response, or
// a promise of one) into the host's Response.
func respond(what string, f goja.Callable, this goja.Value, args ...goja.Value) (*dohost.Response, error) {
	v, err := f(this, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", what, describe(err))
	}
	if v, err = settle(what, v); err != nil {
		return nil, err
	}
	w, err := js.wire(goja.Undefined(), v)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", what, describe(err))
	}
	return fromWire(w)
}

// settle is v, or what the promise v was fulfilled with. Handlers run to
// completion: the host answers nothing asynchronously, so a promise still
// pending when the handler has returned waits for something that never
// comes (a timer, a fetch).
func settle(what string, v goja.Value) (goja.Value, error) {
	p, ok := v.Export().(*goja.Promise)
	if !ok {
		return v, nil
	}
	switch p.State() {
	case goja.PromiseStateFulfilled:
		return p.Result(), nil
	case goja.PromiseStateRejected:
		return nil, fmt.Errorf("%s: uncaught (in promise) %s", what, describeValue(p.Result()))
	}
	return nil, fmt.Errorf("%s: the handler's promise never settled (dohost runs no timers, and a handler's work must finish before it returns)", what)
}

// describe is an exception's message and its JavaScript stack.
func describe(err error) string {
	if ex, ok := err.(*goja.Exception); ok {
		return strings.TrimSpace(ex.String())
	}
	return err.Error()
}

func describeValue(v goja.Value) string {
	if o, ok := v.(*goja.Object); ok {
		if st := o.Get("stack"); st != nil && !goja.IsUndefined(st) {
			return st.String()
		}
	}
	return v.String()
}

func constructor(v goja.Value) goja.Constructor {
	c, ok := goja.AssertConstructor(v)
	if !ok {
		panic(fmt.Sprintf("dohost js runtime: prelude: %v is not a constructor", v))
	}
	return c
}

func callable(v goja.Value) goja.Callable {
	f, ok := goja.AssertFunction(v)
	if !ok {
		panic(fmt.Sprintf("dohost js runtime: prelude: %v is not a function", v))
	}
	return f
}
