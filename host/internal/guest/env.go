package guest

import (
	"context"

	"github.com/dohost/dohost/abi"
	"github.com/dohost/dohost/host/internal/store"
)

// Env is what a worker's guests may reach beyond their own call: its
// bindings, by the names its wrangler.toml gives them. It is set up once
// per worker and only read afterwards.
type Env struct {
	KV         map[string]*store.KV
	Namespaces map[string]Namespace
}

// Namespace is a Durable Object namespace as a guest reaches it through a
// binding. Package objects implements it; IDs cross as the 64 hex digits
// a guest sees.
type Namespace interface {
	// IDFromName returns the ID of the object named name: always the same.
	IDFromName(name string) string
	// NewUniqueID returns a new random ID.
	NewUniqueID() (string, error)
	// ParseID returns s as an ID of this namespace in canonical (lower
	// case) form, or an error that says why it is not one.
	ParseID(s string) (string, error)
	// Fetch runs the encoded request req on the object id (in canonical
	// form) and returns its encoded response, once the object's writes
	// are durable. from is the call that asks (nil from outside a guest);
	// name, when hasName, is the name the ID was derived from in that
	// call. On failure the code is what the calling guest gets.
	Fetch(ctx context.Context, from *Call, id, name string, hasName bool, req []byte) ([]byte, abi.Code, error)
}
