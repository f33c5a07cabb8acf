// Command greeter is a guest in a Go module of its own, outside the dohost
// repository, that uses the Go SDK as the README says: a require of
// github.com/dohost/dohost and, until the module is published, a replace
// that points at a checkout. host/sdk_test.go builds and serves it.
package main

import (
	"fmt"

	"github.com/dohost/dohost/guests/go/dohost"
)

func init() {
	dohost.Handle(func(req *dohost.Request, env *dohost.Env) (*dohost.Response, error) {
		ns := env.DurableObject("GREETERS")
		id, err := ns.IDFromName(req.URL.Query().Get("name"))
		if err != nil {
			return nil, err
		}
		return ns.Get(id).Fetch(req)
	})
	dohost.RegisterClass("Greeter", func(state *dohost.State, env *dohost.Env) dohost.Object {
		return &greeter{state: state}
	})
}

type greeter struct {
	state *dohost.State
	n     int
}

func (g *greeter) Fetch(req *dohost.Request) (*dohost.Response, error) {
	g.n++
	name, _ := g.state.ID().Name()
	return dohost.Text(200, fmt.Sprintf("hello %s, %d\n", name, g.n)), nil
}

func main() {}
