package objects

// lru is a registry part's list of live objects, most recently used first,
// linked through the objects themselves, so that changing it never
// allocates: it changes under its registry part's lock, and an allocation
// there could have to help the garbage collector while every request of
// the part waits for the lock. Its zero value is an empty list.
// registryShard.mu guards it.
type lru struct {
	front, back *object
	n           int
}

// pushFront adds o, which is not in the list, at the front.
func (l *lru) pushFront(o *object) {
	o.lruPrev, o.lruNext, o.inLRU = nil, l.front, true
	if l.front != nil {
		l.front.lruPrev = o
	} else {
		l.back = o
	}
	l.front = o
	l.n++
}

// remove takes o, which is in the list, out.
func (l *lru) remove(o *object) {
	if o.lruPrev != nil {
		o.lruPrev.lruNext = o.lruNext
	} else {
		l.front = o.lruNext
	}
	if o.lruNext != nil {
		o.lruNext.lruPrev = o.lruPrev
	} else {
		l.back = o.lruPrev
	}
	o.lruPrev, o.lruNext, o.inLRU = nil, nil, false
	l.n--
}

// moveToFront makes o, which is in the list, the most recently used.
func (l *lru) moveToFront(o *object) {
	if l.front != o {
		l.remove(o)
		l.pushFront(o)
	}
}
