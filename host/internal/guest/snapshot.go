package guest

import (
	"context"
	"fmt"

	"github.com/dohost/dohost/abi"
	"github.com/dohost/dohost/host/internal/quota"
	"github.com/tetratelabs/wazero/api"
)

// snapshot is a guest's state right after its initialization: its memory
// (as an image that instances map copy-on-write) and its mutable globals.
// An instance started from it skips the data segments and the
// initializer, which for a Go guest is most of the cost of a new object:
// the Go runtime's start-up and every package's init run once per module,
// not once per object.
//
// A module is snapshotted when its state after initialization is exactly
// its memory and globals (wasmbin.Prepare checks this). What the
// initializer read from the outside — the clock, random bytes for Go's
// hash seeds — is then the same in every instance of the module.
type snapshot struct {
	img     *image
	pages   uint32 // memory size in 64 KiB pages
	globals []snapGlobal
}

type snapGlobal struct {
	name string
	val  uint64
}

// initStderr is how much of what a module writes to stderr while it
// initializes a failed initialization's error quotes: its first lines,
// where a runtime says why it could not start.
const initStderr = 2048

// takeSnapshot starts one instance the slow way (the data segments written
// by the host, then _initialize) and records its state.
func (m *Module) takeSnapshot(ctx context.Context) error {
	actx, lm, err := prepareMemory(ctx, nil, m.memMin, m.memMax, quota.Pair{}, nil)
	if err != nil {
		return fmt.Errorf("instantiate: %w", err)
	}
	c := &Call{kind: kindInit}
	c.clock.start(m.limits.startup())
	stderr := newLogWriter(m.log, m.logLimit, "stderr")
	stderr.keepFirst(initStderr)
	c.inst = &Instance{m: m, stdout: newLogWriter(m.log, m.logLimit, "stdout"), stderr: stderr}
	c.inst.stdout.owner, stderr.owner = c.inst, c.inst
	mod, err := m.instantiate(c.context(actx), c.inst)
	if err != nil {
		lm.Free()
		return fmt.Errorf("instantiate: %w", err)
	}
	defer mod.Close(ctx)
	mem := mod.Memory()
	for _, d := range m.prep.Data {
		if !mem.Write(d.Offset, d.Data) {
			return fmt.Errorf("instantiate: a data segment of %d bytes at offset %d is outside the initial memory of %d bytes", len(d.Data), d.Offset, mem.Size())
		}
	}
	if m.Has(abi.ExportInitialize) {
		c.inst.mod = mod
		if err := c.run(ctx, mod.ExportedFunction(abi.ExportInitialize)); err != nil {
			if said := stderr.kept(); said != "" {
				return fmt.Errorf("%s: %w; the module wrote to stderr: %s", abi.ExportInitialize, err, said)
			}
			return fmt.Errorf("%s: %w", abi.ExportInitialize, err)
		}
	}
	s := &snapshot{pages: mem.Size() / 65536}
	for _, gl := range m.prep.Globals {
		eg := mod.ExportedGlobal(gl.Name)
		if eg == nil {
			return fmt.Errorf("snapshot: global %s is not exported", gl.Name)
		}
		s.globals = append(s.globals, snapGlobal{name: gl.Name, val: eg.Get()})
	}
	buf, ok := mem.Read(0, mem.Size())
	if !ok {
		return fmt.Errorf("snapshot: cannot read memory")
	}
	if s.img, err = newImage(buf); err != nil {
		return err
	}
	m.snap = s
	return nil
}

// restore makes a new instance, whose memory starts as the image, the
// snapshot's state: the memory grown to its size, the globals set.
func (s *snapshot) restore(mod api.Module) error {
	mem := mod.Memory()
	if cur := mem.Size() / 65536; cur < s.pages {
		if _, ok := mem.Grow(s.pages - cur); !ok {
			return fmt.Errorf("restore snapshot: cannot grow memory to %d pages", s.pages)
		}
	}
	for _, g := range s.globals {
		mg, ok := mod.ExportedGlobal(g.name).(api.MutableGlobal)
		if !ok {
			return fmt.Errorf("restore snapshot: global %s is not a mutable export", g.name)
		}
		mg.Set(g.val)
	}
	return nil
}

func (s *snapshot) close() {
	if s != nil {
		s.img.close()
	}
}
