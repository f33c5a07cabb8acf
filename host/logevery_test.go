package host

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/dohost/dohost/host/internal/lograte"
)

// TestWarnEvery: a line a client can repeat at will is written once per
// interval, and the next line written counts the ones that were not.
func TestWarnEvery(t *testing.T) {
	var b bytes.Buffer
	log := slog.New(slog.NewTextHandler(&b, nil))
	var e lograte.Every
	for i := 0; i < 1000; i++ {
		warnEvery(&e, time.Hour, log, "request refused", "request_id", i)
	}
	if n := strings.Count(b.String(), "request refused"); n != 1 {
		t.Fatalf("1000 refusals within the interval wrote %d lines, want 1:\n%s", n, b.String())
	}
	if !strings.Contains(b.String(), "request_id=0") {
		t.Errorf("the first refusal is not the one written: %s", b.String())
	}
	warnEvery(&e, 0, log, "request refused", "request_id", 1000) // an interval of 0 has passed

	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], "request_id=1000") || !strings.Contains(lines[1], "not_logged_since_last=999") {
		t.Errorf("after the interval: %q, want the 1001st refusal with not_logged_since_last=999", lines)
	}
}
