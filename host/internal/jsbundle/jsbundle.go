// Package jsbundle turns a Worker written in JavaScript or TypeScript into
// a guest module: it bundles the Worker's entry file and its imports with
// esbuild, as wrangler does, and appends the bundle to dohost's JavaScript
// runtime (guests/js/runtime), a WebAssembly guest like any other.
package jsbundle

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dohost/dohost/host/internal/config"
	"github.com/dohost/dohost/host/internal/guest"
	"github.com/dohost/dohost/host/internal/wasmbin"
	"github.com/evanw/esbuild/pkg/api"
)

// Error is a bundle that could not be built: each problem with its file,
// line and column.
type Error struct {
	Problems []string
}

func (e *Error) Error() string {
	return "bundling the Worker: " + strings.Join(e.Problems, "; ")
}

// cloudflareWorkers is the module "cloudflare:workers": what the runtime's
// prelude provides.
const cloudflareWorkers = `
const api = globalThis.__dohost_api;
export const DurableObject = api.DurableObject;
export const WorkerEntrypoint = api.WorkerEntrypoint;
export class RpcTarget { constructor() { throw new TypeError("RpcTarget is not supported by dohost's JavaScript runtime"); } }
export class WorkflowEntrypoint { constructor() { throw new TypeError("WorkflowEntrypoint is not supported by dohost's JavaScript runtime"); } }
`

// Bundle bundles the Worker whose entry file is cfg.Main into one script
// for the runtime: its exports in the global __dohost_module, and the
// names of its bindings, by kind, in __dohost_bindings.
func Bundle(cfg *config.Config) ([]byte, error) {
	bindings := map[string]string{}
	for _, kv := range cfg.KVNamespaces {
		bindings[kv.Binding] = "kv"
	}
	for _, do := range cfg.DurableObjects {
		bindings[do.Name] = "do"
	}
	for name := range cfg.Vars {
		// A var that is not a string is given as its JSON, which Workers
		// gives parsed.
		bindings[name] = "var"
		if cfg.JSONVars[name] {
			bindings[name] = "json"
		}
	}
	names, _ := json.Marshal(bindings)
	res := api.Build(api.BuildOptions{
		EntryPoints:   []string{cfg.Main},
		AbsWorkingDir: filepath.Dir(cfg.Main),
		Bundle:        true,
		Write:         false,
		Format:        api.FormatIIFE,
		GlobalName:    "__dohost_module",
		Platform:      api.PlatformNeutral,
		MainFields:    []string{"module", "main"},
		Conditions:    []string{"workerd", "worker", "browser"},
		// What QuickJS 2021 runs as written; newer syntax (class fields,
		// logical assignment) is lowered.
		Target: api.ES2020,
		// An inline source map: the runtime's stack traces name the
		// Worker's own files and lines.
		Sourcemap:      api.SourceMapInline,
		SourcesContent: api.SourcesContentExclude,
		Charset:        api.CharsetUTF8,
		LogLevel:       api.LogLevelSilent,
		Banner:         map[string]string{"js": "var __dohost_bindings = " + string(names) + ";"},
		Plugins: []api.Plugin{{
			Name: "dohost",
			Setup: func(b api.PluginBuild) {
				b.OnResolve(api.OnResolveOptions{Filter: `^cloudflare:workers$`}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
					return api.OnResolveResult{Path: "cloudflare:workers", Namespace: "dohost"}, nil
				})
				b.OnResolve(api.OnResolveOptions{Filter: `^(node|cloudflare):`}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
					return api.OnResolveResult{}, fmt.Errorf("%q is not provided by dohost's JavaScript runtime", a.Path)
				})
				b.OnLoad(api.OnLoadOptions{Filter: `.*`, Namespace: "dohost"}, func(api.OnLoadArgs) (api.OnLoadResult, error) {
					src := cloudflareWorkers
					return api.OnLoadResult{Contents: &src, Loader: api.LoaderJS}, nil
				})
			},
		}},
	})
	if len(res.Errors) > 0 {
		e := &Error{}
		for _, m := range res.Errors {
			e.Problems = append(e.Problems, describe(m))
		}
		return nil, e
	}
	if len(res.OutputFiles) != 1 {
		return nil, fmt.Errorf("bundling the Worker: esbuild gave %d outputs, want 1", len(res.OutputFiles))
	}
	return res.OutputFiles[0].Contents, nil
}

// describe is an esbuild message as "file:line:column: text".
func describe(m api.Message) string {
	text := m.Text
	for _, n := range m.Notes {
		if n.Text != "" {
			text += " (" + n.Text + ")"
		}
	}
	if m.Location == nil {
		return text
	}
	return fmt.Sprintf("%s:%d:%d: %s", m.Location.File, m.Location.Line, m.Location.Column+1, text)
}

// Module is the guest module that runs the bundle: the runtime's with the
// bundle in its custom section guest.BundleSection.
func Module(runtime, bundle []byte) []byte {
	return wasmbin.AppendCustomSection(runtime, guest.BundleSection, bundle)
}

// Build bundles cfg's Worker and returns its guest module, built on the
// runtime module at runtimePath.
func Build(cfg *config.Config, runtimePath string) ([]byte, error) {
	rt, err := os.ReadFile(runtimePath)
	if err != nil {
		return nil, fmt.Errorf("dohost's JavaScript runtime (make build puts it beside bin/dohost; $DOHOST_JS_RUNTIME names another): %w", err)
	}
	if _, ok, _ := wasmbin.CustomSection(rt, guest.BundleSection); ok {
		return nil, fmt.Errorf("%s already carries a bundle: it is not the JavaScript runtime", runtimePath)
	}
	js, err := Bundle(cfg)
	if err != nil {
		return nil, err
	}
	return Module(rt, js), nil
}
