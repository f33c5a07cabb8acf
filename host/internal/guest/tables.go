package guest

import (
	"context"
	"reflect"
	"unsafe"

	"github.com/dohost/dohost/host/internal/bigcopy"
	"github.com/tetratelabs/wazero/api"
)

// tableGrow is called by metered code before every table.grow with the
// number of elements asked for and the table's index: it charges them to
// the instance's memory budget and lets the grow go on, or makes it fail
// (as past the table's maximum) when the budget is spent, the instance's
// tables would hold more than maxTableElements together, or the table's
// own maximum refuses it. Tables live on the Go heap, where a grow copies
// the table: the cap keeps that work, which the garbage collector shares
// among all tenants, small. Before the grow it makes room for the new
// elements (reserveTable).
func tableGrow(ctx context.Context, mod api.Module, s []uint64) {
	n, idx := uint32(s[0]), uint32(s[1])
	s[0] = 0xFFFFFFFF
	c := callFrom(ctx)
	if c == nil || c.inst == nil {
		return
	}
	inst := c.inst
	cost := int64(n) * tableElementBytes
	if (inst.tables+cost)/tableElementBytes > maxTableElements {
		return
	}
	t, ok := tableRefs(mod, idx)
	if ok && !fits(t, n) {
		return
	}
	if inst.m.tenant != nil {
		if err := inst.m.tenant.Memory.Take(cost); err != nil {
			return
		}
	}
	inst.tables += cost
	if ok {
		reserveTable(ctx, t, n)
	}
	s[0] = uint64(n)
}

// table is what tableRefs finds of a wazero table instance.
type table struct {
	refs reflect.Value // its References: a settable []uintptr
	max  *uint32       // its maximum, if it has one
}

// tableRefs finds table idx of mod, a wazero module instance, by its
// exported fields (Tables, References, Max): wazero offers no API for it.
// It reports false if mod is not laid out as the wazero this host is
// built with lays it out (TestTableRefs catches an upgrade that changes
// it); the grow then goes on without the room made ahead.
func tableRefs(mod api.Module, idx uint32) (table, bool) {
	v := reflect.ValueOf(mod)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return table{}, false
	}
	tables := v.Elem().FieldByName("Tables")
	if tables.Kind() != reflect.Slice || uint64(idx) >= uint64(tables.Len()) {
		return table{}, false
	}
	t := tables.Index(int(idx))
	if t.Kind() != reflect.Pointer || t.IsNil() || t.Elem().Kind() != reflect.Struct {
		return table{}, false
	}
	refs := t.Elem().FieldByName("References")
	if refs.Kind() != reflect.Slice || refs.Type().Elem().Kind() != reflect.Uintptr || !refs.CanSet() {
		return table{}, false
	}
	var limit *uint32
	if m := t.Elem().FieldByName("Max"); m.IsValid() {
		p, ok := m.Interface().(*uint32)
		if !ok {
			return table{}, false
		}
		limit = p
	}
	return table{refs: refs, max: limit}, true
}

// fits reports whether t can grow by n elements: wazero's own check, made
// before anything is charged or allocated for a grow that would fail.
func fits(t table, n uint32) bool {
	l := uint64(t.refs.Len()) + uint64(n)
	return l < 1<<32-1 && (t.max == nil || l <= uint64(*t.max))
}

// reserveTable gives t room for n more elements: a new slice of that
// capacity, with the elements copied in and the new ones' pages written,
// a piece at a time with the call's clock ticked between (bigcopy). wazero
// grows a table with one append that moves the elements and clears the
// new ones in single calls the scheduler cannot preempt; on pages new to
// the heap (a fault each) a million elements took 25-100 ms on a 2-core
// machine, and a collection's stop-the-world, with every goroutine of
// every tenant, waited for it. After this, that append moves nothing and
// clears memory already faulted in.
func reserveTable(ctx context.Context, t table, n uint32) {
	old, ok := t.refs.Interface().([]uintptr)
	if !ok || n == 0 || cap(old)-len(old) >= int(n) {
		return
	}
	grown := make([]uintptr, len(old), len(old)+int(n))
	tick := tickOf(ctx)
	bigcopy.CopyBetween(words(grown), words(old), tick)
	bigcopy.Fill(words(grown[len(old):cap(grown)]), 0, tick)
	t.refs.Set(reflect.ValueOf(grown))
}

// words is the bytes of s.
func words(s []uintptr) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(s[0])))
}
