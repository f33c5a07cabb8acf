package guest

import (
	"context"
	"sort"

	"github.com/dohost/dohost/abi"
	"github.com/tetratelabs/wazero"
)

// A worker's vars and secrets: env_get's answers and its instances'
// WASI environment. They are fixed for a module (a version of a worker):
// setting a secret compiles the worker again, so that its snapshot, which
// holds the environment a guest read while it initialized, is remade too.

// envGet answers the var or secret called name.
func envGet(_ context.Context, c *Call, a *args) abi.Code {
	v, ok := c.inst.m.vars[string(a.in())]
	if !ok {
		return abi.NotFound
	}
	c.pending = v
	return abi.OK
}

// withEnv adds vars to cfg as environment variables, in name order.
func withEnv(cfg wazero.ModuleConfig, vars map[string][]byte) wazero.ModuleConfig {
	names := make([]string, 0, len(vars))
	for n := range vars {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		cfg = cfg.WithEnv(n, string(vars[n]))
	}
	return cfg
}
