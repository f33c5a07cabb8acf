package main

import (
	"os"
	"testing"

	"github.com/dop251/goja"
)

// fakeHost is __dohost with host calls that answer at once, for measuring
// the prelude's own cost natively.
func fakeHost(vm *goja.Runtime) *goja.Object {
	h := hostObject(vm)
	for _, name := range []string{"kvGet", "stGet"} {
		_ = h.Set(name, func(goja.FunctionCall) goja.Value { return vm.ToValue(vm.NewArrayBuffer([]byte(`"lobby"`))) })
	}
	for _, name := range []string{"kvPut", "stPut", "log"} {
		_ = h.Set(name, func(goja.FunctionCall) goja.Value { return goja.Undefined() })
	}
	_ = h.Set("idFromName", func(goja.FunctionCall) goja.Value { return vm.ToValue("00ff") })
	_ = h.Set("stubFetch", func(c goja.FunctionCall) goja.Value {
		return vm.ToValue([]any{200, []any{[]any{"Content-Type", "application/json"}}, vm.NewArrayBuffer([]byte(`{"ok":1}`))})
	})
	return h
}

const seedFlow = `
var __dohost_bindings = {KV: "kv", NS: "do"};
var __dohost_module = { default: { async fetch(request, env) {
  const u = new URL(request.url);
  const room = u.searchParams.get("roomId");
  const prev = await env.KV.get("last-room");
  await env.KV.put("last-room", room);
  const stub = env.NS.get(env.NS.idFromName(room));
  await stub.fetch(request);
  return Response.json({ room, previousRoom: prev, requests: 1 });
} } };
`

// BenchmarkPrelude runs a seed-flow-like handler on the prelude natively,
// host calls answered at once: the Workers API's own cost. With
// PRELUDE_PROFILE=file it writes goja's profile of the JavaScript.
func BenchmarkPrelude(b *testing.B) {
	if err := boot(fakeHost); err != nil {
		b.Fatal(err)
	}
	vm := js.vm
	if _, err := vm.RunScript("app.js", seedFlow); err != nil {
		b.Fatal(err)
	}
	if err := makeEnv(); err != nil {
		b.Fatal(err)
	}
	def := vm.Get("__dohost_module").ToObject(vm).Get("default").ToObject(vm)
	fetch := callable(def.Get("fetch"))
	if p := os.Getenv("PRELUDE_PROFILE"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		if err := goja.StartProfile(f); err != nil {
			b.Fatal(err)
		}
		defer goja.StopProfile()
	}
	hdr := vm.ToValue([]any{[]any{"Host", "x"}, []any{"User-Agent", "wrk"}})
	body := vm.ToValue(vm.NewArrayBuffer(nil))
	for i := 0; i < b.N; i++ {
		req, err := js.request(goja.Undefined(), vm.ToValue("GET"), vm.ToValue("http://x/?roomId=lobby"), hdr, body)
		if err != nil {
			b.Fatal(err)
		}
		ctx, err := newExecutionContext()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := respond("fetch", fetch, def, req, js.env, ctx); err != nil {
			b.Fatal(err)
		}
	}
}
