package guest

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// TestLogWriter_KeepFirst: a writer asked to keep its first bytes keeps
// the first lines, whole or cut at the bound, and the incomplete line if
// it fits, while every line still goes to the log.
func TestLogWriter_KeepFirst(t *testing.T) {
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logged, nil))
	w := newLogWriter(log, newLogLimiter(log), "stderr")
	w.keepFirst(24)
	_, _ = w.Write([]byte("first line\nsecond line\nthird line\npart"))
	if got := w.kept(); got != "first line\nsecond line\nt" {
		t.Errorf("kept %q, want the lines cut at 24 bytes", got)
	}
	if !strings.Contains(logged.String(), "third line") {
		t.Errorf("the log lacks a line past the kept ones:\n%s", logged.String())
	}
	w = newLogWriter(log, newLogLimiter(log), "stderr")
	w.keepFirst(100)
	_, _ = w.Write([]byte("only\nand a part"))
	if got := w.kept(); got != "only\nand a part" {
		t.Errorf("kept %q, want the line and the incomplete one", got)
	}
	if w := newLogWriter(log, newLogLimiter(log), "stderr"); w.kept() != "" {
		t.Error("a writer not asked to keep kept something")
	}
}
