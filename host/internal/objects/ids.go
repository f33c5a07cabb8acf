package objects

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"sync"
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

func (id ID) String() string { return hex.EncodeToString(id[:]) }

// macs holds, for each namespace key, a pool of HMACs under it: hmac.New
// pads the key and allocates two digests, which cost more than the MAC of
// an ID itself, and a request to an object by name takes three.
var macs sync.Map // string(key) → *sync.Pool of hash.Hash

// mac appends to dst the HMAC-SHA256 under key of prefix and data.
func mac(dst, key []byte, prefix string, data []byte) []byte {
	p, ok := macs.Load(string(key))
	if !ok {
		k := string(key)
		p, _ = macs.LoadOrStore(k, &sync.Pool{New: func() any { return hmac.New(sha256.New, []byte(k)) }})
	}
	pool := p.(*sync.Pool)
	m := pool.Get().(hash.Hash)
	m.Reset()
	m.Write([]byte(prefix))
	m.Write(data)
	dst = m.Sum(dst)
	pool.Put(m)
	return dst
}

// idFromName derives the ID of name in the namespace keyed by key.
func idFromName(key []byte, name string) ID {
	var id ID
	var sum [sha256.Size]byte
	copy(id[:24], mac(sum[:0], key, "name\x00", []byte(name)))
	id[0] &^= uniqueBit
	sealID(key, &id)
	return id
}

// newUniqueID returns a fresh random ID in the namespace keyed by key.
func newUniqueID(key []byte) (ID, error) {
	var id ID
	if _, err := rand.Read(id[:24]); err != nil {
		return id, fmt.Errorf("new unique id: %w", err)
	}
	id[0] |= uniqueBit
	sealID(key, &id)
	return id, nil
}

func sealID(key []byte, id *ID) {
	var sum [sha256.Size]byte
	copy(id[24:], mac(sum[:0], key, "id\x00", id[:24]))
}

var errBadID = errors.New("not an object ID of this namespace")

// parseID parses the 64-hex-digit form of an ID and checks that it belongs
// to the namespace keyed by key.
func parseID(key []byte, s string) (ID, error) {
	var id ID
	if len(s) != 64 {
		return id, fmt.Errorf("%w: %d characters, want 64 hex digits", errBadID, len(s))
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("%w: %v", errBadID, err)
	}
	want := id
	sealID(key, &want)
	if !hmac.Equal(want[24:], id[24:]) {
		return id, errBadID
	}
	return id, nil
}
