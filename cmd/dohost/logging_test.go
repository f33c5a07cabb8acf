package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"
	"time"
)

// TestDurationSeconds: JSON logs give durations in seconds.
func TestDurationSeconds(t *testing.T) {
	var b bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&b, &slog.HandlerOptions{ReplaceAttr: durationSeconds}))
	log.Info("x", "duration", 1500*time.Millisecond, "n", 3)
	var m map[string]any
	if err := json.Unmarshal(b.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if m["duration"] != 1.5 || m["n"] != 3.0 {
		t.Fatalf("logged %s", b.String())
	}
}
