package store

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestStore_DiskFull: when the disk's free space falls under the reserve,
// commits are refused with ErrDiskFull (nothing written) while reads go
// on, the change is logged once, not per commit; when there is room again
// commits go through, by themselves.
func TestStore_DiskFull(t *testing.T) {
	var free atomic.Uint64
	free.Store(1 << 30)
	var logs bytes.Buffer
	s, err := Open(filepath.Join(t.TempDir(), "db"), Options{
		Logger:    slog.New(slog.NewTextHandler(&logs, nil)),
		Reserve:   100 << 20,
		FreeSpace: func(string) (uint64, uint64, error) { return free.Load(), 10 << 30, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			s.Close()
		}
	}()
	kv := s.KV("a", "ns")
	put := func(v string) error {
		tx := s.NewTxn()
		if err := kv.Put(tx, []byte("k"), []byte(v), PutOptions{}, 0); err != nil {
			t.Fatal(err)
		}
		return tx.Commit()
	}
	if err := put("before"); err != nil {
		t.Fatal(err)
	}
	free.Store(50 << 20)
	for !s.DiskFull() {
		time.Sleep(10 * time.Millisecond)
	}
	for i := 0; i < 100; i++ {
		if err := put("during"); !errors.Is(err, ErrDiskFull) {
			t.Fatalf("commit on a full disk: %v", err)
		}
	}
	tx := s.NewTxn()
	if v, ok, err := kv.Get(tx, []byte("k"), 0); err != nil || !ok || string(v) != "before" {
		t.Errorf("read on a full disk: %q %v %v", v, ok, err)
	}
	tx.Discard()
	free.Store(1 << 30)
	for s.DiskFull() {
		time.Sleep(10 * time.Millisecond)
	}
	if err := put("after"); err != nil {
		t.Errorf("commit once there is room: %v", err)
	}
	// Closing stops the guard's watcher, so the log is read after its
	// last write.
	closed = true
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(logs.String(), "disk almost full: writes are refused"); n != 1 {
		t.Errorf("the full disk was logged %d times, want once:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "disk has room again") {
		t.Errorf("the recovery was not logged:\n%s", logs.String())
	}
}

// TestEngineLogger: an error the engine repeats is logged once a minute,
// with how many times it came.
func TestEngineLogger(t *testing.T) {
	var logs bytes.Buffer
	l := newEngineLogger(slog.New(slog.NewTextHandler(&logs, nil)))
	for i := 0; i < 1000; i++ {
		l.Errorf("background error: %s", "no space left on device")
	}
	l.Errorf("another: %d", 1)
	if n := strings.Count(logs.String(), "no space left on device"); n != 1 {
		t.Errorf("a repeated error was logged %d times:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "another: 1") {
		t.Errorf("a different error was not logged:\n%s", logs.String())
	}
}

// TestEngineLoggerFatal: the engine's fatal error is logged, the log's
// handler flushed (a host.LogWriter's holds the line in a buffer), and
// only then the process ended.
func TestEngineLoggerFatal(t *testing.T) {
	var logs bytes.Buffer
	h := &flushRecorder{Handler: slog.NewTextHandler(&logs, nil)}
	l := newEngineLogger(slog.New(h))
	var events []string
	h.flushed = func() { events = append(events, "flush") }
	l.exit = func(code int) { events = append(events, fmt.Sprintf("exit %d", code)) }
	l.Fatalf("corruption in %s", "000123.sst")
	if !strings.Contains(logs.String(), "storage engine: fatal: corruption in 000123.sst") {
		t.Errorf("logged: %q", logs.String())
	}
	if !slices.Equal(events, []string{"flush", "exit 1"}) {
		t.Errorf("after the line: %v, want the log flushed, then exit 1", events)
	}
}

// flushRecorder is a log handler with a Flush method, which calls flushed.
type flushRecorder struct {
	slog.Handler
	flushed func()
}

func (h *flushRecorder) Flush() { h.flushed() }
