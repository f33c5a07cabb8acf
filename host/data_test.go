package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dohost/dohost/host/internal/objects"
)

func TestData_KVAndObjects(t *testing.T) {
	ts, _ := startDeployProbe(t, Options{})
	ts.post(t, "a")
	ts.post(t, "a")
	ts.post(t, "b")

	// KV, by account and namespace id.
	if err := ts.KVPut("default", "ns1", "k1", []byte("v1")); err != nil {
		t.Fatal(err)
	}
	if err := ts.KVPut("default", "ns1", "k2", []byte("v2")); err != nil {
		t.Fatal(err)
	}
	if v, err := ts.KVGet("default", "ns1", "k1"); err != nil || string(v) != "v1" {
		t.Fatalf("get: %q %v", v, err)
	}
	if _, err := ts.KVGet("other", "ns1", "k1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another account's namespace: %v", err)
	}
	if p, err := ts.KVList("default", "ns1", "k", "", 1); err != nil || len(p.Keys) != 1 || p.Keys[0].Name != "k1" || p.Cursor == "" {
		t.Fatalf("list a page: %+v %v", p, err)
	}
	if err := ts.KVDelete("default", "ns1", "k1"); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.KVGet("default", "ns1", "k1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted: %v", err)
	}
	if err := ts.KVPut("default", "ns1", "", []byte("x")); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("empty key: %v", err)
	}

	// Objects: listed with their names; storage by name or ID.
	os, err := ts.Objects("default", "versioned", "Versioned", "", 0)
	if err != nil || len(os) != 2 {
		t.Fatalf("objects: %+v %v", os, err)
	}
	names := map[string]string{os[0].Name: os[0].ID, os[1].Name: os[1].ID}
	if names["a"] == "" || names["b"] == "" || !os[0].Live {
		t.Fatalf("objects: %+v", os)
	}
	for _, ref := range []string{"a", names["a"]} {
		es, more, err := ts.ObjectStorage("default", "versioned", "Versioned", ref, "", "", 0)
		if err != nil || more || len(es) != 1 || es[0].Key != "value" || string(es[0].Value) != "2" {
			t.Fatalf("storage of %s: %+v %v %v", ref, es, more, err)
		}
	}
	if _, err := ts.Objects("default", "versioned", "Nope", "", 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a class with no objects: %v", err)
	}

	// Deleting a live object: its next request starts it empty.
	if err := ts.DeleteObject(context.Background(), "default", "versioned", "Versioned", "a"); err != nil {
		t.Fatal(err)
	}
	if r := ts.post(t, "a"); r.Value != 1 || r.Calls != 1 {
		t.Fatalf("after deleting it: %+v, want a new, empty object", r)
	}
	if r := ts.post(t, "b"); r.Value != 2 {
		t.Fatalf("the other object: %+v", r)
	}
}

