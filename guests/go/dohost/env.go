package dohost

import (
	"bytes"
	"time"

	"github.com/dohost/dohost/abi"
)

// Env gives access to the bindings of the worker's wrangler.toml, by name.
// A name the config does not grant fails at the first call that uses it,
// with an error that lists the bindings there are.
type Env struct{}

// Var returns the worker's var (wrangler.toml [vars]) or secret called
// name; ok is false when there is none. A var that is not a string in
// wrangler.toml comes as its JSON. The same names are the instance's
// environment variables (os.Getenv).
func (*Env) Var(name string) (value string, ok bool) {
	code := hostEnvGet(sptr(name), uint32(len(name)), scratchPtr, uint32(len(scratch)), outLenPtr)
	switch abi.Code(code) {
	case abi.OK:
		return string(output()), true
	case abi.NotFound:
		return "", false
	}
	// A name is all env_get takes: any other code is the host's bug.
	panic(check("Env.Var", code, output))
}

// KV returns the KV namespace bound as binding (kv_namespaces[].binding).
func (*Env) KV(binding string) *KVNamespace { return &KVNamespace{binding: binding} }

// DurableObject returns the Durable Object namespace bound as binding
// ([durable_objects] bindings[].name).
func (*Env) DurableObject(binding string) *DurableObjectNamespace {
	return &DurableObjectNamespace{binding: binding}
}

// KVNamespace is a KV namespace binding. Writes made in one request become
// visible to others, and durable, when the request's response is sent.
type KVNamespace struct {
	binding string
}

// Get returns the value of key; ok is false when there is none.
func (kv *KVNamespace) Get(key string) (value []byte, ok bool, err error) {
	code := hostKVGet(sptr(kv.binding), uint32(len(kv.binding)), sptr(key), uint32(len(key)), scratchPtr, uint32(len(scratch)), outLenPtr)
	switch abi.Code(code) {
	case abi.OK:
		return bytes.Clone(output()), true, nil
	case abi.NotFound:
		return nil, false, nil
	}
	return nil, false, check("KV.Get", code, output)
}

// PutOptions are the optional parts of a KV write.
type PutOptions struct {
	Expiration    time.Time     // when the key expires; zero: never
	ExpirationTTL time.Duration // how long until it expires (at least 60 s); zero: never
	Metadata      []byte        // up to 1024 bytes, returned by List
}

// Put sets key to value. It fails as Storage.Put does past the limits on
// writes (ErrTooLarge, ErrOverloaded).
func (kv *KVNamespace) Put(key string, value []byte) error {
	return kv.PutWithOptions(key, value, PutOptions{})
}

// PutWithOptions sets key to value with an expiration or metadata.
func (kv *KVNamespace) PutWithOptions(key string, value []byte, o PutOptions) error {
	var opts []byte
	if !o.Expiration.IsZero() || o.ExpirationTTL != 0 || len(o.Metadata) > 0 {
		ko := abi.KVPutOptions{ExpirationTTL: uint64(o.ExpirationTTL / time.Second), Metadata: o.Metadata}
		if !o.Expiration.IsZero() {
			ko.Expiration = uint64(o.Expiration.Unix())
		}
		opts = abi.AppendKVPutOptions(nil, &ko)
	}
	code := hostKVPut(sptr(kv.binding), uint32(len(kv.binding)), sptr(key), uint32(len(key)),
		bptr(value), uint32(len(value)), bptr(opts), uint32(len(opts)))
	return check("KV.Put", code, pending)
}

// Delete removes key. Removing a missing key is not an error.
func (kv *KVNamespace) Delete(key string) error {
	code := hostKVDelete(sptr(kv.binding), uint32(len(kv.binding)), sptr(key), uint32(len(key)))
	return check("KV.Delete", code, pending)
}

// ListOptions select a page of keys.
type ListOptions struct {
	Prefix string
	Cursor string // from the previous page's ListResult
	Limit  int    // 1-1000; zero means 1000
}

// ListKey is one key of a listing.
type ListKey struct {
	Name       string
	Expiration time.Time // zero: none
	Metadata   []byte
}

// ListResult is one page of keys in byte order.
type ListResult struct {
	Keys         []ListKey
	ListComplete bool
	Cursor       string // pass to the next List when not ListComplete
}

