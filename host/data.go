package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/dohost/dohost/host/internal/guest"
	"github.com/dohost/dohost/host/internal/objects"
	"github.com/dohost/dohost/host/internal/quota"
	"github.com/dohost/dohost/host/internal/sockets"
	"github.com/dohost/dohost/host/internal/store"
)

// The operator's data tools: KV namespaces and objects' storage read and
// changed outside any guest, on a running host (through the admin API)
// or on a data directory no host holds (Open). They run no guest code.

// ErrNotFound is the error of a KV key, a class or an object that does
// not exist.
var ErrNotFound = errors.New("not found")

// ErrBadRequest wraps an argument the data tools refuse.
var ErrBadRequest = errors.New("bad request")

// Open opens a data directory for the data tools without serving it: no
// worker is loaded and no alarm runs. It fails (ErrDataDirInUse) while a
// host holds the directory. Close it when done.
func Open(dataDir string, log *slog.Logger) (_ *Server, err error) {
	if log == nil {
		log = slog.Default()
	}
	if _, err := os.Stat(filepath.Join(dataDir, "db")); err != nil {
		return nil, fmt.Errorf("%s is not a dohost data directory: %w", dataDir, err)
	}
	s := &Server{opts: Options{DataDir: dataDir}, log: log, load: guest.NewLoad(), quota: quota.NewHost(quota.Limits{})}
	s.metrics = newMetrics(s)
	s.dep.Store(&deployment{})
	defer func() {
		if err != nil {
			_ = s.Close(context.Background())
		}
	}()
	if s.lock, err = lockDataDir(dataDir); err != nil {
		return nil, err
	}
	if s.store, err = store.Open(filepath.Join(dataDir, "db"), store.Options{Logger: log}); err != nil {
		return nil, err
	}
	s.sockets = sockets.NewHost(1, 1, 0, log)
	s.objects = objects.New(objects.Options{Store: s.store, Load: s.load, Log: log, IdleTimeout: time.Hour, TrimAfter: time.Hour})
	return s, nil
}

// KVKey is one key of a KV listing.
type KVKey struct {
	Name       string `json:"name"`
	Expiration int64  `json:"expiration,omitempty"` // unix seconds; 0: none
}

// KVPage is one page of a KV listing.
type KVPage struct {
	Keys   []KVKey `json:"keys"`
	Cursor string  `json:"cursor,omitempty"` // empty on the last page
}

// kvErr classifies a store error for the data tools.
func kvErr(err error) error {
	if errors.Is(err, store.ErrInvalid) || errors.Is(err, store.ErrTooLarge) {
		return fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	return err
}

// KVGet reads key of KV namespace id of account.
func (s *Server) KVGet(account, id, key string) ([]byte, error) {
	txn := s.store.NewTxn()
	defer txn.Discard()
	v, ok, err := s.store.KV(account, id).Get(txn, []byte(key), time.Now().Unix())
	if err != nil {
		return nil, kvErr(err)
	}
	if !ok {
		return nil, fmt.Errorf("key %q of KV namespace %s/%s: %w", key, account, id, ErrNotFound)
	}
	return v, nil
}

// KVPut writes key of KV namespace id of account, synced.
func (s *Server) KVPut(account, id, key string, value []byte) error {
	txn := s.store.NewTxn()
	if err := s.store.KV(account, id).Put(txn, []byte(key), value, store.PutOptions{}, time.Now().Unix()); err != nil {
		txn.Discard()
		return kvErr(err)
	}
	return txn.Commit()
}

// KVDelete deletes key of KV namespace id of account, synced.
func (s *Server) KVDelete(account, id, key string) error {
	txn := s.store.NewTxn()
	if err := s.store.KV(account, id).Delete(txn, []byte(key)); err != nil {
		txn.Discard()
		return kvErr(err)
	}
	return txn.Commit()
}

// KVList lists the keys of KV namespace id of account that start with
// prefix, a page (at most limit, 1000 if 0) from cursor.
func (s *Server) KVList(account, id, prefix, cursor string, limit int) (KVPage, error) {
	txn := s.store.NewTxn()
	defer txn.Discard()
	l, err := s.store.KV(account, id).List(txn, []byte(prefix), cursor, limit, time.Now().Unix())
	if err != nil {
		return KVPage{}, kvErr(err)
	}
	p := KVPage{Keys: make([]KVKey, len(l.Keys)), Cursor: l.Cursor}
	for i, k := range l.Keys {
		p.Keys[i] = KVKey{Name: string(k.Name), Expiration: k.Expiration}
	}
	return p, nil
}

// namespace returns the namespace of class of a worker: the one its
// objects run in if it is served, else a detached one.
func (s *Server) namespace(account, worker, class string) (*objects.Namespace, error) {
	key, ok, err := s.store.LookupNamespaceID(account, worker, class)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("class %s of worker %s/%s has no objects: %w", class, account, worker, ErrNotFound)
	}
	if ns := s.objects.Known(key); ns != nil {
		return ns, nil
	}
	return s.objects.Detached(account, class, key), nil
}

