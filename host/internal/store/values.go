package store

import (
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// valueSeparation keeps values of separatedValueSize bytes or more out of
// the engine's tables: a flush writes them to blob files, and compactions
// move only their keys and references, so that a tenant writing large
// values at its account's rate costs the host one write of each value, not
// one per level it descends (RATIONALE.md, "Large values are written
// once"). A table refers to at most 32 overlapping blob files before a
// compaction rewrites its values together: each flush adds a blob file
// over the ranges it wrote, and at the engine's benchmark tool's 10 (with
// its 4 MiB memtables) an object's values were all copied again every 10
// flushes, 2.9 times over for 1 GiB written (BenchmarkLargeValues). A blob
// file five minutes old with a fifth of its values overwritten or deleted
// is rewritten, so that the space comes back.
func valueSeparation() pebble.ValueSeparationPolicy {
	return pebble.ValueSeparationPolicy{
		Enabled:               true,
		MinimumSize:           separatedValueSize,
		MaxBlobReferenceDepth: 32,
		RewriteMinimumAge:     5 * time.Minute,
		TargetGarbageRatio:    0.2,
	}
}

// memTableSize is the engine's largest memtable: each flush of one writes
// a blob file over each range it holds, and large values written at an
// account's rate filled the engine's default 4 MiB in half a second. The
// engine starts with a small memtable and doubles it as writes come, so
// an idle host holds less; two can be in memory at once (one flushing).
const memTableSize = 32 << 20

// separatedValueSize is the smallest value kept in a blob file: small
// values (a counter, a JSON record) stay in the table beside their key,
// where a read or a listing finds them without another lookup.
const separatedValueSize = 1024
