package host

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime/debug"
	"runtime/trace"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dohost/dohost/abi"
	"github.com/dohost/dohost/host/internal/guest"
	"github.com/dohost/dohost/host/internal/offheap"
	"github.com/dohost/dohost/host/internal/quota"
	"github.com/dohost/dohost/host/internal/reqid"
	"github.com/dohost/dohost/host/internal/sockets"
	"github.com/dohost/dohost/host/internal/store"
)

// The HTTP front: it turns an HTTP request into an abi.Request, runs the
// routed worker's fetch handler in a pooled instance, and writes the
// handler's response, or a short error with the request's id. The
// operator's log gets everything the client does not: the guest's message,
// its stack, and the object's name and ID where an object failed.

// RequestIDHeader names the response header that carries the request id
// of an error response; the log lines about the request carry it too.
const RequestIDHeader = "X-Request-Id"

// ServeHTTP runs the request through the worker it is routed to.
func (s *Server) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	start := time.Now()
	w := &statusWriter{ResponseWriter: rw}
	wk, id := s.pick(r), reqid.New()
	if trace.IsEnabled() {
		// An execution trace (--debug-addr's /debug/pprof/trace) shows
		// each request as a task, with its account and worker.
		ctx, task := trace.NewTask(r.Context(), "request")
		defer task.End()
		if wk != nil {
			trace.Log(ctx, "account", wk.cfg.AccountID)
			trace.Log(ctx, "worker", wk.cfg.Name)
		}
		r = r.WithContext(ctx)
	}
	defer func() {
		if wk != nil {
			wk.release()
		}
		d, label := time.Since(start), workerLabel(wk)
		s.metrics.observe(label, w.status, d)
		if s.opts.AccessLog {
			// The client has its answer before the line is made: the
			// log's formatting and lock are not the client's to wait for.
			w.flush()
			s.log.Info("request", "request_id", id, "worker", label, "method", r.Method, "path", r.URL.Path,
				"status", w.status, "duration", d, "remote", r.RemoteAddr)
		}
	}()
	defer s.recoverRequest(w, r, wk, id)
	if msg := s.serve(w, r, wk, id); msg != "" {
		// Refused for load: answered once serve has given back what the
		// request held (its body's memory, its count as waiting work).
		s.pauseRefusal(r.Context())
		s.fail(w, id, http.StatusServiceUnavailable, msg)
	}
}

