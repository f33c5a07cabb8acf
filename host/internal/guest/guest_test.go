package guest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/dohost/dohost/abi"
	"github.com/dohost/dohost/host/internal/store"
)

// repoRoot is the module root, three levels up from this package.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// testLog collects log lines, shown when a test fails.
type testLog struct{ bytes.Buffer }

// testModule compiles the guest at path (relative to the repository
// root) with the default limits, and returns it with its log.
func testModule(t testing.TB, path string, limits Limits) (*Module, *testLog) {
	t.Helper()
	wasm, err := os.ReadFile(filepath.Join(repoRoot(), path))
	if err != nil {
		t.Fatal(err)
	}
	if limits == (Limits{}) {
		limits = Limits{MemoryPages: 2048, CPU: 30 * time.Second, RequestBody: 1 << 20, ResponseBody: 1 << 20}
	}
	logs := &testLog{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m, err := Compile(context.Background(), wasm, Options{Path: path, Limits: limits, Log: log})
	if err != nil {
		t.Fatalf("compile %s: %v", path, err)
	}
	t.Cleanup(func() {
		m.Close(context.Background())
		if t.Failed() {
			t.Logf("log:\n%s", logs.String())
		}
	})
	return m, logs
}

// testStore opens a store in a temporary directory.
func testStore(t testing.TB) *store.Store {
	t.Helper()
	s, err := store.Open(filepath.Join(t.TempDir(), "db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// testNamespace is a Namespace for the guest package's tests: its IDs are
// 64 hex digits with no MAC, and its objects answer every request with a
// fixed response. Package objects and the host's tests use the real one.
type testNamespace struct {
	resp  []byte
	calls int
}

func (n *testNamespace) IDFromName(name string) string {
	var id [32]byte
	copy(id[:], name)
	return hex.EncodeToString(id[:])
}

func (n *testNamespace) NewUniqueID() (string, error) {
	var id [32]byte
	_, _ = rand.Read(id[:])
	return hex.EncodeToString(id[:]), nil
}

func (n *testNamespace) ParseID(s string) (string, error) {
	if len(s) != 64 {
		return "", fmt.Errorf("%d characters, want 64 hex digits", len(s))
	}
	if _, err := hex.DecodeString(s); err != nil {
		return "", err
	}
	return strings.ToLower(s), nil
}

func (n *testNamespace) Fetch(_ context.Context, from *Call, id, name string, hasName bool, req []byte) ([]byte, abi.Code, error) {
	if _, err := abi.DecodeRequest(req); err != nil {
		return nil, abi.BadEncoding, err
	}
	n.calls++
	return n.resp, abi.OK, nil
}
