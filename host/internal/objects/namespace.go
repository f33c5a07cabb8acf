package objects

import (
	"context"
	"log/slog"
	"sync/atomic"

	"github.com/dohost/dohost/abi"
	"github.com/dohost/dohost/host/internal/guest"
	"github.com/dohost/dohost/host/internal/quota"
	"github.com/dohost/dohost/host/internal/sockets"
	"github.com/dohost/dohost/host/internal/store"
)

// Limits bound one namespace's objects.
type Limits struct {
	// Queue is how many requests may wait for one object; past it they
	// are refused with OVERLOADED.
	Queue int
	// Storage bounds keys and values of object storage.
	Storage store.ObjectLimits
	// Sockets bounds the objects' WebSockets.
	Sockets sockets.Limits
}

// NamespaceConfig describes a Durable Object namespace: one class of one
// worker.
type NamespaceConfig struct {
	Account string
	Class   string
	// Binding is the first binding that names the class, for messages.
	Binding string
	// Key is the namespace's stable id (store.NamespaceID): it keys the
	// object IDs' MACs and the objects' storage.
	Key [store.NamespaceIDLen]byte
	// Module and Env are the worker's guest and bindings.
	Module *guest.Module
	Env    *guest.Env
	Limits Limits
	// Tenant holds the budgets of the account's live objects and running
	// alarms (each paired with the host's); nil: no limits.
	Tenant *quota.Tenant
	// Log is the worker's log; objects tag it with class, ID and name.
	Log *slog.Logger
	// Label names the namespace in metrics: account/worker/class.
	Label string
}

// Namespace is a Durable Object namespace. It implements guest.Namespace
// and is safe for concurrent use.
type Namespace struct {
	r   *Registry
	cfg NamespaceConfig         // Module, Env and Limits: the first version's
	cur atomic.Pointer[Version] // what new instances run
	// removed is set when the namespace's worker is removed: its objects
	// refuse every request and event.
	removed atomic.Bool
	ks      atomic.Pointer[keyState] // of cfg.Key, once looked up (keys)
}

// keys returns the state of the namespace's key: its HMACs and the IDs
// derived and checked last.
func (ns *Namespace) keys() *keyState {
	if ks := ns.ks.Load(); ks != nil {
		return ks
	}
	ks := keyStateOf(ns.cfg.Key)
	ns.ks.Store(ks)
	return ks
}

// Version is what a namespace's objects run: a deploy gives the namespace
// a new one (Update).
type Version struct {
	// Class is the class the objects are made as: a renamed_classes
	// migration gives the namespace (and its objects' storage) a new one.
	Class string
	// Module and Env are the worker's guest and bindings.
	Module *guest.Module
	Env    *guest.Env
	Limits Limits
}

// NewNamespace returns a namespace of the registry; Register makes its
// stored alarms fire. Until then its objects can be reached through it.
func (r *Registry) NewNamespace(c NamespaceConfig) *Namespace {
	ns := &Namespace{r: r, cfg: c}
	ns.cur.Store(&Version{Class: c.Class, Module: c.Module, Env: c.Env, Limits: c.Limits})
	return ns
}

// version returns what the namespace's new instances run.
func (ns *Namespace) version() *Version { return ns.cur.Load() }

// Update makes v what the namespace's objects run, as a deploy does:
// objects start on v from now on; a live object whose instance runs an
// earlier version keeps it until it is idle, and an idle one gives it up
// now, so that its next request or event starts it on v. Its storage, its
// alarm and its WebSockets stay. Update returns how many idle instances
// were closed.
func (ns *Namespace) Update(v Version) int {
	ns.cur.Store(&v)
	if ns.removed.Load() {
		// Deployed again: back in service, alarms and all.
		ns.removed.Store(false)
		ns.r.Register(ns)
	}
	return ns.r.recycle(ns)
}

