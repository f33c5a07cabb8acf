package sockets

import "sync"

// weighted is a semaphore of a number of units: acquire waits until the
// units it asks for are free. A request larger than the whole is granted
// alone.
type weighted struct {
	max int64

	mu      sync.Mutex
	cond    *sync.Cond
	used    int64 // guarded by mu
	waiting int64 // guarded by mu: acquires waiting
}

func newWeighted(max int64) *weighted {
	w := &weighted{max: max}
	w.cond = sync.NewCond(&w.mu)
	return w
}

// acquire takes n units, waiting until they are free.
func (w *weighted) acquire(n int64) {
	w.mu.Lock()
	if w.used > 0 && w.used+n > w.max {
		w.waiting++
		for w.used > 0 && w.used+n > w.max {
			w.cond.Wait()
		}
		w.waiting--
	}
	w.used += n
	w.mu.Unlock()
}

// state reports the units taken and the acquires waiting.
func (w *weighted) state() (used, waiting int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.used, w.waiting
}

// release gives back n units.
func (w *weighted) release(n int64) {
	w.mu.Lock()
	w.used -= n
	w.mu.Unlock()
	w.cond.Broadcast()
}
