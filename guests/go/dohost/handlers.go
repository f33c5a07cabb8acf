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

// AlarmHandler is implemented by objects that use alarms
// (Storage.SetAlarm): Alarm runs at the alarm's time. An error (or a
// panic) makes the host run it again later, with backoff, up to six times.
type AlarmHandler interface {
	Alarm(info AlarmInfo) error
}

// AlarmInfo tells an alarm handler about its run.
type AlarmInfo struct {
	RetryCount int  // how many times the handler already failed for this alarm
	IsRetry    bool // RetryCount > 0
}

// State is what the host tells an object about itself, and its storage.
type State struct {
	id      ObjectID
	storage Storage
}

// ID returns the object's ID. Its Name is set when the object was created
// through an ID from IDFromName, whichever way it is reached now.
func (s *State) ID() ObjectID { return s.id }

// Storage returns the object's durable storage.
func (s *State) Storage() *Storage { return &s.storage }

// BlockConcurrencyWhile runs f before any request reaches the object, as
// Cloudflare's blockConcurrencyWhile in a constructor: the constructor
// already runs before the first request is let in, so f simply runs, and
// its error fails the object's start.
func (s *State) BlockConcurrencyWhile(f func() error) error { return f() }

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