// List returns a page of the keys that start with o.Prefix.
func (kv *KVNamespace) List(o ListOptions) (*ListResult, error) {
	code := hostKVList(sptr(kv.binding), uint32(len(kv.binding)), sptr(o.Prefix), uint32(len(o.Prefix)),
		sptr(o.Cursor), uint32(len(o.Cursor)), uint32(o.Limit), scratchPtr, uint32(len(scratch)), outLenPtr)
	if err := check("KV.List", code, output); err != nil {
		return nil, err
	}
	l, err := abi.DecodeKVList(output())
	if err != nil {
		return nil, &Error{Op: "KV.List", Code: abi.BadEncoding, Message: err.Error()}
	}
	res := &ListResult{ListComplete: l.Complete, Cursor: l.Cursor, Keys: make([]ListKey, len(l.Keys))}
	for i, k := range l.Keys {
		res.Keys[i] = ListKey{Name: k.Name, Metadata: k.Metadata}
		if k.Expiration != 0 {
			res.Keys[i].Expiration = time.Unix(int64(k.Expiration), 0)
		}
	}
	return res, nil
}

// DurableObjectNamespace is a Durable Object namespace binding: the objects
// of one class.
type DurableObjectNamespace struct {
	binding string
}

// ObjectID names one object of a namespace. Its String form is 64 hex
// digits that IDFromString turns back into the ID.
type ObjectID struct {
	hex  string
	name string
	set  bool // name is set
}

// String returns the ID as 64 hex digits.
func (id ObjectID) String() string { return id.hex }

// Name returns the name the ID was derived from, when it was.
func (id ObjectID) Name() (string, bool) { return id.name, id.set }

// IDFromName returns the ID of the object called name: the same name always
// gives the same ID.
func (ns *DurableObjectNamespace) IDFromName(name string) (ObjectID, error) {
	code := hostNSIDFromName(sptr(ns.binding), uint32(len(ns.binding)), sptr(name), uint32(len(name)), scratchPtr, uint32(len(scratch)), outLenPtr)
	if err := check("DurableObjectNamespace.IDFromName", code, output); err != nil {
		return ObjectID{}, err
	}
	return ObjectID{hex: string(output()), name: name, set: true}, nil
}

// NewUniqueID returns the ID of a new object, different from every other.
func (ns *DurableObjectNamespace) NewUniqueID() (ObjectID, error) {
	code := hostNSNewUniqueID(sptr(ns.binding), uint32(len(ns.binding)), scratchPtr, uint32(len(scratch)), outLenPtr)
	if err := check("DurableObjectNamespace.NewUniqueID", code, output); err != nil {
		return ObjectID{}, err
	}
	return ObjectID{hex: string(output())}, nil
}

// IDFromString parses an ID's String form; an ID of another namespace is
// refused.
func (ns *DurableObjectNamespace) IDFromString(s string) (ObjectID, error) {
	code := hostNSIDFromString(sptr(ns.binding), uint32(len(ns.binding)), sptr(s), uint32(len(s)), scratchPtr, uint32(len(scratch)), outLenPtr)
	if err := check("DurableObjectNamespace.IDFromString", code, output); err != nil {
		return ObjectID{}, err
	}
	return ObjectID{hex: string(output())}, nil
}

// Get returns a stub for the object id. Getting a stub is free; the object
// starts on its first request.
func (ns *DurableObjectNamespace) Get(id ObjectID) *Stub { return &Stub{ns: ns, id: id} }

// Stub sends requests to one object.
type Stub struct {
	ns *DurableObjectNamespace
	id ObjectID
}

// ID returns the ID of the stub's object.
func (s *Stub) ID() ObjectID { return s.id }

// Fetch sends req to the object and returns its response. It fails with
// ErrObject when the object's handler fails or traps, ErrCycle when the
// call would wait on itself, ErrOverloaded when the object's queue is full
// or the host's memory for bodies has no room for the request or the
// response (try again later).
func (s *Stub) Fetch(req *Request) (*Response, error) {
	enc := encodeRequest(req)
	b := s.ns.binding
	code := hostStubFetch(sptr(b), uint32(len(b)), sptr(s.id.hex), uint32(len(s.id.hex)), bptr(enc), uint32(len(enc)), scratchPtr, uint32(len(scratch)), outLenPtr)
	if err := check("Stub.Fetch", code, output); err != nil {
		return nil, err
	}
	out := output()
	if len(out) <= len(scratch) {
		out = bytes.Clone(out)
	}
	resp, err := decodeResponse(out)
	if err != nil {
		return nil, &Error{Op: "Stub.Fetch", Code: abi.BadEncoding, Message: err.Error()}
	}
	return resp, nil
}