// serve runs r through wk, its worker (nil: none is routed), and writes
// the answer, or returns the message of a refusal for load (a 503: every
// Worker instance busy, an object's queue full, a budget of the account's
// or the host's spent), which ServeHTTP answers after the refusal pause.
func (s *Server) serve(w *statusWriter, r *http.Request, wk *worker, id string) (refused string) {
	if wk == nil {
		s.fail(w, id, http.StatusNotFound, fmt.Sprintf("no worker is routed for %s%s", r.Host, r.URL.Path))
		return
	}
	if wk.loadErr != nil {
		wk.log.Warn("request to a worker that failed to load", "request_id", id, "err", wk.loadErr)
		s.fail(w, id, http.StatusServiceUnavailable, "the worker failed to start")
		return
	}
	// The guest's work must not be cut short by a client that goes away:
	// that would close an object's instance mid-request.
	ctx := reqid.With(context.WithoutCancel(r.Context()), id)
	// A WebSocket upgrade travels with the request to the object that
	// accepts it (ws_accept); a socket accepted for a request whose answer
	// is not 101 is dropped.
	var up *sockets.Upgrade
	if sockets.IsUpgrade(r) {
		ctx, up = sockets.WithUpgrade(ctx)
		defer up.Abandon()
	}

	enc, release, status, msg := s.readRequest(w, r, wk)
	defer release()
	if status == http.StatusServiceUnavailable { // the budget of bodies
		return msg
	}
	if status != 0 {
		s.fail(w, id, status, msg)
		return
	}
	// The request counts as waiting work (which throttles long guest calls)
	// only now that its body is here: a client that trickles a body costs
	// the other tenants nothing.
	s.load.Begin(wk.module.CPU())
	defer s.load.End(wk.module.CPU())
	s.load.AwaitShare(wk.module.CPU())

	if !s.load.Enter() {
		s.fail(w, id, http.StatusServiceUnavailable, "the host is shutting down")
		return
	}
	defer s.load.Exit()
	inst, err := wk.pool.Get(ctx)
	if errors.Is(err, guest.ErrStopping) {
		s.fail(w, id, http.StatusServiceUnavailable, "the host is shutting down")
		return
	}
	if errors.Is(err, guest.ErrPoolBusy) {
		warnEvery(&wk.refused, refusalLogEvery, wk.log, "request refused: every Worker instance is busy", "request_id", id, "err", err)
		return "the worker is busy; try again later"
	}
	if err != nil {
		wk.log.Error("no worker instance", "request_id", id, "err", err)
		const noStart = "the worker could not start"
		if errors.Is(err, quota.ErrExhausted) { // guest memory: the account's, or the host's
			return noStart
		}
		s.fail(w, id, http.StatusServiceUnavailable, noStart)
		return
	}
	c := guest.NewCall()
	defer c.Free()
	c.Kind, c.Txn, c.Writes, c.Env, c.Log = guest.WorkerFetch, s.store.NewTxn(), wk.module.NewWrites(), wk.env, wk.log
	err = inst.Run(ctx, c, enc)
	// The guest has read the request: its memory goes back before the
	// answer is written, which a slow client may take long to read.
	release()
	wk.pool.Done(ctx, inst, guest.IsTrap(err))
	switch {
	case err == nil:
	case errors.Is(err, guest.ErrStopping):
		s.fail(w, id, http.StatusServiceUnavailable, "the host is shutting down")
		return
	case errors.Is(err, store.ErrDiskFull) || s.store.DiskFull() || wk.tenant.Disk.Over():
		// The Worker's writes, or an object's, found no room: the disk's
		// reserve, or the account's quota.
		wk.log.Warn("worker handler failed: no room to store its writes", "request_id", id, "err", err,
			"disk_full", s.store.DiskFull(), "account_stored_bytes", wk.tenant.Disk.Used())
		s.fail(w, id, http.StatusInsufficientStorage, "there is no room to store the writes")
		return
	case errors.Is(err, guest.ErrCommit):
		wk.log.Error("commit failed", "request_id", id, "err", err)
		s.fail(w, id, http.StatusInternalServerError, "the worker's writes could not be stored")
		return
	case c.Overloaded:
		// The Worker failed after an object it called was overloaded, or
		// the memory for bodies had no room for its response or its stub
		// request: the client should come back later.
		wk.log.Warn("worker handler failed: overloaded (an object's queue, or the memory for bodies)", "request_id", id, "err", err)
		return "the host is busy; try again later"
	default:
		msg := "worker handler failed"
		if cause := guest.TrapCause(err); cause != "" {
			msg = "worker handler trapped; instance replaced"
			s.metrics.traps.WithLabelValues(workerLabel(wk), cause).Inc()
		}
		wk.log.Warn(msg, "request_id", id, "err", err)
		s.fail(w, id, http.StatusInternalServerError, "the worker failed to handle the request")
		return
	}
	resp, err := abi.DecodeResponse(c.Response)
	if err != nil { // respond checked it; this is a host bug
		wk.log.Error("bad response record", "request_id", id, "err", err)
		s.fail(w, id, http.StatusInternalServerError, "the worker's response could not be read")
		return
	}
	if resp.Status == http.StatusSwitchingProtocols {
		s.switchProtocols(w, r, wk, id, up)
		return
	}
	writeResponse(w, resp, r.Method == http.MethodHead)
	return ""
}

// pauseRefusal holds a refused request's answer for the server's
// RefusalPause, or until its client goes or the host stops. A client that
// retries at once, as a load generator or a careless script does, would
// otherwise turn its refusals into a flood: a worker whose instances all
// loop answered 4,400 refusals a second to eight such clients, and the
// host's CPU for them was taken from every other tenant's requests. The
// request holds nothing while it waits but its connection and goroutine,
// which it held anyway.
func (s *Server) pauseRefusal(ctx context.Context) {
	if s.opts.onRefusalPause != nil {
		s.opts.onRefusalPause()
	}
	if s.opts.RefusalPause <= 0 {
		return
	}
	t := time.NewTimer(s.opts.RefusalPause)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	case <-s.load.Stopping():
	}
}

