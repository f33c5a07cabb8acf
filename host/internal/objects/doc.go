// Package objects runs Durable Objects: one live instance per object ID,
// one request at a time, with its storage and alarm.
//
// A Registry holds every object of a server. A Namespace is one class of
// one worker, reached by guests through a binding (it implements
// guest.Namespace): it makes and checks IDs (ids.go) and hands a stub's
// request to the Placement, the seam where a request finds its object.
// Today the placement is local: the Registry itself, which finds or makes
// the object's record (registry.go), waits for its turn (turn.go) unless
// that would close a cycle of objects waiting on each other (cycles.go),
// starts its instance and runs the handler (object.go). Every handler
// runs in a batch (batch.go): requests (from Workers and from other
// objects) and WebSocket messages that wait for a busy object run
// together in its next turn, with one commit (fetches.go, messages.go);
// an alarm and a socket's close or error run alone, as a batch of one.
// Objects idle for long are trimmed and evicted, and live ones are capped
// (eviction.go); alarms are scheduled from an in-memory heap over the
// stored alarms (alarms.go).
//
// # Locks
//
// In the order they may be taken (a lock is only taken while holding the
// ones above it):
//
//  1. object.turn, a channel of capacity 1: holding its token is the right
//     to run the object's handlers and to touch the fields it guards
//     (the instance among them). It is held while guest code runs, and a
//     guest's stub call may then wait for another object's turn: the
//     cycle check (Registry.graphMu) ensures those waits never form a
//     loop.
//  2. registryShard.mu, one for each part of the registry: its records,
//     their reference counts and its LRU list. Never held while waiting
//     for a turn or running a guest, and never two at once.
//  3. Registry.graphMu: who waits on whom (object.waitingOn). A leaf.
//  4. alarmScheduler.mu: the alarm heap. It may take Registry.nsMu.
//  5. Registry.nsMu: the registered namespaces. A leaf.
//
// Locks of other packages (store, guest) are leaves below all of these.
package objects
