package objects

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
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

// idFromName derives the ID of name in the namespace keyed by key.
func idFromName(key []byte, name string) ID {
	var id ID
	m := hmac.New(sha256.New, key)
	m.Write([]byte("name\x00"))
	m.Write([]byte(name))
	copy(id[:24], m.Sum(nil))
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
	m := hmac.New(sha256.New, key)
	m.Write([]byte("id\x00"))
	m.Write(id[:24])
	copy(id[24:], m.Sum(nil))
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
