// Package guest runs dohost's WebAssembly guests: everything that touches
// wazero lives here.
//
// A Module is one worker's guest, compiled once: Compile checks it against
// the ABI (abi.Handlers, abi.HostFuncs), meters it (wasmbin.Prepare: fuel
// checks that bound its running time, a bound on call depth) and, where the
// module allows, initializes one instance and keeps its memory and globals
// as a snapshot that later instances map copy-on-write. An Instance is one
// instantiation; a Pool holds the interchangeable instances that run the
// Worker's fetch handler.
//
// A Call is one handler call on an instance: its input, the pending result
// of its host calls, the transaction that collects its writes, and its
// clock (clock.go: deadline, throttling). The host functions are registered
// from the one table in abi (hostfuncs.go checks every pointer a row names
// before the function runs); kv.go, namespaces.go, storage.go and
// alarms.go implement them. Everything a guest may reach beyond its own
// call comes through its Env: the KV namespaces of its bindings, and
// Durable Object namespaces behind the Namespace interface, which this
// package calls but does not implement (package objects does).
//
// # Goroutines
//
// A Module is safe for concurrent use. An Instance, and a Call on it, is
// used by one goroutine at a time: the one that holds the object's turn,
// or that took the instance from the Pool. Load is shared by every call of
// a server and is safe for concurrent use.
//
// # Locks
//
// A logLimiter's bucket and logWriter.mu are leaves: nothing else is
// locked while they are held. No lock of this package is held while guest
// code runs.
package guest
