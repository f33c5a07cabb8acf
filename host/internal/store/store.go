// Package store keeps everything dohost persists in one Pebble database:
// KV namespaces, per-object storage and host metadata.
//
// # Key layout
//
// Every key starts with a one-byte table tag, so that no table's keys are a
// prefix of another's:
//
//	0x01 KV       enc(account) enc(namespace id) key
//	0x02 object   enc(account) nsid(16) objectID(32) key
//	0x04 meta     enc(kind) …
//	     enc("ns") enc(account) enc(script) enc(class) → nsid (a random 16 bytes)
//	     enc("alarm") nsid objectID                   → u64 unix ms, u32 retries
//	     enc("objname") nsid objectID                 → the object's name
//
// enc(s) writes s with every 0x00 byte escaped as 0x00 0xFF and ends it with
// 0x00 0x01. The encoding preserves order and is prefix-free, so a KV list
// by prefix is one bounded range scan and deleting everything one namespace
// or account holds is one range delete.
//
// # Transactions
//
// All writes a request makes go into one Txn, an indexed Pebble batch that
// reads see through, committed with a synced write before the request's
// response leaves the host. Concurrent commits share fsyncs through Pebble's
// commit pipeline (group commit). A Savepoint and RollbackTo give explicit
// transactions inside a request.
//
// # Locks
//
// Store.metaMu serializes the read-then-create of metadata records
// (namespace ids). It is a leaf: nothing else is locked while it is held,
// and callers may hold their own locks when they call in. No Pebble type
// appears in this package's API: the engine could change behind it.
package store

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/dohost/dohost/host/internal/bigcopy"
	"github.com/dohost/dohost/host/internal/lograte"
)

// Table tags: the first byte of every key.
const (
	tagKV     = 0x01
	tagObject = 0x02
	tagMeta   = 0x04
)

// Store is the Pebble database behind a dohost server. It is safe for
// concurrent use; each Txn is used by one goroutine at a time.
type Store struct {
	db        *pebble.DB
	disk      *diskGuard
	metaMu    sync.Mutex                       // serializes read-then-create of metadata records
	onCommit  func(bytes int, d time.Duration) // Options.OnCommit
	commits   committer
	readFault func() error // Options.ReadFault
}

// Options configure Open.
type Options struct {
	// Logger receives the engine's errors; nil means slog.Default().
	// Its informational lines are dropped, and a repeated error is
	// logged once per minute with a count.
	Logger *slog.Logger
	// Reserve is the free disk space below which commits are refused
	// (ErrDiskFull); 0 means DefaultReserve or 5% of a smaller disk.
	Reserve uint64
	// FreeSpace reports the disk's free space; nil asks the filesystem.
	// Tests set it to play a disk that fills up.
	FreeSpace FreeSpaceFunc

	// OnCommit, if set, hears of every synced Txn commit: its size and
	// how long it took. It must be cheap.
	OnCommit func(bytes int, d time.Duration)

	// ReadFault, if set, is asked before each object storage read; an
	// error it returns is the read's, as if the engine had failed: tests
	// play a failing disk with it.
	ReadFault func() error

	// CacheSize is the bytes of the engine's block cache: table blocks
	// kept decompressed in memory, shared by all reads. Zero means the
	// engine's default, 8 MiB, which the host's databases outgrow: a
	// read that misses it reads and decompresses its blocks again
	// (BenchmarkGet: 17 µs a point read at 200,000 names, 2-3 µs cached).
	CacheSize int64

	fs vfs.FS // replaces the on-disk filesystem in tests
}

// Open opens or creates the database in dir.
func Open(dir string, o Options) (*Store, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	opts := &pebble.Options{
		FormatMajorVersion: pebble.FormatNewest,
		Logger:             newEngineLogger(o.Logger),
	}
	opts.Experimental.ValueSeparationPolicy = valueSeparation
	opts.MemTableSize = memTableSize
	if o.CacheSize > 0 {
		c := pebble.NewCache(o.CacheSize)
		defer c.Unref() // the database holds its own reference
		opts.Cache = c
	}
	switch {
	case o.fs != nil:
		opts.FS = o.fs
	case onTmpfs(dir):
		opts.FS = noPrealloc{vfs.Default}
	default:
		opts.FS = vfs.Default
	}
	db, err := pebble.Open(dir, opts)
	if err != nil {
		return nil, fmt.Errorf("open store %q: %w", dir, err)
	}
	return &Store{db: db, disk: newDiskGuard(dir, o.Reserve, o.FreeSpace, opts.FS, o.Logger), onCommit: o.OnCommit, commits: committer{db: db}, readFault: o.ReadFault}, nil
}

