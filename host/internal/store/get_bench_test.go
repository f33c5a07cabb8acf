package store

import (
	"encoding/binary"
	"fmt"
	"testing"
)

// BenchmarkGet reads objects' names (one point read each, as every new
// object's start does) from a store holding 200,000 of them written out
// in four tables: names that are there, and names that are not (an object
// reached by a unique id has none); with the engine's default block cache
// (8 MiB, which these tables outgrow) and with 256 MiB.
func BenchmarkGet(b *testing.B) {
	for _, size := range []int64{0, 256 << 20} {
		b.Run(fmt.Sprintf("cache=%dMiB", max(size, 8<<20)>>20), func(b *testing.B) {
			benchmarkGet(b, size)
		})
	}
}

func benchmarkGet(b *testing.B, cache int64) {
	s, err := Open(b.TempDir(), Options{CacheSize: cache})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var nsid [NamespaceIDLen]byte
	id := func(i uint64) (oid [ObjectIDLen]byte) {
		// Spread over the key space, as hashed ids are.
		binary.BigEndian.PutUint64(oid[:], i*0x9e3779b97f4a7c15)
		return oid
	}
	const n, tables = 200_000, 4
	for t := 0; t < tables; t++ {
		tx := s.NewTxn()
		for i := t; i < n; i += tables {
			if err := s.SetObjectName(tx, nsid, id(uint64(2*i)), "room"); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		if err := s.db.Flush(); err != nil {
			b.Fatal(err)
		}
	}
	for _, c := range []struct {
		name string
		odd  uint64 // 0: a name that is there; 1: one that is not
	}{{"present", 0}, {"missing", 1}} {
		b.Run(c.name, func(b *testing.B) {
			tx := s.NewTxn()
			for i := 0; i < b.N; i++ {
				_, ok, err := s.ObjectName(tx, nsid, id(uint64(2*(i%n))+c.odd))
				if err != nil || ok != (c.odd == 0) {
					b.Fatalf("name %d: %v %v", i, ok, err)
				}
			}
		})
	}
}
