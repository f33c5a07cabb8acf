// Package precompile compiles a guest module into a compilation cache as
// the host compiles it, so that the host's tests built with the race
// detector (under which wazero's compiler runs about ten times slower) find
// dohost's JavaScript runtime compiled. It is a test binary, built without
// the race detector, because wazero stamps its cache entries with its
// version as the binary knows it, and test binaries know it alike:
//
//	PRECOMPILE_CACHE=DIR PRECOMPILE_MODULE=M.wasm go test -count=1 ./host/testdata/precompile
package precompile

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/dohost/dohost/host/internal/guest"
)

func TestMain(m *testing.M) {
	dir, path := os.Getenv("PRECOMPILE_CACHE"), os.Getenv("PRECOMPILE_MODULE")
	if dir == "" || path == "" {
		fmt.Fprintln(os.Stderr, "precompile: set PRECOMPILE_CACHE and PRECOMPILE_MODULE")
		os.Exit(2)
	}
	if err := precompile(dir, path); err != nil {
		fmt.Fprintln(os.Stderr, "precompile:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func precompile(dir, path string) error {
	wasm, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	cache, err := guest.NewCache(dir)
	if err != nil {
		return err
	}
	ctx := context.Background()
	m, err := guest.Compile(ctx, wasm, guest.Options{Path: path, Cache: cache, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Limits: guest.Limits{MemoryPages: 65536, CPU: 5 * time.Minute}})
	if err != nil {
		return err
	}
	m.Close(ctx)
	return nil
}
