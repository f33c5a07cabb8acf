package store

// EngineStats is what the storage engine has done since the store opened,
// and the memory its memtables hold: enough for an operator to see the
// engine's write amplification, the bytes its flushes and compactions
// wrote for each byte written to its log.
type EngineStats struct {
	Flushes            int64  // memtables written out
	Compactions        int64  // compactions finished
	LogBytes           uint64 // bytes written to the log (every commit's)
	FlushedBytes       uint64 // tables and blob files written by flushes
	CompactedBytes     uint64 // tables written by compactions
	BlobRewrittenBytes uint64 // separated values copied again by compactions
	MemtableBytes      uint64 // memory the memtables hold now
}

// Engine returns the engine's figures now.
func (s *Store) Engine() EngineStats {
	m := s.db.Metrics()
	st := EngineStats{
		Flushes:       m.Flush.Count,
		Compactions:   m.Compact.Count,
		LogBytes:      m.WAL.BytesWritten,
		MemtableBytes: m.MemTable.Size,
	}
	for _, l := range m.Levels {
		st.FlushedBytes += l.TableBytesFlushed + l.BlobBytesFlushed
		st.CompactedBytes += l.TableBytesCompacted
		// The engine counts a flush's blob files as compacted too.
		st.BlobRewrittenBytes += l.BlobBytesCompacted - l.BlobBytesFlushed
	}
	return st
}
