// Package mono reads the clock once where time.Now reads it twice.
//
// time.Now reads the wall clock and the monotonic clock, two readings of
// 25–100 ns each on a VM; a request reads the time a dozen times (its
// turn, its guest call's clock around every host call, its commit), and
// only to compare and subtract. Now reads the monotonic clock alone.
package mono

import "time"

// epoch anchors Now.
var epoch = time.Now()

// Now returns the time now from one reading of the monotonic clock. Its
// monotonic part is exact; its wall part is the process's start plus the
// time since, which drifts from the wall clock by whatever the wall clock
// was set by meanwhile. Compare, subtract and add it (Go uses the
// monotonic parts of two such times, and of a Now and a time.Now); do not
// show or store it.
func Now() time.Time { return epoch.Add(time.Since(epoch)) }