// Close flushes nothing extra (every commit is already synced) and closes the
// database. It is an error to use the Store or its Txns afterwards.
func (s *Store) Close() error {
	s.disk.close()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// appendEnc appends the order-preserving, prefix-free encoding of s.
func appendEnc(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			b = append(b, 0, 0xFF)
		} else {
			b = append(b, s[i])
		}
	}
	return append(b, 0, 1)
}

// decodeEnc reads one enc(s) field from b and returns s and the rest.
func decodeEnc(b []byte) (string, []byte, error) {
	var out []byte
	for i := 0; i < len(b); i++ {
		if b[i] != 0 {
			continue
		}
		if i+1 >= len(b) {
			return "", nil, errors.New("store: truncated key field")
		}
		switch b[i+1] {
		case 1:
			out = append(out, b[:i]...)
			return string(out), b[i+2:], nil
		case 0xFF:
			out = append(out, b[:i+1]...)
			b = b[i+2:]
			i = -1
		default:
			return "", nil, fmt.Errorf("store: bad escape 0x00 0x%02x in key field", b[i+1])
		}
	}
	return "", nil, errors.New("store: unterminated key field")
}

// prefixEnd returns the smallest key greater than every key with prefix p,
// or nil when there is none (p is all 0xFF).
func prefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}

// setLarge sets key to the concatenation of parts in b, writing the value
// straight into the batch a piece at a time (bigcopy): no value is built
// outside it, and no single copy is large; between (when not nil) runs
// between the pieces of each part.
func setLarge(b *pebble.Batch, key []byte, between func(), parts ...[]byte) error {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	op := b.SetDeferred(len(key), n)
	copy(op.Key, key)
	off := 0
	for _, p := range parts {
		off += bigcopy.CopyBetween(op.Value[off:], p, between)
	}
	return op.Finish()
}

// getCopy reads key from r and returns a copy of its value.
func getCopy(r pebble.Reader, key []byte) ([]byte, bool, error) {
	return getAppend(nil, r, key, nil)
}

// getAppend reads key from r and returns its value copied into dst's
// array when it has room (so that a caller reading large values over and
// over allocates once), or into a new one; between (when not nil) runs
// between the pieces of the copy (bigcopy.CopyBetween), and may panic: the
// engine's handle on the value is closed even so.
func getAppend(dst []byte, r pebble.Reader, key []byte, between func()) (out []byte, ok bool, err error) {
	v, c, err := r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	defer func() {
		if cerr := c.Close(); err == nil {
			err = cerr
		}
	}()
	if cap(dst) >= len(v) {
		out = dst[:len(v)]
		bigcopy.CopyBetween(out, v, between)
	} else {
		out = bigcopy.CloneBetween(v, between)
	}
	if out == nil {
		out = []byte{}
	}
	return out, true, nil
}

// engineLogger passes Pebble's errors to the host's log and drops its
// informational lines. An error that repeats (a full disk makes Pebble
// retry, and log, many times a second) is logged once a minute, with the
// number of times it came in between.
type engineLogger struct {
	log  *slog.Logger
	exit func(code int) // os.Exit; tests replace it

	mu   sync.Mutex
	seen map[string]*lograte.Every // guarded by mu: by format
}

func newEngineLogger(log *slog.Logger) *engineLogger {
	return &engineLogger{log: log, exit: os.Exit, seen: map[string]*lograte.Every{}}
}

func (*engineLogger) Infof(string, ...any) {}

func (l *engineLogger) Errorf(format string, args ...any) {
	l.mu.Lock()
	e := l.seen[format]
	if e == nil {
		if len(l.seen) > 1000 {
			l.seen = map[string]*lograte.Every{}
		}
		e = &lograte.Every{}
		l.seen[format] = e
	}
	l.mu.Unlock()
	ok, dropped := e.Take(time.Now(), time.Minute)
	if !ok {
		return
	}
	if dropped > 0 {
		l.log.Error("storage engine: "+fmt.Sprintf(format, args...), "repeated", dropped)
	} else {
		l.log.Error("storage engine: " + fmt.Sprintf(format, args...))
	}
}

// Fatalf logs the engine's fatal error and ends the process, as the
// engine requires (it must not return). The line is flushed first when
// the logger's handler can be (a Flush method, as host.LogWriter.Handler's
// has): written through a buffer, it would otherwise be lost with the
// process, and the operator would not learn why the host stopped.
func (l *engineLogger) Fatalf(format string, args ...any) {
	l.log.Error("storage engine: fatal: " + fmt.Sprintf(format, args...))
	if f, ok := l.log.Handler().(interface{ Flush() }); ok {
		f.Flush()
	}
	l.exit(1)
}
