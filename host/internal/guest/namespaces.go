package guest

import (
	"context"
	"time"

	"github.com/dohost/dohost/abi"
	"github.com/dohost/dohost/host/internal/bigcopy"
)

// The host functions of Durable Object namespaces and stubs:
// ns_id_from_name, ns_new_unique_id, ns_id_from_string and stub_fetch.

// maxNamedIDs bounds the names one call remembers for the stubs it makes.
const maxNamedIDs = 64

// namespace resolves a binding name to its Durable Object namespace.
func (c *Call) namespace(name []byte) (Namespace, abi.Code) {
	ns := c.Env.Namespaces[string(name)]
	if ns == nil {
		return nil, c.errorf(abi.NoBinding, "no Durable Object namespace binding %q; this worker's are: %s", name, keyList(c.Env.Namespaces))
	}
	return ns, abi.OK
}

func nsIDFromName(_ context.Context, c *Call, a *args) abi.Code {
	ns, code := c.namespace(a.in())
	if code != abi.OK {
		return code
	}
	name := string(a.in())
	id := ns.IDFromName(name)
	if len(c.names) < maxNamedIDs {
		c.names = append(c.names, namedID{ns: ns, id: id, name: name})
	}
	c.pending = []byte(id)
	return abi.OK
}

func nsNewUniqueID(_ context.Context, c *Call, a *args) abi.Code {
	ns, code := c.namespace(a.in())
	if code != abi.OK {
		return code
	}
	id, err := ns.NewUniqueID()
	if err != nil {
		return c.errorf(abi.Internal, "%v", err)
	}
	c.pending = []byte(id)
	return abi.OK
}

func nsIDFromString(_ context.Context, c *Call, a *args) abi.Code {
	b := a.in()
	ns, code := c.namespace(b)
	if code != abi.OK {
		return code
	}
	s := a.in()
	id, err := ns.ParseID(string(s))
	if err != nil {
		return c.errorf(abi.Invalid, "%q: %v (binding %s)", s, err, b)
	}
	c.pending = []byte(id)
	return abi.OK
}

func stubFetch(ctx context.Context, c *Call, a *args) abi.Code {
	b := a.in()
	ns, code := c.namespace(b)
	if code != abi.OK {
		return code
	}
	idStr, req := a.in(), a.in()
	id, err := ns.ParseID(string(idStr))
	if err != nil {
		return c.errorf(abi.Invalid, "%q: %v (binding %s)", idStr, err, b)
	}
	dr, err := abi.DecodeRequest(req)
	if err != nil {
		return c.errorf(abi.BadEncoding, "%v", err)
	}
	if err := abi.CheckHeaders(dr.Headers); err != nil {
		return c.errorf(abi.BadEncoding, "request: %v", err)
	}
	if limit := c.inst.m.limits.RequestBody; int64(len(dr.Body)) > limit {
		return c.errorf(abi.TooLarge, "request body of %d bytes is over the limit of %d", len(dr.Body), limit)
	}
	name, hasName := "", false
	for _, n := range c.names {
		if n.ns == ns && n.id == id {
			name, hasName = n.name, true
			break
		}
	}
	// req is a view of the caller's memory; the callee gets its own copy so
	// that nothing it does depends on the caller's instance staying open.
	// The copy is held from the account's bodies until the callee has
	// answered; its response is the callee's to hold (PassResponse).
	reqHold, code := c.holdBody(len(req))
	if code != abi.OK {
		return code
	}
	start := time.Now()
	c.clock.release() // the callee may be of the same account
	// Waiting for the callee, the call is not work waiting for a core:
	// the callee's is (its batch counts in flight). Counted as well, an
	// account whose objects all ran throttled loops looked like one with
	// requests waiting, and the other accounts slowed down for it.
	wasThrottled := c.clock.throttled
	if c.clock.load != nil {
		c.clock.throttle()
	}
	resp, code, err := ns.Fetch(ctx, c, id, name, hasName, bigcopy.Clone(req))
	if !wasThrottled {
		c.clock.unthrottle()
	}
	c.clock.blocked(time.Since(start))
	reqHold.give()
	if err != nil {
		if code == abi.Overloaded {
			c.Overloaded = true
		}
		return c.errorf(code, "%v", err)
	}
	c.pending = resp
	return abi.OK
}
