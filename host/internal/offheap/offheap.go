// Package offheap gives out large buffers that live outside Go's heap:
// anonymous mappings, made when asked for and unmapped when freed.
//
// The host reads large request bodies into them. A 32 MiB body allocated
// on the heap grows the heap by 32 MiB at once, which starts a collection
// and charges its cost to whatever goroutines allocate next: in the soak's
// attack of 200 clients POSTing 32 MiB bodies, an execution trace found the
// other tenants' requests parked in the collector's assist queue
// (gcParkAssist) for tens of milliseconds each while parsing their headers.
// A mapping costs the collector nothing, its pages are zeroed by the kernel
// as they are first written, and its memory goes back to the system the
// moment it is freed.
//
// A buffer must not be used after Free: its memory is gone, and a read of
// it faults the process.
package offheap

// MinSize is the smallest buffer worth a mapping: below it, Alloc's
// callers allocate on the heap (two system calls and a mapping cost more
// than the collector does for a small buffer).
const MinSize = 128 << 10
