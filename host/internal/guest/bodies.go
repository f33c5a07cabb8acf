package guest

import (
	"github.com/dohost/dohost/abi"
	"github.com/dohost/dohost/host/internal/quota"
)

// Bodies a guest hands the host are held in the host's memory for as long
// as someone needs them: a response until the client has it (or the
// calling guest has read it), a stub request until the object has
// answered. Each is held from its account's and the host's budget of
// bodies in memory (quota.Tenant.Bodies), the one that also holds the
// request bodies the front reads: past either, respond and stub_fetch fail
// with OVERLOADED, and the client is told to come back later.

// hold is memory of bodies a call keeps from a budget until give.
type hold struct {
	pair quota.Pair
	n    int64
}

// give returns the hold to its budget; it is safe to call twice.
func (h *hold) give() {
	h.pair.Give(h.n)
	*h = hold{}
}

// holdBody takes n bytes from the budget of bodies of c's account, or
// fails with OVERLOADED (the pending result says which budget) and marks
// the call overloaded, so that the client is told to retry.
func (c *Call) holdBody(n int) (hold, abi.Code) {
	t := c.inst.m.tenant
	if t == nil {
		return hold{}, abi.OK
	}
	if err := t.Bodies.Take(int64(n)); err != nil {
		c.Overloaded = true
		return hold{}, c.errorf(abi.Overloaded, "%v: try again later", err)
	}
	return hold{pair: t.Bodies, n: int64(n)}, abi.OK
}

// PassResponse hands the memory c's response holds to to, the call of the
// guest that asked for it with a stub (nil: none), whose pending result
// the response becomes: it is held until that guest's next host call, not
// only until c is freed.
func (c *Call) PassResponse(to *Call) {
	if to == nil {
		return
	}
	to.pendHold.give()
	to.pendHold, c.respHold = c.respHold, hold{}
}

// clearPending drops the pending result, and gives back what it held.
func (c *Call) clearPending() {
	c.pending = nil
	c.pendHold.give()
}
