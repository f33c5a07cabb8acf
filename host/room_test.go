package host

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"sort"
	"sync"
	"testing"
)

type roomReply struct {
	Room         string  `json:"room"`
	PreviousRoom *string `json:"previousRoom"`
	Requests     int     `json:"requests"`
}

// roomGuests runs f for each implementation of the seed example: the Go
// guest and the one written in WebAssembly text.
func roomGuests(t *testing.T, f func(t *testing.T, wasm string)) {
	t.Run("go", func(t *testing.T) { f(t, guestWasm(t, "guests/examples/room")) })
	t.Run("wat", func(t *testing.T) { f(t, roomWAT()) })
}

func roomWAT() string {
	return filepath.Join(repoRoot(), "guests", "examples", "room-wat", "room-wat.wasm")
}

func TestRoom_Seed(t *testing.T) { roomGuests(t, testRoomSeed) }

func testRoomSeed(t *testing.T, wasm string) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, wasm, roomConfig)
	ts := startServer(t, dir+"/data", cfg)

	status, body := ts.get(t, "/?roomId=lobby")
	if want := `{"room":"lobby","previousRoom":null,"requests":1}`; status != 200 || body != want {
		t.Fatalf("first request: got %d %s, want 200 %s", status, body, want)
	}
	steps := []struct {
		room, prev string
		requests   int
	}{
		{"kitchen", "lobby", 1},
		{"lobby", "kitchen", 2},
		{"lobby", "lobby", 3},
		{"attic", "lobby", 1},
	}
	for _, s := range steps {
		var r roomReply
		ts.getJSON(t, "/?roomId="+s.room, 200, &r)
		if r.Room != s.room || r.PreviousRoom == nil || *r.PreviousRoom != s.prev || r.Requests != s.requests {
			t.Errorf("room %s: got %+v (prev %v), want previousRoom %q requests %d", s.room, r, deref(r.PreviousRoom), s.prev, s.requests)
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return "<null>"
	}
	return *s
}

func TestRoom_MissingRoomID(t *testing.T) { roomGuests(t, testRoomMissingRoomID) }

func testRoomMissingRoomID(t *testing.T, wasm string) {
	dir := t.TempDir()
	ts := startServer(t, dir+"/data", writeConfig(t, dir, wasm, roomConfig))
	resp, err := http.Get(ts.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("status %d, want 400", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var e struct{ Error string }
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || e.Error == "" {
		t.Errorf("body is not a JSON error: %v %+v", err, e)
	}
}

// TestRoom_Restart: KV survives a restart on the same data dir; the
// in-memory counter starts over.
func TestRoom_Restart(t *testing.T) { roomGuests(t, testRoomRestart) }

func testRoomRestart(t *testing.T, wasm string) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, wasm, roomConfig)
	ts := startServer(t, dir+"/data", cfg)
	var r roomReply
	ts.getJSON(t, "/?roomId=lobby", 200, &r)
	ts.getJSON(t, "/?roomId=lobby", 200, &r)
	ts.getJSON(t, "/?roomId=cellar", 200, &r)
	if r.Requests != 1 {
		t.Fatalf("cellar before restart: %+v", r)
	}
	ts.stop(t)

	ts2 := startServer(t, dir+"/data", cfg)
	ts2.getJSON(t, "/?roomId=lobby", 200, &r)
	if r.PreviousRoom == nil || *r.PreviousRoom != "cellar" {
		t.Errorf("after restart: previousRoom %s, want cellar (KV must survive)", deref(r.PreviousRoom))
	}
	if r.Requests != 1 {
		t.Errorf("after restart: requests %d, want 1 (in-memory counter starts over)", r.Requests)
	}
}

// TestRoom_OneInstancePerID_hammer sends many concurrent requests to a few
// rooms: each room must have exactly one instance, so its counter values
// are exactly 1..n, each seen once.
func TestRoom_OneInstancePerID_hammer(t *testing.T) { roomGuests(t, testRoomOneInstancePerID) }

func testRoomOneInstancePerID(t *testing.T, wasm string) {
	dir := t.TempDir()
	ts := startServer(t, dir+"/data", writeConfig(t, dir, wasm, roomConfig))
	const rooms, perRoom, workers = 5, 60, 32
	type result struct {
		room string
		n    int
	}
	jobs := make(chan string)
	results := make(chan result, rooms*perRoom)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for room := range jobs {
				var r roomReply
				ts.getJSON(t, "/?roomId="+room, 200, &r)
				results <- result{room, r.Requests}
			}
		}()
	}
	for i := 0; i < perRoom; i++ {
		for r := 0; r < rooms; r++ {
			jobs <- fmt.Sprintf("room-%d", r)
		}
	}
	close(jobs)
	wg.Wait()
	close(results)
	seen := map[string][]int{}
	for r := range results {
		seen[r.room] = append(seen[r.room], r.n)
	}
	for room, ns := range seen {
		sort.Ints(ns)
		for i, n := range ns {
			if n != i+1 {
				t.Fatalf("%s: counters %v: want exactly 1..%d (one instance, one request at a time)", room, ns, perRoom)
			}
		}
	}
	if got := ts.Stats().ObjectsStarted; got != rooms {
		t.Errorf("objects started: %d, want %d", got, rooms)
	}
}

// TestRoom_SameAnswers: the Go and the WAT room answer a sequence of
// requests (with characters to decode and escape) byte for byte alike.
func TestRoom_SameAnswers(t *testing.T) {
	paths := []string{"/?roomId=lobby", "/?x=1&roomId=a+b", "/?roomId=%22quoted%22", "/?roomId=back%5Cslash&y",
		"/?roomId=tab%09", "/?roomId=lobby", "/?roomId=per%25cent#frag", "/?roomIdx=no", "/?roomId=", "/"}
	var answers [2][]string
	for i, wasm := range []string{guestWasm(t, "guests/examples/room"), roomWAT()} {
		dir := t.TempDir()
		ts := startServer(t, dir+"/data", writeConfig(t, dir, wasm, roomConfig))
		for _, p := range paths {
			status, body := ts.get(t, p)
			answers[i] = append(answers[i], fmt.Sprintf("%d %s", status, body))
		}
	}
	for i, p := range paths {
		if answers[0][i] != answers[1][i] {
			t.Errorf("%s: go %s, wat %s", p, answers[0][i], answers[1][i])
		}
	}
}
