// Package sockets holds the WebSockets of Durable Objects.
//
// A client's upgrade request reaches an object as an ordinary request; the
// object accepts the socket (Set.Accept) and answers 101, and from then on
// the host owns the connection: a Socket, with its tags and attachment,
// lives in its object's Set whether or not the object has an instance.
// An idle socket has no goroutine: the host's poller (one epoll instance,
// poller_linux.go) waits for every socket to become readable, and a
// goroutine then reads the messages that came and hands each to the Set's
// Events (the object, which runs its handler). Writes are queued per
// socket, bounded, and drained by a goroutine that exists only while
// frames wait. A broadcast encodes its frame once
// (websocket.PreparedMessage) for every socket it reaches.
//
// # Locks
//
// Set.mu guards a set's sockets, their tags, attachments and states, and
// the auto-response pair; Socket.mu guards one socket's send queue and
// connection. Set.mu may be held while taking Socket.mu, never the other
// way. Host.mu guards the sets with sockets, poller.mu the registered
// sockets; both are leaves. Socket.readMu is held by the one goroutine
// reading a socket. No lock but readMu is held while a frame is read or
// written or an event handled.
package sockets
