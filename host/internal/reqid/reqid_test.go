package reqid

import (
	"context"
	"testing"
)

func TestNew(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id := New()
		if len(id) != 16 || seen[id] {
			t.Fatalf("id %q: repeated or not 16 hex digits", id)
		}
		seen[id] = true
	}
	ctx := With(context.Background(), "abc")
	if From(ctx) != "abc" || From(context.Background()) != "" {
		t.Errorf("From: %q, %q", From(ctx), From(context.Background()))
	}
}