// recoverRequest, deferred by ServeHTTP, contains a panic in the host's
// handling of a request (a host bug: a guest's panics and traps are
// errors): the operator's log gets the panic and its stack under the
// request's id, and the client a 500 with the id — or, if the response
// had begun, a dropped connection (http.ErrAbortHandler), as net/http does
// for any panic. The handler's other deferred calls have run by then: the
// request's share of the body budgets is back, its load counts are down.
func (s *Server) recoverRequest(w *statusWriter, r *http.Request, wk *worker, id string) {
	p := recover()
	if p == nil {
		return
	}
	if p == http.ErrAbortHandler {
		panic(p)
	}
	s.log.Error("panic serving a request: a host bug", "request_id", id, "worker", workerLabel(wk),
		"method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
	if w.status != 0 { // the response is under way, or the connection hijacked
		panic(http.ErrAbortHandler)
	}
	w.Header().Set("Connection", "close") // the request's body may be unread
	s.fail(w, id, http.StatusInternalServerError, "the host failed to handle the request")
}

// switchProtocols completes a WebSocket upgrade the Worker answered 101:
// the socket an object accepted gets the client's connection.
func (s *Server) switchProtocols(w http.ResponseWriter, r *http.Request, wk *worker, id string, up *sockets.Upgrade) {
	if up == nil || !up.Claimed() {
		wk.log.Warn("the worker answered 101 but no object accepted a WebSocket (ws_accept) for the request", "request_id", id)
		s.fail(w, id, http.StatusInternalServerError, "the worker failed to handle the request")
		return
	}
	if err := s.sockets.Complete(w, r, up); err != nil {
		wk.log.Info("WebSocket upgrade failed", "request_id", id, "err", err)
	}
}

// recordSize is what r's record holds besides its body: the method, the
// URL and the headers, with their lengths.
func recordSize(r *http.Request) int64 {
	n := int64(64 + len(r.Method) + len(r.Host) + len(r.URL.RequestURI()))
	for k, vs := range r.Header {
		for _, v := range vs {
			n += int64(len(k) + len(v) + 8)
		}
	}
	return n
}

// readRequest reads r's body, within the worker's max_request_bytes and
// the server's body timeout, straight into r's encoded Request record. The
// memory it takes is held from the account's and the host's budgets of
// request bodies first: past either the request is refused (503),
// its body unread. It
// returns the record and the function that gives its memory back (the
// first call does; later ones do nothing), or an HTTP status and a
// message for the client.
func (s *Server) readRequest(w http.ResponseWriter, r *http.Request, wk *worker) (enc []byte, release func(), status int, msg string) {
	limit := wk.cfg.Limits.RequestBody
	n := r.ContentLength
	if n > limit {
		w.Header().Set("Connection", "close")
		return nil, func() {}, http.StatusRequestEntityTooLarge, fmt.Sprintf("the request body is over the limit of %d bytes", limit)
	}
	size := n
	if size < 0 { // chunked: as much as it may be
		size = limit
	}
	bodies := wk.tenant.Bodies
	held := size + recordSize(r)
	if err := bodies.Take(held); err != nil {
		warnEvery(&wk.noBody, refusalLogEvery, wk.log, "request refused: bodies fill their memory budget", "err", err)
		// The body stays unread: close the connection rather than read
		// and drop it.
		w.Header().Set("Connection", "close")
		return nil, func() {}, http.StatusServiceUnavailable, "the host is busy; try again later"
	}
	// A large body goes into a buffer outside Go's heap (package offheap:
	// the collector would charge its growth to every other tenant's
	// requests), unmapped when the caller releases the record.
	var mapped []byte
	free := func() {
		if held == 0 { // given back already
			return
		}
		offheap.Free(mapped)
		bodies.Give(held)
		mapped, held = nil, 0
	}
	release = free
	defer func() {
		// A panic reading the body (recoverRequest answers it) must not
		// keep the account's share: the caller never gets release.
		if p := recover(); p != nil {
			free()
			panic(p)
		}
	}()
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(s.opts.BodyTimeout))
	defer func() { _ = rc.SetReadDeadline(time.Time{}) }()
	req := toABIRequest(r, nil)
	if n >= 0 {
		if headRoom+n >= offheap.MinSize {
			head := abi.AppendRequestHead(nil, req, int(n))
			if mapped = offheap.Alloc(len(head) + int(n)); mapped != nil {
				enc = mapped[:copy(mapped, head)]
			}
		}
		if enc == nil {
			enc = abi.AppendRequestHead(make([]byte, 0, headRoom+n), req, int(n))
		}
		head := len(enc)
		// Headers past the room reserved grew the record without the
		// body's room (a mapping has it exactly: no copy).
		enc = slices.Grow(enc, int(n))[:head+int(n)]
		if _, err := io.ReadFull(r.Body, enc[head:]); err != nil {
			return nil, release, http.StatusBadRequest, "the request body could not be read"
		}
		return enc, release, 0, ""
	}
	body := http.MaxBytesReader(w, r.Body, limit)
	if headRoom+limit >= offheap.MinSize {
		// Chunked: the record's head with a length to fill in, then room
		// for the largest body allowed (pages are used as they are
		// written) and a byte more, which the limit's error comes first.
		head := abi.AppendRequestHead(nil, req, 0)
		if mapped = offheap.Alloc(len(head) + int(limit) + 1); mapped != nil {
			copy(mapped, head)
			m, err := readAll(body, mapped[len(head):])
			if err != nil {
				status, msg = bodyError(err, limit)
				return nil, release, status, msg
			}
			binary.LittleEndian.PutUint32(mapped[len(head)-4:], uint32(m))
			return mapped[:len(head)+m], release, 0, ""
		}
	}
	b, err := io.ReadAll(body)
	if err != nil {
		status, msg = bodyError(err, limit)
		return nil, release, status, msg
	}
	req.Body = b
	return abi.AppendRequest(make([]byte, 0, headRoom+len(b)), req), release, 0, ""
}