// ObjectInfo describes one object: its ID, the name it was made with, its
// alarm, whether it is live and its open WebSockets.
type ObjectInfo = objects.ObjectInfo

// Objects lists the objects of class of a worker that hold storage or an
// alarm, by ID, after the ID after, at most limit (1000 if 0).
func (s *Server) Objects(account, worker, class, after string, limit int) ([]ObjectInfo, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	ns, err := s.namespace(account, worker, class)
	if err != nil {
		return nil, err
	}
	os, err := ns.Objects(after, limit)
	if errors.Is(err, store.ErrInvalid) {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	return os, err
}

// ObjectDetail describes one object: ObjectInfo, and its storage's keys
// and bytes.
type ObjectDetail = objects.ObjectDetail

// InspectObject describes an object (its ID or its name) of class of a
// worker.
func (s *Server) InspectObject(account, worker, class, object string) (ObjectDetail, error) {
	ns, err := s.namespace(account, worker, class)
	if err != nil {
		return ObjectDetail{}, err
	}
	return ns.Inspect(object)
}

// StorageEntry is one key of an object's storage.
type StorageEntry struct {
	Key   string `json:"key"`
	Value []byte `json:"value"`
}

// ObjectStorage returns an object's storage (object is its ID or its
// name) from the key after after, with prefix, at most limit keys (all
// that fit a page if 0), and whether more follow.
func (s *Server) ObjectStorage(account, worker, class, object, prefix, after string, limit int) ([]StorageEntry, bool, error) {
	ns, err := s.namespace(account, worker, class)
	if err != nil {
		return nil, false, err
	}
	lo := store.ListOptions{Limit: limit}
	if prefix != "" {
		lo.Prefix = []byte(prefix)
	}
	if after != "" {
		lo.Start, lo.StartAfter = []byte(after), true
	}
	es, more, err := ns.Storage(object, lo)
	if err != nil {
		return nil, false, kvErr(err)
	}
	out := make([]StorageEntry, len(es))
	for i, e := range es {
		out[i] = StorageEntry{Key: string(e.Key), Value: e.Value}
	}
	return out, more, nil
}

// DeleteObject deletes an object (its ID or its name) of class of a
// worker: a request running on it finishes first; then its instance and
// WebSockets close and its storage, alarm and name are deleted, synced.
func (s *Server) DeleteObject(ctx context.Context, account, worker, class, object string) error {
	ns, err := s.namespace(account, worker, class)
	if err != nil {
		return err
	}
	return ns.DeleteObject(ctx, object)
}

// Backup writes a consistent copy of the database into dir (which must
// not exist) while the host serves: every write acknowledged before the
// call began is in it. Restore puts it back.
func (s *Server) Backup(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return fmt.Errorf("%w: %s exists; a backup goes into a new directory", ErrBadRequest, dir)
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	return s.store.Checkpoint(filepath.Join(dir, "db"))
}

// Restore replaces the database of dataDir, which no host may hold, with
// the backup in from (made by Backup). The database it replaces is kept
// beside it as db.replaced-TIME until the operator removes it.
func Restore(from, dataDir string) error {
	src := filepath.Join(from, "db")
	if m, _ := filepath.Glob(filepath.Join(src, "MANIFEST-*")); len(m) == 0 {
		return fmt.Errorf("%s is not a dohost backup: it has no database (db/MANIFEST-*)", from)
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return err
	}
	lock, err := lockDataDir(dataDir)
	if err != nil {
		return err
	}
	defer lock.Close()
	// The backup is checked by opening it before anything is replaced.
	st, err := store.Open(src, store.Options{})
	if err != nil {
		return fmt.Errorf("the backup in %s does not open: %w", from, err)
	}
	if err := st.Close(); err != nil {
		return err
	}
	db := filepath.Join(dataDir, "db")
	tmp := db + ".restoring"
	_ = os.RemoveAll(tmp)
	if err := copyDir(src, tmp); err != nil {
		return fmt.Errorf("copy the backup: %w", err)
	}
	if _, err := os.Stat(db); err == nil {
		if err := os.Rename(db, db+".replaced-"+time.Now().UTC().Format("20060102T150405")); err != nil {
			return err
		}
	}
	return os.Rename(tmp, db)
}

// copyDir copies the regular files of src into a new directory dst and
// syncs them.
func copyDir(src, dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	es, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range es {
		if !e.Type().IsRegular() {
			continue
		}
		if err := copyFile(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			return err
		}
	}
	d, err := os.Open(dst)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := out.ReadFrom(in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
