package host

import (
	"time"
)

// diskEvery is how often each account's stored bytes are estimated anew.
const diskEvery = time.Second

// watchDisk keeps every account's stored-bytes estimate fresh for its disk
// quota, until stop is closed.
func (s *Server) watchDisk(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(diskEvery)
	defer t.Stop()
	flushes := s.store.Flushes()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		f := s.store.Flushes()
		flushed := f != flushes
		flushes = f
		for _, tn := range s.quota.Tenants() {
			if tn.Disk.Limit() == 0 {
				continue
			}
			n, err := s.store.AccountUsage(tn.Account)
			if err != nil {
				s.log.Error("disk quota", "account", tn.Account, "err", err)
				continue
			}
			tn.Disk.SetEstimate(n, flushed)
		}
	}
}
