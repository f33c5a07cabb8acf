package dohost

import (
	"fmt"
	"sort"
	"strings"
)

// FetchFunc is a Worker's fetch handler.
type FetchFunc func(req *Request, env *Env) (*Response, error)

// Object is a Durable Object: one instance per object ID, receiving one
// request at a time.
type Object interface {
	Fetch(req *Request) (*Response, error)
}

// Constructor makes the Object for state.ID(). It runs once per instance,
// before the first request. It may use env's bindings; a panic fails the
// request that started the object.
type Constructor func(state *State, env *Env) Object

// State is what the host tells an object about itself.
type State struct {
	id ObjectID
}

// ID returns the object's ID; its Name is set when the object was reached
// through an ID from IDFromName.
func (s *State) ID() ObjectID { return s.id }

var (
	env       = &Env{}
	workerFn  FetchFunc
	classes   = map[string]Constructor{}
	theObject Object
	theState  *State
)

// Handle sets the Worker's fetch handler. Call it from an init function.
func Handle(f FetchFunc) { workerFn = f }

// RegisterClass makes a Durable Object class available under name, the
// class_name that wrangler.toml bindings use. Call it from an init function.
func RegisterClass(name string, ctor Constructor) {
	if _, dup := classes[name]; dup {
		panic(fmt.Sprintf("dohost: class %q registered twice", name))
	}
	classes[name] = ctor
}

func classNames() string {
	names := make([]string, 0, len(classes))
	for n := range classes {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, "\n")
}