// Register adds ns to the namespaces whose alarms run, once its worker
// has loaded. It may be called before and after Start, from any goroutine.
func (r *Registry) Register(ns *Namespace) {
	r.nsMu.Lock()
	r.namespaces[ns.cfg.Key] = ns
	delete(r.removedNS, ns.cfg.Key)
	r.nsMu.Unlock()
	if r.running.Load() {
		if err := r.alarms.loadNamespace(ns.cfg.Key); err != nil {
			ns.cfg.Log.Error("the namespace's stored alarms could not be loaded; they fire at the next start", "class", ns.Class(), "err", err)
		}
	}
	r.alarms.poke()
}

// Remove takes ns out of service, as removing its worker does: its alarms
// stop, its idle instances close, its WebSockets close (1001, going away)
// and every later request or event is refused. A request running now
// finishes. Its storage stays.
func (ns *Namespace) Remove() {
	ns.removed.Store(true)
	r := ns.r
	r.nsMu.Lock()
	if r.namespaces[ns.cfg.Key] == ns {
		delete(r.namespaces, ns.cfg.Key)
	}
	if r.removedNS == nil {
		r.removedNS = map[[store.NamespaceIDLen]byte]*Namespace{}
	}
	r.removedNS[ns.cfg.Key] = ns
	r.nsMu.Unlock()
	r.recycle(ns)
	var sets []*sockets.Set
	r.eachShard(func(s *registryShard) {
		for k, o := range s.objects {
			if k.ns == ns {
				if st := o.ws.Load(); st != nil {
					sets = append(sets, st)
				}
			}
		}
	})
	for _, st := range sets {
		st.CloseAll(1001, "the worker was removed")
	}
}

// Namespace returns the registered namespace whose stable id is key, or
// nil.
func (r *Registry) Namespace(key [store.NamespaceIDLen]byte) *Namespace {
	r.nsMu.RLock()
	defer r.nsMu.RUnlock()
	return r.namespaces[key]
}

// Known returns the namespace whose stable id is key, registered or
// removed, or nil: a worker deployed again after its removal gets its
// namespaces back (Update), so that an object never has two records, and
// two instances, at once.
func (r *Registry) Known(key [store.NamespaceIDLen]byte) *Namespace {
	r.nsMu.RLock()
	defer r.nsMu.RUnlock()
	if ns := r.namespaces[key]; ns != nil {
		return ns
	}
	return r.removedNS[key]
}

// Class is the name of the namespace's class.
func (ns *Namespace) Class() string { return ns.version().Class }

// Key is the namespace's stable id, which keys its objects' storage.
func (ns *Namespace) Key() [store.NamespaceIDLen]byte { return ns.cfg.Key }

// IDFromName implements guest.Namespace.
func (ns *Namespace) IDFromName(name string) string {
	return ns.keys().fromName(name).hex
}

// NewUniqueID implements guest.Namespace.
func (ns *Namespace) NewUniqueID() (string, error) {
	id, err := ns.keys().newUniqueID()
	if err != nil {
		return "", err
	}
	return id.String(), nil
}

// ParseID implements guest.Namespace.
func (ns *Namespace) ParseID(s string) (string, error) {
	e, err := ns.keys().parse(s)
	if err != nil {
		return "", err
	}
	return e.hex, nil
}

// Fetch implements guest.Namespace: it hands the request to the
// placement.
func (ns *Namespace) Fetch(ctx context.Context, from *guest.Call, id, name string, hasName bool, req []byte) ([]byte, abi.Code, error) {
	e, err := ns.keys().parse(id)
	if err != nil {
		return nil, abi.Invalid, err
	}
	return ns.deliver(ctx, from, e.id, name, hasName, req)
}

// deliver hands the request to object id's placement.
func (ns *Namespace) deliver(ctx context.Context, from *guest.Call, oid ID, name string, hasName bool, req []byte) ([]byte, abi.Code, error) {
	d := Delivery{Namespace: ns, ID: oid, Name: name, HasName: hasName, Request: req, From: from}
	if from != nil {
		d.Deadline = from.Deadline()
	}
	return ns.r.placement.Deliver(ctx, d)
}

// FetchByName runs an encoded request on the object named name, as a
// Worker's stub would: for the host's own tools and benchmarks.
func (ns *Namespace) FetchByName(ctx context.Context, name string, req []byte) ([]byte, abi.Code, error) {
	return ns.deliver(ctx, nil, ns.keys().fromName(name).id, name, true, req)
}
