package guest

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/dohost/dohost/abi"
	"github.com/tetratelabs/wazero/api"
)

// Instance is one instantiation of a Module: a pooled Worker instance or
// the single instance of one object. It is used by one goroutine at a
// time. After a call traps (Invoke returns a *Trap) it must be closed.
type Instance struct {
	m     *Module
	mod   api.Module
	mem   *linearMemory
	fns   []namedFunc // resolved exports
	stack [1]uint64
}

type namedFunc struct {
	name string
	fn   api.Function
}

// Instantiate starts a new instance whose stdout and stderr go to log as
// log lines: from the snapshot when the module has one, otherwise by
// running the module's initializer, under the module's time limit.
func (m *Module) Instantiate(ctx context.Context, log *slog.Logger) (*Instance, error) {
	var img *image
	if m.snap != nil {
		img = m.snap.img
	}
	c := &Call{kind: kindInit}
	c.clock.start(m.limits.CPU)
	actx, alloc := withMemoryAllocator(ctx, img)
	mod, err := m.rt.InstantiateModule(c.context(actx), m.cm, moduleConfig(newLogWriter(log, m.logLimit, "stdout"), newLogWriter(log, m.logLimit, "stderr")))
	if err != nil {
		return nil, fmt.Errorf("instantiate: %w", describeTrap(err))
	}
	inst := &Instance{m: m, mod: mod, mem: alloc.mem}
	if m.snap != nil {
		if err := m.snap.restore(mod); err != nil {
			inst.Close(ctx)
			return nil, err
		}
		return inst, nil
	}
	if m.Has(abi.ExportInitialize) {
		c.inst = inst
		if err := c.run(ctx, mod.ExportedFunction(abi.ExportInitialize)); err != nil {
			inst.Close(ctx)
			return nil, fmt.Errorf("%s: %w", abi.ExportInitialize, err)
		}
	}
	return inst, nil
}

// fn returns the exported function name (nil if there is none), resolving
// it on first use: wazero gives every resolved function a call stack of
// its own, so an instance resolves only what it calls.
func (i *Instance) fn(name string) api.Function {
	for _, f := range i.fns {
		if f.name == name {
			return f.fn
		}
	}
	f := i.mod.ExportedFunction(name)
	i.fns = append(i.fns, namedFunc{name, f})
	return f
}

// Trim releases what an idle instance holds that its next call can get
// back: the memory pages it shares with its snapshot and never wrote
// (they cost the host nothing, but count in its RSS) and the call stacks
// of its resolved exports (10 KB each, and more once grown).
func (i *Instance) Trim() {
	if i.mem != nil {
		i.mem.trim()
	}
	i.fns = nil
}

// Close releases the instance and its memory. It is safe on nil.
func (i *Instance) Close(ctx context.Context) {
	if i != nil && i.mod != nil {
		_ = i.mod.Close(ctx)
	}
}
