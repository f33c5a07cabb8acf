package host

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestWorkerLog_AccountRate: an account whose objects fail 5,000 times at
// once gets its burst of lines and one line saying how many were dropped;
// another account's line, and a second worker's of the same account once
// the rate has refilled, still go through; every line names its account
// and worker.
func TestWorkerLog_AccountRate(t *testing.T) {
	var out testLogger
	s := &Server{log: slog.New(slog.NewTextHandler(&out, nil))}
	evil := s.workerLog("evil", "chain").With("class", "Hostile")
	t0 := time.Now() // the buckets start full now
	logAt := func(l *slog.Logger, at time.Time, msg string) {
		r := slog.NewRecord(at, slog.LevelWarn, msg, 0)
		if err := l.Handler().Handle(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 5000; i++ {
		logAt(evil, t0, "object fetch handler failed")
	}
	logAt(s.workerLog("victim", "room"), t0, "victim line")
	logAt(s.workerLog("evil", "other"), t0.Add(time.Second), "evil's other worker")

	text := out.String()
	if n := strings.Count(text, "object fetch handler failed"); n != AccountLogBurst {
		t.Errorf("%d of 5,000 failures logged at once, want the burst of %d", n, AccountLogBurst)
	}
	if !strings.Contains(text, `msg="object fetch handler failed" account=evil worker=chain class=Hostile`) {
		t.Errorf("a failure's line lacks its account, worker or class:\n%.300s", text)
	}
	if !strings.Contains(text, `msg="victim line" account=victim worker=room`) {
		t.Error("another account's line was dropped")
	}
	if !strings.Contains(text, `msg="evil's other worker" account=evil worker=other`) {
		t.Errorf("the account's line a second later was dropped:\n%s", lastLines(text, 3))
	}
	// The first failure held back is reported at once, the rest a second
	// later, with the next line let through.
	reports := 0
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, "log lines about the account dropped") {
			reports++
			if !strings.Contains(line, "account=evil dropped=") || strings.Contains(line, "worker=") {
				t.Errorf("report line %q: want the account alone and the count", line)
			}
		}
	}
	if reports != 2 || !strings.Contains(text, "dropped=1 ") || !strings.Contains(text, "dropped=2999 ") {
		t.Errorf("%d report lines, want two: dropped=1, then dropped=2999:\n%s", reports, lastLines(text, 4))
	}
}

// lastLines returns the last n lines of text.
func lastLines(text string, n int) string {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// TestWorkerLog_PendingAttrs: attributes given to an object's logger are
// applied when it first writes, in the order given and before the
// record's own, also under a group and from goroutines writing at once.
func TestWorkerLog_PendingAttrs(t *testing.T) {
	var out testLogger
	s := &Server{log: slog.New(slog.NewTextHandler(&out, nil))}
	obj := s.workerLog("acct", "w").With("class", "C").With("object", "id1")
	done := make(chan struct{})
	for i := 0; i < 8; i++ {
		go func() {
			obj.Info("at once", "k", 1)
			done <- struct{}{}
		}()
	}
	for i := 0; i < 8; i++ {
		<-done
	}
	obj.WithGroup("g").Info("grouped", "k", 2)
	text := out.String()
	if n := strings.Count(text, `msg="at once" account=acct worker=w class=C object=id1 k=1`); n != 8 {
		t.Errorf("%d of 8 lines with every attribute in order:\n%s", n, text)
	}
	if !strings.Contains(text, `msg=grouped account=acct worker=w class=C object=id1 g.k=2`) {
		t.Errorf("the grouped line lacks its attributes or group:\n%s", text)
	}
}
