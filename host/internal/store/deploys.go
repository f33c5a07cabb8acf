package store

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// The deploy records, under the meta table:
//
//	enc("deploy") enc(account) enc(worker) u32 version → the Deploy record (JSON)
//	enc("active") enc(account) enc(worker)             → u32 version
//	enc("module") hash(32)                             → the module's bytes
//
// A version is never rewritten or removed: a rollback is a new version
// that names the one it returns to.

// Deploy is one version of a worker: its config and module as they were
// deployed, and by whom.
type Deploy struct {
	Account string `json:"account"`
	Worker  string `json:"worker"`
	// Version numbers a worker's deploys from 1, in order.
	Version int       `json:"version"`
	Time    time.Time `json:"time"`
	// By is who deployed it: an admin token's name, or "config" for a
	// config the host was started with.
	By string `json:"by"`
	// Config is the wrangler.toml as deployed; ConfigFile is where it was
	// read from, for messages.
	Config     string `json:"config"`
	ConfigFile string `json:"config_file"`
	// Module is the SHA-256 of the guest module, in hex.
	Module string `json:"module"`
	// RollbackOf is the version a rollback returned to, or 0.
	RollbackOf int `json:"rollback_of,omitempty"`
	// Removed marks a version that removed the worker.
	Removed bool `json:"removed,omitempty"`
	// Note says why a version was made other than by a deploy or a
	// rollback: "secret API_KEY set".
	Note string `json:"note,omitempty"`
}

// ErrNoDeploy is the error of a version that does not exist.
var ErrNoDeploy = errors.New("no such version")

func deployPrefix(account, worker string) []byte {
	k := []byte{tagMeta}
	k = appendEnc(k, "deploy")
	k = appendEnc(k, account)
	return appendEnc(k, worker)
}

func deployKey(account, worker string, version int) []byte {
	return binary.BigEndian.AppendUint32(deployPrefix(account, worker), uint32(version))
}

func activePrefix() []byte {
	return appendEnc([]byte{tagMeta}, "active")
}

func activeKey(account, worker string) []byte {
	return appendEnc(appendEnc(activePrefix(), account), worker)
}

func moduleKey(hash string) []byte {
	return append(appendEnc([]byte{tagMeta}, "module"), hash...)
}

// ModuleHash returns the hash a Deploy names a module by.
func ModuleHash(wasm []byte) string {
	h := sha256.Sum256(wasm)
	return hex.EncodeToString(h[:])
}

// AddDeploy records d as its worker's next version, with its module (kept
// once per distinct module), and makes it the active one, synced. It sets
// d.Version, d.Module and, if zero, d.Time.
func (s *Store) AddDeploy(d *Deploy, wasm []byte) error {
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	last, err := s.lastVersion(d.Account, d.Worker)
	if err != nil {
		return err
	}
	d.Version = last + 1
	if d.Time.IsZero() {
		d.Time = time.Now().UTC()
	}
	b := s.db.NewBatch()
	defer b.Close()
	if !d.Removed {
		d.Module = ModuleHash(wasm)
		if _, ok, err := getCopy(s.db, moduleKey(d.Module)); err != nil {
			return fmt.Errorf("read module %s: %w", d.Module, err)
		} else if !ok {
			if err := setLarge(b, moduleKey(d.Module), nil, wasm); err != nil {
				return fmt.Errorf("store module: %w", err)
			}
		}
	}
	rec, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encode deploy: %w", err)
	}
	_ = b.Set(deployKey(d.Account, d.Worker, d.Version), rec, nil)
	if d.Removed {
		_ = b.Delete(activeKey(d.Account, d.Worker), nil)
	} else {
		_ = b.Set(activeKey(d.Account, d.Worker), binary.BigEndian.AppendUint32(nil, uint32(d.Version)), nil)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("record version %d of %s/%s: %w", d.Version, d.Account, d.Worker, err)
	}
	return nil
}

// lastVersion returns the newest version of a worker, or 0.
func (s *Store) lastVersion(account, worker string) (int, error) {
	p := deployPrefix(account, worker)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	if err != nil {
		return 0, fmt.Errorf("list versions: %w", err)
	}
	defer it.Close()
	if !it.Last() {
		return 0, it.Error()
	}
	k := it.Key()
	return int(binary.BigEndian.Uint32(k[len(k)-4:])), nil
}

// Deploys returns every version of a worker, oldest first.
func (s *Store) Deploys(account, worker string) ([]Deploy, error) {
	p := deployPrefix(account, worker)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	if err != nil {
		return nil, fmt.Errorf("list versions: %w", err)
	}
	defer it.Close()
	var ds []Deploy
	for it.First(); it.Valid(); it.Next() {
		var d Deploy
		if err := json.Unmarshal(it.Value(), &d); err != nil {
			return nil, fmt.Errorf("version record of %s/%s: %w", account, worker, err)
		}
		ds = append(ds, d)
	}
	return ds, it.Error()
}

// GetDeploy returns one version of a worker and its module (nil for a
// removal).
func (s *Store) GetDeploy(account, worker string, version int) (Deploy, []byte, error) {
	d, err := s.deployRecord(account, worker, version)
	if err != nil || d.Removed {
		return d, nil, err
	}
	wasm, ok, err := getCopy(s.db, moduleKey(d.Module))
	if err != nil || !ok {
		return d, nil, fmt.Errorf("module %s of %s/%s version %d is missing: %v", d.Module, account, worker, version, err)
	}
	return d, wasm, nil
}

// deployRecord returns the record of one version of a worker, without its
// module.
func (s *Store) deployRecord(account, worker string, version int) (Deploy, error) {
	var d Deploy
	v, ok, err := getCopy(s.db, deployKey(account, worker, version))
	if err != nil {
		return d, fmt.Errorf("read version %d of %s/%s: %w", version, account, worker, err)
	}
	if !ok {
		return d, fmt.Errorf("%s/%s version %d: %w", account, worker, version, ErrNoDeploy)
	}
	if err := json.Unmarshal(v, &d); err != nil {
		return d, fmt.Errorf("version record %d of %s/%s: %w", version, account, worker, err)
	}
	return d, nil
}

// ActiveDeploys returns the record of the active version of every worker
// that has one (not removed); GetDeploy reads a module.
func (s *Store) ActiveDeploys() ([]Deploy, error) {
	p := activePrefix()
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	if err != nil {
		return nil, fmt.Errorf("list active versions: %w", err)
	}
	type ref struct {
		account, worker string
		version         int
	}
	var refs []ref
	for it.First(); it.Valid(); it.Next() {
		rest := it.Key()[len(p):]
		account, rest, err := decodeEnc(rest)
		if err == nil {
			var worker string
			if worker, _, err = decodeEnc(rest); err == nil && len(it.Value()) == 4 {
				refs = append(refs, ref{account, worker, int(binary.BigEndian.Uint32(it.Value()))})
				continue
			}
		}
		err = fmt.Errorf("active version record %x is malformed", it.Key())
		_ = it.Close()
		return nil, err
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("list active versions: %w", err)
	}
	ds := make([]Deploy, 0, len(refs))
	for _, r := range refs {
		d, err := s.deployRecord(r.account, r.worker, r.version)
		if err != nil {
			return nil, err
		}
		ds = append(ds, d)
	}
	return ds, nil
}
