package objects

import (
	"errors"
	"fmt"
	"strings"
)

// A request running in object A that calls object B waits for B's turn
// while holding A's. If B, directly or through others, waits on A, neither
// would ever run: the registry keeps who waits on whom and refuses the
// call that would close such a cycle.

// ErrCycle is the cause of a call that would wait on itself.
var ErrCycle = errors.New("objects: call cycle")

// enter records that caller's running request waits on target, unless
// that closes a cycle of objects each waiting on the next: then it returns
// an error naming the cycle, and nothing is recorded.
func (r *Registry) enter(caller, target *object) error {
	r.graphMu.Lock()
	defer r.graphMu.Unlock()
	for n, path := target, []*object{caller, target}; n != nil; n = n.waitingOn {
		if n == caller {
			return fmt.Errorf("%w: %s would wait on itself; a Durable Object cannot call back into an object that is waiting on it", ErrCycle, pathString(path))
		}
		if n != target {
			path = append(path, n)
		}
	}
	caller.waitingOn = target
	return nil
}

// leave records that caller's request no longer waits.
func (r *Registry) leave(caller *object) {
	r.graphMu.Lock()
	caller.waitingOn = nil
	r.graphMu.Unlock()
}

func pathString(path []*object) string {
	var b strings.Builder
	for i, o := range path {
		if i > 0 {
			b.WriteString(" → ")
		}
		b.WriteString(o.ns.cfg.Class + ":" + o.id.String()[:12])
	}
	if len(path) > 0 {
		b.WriteString(" → " + path[0].ns.cfg.Class + ":" + path[0].id.String()[:12])
	}
	return b.String()
}
