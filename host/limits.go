package host

import (
	"bufio"
	"os"
	"strconv"
	"strings"

	"github.com/dohost/dohost/host/internal/quota"
	"github.com/dohost/dohost/host/internal/store"
)

// Limits bound what all tenants together, and each account, may make the
// host spend: the host-wide half of the resource model (RATIONALE.md);
// each worker's [limits] bound one call and one instance. A zero field
// takes its default, sized for the machine by DefaultLimits.
type Limits struct {
	// GuestMemory caps the linear memory (and tables) of all instances
	// together that is their own, not pages shared with a snapshot;
	// AccountGuestMemory caps one account's part of it. Past either, a
	// memory.grow fails and a new instance does not start.
	GuestMemory, AccountGuestMemory int64
	// WriteBuffers caps the bytes of all handler calls' uncommitted writes
	// together; AccountWriteBuffers one account's. Past either, a write
	// fails with OVERLOADED.
	WriteBuffers, AccountWriteBuffers int64
	// AccountObjects caps one account's objects with a live instance
	// (Options.MaxLiveObjects caps all). Past it the account's least
	// recently used idle object is evicted, or, if all are busy, the new
	// one is refused with OVERLOADED.
	AccountObjects int
	// Alarms caps the alarm handlers running at once; AccountAlarms one
	// account's. Past them alarms wait their turn, in due order.
	Alarms, AccountAlarms int
	// AccountAlarmRate caps one account's alarm runs a second (in bursts
	// of as many): an alarm that re-arms itself at once, on many objects,
	// takes no more.
	AccountAlarmRate int
	// Bodies caps the bytes of request and response bodies held in
	// memory, all requests together, and half of it one account's: the
	// bodies the front reads, the responses guests give until their
	// clients (or calling guests) have them, and the requests guests send
	// to objects until answered. Past either, a request is refused with
	// 503 before its body is read, and respond and stub_fetch fail with
	// OVERLOADED (503 to the client).
	Bodies int64
	// AccountDisk is the quota of one account's stored bytes (KV and
	// object storage): past it, writes fail with TOO_LARGE (deletes go
	// on) and the HTTP answer is 507. Zero means a quarter of the data
	// directory's disk; -1 no quota.
	AccountDisk int64
	// AccountWriteRate caps the bytes one account writes a second, in
	// bursts of one second's worth: a write past it waits where it is
	// made, so that the disk's bandwidth, and the copying and collecting
	// of write buffers, are shared. Zero means 8 MiB/s; -1 no cap.
	AccountWriteRate int64
	// DiskReserve is the free disk space under which every write is
	// refused (507), so that the engine never meets a full disk. Zero
	// means 1 GiB, or 5% of a smaller disk.
	DiskReserve uint64
	// WebSockets caps the WebSockets open on the host, all objects
	// together; a config's [dohost] max_websockets lowers it. Zero means
	// the open-files limit less 2048 (DefaultMaxConns).
	WebSockets int
	// WebSocketBuffers caps the bytes of messages queued for WebSocket
	// clients and not yet written, all sockets together (a broadcast's
	// message counts once). Past it, ws_send and ws_broadcast fail with
	// OVERLOADED and a client that is behind is closed with 1013.
	WebSocketBuffers int64
	// StoreCache is the bytes of the storage engine's block cache, shared
	// by every account's reads (KV, object storage, listings, objects'
	// names at start). Zero means RAM/32, at most 1 GiB.
	StoreCache int64
}

// DefaultLimits returns the limits of a host with memTotal bytes of RAM
// (0: read /proc/meminfo, or assume 8 GiB) and maxObjects live objects:
// half the RAM for guests' own memory, a quarter for one account; a
// sixteenth, at most 1 GiB, for write buffers, half of it for one
// account's, and at most 256 MiB for bodies in memory; half the live objects for
// one account; 64 alarm handlers at once, 16 of one account, and 100
// alarm runs a second of one account; a thirty-second, at most 1 GiB, for
// the storage engine's block cache.
func DefaultLimits(memTotal int64, maxObjects int) Limits {
	if memTotal <= 0 {
		memTotal = physicalMemory()
	}
	buffers := min(memTotal/16, 1<<30)
	return Limits{
		GuestMemory: memTotal / 2, AccountGuestMemory: memTotal / 4,
		WriteBuffers: buffers, AccountWriteBuffers: buffers / 2,
		AccountObjects: max(1, maxObjects/2),
		Alarms:         64, AccountAlarms: 16, AccountAlarmRate: 100,
		Bodies: min(buffers, 256<<20), AccountWriteRate: 8 << 20,
		WebSockets: DefaultMaxConns(0), WebSocketBuffers: buffers,
		StoreCache: min(memTotal/32, 1<<30),
	}
}

// defaultAccountDisk is a quarter of the disk that holds dir (or of 64 GiB
// when it cannot be read).
func defaultAccountDisk(dir string) int64 {
	_, total, err := store.DiskSpace(dir)
	if err != nil || total == 0 {
		return 16 << 30
	}
	return int64(total / 4)
}

// withDefaults fills l's zero fields from d.
func (l Limits) withDefaults(d Limits) Limits {
	set := func(v *int64, def int64) {
		if *v == 0 {
			*v = def
		}
	}
	seti := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	set(&l.GuestMemory, d.GuestMemory)
	set(&l.AccountGuestMemory, d.AccountGuestMemory)
	set(&l.WriteBuffers, d.WriteBuffers)
	set(&l.AccountWriteBuffers, d.AccountWriteBuffers)
	seti(&l.AccountObjects, d.AccountObjects)
	seti(&l.Alarms, d.Alarms)
	seti(&l.AccountAlarms, d.AccountAlarms)
	seti(&l.AccountAlarmRate, d.AccountAlarmRate)
	set(&l.Bodies, d.Bodies)
	set(&l.AccountWriteRate, d.AccountWriteRate)
	seti(&l.WebSockets, d.WebSockets)
	set(&l.WebSocketBuffers, d.WebSocketBuffers)
	set(&l.StoreCache, d.StoreCache)
	return l
}

// quotaLimits turns l and the cap of live objects into the budgets' sizes.
func (l Limits) quotaLimits(maxObjects int) quota.Limits {
	return quota.Limits{
		Memory: l.GuestMemory, AccountMemory: l.AccountGuestMemory,
		Writes: l.WriteBuffers, AccountWrites: l.AccountWriteBuffers,
		Objects: int64(maxObjects), AccountObjects: int64(l.AccountObjects),
		Alarms: int64(l.Alarms), AccountAlarms: int64(l.AccountAlarms),
		Bodies: l.Bodies, AccountBodies: l.Bodies / 2,
		AccountDisk:      max(l.AccountDisk, 0),
		AccountWriteRate: max(l.AccountWriteRate, 0), AccountWriteBurst: max(l.AccountWriteRate, 0),
	}
}

// physicalMemory reads MemTotal from /proc/meminfo, or assumes 8 GiB.
func physicalMemory() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 8 << 30
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err == nil && kb > 0 {
				return kb << 10
			}
		}
	}
	return 8 << 30
}
