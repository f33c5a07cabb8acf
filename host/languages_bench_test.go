package host

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dohost/dohost/host/internal/config"
	"github.com/dohost/dohost/host/internal/guest"
	"github.com/dohost/dohost/host/internal/jsbundle"
)

// roomGuest is the seed example in one language.
type roomGuest struct{ lang, wasm string }

// roomLangs builds the seed example in every language, for the
// per-language benchmarks (README's table of languages).
func roomLangs(b testing.TB) []roomGuest {
	return []roomGuest{
		{"go", guestWasm(b, "guests/examples/room")},
		{"c", exampleWasm(b, "room-c")},
		{"rust", exampleWasm(b, "room-rust")},
		{"as", exampleWasm(b, "room-as")},
		{"wat", roomWAT()},
		{"ts", roomTS(b)},
	}
}

// roomTS is the room in TypeScript (guests/examples/room-ts) built into
// its module as the host builds it: bundled into the JavaScript runtime.
func roomTS(b testing.TB) string {
	rt := jsOptions(b).JSRuntime
	out := filepath.Join(guests.dir, "room-ts.wasm")
	o, _ := guests.once.LoadOrStore(out, new(sync.Once))
	o.(*sync.Once).Do(func() {
		cfg, err := config.Load(filepath.Join(repoRoot(), "guests", "examples", "room-ts", "wrangler.toml"))
		if err == nil {
			var wasm []byte
			if wasm, err = jsbundle.Build(cfg, rt); err == nil {
				err = os.WriteFile(out, wasm, 0o644)
			}
		}
		if err != nil {
			guests.errs.Store(out, err)
		}
	})
	if err, ok := guests.errs.Load(out); ok {
		b.Fatal(err)
	}
	return out
}

// BenchmarkCompile loads each language's room as a worker does: check
// against the ABI, meter, compile and snapshot (guest.Compile), with no
// compilation cache (cold) and from a cache that has it (cached). It
// reports the module's size.
func BenchmarkCompile(b *testing.B) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, g := range roomLangs(b) {
		wasm, err := os.ReadFile(g.wasm)
		if err != nil {
			b.Fatal(err)
		}
		for _, cached := range []bool{false, true} {
			name := g.lang + "/cold"
			if cached {
				name = g.lang + "/cached"
			}
			b.Run(name, func(b *testing.B) {
				var cache *guest.Cache
				if cached {
					if cache, err = guest.NewCache(b.TempDir()); err != nil {
						b.Fatal(err)
					}
					defer cache.Close(ctx)
				}
				o := guest.Options{Path: g.lang, Cache: cache, Log: log,
					Limits: guest.Limits{MemoryPages: 2048, CPU: 30 * time.Second, Startup: 10 * time.Second}}
				compile := func() {
					m, err := guest.Compile(ctx, wasm, o)
					if err != nil {
						b.Fatal(err)
					}
					m.Close(ctx)
				}
				if cached {
					compile() // fills the cache
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					compile()
				}
				b.ReportMetric(float64(len(wasm)), "module-B")
			})
		}
	}
}

// BenchmarkFirstRequestLang is BenchmarkFirstRequest for each language's
// room: every request goes to a new object (instance, constructor, KV get
// and put, over HTTP).
func BenchmarkFirstRequestLang(b *testing.B) {
	for _, g := range roomLangs(b) {
		b.Run(g.lang, func(b *testing.B) { firstRequests(b, g.wasm, 0) })
	}
}

// BenchmarkFirstRequestRecycled is BenchmarkFirstRequestLang on a host
// at its cap of live objects (100), as a host that has run for a while
// is: each new object evicts the least recently used one, whose instance,
// reset, is the new object's.
func BenchmarkFirstRequestRecycled(b *testing.B) {
	for _, g := range roomLangs(b) {
		b.Run(g.lang, func(b *testing.B) { firstRequests(b, g.wasm, 100) })
	}
}

// BenchmarkWarmRequestLang is BenchmarkWarmRequest for each language's
// room: the seed flow on 100 warm rooms from parallel clients.
func BenchmarkWarmRequestLang(b *testing.B) {
	for _, g := range roomLangs(b) {
		b.Run(g.lang, func(b *testing.B) { warmRequests(b, g.wasm) })
	}
}
