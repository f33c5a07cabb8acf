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
// once"). A table refers to at most 10 overlapping blob files before a
// compaction rewrites its values together (as the engine's own benchmark
// tool sets it); a blob file five minutes old with a fifth of its values
// overwritten or deleted is rewritten, so that the space comes back.
func valueSeparation() pebble.ValueSeparationPolicy {
	return pebble.ValueSeparationPolicy{
		Enabled:               true,
		MinimumSize:           separatedValueSize,
		MaxBlobReferenceDepth: 10,
		RewriteMinimumAge:     5 * time.Minute,
		TargetGarbageRatio:    0.2,
	}
}

// separatedValueSize is the smallest value kept in a blob file: small
// values (a counter, a JSON record) stay in the table beside their key,
// where a read or a listing finds them without another lookup.
const separatedValueSize = 1024
