package guest

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/dohost/dohost/abi"
	"github.com/dohost/dohost/host/internal/quota"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// Instance is one instantiation of a Module: a pooled Worker instance or
// the single instance of one object. It is used by one goroutine at a
// time. After a call traps (Invoke returns a *Trap) it must be closed.
type Instance struct {
	m      *Module
	mod    api.Module
	mem    *linearMemory
	stdout *logWriter
	stderr *logWriter
	tables int64       // bytes of table elements charged to the memory budget
	fns    []namedFunc // resolved exports
	stack  [1]uint64
	cur    *Call     // the call running on it, if any: the guest's sleeps wait on its clock (sleep.go)
	kept   time.Time // when it became a spare (recycle.go)
}

type namedFunc struct {
	name string
	fn   api.Function
}

// Instantiate starts a new instance whose stdout and stderr go to log as
// log lines: from the snapshot when the module has one, otherwise by
// running the module's initializer, under the module's time limit. An
// instance that replaces one that trapped (CloseTrapped) is made holding
// a long slot (Load.Heavy), as that one was torn down: a guest that traps
// over and over has its instances made on the cores long calls share,
// not on the one kept for short requests.
func (m *Module) Instantiate(ctx context.Context, log *slog.Logger) (inst *Instance, err error) {
	if !m.replacesTrapped() {
		return m.newInstance(ctx, log)
	}
	m.load.Heavy(func() { inst, err = m.newInstance(ctx, log) })
	return inst, err
}

// replacesTrapped reports whether the instance about to be made replaces
// one closed after a trap, counting that one replaced.
func (m *Module) replacesTrapped() bool {
	for {
		n := m.trapped.Load()
		if n <= 0 {
			return false
		}
		if m.trapped.CompareAndSwap(n, n-1) {
			return true
		}
	}
}

// newInstance makes an instance (Instantiate).
func (m *Module) newInstance(ctx context.Context, log *slog.Logger) (inst *Instance, err error) {
	var img *image
	size := m.memMin
	if m.snap != nil {
		// The memory is charged at the size the snapshot grows it to,
		// here, where a spent budget is an error the caller can act on
		// (evict idle objects), not a failed grow after instantiation.
		img, size = m.snap.img, max(size, uint64(m.snap.pages)*65536)
	}
	var budget quota.Pair
	if m.tenant != nil {
		budget = m.tenant.Memory
	}
	tables := int64(m.prep.TableElements) * tableElementBytes
	if inst := m.spare(); inst != nil {
		if err := inst.revive(ctx, log, budget, tables); err != nil {
			return nil, fmt.Errorf("instantiate: %w", err)
		}
		return inst, nil
	}
	if err := budget.Take(tables); err != nil {
		return nil, fmt.Errorf("instantiate: tables: %w", err)
	}
	actx, mem, err := prepareMemory(ctx, img, size, m.memMax, budget, &m.writes)
	if err != nil {
		budget.Give(tables)
		return nil, fmt.Errorf("instantiate: %w", err)
	}
	inst = &Instance{m: m, mem: mem, tables: tables,
		stdout: newLogWriter(log, m.logLimit, "stdout"), stderr: newLogWriter(log, m.logLimit, "stderr")}
	inst.stdout.owner, inst.stderr.owner = inst, inst
	c := &Call{kind: kindInit, inst: inst}
	c.clock.start(m.limits.startup())
	mod, err := m.instantiate(c.context(actx), inst)
	if err != nil {
		mem.Free()
		budget.Give(inst.tables)
		return nil, fmt.Errorf("instantiate: %w", err)
	}
	inst.mod = mod
	m.refs.Add(1) // given back by Close
	if m.snap != nil {
		if err := m.snap.restore(mod); err != nil {
			inst.Close(ctx)
			return nil, err
		}
		return inst, nil
	}
	if m.Has(abi.ExportInitialize) {
		if err := c.run(ctx, mod.ExportedFunction(abi.ExportInitialize)); err != nil {
			inst.Close(ctx)
			return nil, fmt.Errorf("%s: %w", abi.ExportInitialize, err)
		}
	}
	return inst, nil
}

// instantiate has wazero instantiate the module for inst (its log
// writers, its sleeps), with its memory prepared in ctx. A panic in
// wazero (it has one for memory it could not get) becomes an error: one
// instance that cannot start is that request's failure, never the host's.
func (m *Module) instantiate(ctx context.Context, inst *Instance) (mod api.Module, err error) {
	defer func() {
		if r := recover(); r != nil {
			mod, err = nil, fmt.Errorf("wazero: %v", r)
		}
	}()
	cfg := withEnv(moduleConfig(inst.stdout, inst.stderr), m.vars).WithNanosleep(inst.nanosleep)
	if m.files != nil {
		cfg = cfg.WithFSConfig(wazero.NewFSConfig().WithFSMount(m.files, "/"))
	}
	mod, err = m.rt.InstantiateModule(ctx, m.cm, cfg)
	if err != nil {
		return nil, describeTrap(err)
	}
	return mod, nil
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

// Close releases the instance, its memory and its tables, and gives
// what they were charged back to the budget; an instance of a
// snapshotted module is reset and kept for the module's next instance
// (recycle.go). It is safe on nil.
func (i *Instance) Close(ctx context.Context) {
	if i == nil || i.mod == nil || i.m.keep(i) {
		return
	}
	i.closeNow(ctx)
}

// CloseTrapped closes an instance whose call trapped. Its memory goes
// back to the kernel page by page: as much work as a long call, which a
// guest that traps at its time limit over and over makes often, so it is
// done holding a long slot (Load.Heavy), and so is the making of the
// module's next instance, which replaces it (Instantiate).
func (i *Instance) CloseTrapped(ctx context.Context) {
	i.m.trapped.Add(1)
	i.m.load.Heavy(func() { i.Close(ctx) })
}

// closeNow releases the instance, never keeping it.
func (i *Instance) closeNow(ctx context.Context) {
	if i.mod == nil {
		return
	}
	_ = i.mod.Close(ctx)
	i.mod = nil
	if i.m.tenant != nil {
		i.m.tenant.Memory.Give(i.tables)
	}
	i.tables = 0
	i.m.unref(ctx)
}