// headRoom is what a request record reserves for its head (method, URL,
// headers) beside the body: most heads fit; a larger one grows the record.
const headRoom = 256

// readAll reads r into buf until EOF, and returns how much it read; a
// body that fills buf is over the limit.
func readAll(r io.Reader, buf []byte) (int, error) {
	m := 0
	for {
		k, err := r.Read(buf[m:])
		m += k
		switch {
		case err == io.EOF:
			return m, nil
		case err != nil:
			return m, err
		case m == len(buf):
			return m, &http.MaxBytesError{Limit: int64(len(buf) - 1)}
		}
	}
}

// bodyError is the status and message for a body that could not be read.
func bodyError(err error, limit int64) (int, string) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("the request body is over the limit of %d bytes", limit)
	}
	return http.StatusBadRequest, "the request body could not be read"
}

// toABIRequest makes the Request record of r: its method, its absolute
// URL, its headers with lower-case names (as the Fetch API shows them),
// sorted by name and, for a repeated name, in the order they came, plus
// host and cf-connecting-ip (the client's address, as on Workers; a value
// the client sent is replaced).
func toABIRequest(r *http.Request, body []byte) *abi.Request {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	req := &abi.Request{Method: r.Method, URL: validUTF8(scheme + "://" + r.Host + r.URL.RequestURI()), Body: body}
	type field struct{ lower, name string }
	fields := make([]field, 0, len(r.Header))
	n := 2
	for name, vs := range r.Header {
		fields = append(fields, field{strings.ToLower(name), name})
		n += len(vs)
	}
	sort.Slice(fields, func(i, j int) bool { return fields[i].lower < fields[j].lower })
	req.Headers = make([]abi.Header, 0, n)
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	extra := []abi.Header{{Name: "cf-connecting-ip", Value: ip}, {Name: "host", Value: validUTF8(r.Host)}}
	for _, f := range fields {
		for len(extra) > 0 && extra[0].Name < f.lower {
			req.Headers = append(req.Headers, extra[0])
			extra = extra[1:]
		}
		if f.lower == "cf-connecting-ip" || f.lower == "host" {
			continue
		}
		for _, v := range r.Header[f.name] {
			req.Headers = append(req.Headers, abi.Header{Name: f.lower, Value: validUTF8(v)})
		}
	}
	req.Headers = append(req.Headers, extra...)
	return req
}

// validUTF8 is s with each run of bytes that are not UTF-8 replaced by
// U+FFFD: HTTP lets a client send such bytes in a header value (and the
// query), and the ABI's strings are UTF-8, so that a guest in any language
// sees the same string (ABI.md §5).
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// writeResponse writes a guest's response. Header names go out in HTTP/1.1's
// canonical form (names are case-insensitive); the headers that frame the
// connection are the server's to set and are dropped. The body's length is
// known, and is sent as Content-Length: a body past net/http's 2 KiB
// buffer is not chunked, and the response can be flushed whole. An
// answer to HEAD without a body says no length (the GET's is not known).
func writeResponse(w http.ResponseWriter, resp *abi.Response, head bool) {
	h := w.Header()
	for _, f := range resp.Headers {
		switch strings.ToLower(f.Name) {
		case "content-length", "connection", "transfer-encoding", "keep-alive", "upgrade", "trailer":
			continue
		}
		h.Add(f.Name, f.Value)
	}
	if !head || len(resp.Body) > 0 {
		setLength(h, resp.Status, len(resp.Body))
	}
	w.WriteHeader(resp.Status)
	_, _ = w.Write(resp.Body)
}

// fail writes a short error: the status, a message that reveals nothing of
// the guest, and the request's id, which the log lines about it carry.
func (s *Server) fail(w http.ResponseWriter, id string, status int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set(RequestIDHeader, id)
	if status == http.StatusServiceUnavailable {
		h.Set("Retry-After", "1")
	}
	body := "dohost: " + msg + " (request id " + id + ")\n"
	setLength(h, status, len(body))
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// setLength sets the Content-Length of a response of status whose body is n
// bytes, where the status allows a body (not 1xx, 204 or 304).
func setLength(h http.Header, status, n int) {
	if status < 200 || status == http.StatusNoContent || status == http.StatusNotModified {
		return
	}
	h.Set("Content-Length", strconv.Itoa(n))
}