// TestBackup_UnderWriteLoad takes a backup while clients write, restores
// it into a new data directory, and finds there every write acknowledged
// before the backup began.
func TestBackup_UnderWriteLoad(t *testing.T) {
	ts, dir := startDeployProbe(t, Options{})
	const names = 4
	var acked [names]atomic.Int64 // the highest value each object acknowledged
	var total atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for c := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := http.Post(fmt.Sprintf("%s/obj?name=n%d", ts.URL, c), "text/plain", nil)
				if err != nil {
					t.Error(err)
					return
				}
				var r probeReply
				err = json.NewDecoder(resp.Body).Decode(&r)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 {
					t.Errorf("POST: %d %v", resp.StatusCode, err)
					return
				}
				acked[c].Store(r.Value)
				total.Add(1)
			}
		}()
	}
	for total.Load() < 50 { // the writers are going
		if t.Failed() {
			t.FailNow()
		}
		time.Sleep(time.Millisecond)
	}
	var before [names]int64
	for i := range before {
		before[i] = acked[i].Load()
	}
	backup := filepath.Join(dir, "backup")
	if err := ts.Backup(backup); err != nil {
		t.Fatal(err)
	}
	for n := total.Load(); total.Load() < n+50; { // writes go on after it
		time.Sleep(time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if err := ts.Backup(backup); !errors.Is(err, ErrBadRequest) {
		t.Errorf("a backup into an existing directory: %v", err)
	}
	if err := Restore(backup, filepath.Join(dir, "data")); !errors.Is(err, ErrDataDirInUse) {
		t.Errorf("a restore into the data directory the host holds: %v", err)
	}
	ts.stop(t)

	restored := filepath.Join(dir, "restored")
	if err := Restore(backup, restored); err != nil {
		t.Fatal(err)
	}
	ts = startServerOpts(t, Options{DataDir: restored}, filepath.Join(dir, "wrangler.toml"))
	for i := range names {
		resp, err := http.Get(fmt.Sprintf("%s/obj?name=n%d", ts.URL, i))
		if err != nil {
			t.Fatal(err)
		}
		var r probeReply
		_ = json.NewDecoder(resp.Body).Decode(&r)
		resp.Body.Close()
		if r.Value < before[i] || r.Value > acked[i].Load() {
			t.Errorf("object n%d restored with %d; acknowledged %d before the backup and %d in all", i, r.Value, before[i], acked[i].Load())
		}
	}
	t.Logf("acknowledged before the backup: %v; in all: %d writes", before, total.Load())
}

func TestOpen_DataDirectory(t *testing.T) {
	ts, dir := startDeployProbe(t, Options{})
	ts.post(t, "a")
	data := filepath.Join(dir, "data")
	if _, err := Open(data, nil); !errors.Is(err, ErrDataDirInUse) {
		t.Fatalf("open while a host holds it: %v", err)
	}
	ts.stop(t)
	s, err := Open(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	es, _, err := s.ObjectStorage("default", "versioned", "Versioned", "a", "", "", 0)
	if err != nil || len(es) != 1 || string(es[0].Value) != "1" {
		t.Fatalf("storage: %+v %v", es, err)
	}
	if err := s.DeleteObject(context.Background(), "default", "versioned", "Versioned", "a"); err != nil {
		t.Fatal(err)
	}
	if os, err := s.Objects("default", "versioned", "Versioned", "", 0); err != nil || len(os) != 0 {
		t.Fatalf("after the delete: %+v %v", os, err)
	}
}

func TestAdmin_Data(t *testing.T) {
	ts, _ := startDeployProbe(t, Options{})
	admin := httptest.NewServer(ts.AdminHandler(testTokens(t)))
	defer admin.Close()
	ts.post(t, "a")
	if st, body := adminCall(t, admin.URL, "PUT", "/v1/kv/default/ns1/values/greeting", opsToken, "", strings.NewReader("hello")); st != 200 {
		t.Fatalf("put: %d %s", st, body)
	}
	if st, body := adminCall(t, admin.URL, "GET", "/v1/kv/default/ns1/values/greeting", opsToken, "", nil); st != 200 || body != "hello" {
		t.Fatalf("get: %d %s", st, body)
	}
	if st, body := adminCall(t, admin.URL, "GET", "/v1/kv/default/ns1/values/missing", opsToken, "", nil); st != 404 {
		t.Fatalf("get a missing key: %d %s", st, body)
	}
	if st, body := adminCall(t, admin.URL, "GET", "/v1/kv/default/ns1/keys", opsToken, "", nil); st != 200 || !strings.Contains(body, `"greeting"`) {
		t.Fatalf("list: %d %s", st, body)
	}
	if st, body := adminCall(t, admin.URL, "GET", "/v1/kv/default/ns1/values/greeting", acmeToken, "", nil); st != 403 {
		t.Fatalf("a tenant reads another account's KV: %d %s", st, body)
	}
	if st, body := adminCall(t, admin.URL, "GET", "/v1/objects/default/versioned/Versioned", opsToken, "", nil); st != 200 || !strings.Contains(body, `"name": "a"`) {
		t.Fatalf("objects: %d %s", st, body)
	}
	if st, body := adminCall(t, admin.URL, "GET", "/v1/objects/default/versioned/Versioned/a/storage", acmeToken, "", nil); st != 403 {
		t.Fatalf("a tenant reads another account's object: %d %s", st, body)
	}
	if st, body := adminCall(t, admin.URL, "DELETE", "/v1/objects/default/versioned/Versioned/a", opsToken, "", nil); st != 200 {
		t.Fatalf("delete: %d %s", st, body)
	}
	if st, body := adminCall(t, admin.URL, "POST", "/v1/backup?dir=/tmp/x", acmeToken, "", nil); st != 403 {
		t.Fatalf("a tenant takes a backup: %d %s", st, body)
	}
	if st, body := adminCall(t, admin.URL, "POST", "/v1/backup?dir=relative", opsToken, "", nil); st != 400 {
		t.Fatalf("a backup to a relative path: %d %s", st, body)
	}
}

// TestDeleteObjectBusy: deleting an object whose turn a call holds for
// longer than the caller waits deletes nothing and fails as busy, which
// the admin API answers 409 with the reason: the host did not fail (it
// answered 500, "the host failed", when a looping alarm handler held
// the object's turn for the minute the delete waits).
func TestDeleteObjectBusy(t *testing.T) {
	ts := startProbe(t)
	ts.st(t, "b", "st/put?key=k&value=v", 200, nil)
	held := make(chan error, 1)
	go func() {
		resp, err := http.Get(ts.URL + "/obj/sleep?ms=3000&name=b")
		if err == nil {
			resp.Body.Close()
		}
		held <- err
	}()
	for { // until the sleeping call holds the object's turn
		d, err := ts.InspectObject("default", "probe", "Probe", "b")
		if err != nil {
			t.Fatal(err)
		}
		if d.Busy {
			break
		}
		runtime.Gosched()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := ts.DeleteObject(ctx, "default", "probe", "Probe", "b")
	if !errors.Is(err, objects.ErrBusy) {
		t.Fatalf("deleting an object whose turn is held: %v, want busy", err)
	}
	rec := httptest.NewRecorder()
	(&adminAPI{s: ts.Server}).answer(rec, nil, err)
	if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "held its turn") {
		t.Errorf("the admin API answers %d %s, want 409 and the reason", rec.Code, rec.Body)
	}
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	var v stValue
	ts.st(t, "b", "st/get?key=k", 200, &v)
	if !v.Found || v.Value != "v" {
		t.Errorf("after the refused delete: %+v, want the object as it was", v)
	}
	if d, err := ts.InspectObject("default", "probe", "Probe", "b"); err != nil || d.Busy {
		t.Errorf("after its calls: %+v, %v; want it not busy", d, err)
	}
}
