package host

import "sync/atomic"

// Stats are counters of a Server's activity since it started.
type Stats struct {
	ObjectsStarted  int64 // object instances created (constructor run)
	ObjectsLive     int64 // object instances alive now
	ObjectsFailed   int64 // object instances replaced after a trap or timeout
	ObjectsEvicted  int64 // object instances closed because they were idle or over the cap
	ObjectsTrimmed  int64 // idle object instances trimmed (shared pages and call stacks released)
	WorkerInstances int64 // Worker instances created
	AlarmsRun       int64 // alarm handler runs
	AlarmsFailed    int64 // alarm handler runs that failed (and were retried or dropped)
	AlarmsPending   int64 // alarms scheduled now
}

type stats struct {
	objectsStarted, objectsLive, objectsFailed, workerInstances atomic.Int64
	objectsEvicted, objectsTrimmed                              atomic.Int64
	alarmsRun, alarmsFailed                                     atomic.Int64
}

// Stats returns a snapshot of the server's counters.
func (s *Server) Stats() Stats {
	return Stats{
		ObjectsStarted:  s.stats.objectsStarted.Load(),
		ObjectsLive:     s.stats.objectsLive.Load(),
		ObjectsFailed:   s.stats.objectsFailed.Load(),
		ObjectsEvicted:  s.stats.objectsEvicted.Load(),
		ObjectsTrimmed:  s.stats.objectsTrimmed.Load(),
		WorkerInstances: s.stats.workerInstances.Load(),
		AlarmsRun:       s.stats.alarmsRun.Load(),
		AlarmsFailed:    s.stats.alarmsFailed.Load(),
		AlarmsPending:   int64(s.alarms.pending()),
	}
}
