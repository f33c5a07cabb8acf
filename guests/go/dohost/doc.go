// Package dohost is the Go SDK for writing Workers and Durable Objects that
// run on dohost, compiled to WebAssembly with GOOS=wasip1 GOARCH=wasm.
//
// It is shaped like the Workers API: a fetch handler for the Worker, classes
// whose instances are Durable Objects, and bindings looked up by the names
// in wrangler.toml.
//
//	func init() {
//		dohost.Handle(func(req *dohost.Request, env *dohost.Env) (*dohost.Response, error) {
//			ns := env.DurableObject("YOUR_DO_CLASS")
//			id, err := ns.IDFromName(req.URL.Query().Get("roomId"))
//			if err != nil {
//				return nil, err
//			}
//			return ns.Get(id).Fetch(req)
//		})
//		dohost.RegisterClass("YourDurableObject", func(state *dohost.State, env *dohost.Env) dohost.Object {
//			return &room{kv: env.KV("YOUR_KV_NAMESPACE")}
//		})
//	}
//
//	func main() {}
//
// Build the module as a WASI reactor:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o room.wasm .
//
// Each object runs in its own module instance, one request at a time, so
// an Object's fields are its in-memory state and need no locks. A handler
// that returns an error or panics answers 500 and keeps the instance (and
// its state); a trap or timeout replaces the instance.
//
// An object holds WebSockets as with Cloudflare's Hibernation API: in
// Fetch, State.AcceptWebSocket(tags...) and UpgradeResponse(); the
// WebSocketMessage method (WebSocketHandler) receives each message, also
// after the object was evicted; State.Broadcast sends one message to every
// socket (or a tag's) in one host call (guests/examples/chat).
//
// time.Sleep waits for real (WASI's poll_oneoff): the object's other events
// wait meanwhile, but the time does not count against cpu_ms (ABI.md §6).
//
// Env.Var(name) reads the worker's vars ([vars] in wrangler.toml) and
// secrets; os.Getenv finds the same names.
//
// Outside wasip1 the package compiles (so that tools and tests of pure
// code work) but every host call fails with ErrNotOnHost.
package dohost
