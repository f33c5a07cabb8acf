package objects

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/maphash"
	"sync"
	"sync/atomic"

	"github.com/dohost/dohost/host/internal/store"
)

// ID identifies one Durable Object within its namespace. It is shown
// to guests as 64 lower-case hex digits, as on Cloudflare.
//
// The first 24 bytes say which object: an HMAC of the name under the
// namespace's key for idFromName (top bit clear), random bytes for
// newUniqueId (top bit set). The last 8 bytes are an HMAC of the first 24
// under the same key, so idFromString can tell an ID of this namespace from
// a typo or an ID of another namespace without any lookup.
type ID [32]byte

const uniqueBit = 0x80

// String returns the ID in 64 hex digits.
func (id ID) String() string {
	var b [2 * len(id)]byte
	hex.Encode(b[:], id[:])
	return string(b[:])
}

// keyState is what the host keeps for one namespace key: a pool of HMACs
// under it (hmac.New pads the key and allocates two digests, which cost
// more than the MAC of an ID itself), and the IDs it derived or checked
// last. A request to an object by name takes three MACs; a name or an ID
// seen recently takes none.
type keyState struct {
	macs  sync.Pool // of *keyedMAC
	names idCache   // name → ID (idFromName)
	ids   idCache   // an ID as given, 64 hex digits → ID (parseID)
}

// keyedMAC is an HMAC with room for its input and its sum, so that a MAC
// allocates nothing.
type keyedMAC struct {
	h   hash.Hash
	in  []byte
	sum [sha256.Size]byte
}

var (
	keyStatesMu sync.Mutex
	keyStates   = map[[store.NamespaceIDLen]byte]*keyState{}
)

// keyStateOf returns the state of key, made on first use.
func keyStateOf(key [store.NamespaceIDLen]byte) *keyState {
	keyStatesMu.Lock()
	defer keyStatesMu.Unlock()
	ks := keyStates[key]
	if ks == nil {
		ks = newKeyState(key)
		keyStates[key] = ks
	}
	return ks
}

// newKeyState returns a state of key that has seen no ID yet.
func newKeyState(key [store.NamespaceIDLen]byte) *keyState {
	ks := &keyState{}
	ks.macs.New = func() any { return &keyedMAC{h: hmac.New(sha256.New, key[:])} }
	ks.names.seed, ks.ids.seed = maphash.MakeSeed(), maphash.MakeSeed()
	return ks
}

// mac writes the first len(out) bytes of the HMAC-SHA256 under ks's key
// of prefix and data to out.
func mac[T string | []byte](ks *keyState, prefix string, data T, out []byte) {
	m := ks.macs.Get().(*keyedMAC)
	m.h.Reset()
	m.in = append(append(m.in[:0], prefix...), data...)
	m.h.Write(m.in)
	copy(out, m.h.Sum(m.sum[:0]))
	ks.macs.Put(m)
}

// An idCache remembers recent results of deriving or checking IDs: a
// fixed table indexed by a hash of the input, one entry a slot, replaced
// on a collision. Goroutines share it through atomic pointers alone.
type idCache struct {
	seed  maphash.Seed
	slots [idCacheSlots]atomic.Pointer[idEntry]
}

// idCacheSlots is the size of an idCache; maxCachedName the longest
// input it keeps.
const (
	idCacheSlots  = 1024
	maxCachedName = 256
)

// idEntry is one input of an idCache and its ID.
type idEntry struct {
	in  string
	id  ID
	hex string // id.String()
}

func (c *idCache) slot(s string) *atomic.Pointer[idEntry] {
	return &c.slots[maphash.String(c.seed, s)%idCacheSlots]
}

// get returns the entry of s, or nil.
func (c *idCache) get(s string) *idEntry {
	if e := c.slot(s).Load(); e != nil && e.in == s {
		return e
	}
	return nil
}

// put remembers e.
func (c *idCache) put(e *idEntry) {
	if len(e.in) <= maxCachedName {
		c.slot(e.in).Store(e)
	}
}

// fromName returns the ID of name.
func (ks *keyState) fromName(name string) *idEntry {
	if e := ks.names.get(name); e != nil {
		return e
	}
	var id ID
	mac(ks, "name\x00", name, id[:24])
	id[0] &^= uniqueBit
	ks.seal(&id)
	e := &idEntry{in: name, id: id, hex: id.String()}
	ks.names.put(e)
	return e
}

// seal sets the last 8 bytes of id, its check.
func (ks *keyState) seal(id *ID) { mac(ks, "id\x00", id[:24], id[24:]) }

// newUniqueID returns a fresh random ID in ks's namespace.
func (ks *keyState) newUniqueID() (ID, error) {
	var id ID
	if _, err := rand.Read(id[:24]); err != nil {
		return id, fmt.Errorf("new unique id: %w", err)
	}
	id[0] |= uniqueBit
	ks.seal(&id)
	return id, nil
}

var errBadID = errors.New("not an object ID of this namespace")

// parse parses the 64-hex-digit form of an ID and checks that it belongs
// to ks's namespace.
func (ks *keyState) parse(s string) (*idEntry, error) {
	if e := ks.ids.get(s); e != nil {
		return e, nil
	}
	var id ID
	if len(s) != 64 {
		return nil, fmt.Errorf("%w: %d characters, want 64 hex digits", errBadID, len(s))
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return nil, fmt.Errorf("%w: %v", errBadID, err)
	}
	want := id
	ks.seal(&want)
	if !hmac.Equal(want[24:], id[24:]) {
		return nil, errBadID
	}
	e := &idEntry{in: s, id: id, hex: id.String()}
	ks.ids.put(e)
	return e, nil
}
