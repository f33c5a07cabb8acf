package host

import (
	"bufio"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dohost/dohost/abi"
	"github.com/dohost/dohost/host/internal/guest"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// The host's Prometheus metrics: HTTP requests and their latency by worker
// (observed at the front), and the counters of Stats (objects, alarms,
// Worker instances, WebSockets), read once a scrape. AdminHandler serves
// them with /healthz and /readyz.

// promMetrics holds the registry and the front's request metrics.
type promMetrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	calls    *prometheus.CounterVec   // object handler runs by class, handler and result
	callTime *prometheus.HistogramVec // their duration by class and handler
	starts   *prometheus.HistogramVec // instance starts by class
	traps    *prometheus.CounterVec   // traps by class (or worker) and cause
	deploys  *prometheus.CounterVec   // deploys by result
	commits  prometheus.Histogram     // synced commits' duration
	commitSz prometheus.Histogram     // and size

	// handlers are the series by class and handler: a map never changed
	// once stored, replaced whole under handlersMu when a pair is new, so
	// that a lookup writes to no memory the other cores read (a read lock
	// would, on every handler run).
	handlersMu sync.Mutex
	handlers   atomic.Pointer[map[[2]string]*handlerMetrics]
}

// handlerMetrics are one class's handler's series that nearly every run
// counts in, looked up once rather than by label values each run.
type handlerMetrics struct {
	ok   prometheus.Counter  // calls, result ok
	time prometheus.Observer // callTime
}

// handler returns the series of class's handler.
func (m *promMetrics) handler(class, handler string) *handlerMetrics {
	k := [2]string{class, handler}
	if hs := m.handlers.Load(); hs != nil {
		if h := (*hs)[k]; h != nil {
			return h
		}
	}
	m.handlersMu.Lock()
	defer m.handlersMu.Unlock()
	var old map[[2]string]*handlerMetrics
	if hs := m.handlers.Load(); hs != nil {
		old = *hs
	}
	if h := old[k]; h != nil {
		return h
	}
	h := &handlerMetrics{ok: m.calls.WithLabelValues(class, handler, "ok"), time: m.callTime.WithLabelValues(class, handler)}
	hs := make(map[[2]string]*handlerMetrics, len(old)+1)
	maps.Copy(hs, old)
	hs[k] = h
	m.handlers.Store(&hs)
	return h
}

// buckets are the latency buckets, in seconds.
var buckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

func newMetrics(s *Server) *promMetrics {
	m := &promMetrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dohost_http_requests_total",
			Help: "HTTP requests answered, by worker (account/name; none: no route) and status code.",
		}, []string{"worker", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "dohost_http_request_duration_seconds",
			Help:    "Time from a request's headers to its response's end, by worker.",
			Buckets: buckets,
		}, []string{"worker"}),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dohost_object_calls_total",
			Help: "Object handler runs, by class (account/worker/class), handler (fetch, alarm, ws_message…) and result (ok, failed, trapped, overloaded, timeout, internal…).",
		}, []string{"class", "handler", "result"}),
		callTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "dohost_object_call_duration_seconds",
			Help:    "Object handler runs from their turn to their end (an instance start included), by class and handler.",
			Buckets: buckets,
		}, []string{"class", "handler"}),
		starts: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "dohost_object_start_duration_seconds",
			Help:    "Object instance starts: instantiation and constructor, by class.",
			Buckets: buckets,
		}, []string{"class"}),
	}
	m.traps = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "dohost_traps_total",
		Help: "Guest traps, by class (account/worker/class, or account/worker for a Worker's fetch handler) and cause (timeout, stack, memory_access, unreachable, arithmetic, table, exit, stopping, canceled, other).",
	}, []string{"class", "cause"})
	m.deploys = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "dohost_deploys_total",
		Help: "Deploys, rollbacks, secret changes and removals through the host, by result (ok, refused, failed).",
	}, []string{"result"})
	m.commits = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "dohost_commit_duration_seconds",
		Help:    "Synced commits of a request's or a handler's writes (batches; concurrent ones share an fsync).",
		Buckets: buckets,
	})
	m.commitSz = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "dohost_commit_bytes",
		Help:    "Bytes of the synced commits.",
		Buckets: prometheus.ExponentialBuckets(64, 4, 10),
	})
	m.reg.MustRegister(m.requests, m.duration, m.calls, m.callTime, m.starts, m.traps, m.deploys, m.commits, m.commitSz,
		&statsCollector{s: s}, &hostCallCollector{}, budgetCollector{s: s},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// observe records one answered request.
func (m *promMetrics) observe(worker string, status int, d time.Duration) {
	m.requests.WithLabelValues(worker, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(worker).Observe(d.Seconds())
}

// Handled implements objects.Observer.
func (m *promMetrics) Handled(class, handler string, code abi.Code, trap string, d time.Duration) {
	h := m.handler(class, handler)
	h.time.Observe(d.Seconds())
	result := ""
	switch {
	case trap != "":
		result = "trapped"
		m.traps.WithLabelValues(class, trap).Inc()
	case code == abi.ObjectError:
		result = "failed"
	case code != abi.OK:
		result = strings.ToLower(code.Constant())
	default:
		h.ok.Inc()
		return
	}
	m.calls.WithLabelValues(class, handler, result).Inc()
}

// committed records one synced commit (store.Options.OnCommit).
func (m *promMetrics) committed(bytes int, d time.Duration) {
	m.commits.Observe(d.Seconds())
	m.commitSz.Observe(float64(bytes))
}

// deployed records the result of a deploy, rollback, secret change or
// removal.
func (m *promMetrics) deployed(err error) {
	switch {
	case err == nil:
		m.deploys.WithLabelValues("ok").Inc()
	case errors.Is(err, ErrRefused):
		m.deploys.WithLabelValues("refused").Inc()
	default:
		m.deploys.WithLabelValues("failed").Inc()
	}
}

// hostCallCollector reads the host-call counters of package guest once a
// scrape: KV, storage, stub, WebSocket… calls by function.
type hostCallCollector struct{}

var hostCallsDesc = prometheus.NewDesc("dohost_host_calls_total",
	"Host function calls by guests, by function (kv_get, storage_put, stub_fetch, ws_send…; abi/ABI.md §4).", []string{"function"}, nil)

func (hostCallCollector) Describe(ch chan<- *prometheus.Desc) { ch <- hostCallsDesc }

func (hostCallCollector) Collect(ch chan<- prometheus.Metric) {
	for name, n := range guest.HostCalls() {
		ch <- prometheus.MustNewConstMetric(hostCallsDesc, prometheus.CounterValue, float64(n), name)
	}
}

// Started implements objects.Observer.
func (m *promMetrics) Started(class string, d time.Duration) {
	m.starts.WithLabelValues(class).Observe(d.Seconds())
}

// workerLabel names a worker in metrics.
func workerLabel(wk *worker) string {
	if wk == nil {
		return "none"
	}
	return wk.cfg.AccountID + "/" + wk.cfg.Name
}

// stat is one metric of Stats.
type stat struct {
	desc  *prometheus.Desc
	kind  prometheus.ValueType
	value func(*Stats) int64
}

func newStat(name, help string, kind prometheus.ValueType, value func(*Stats) int64) stat {
	return stat{prometheus.NewDesc(name, help, nil, nil), kind, value}
}

var (
	counter = prometheus.CounterValue
	gauge   = prometheus.GaugeValue
)

// stats are the metrics read from Server.Stats.
var stats = []stat{
	newStat("dohost_objects_started_total", "Object instances created (constructor run).", counter, func(s *Stats) int64 { return s.ObjectsStarted }),
	newStat("dohost_objects_live", "Object instances alive.", gauge, func(s *Stats) int64 { return s.ObjectsLive }),
	newStat("dohost_objects_hibernating", "Objects with WebSockets open and no instance.", gauge, func(s *Stats) int64 { return s.ObjectsHibernating }),
	newStat("dohost_objects_failed_total", "Object instances replaced after a trap or a timeout.", counter, func(s *Stats) int64 { return s.ObjectsFailed }),
	newStat("dohost_objects_evicted_total", "Object instances closed because they were idle or over the cap.", counter, func(s *Stats) int64 { return s.ObjectsEvicted }),
	newStat("dohost_objects_trimmed_total", "Idle object instances trimmed.", counter, func(s *Stats) int64 { return s.ObjectsTrimmed }),
	newStat("dohost_instances_recycled_total", "Instances made by resetting and reviving a closed one instead of instantiating.", counter, func(s *Stats) int64 { return s.InstancesRecycled }),
	newStat("dohost_objects_waiting", "Requests and events waiting for an object's turn (the objects' queues).", gauge, func(s *Stats) int64 { return s.ObjectsWaiting }),
	newStat("dohost_worker_waiting", "Requests waiting for a Worker instance.", gauge, func(s *Stats) int64 { return s.WorkerWaiting }),
	newStat("dohost_worker_instances_total", "Worker instances created.", counter, func(s *Stats) int64 { return s.WorkerInstances }),
	newStat("dohost_worker_instances_idle", "Worker instances idle in their pools.", gauge, func(s *Stats) int64 { return s.WorkerIdle }),
	newStat("dohost_worker_instances_retired_total", "Worker instances closed for being idle.", counter, func(s *Stats) int64 { return s.WorkerRetired }),
	newStat("dohost_worker_instances_trimmed_total", "Idle Worker instances trimmed.", counter, func(s *Stats) int64 { return s.WorkerTrimmed }),
	newStat("dohost_log_lines_dropped_total", "Log lines about accounts and from guests dropped over their rates (each limit's drops are also logged once a second).", counter, func(s *Stats) int64 { return s.LogLinesDropped }),
	newStat("dohost_workers_failed", "Workers that did not load (their routes answer 503).", gauge, func(s *Stats) int64 { return s.WorkersFailed }),
	newStat("dohost_alarms_run_total", "Alarm handler runs.", counter, func(s *Stats) int64 { return s.AlarmsRun }),
	newStat("dohost_alarms_failed_total", "Alarm handler runs that failed.", counter, func(s *Stats) int64 { return s.AlarmsFailed }),
	newStat("dohost_alarms_pending", "Alarms scheduled.", gauge, func(s *Stats) int64 { return s.AlarmsPending }),
	newStat("dohost_websockets_open", "WebSockets open, accepted or connected.", gauge, func(s *Stats) int64 { return s.WebSockets.Open }),
	newStat("dohost_websockets_accepted_total", "WebSockets accepted by objects.", counter, func(s *Stats) int64 { return s.WebSockets.Accepted }),
	newStat("dohost_websockets_refused_total", "WebSocket accepts refused for a cap of sockets.", counter, func(s *Stats) int64 { return s.WebSockets.Refused }),
	newStat("dohost_websockets_closed_total", "WebSockets gone, for any reason.", counter, func(s *Stats) int64 { return s.WebSockets.Closed }),
	newStat("dohost_websocket_messages_received_total", "WebSocket messages received from clients.", counter, func(s *Stats) int64 { return s.WebSockets.MessagesIn }),
	newStat("dohost_websocket_frames_sent_total", "WebSocket frames written to clients.", counter, func(s *Stats) int64 { return s.WebSockets.MessagesOut }),
	newStat("dohost_websocket_auto_responses_total", "WebSocket messages answered by the auto-response pair.", counter, func(s *Stats) int64 { return s.WebSockets.AutoResponses }),
	newStat("dohost_websocket_too_big_total", "WebSocket clients closed for a message over the limit (1009).", counter, func(s *Stats) int64 { return s.WebSockets.TooBig }),
	newStat("dohost_websocket_too_slow_total", "WebSocket clients closed for falling behind (1013).", counter, func(s *Stats) int64 { return s.WebSockets.TooSlow }),
	newStat("dohost_websocket_stalled_total", "WebSocket clients closed for a message that took too long to arrive (1008).", counter, func(s *Stats) int64 { return s.WebSockets.Stalled }),
	newStat("dohost_websocket_queued_bytes", "Bytes of WebSocket messages not yet written to their clients.", gauge, func(s *Stats) int64 { return s.WebSockets.QueuedBytes }),
	newStat("dohost_websocket_inbound_bytes", "What the host's budget of received WebSocket messages holds (messages read, being read or waiting for their objects, each at the message limit).", gauge, func(s *Stats) int64 { return s.WebSockets.InboundBytes }),
	newStat("dohost_engine_flushes_total", "The storage engine's memtables written out.", counter, func(s *Stats) int64 { return s.Engine.Flushes }),
	newStat("dohost_engine_compactions_total", "The storage engine's compactions finished.", counter, func(s *Stats) int64 { return s.Engine.Compactions }),
	newStat("dohost_engine_log_bytes_total", "Bytes the storage engine wrote to its log, every commit's.", counter, func(s *Stats) int64 { return int64(s.Engine.LogBytes) }),
	newStat("dohost_engine_flushed_bytes_total", "Bytes of tables and blob files the storage engine's flushes wrote.", counter, func(s *Stats) int64 { return int64(s.Engine.FlushedBytes) }),
	newStat("dohost_engine_compacted_bytes_total", "Bytes of tables the storage engine's compactions wrote.", counter, func(s *Stats) int64 { return int64(s.Engine.CompactedBytes) }),
	newStat("dohost_engine_blob_rewritten_bytes_total", "Bytes of large values (kept in blob files) the storage engine's compactions copied again.", counter, func(s *Stats) int64 { return int64(s.Engine.BlobRewrittenBytes) }),
	newStat("dohost_engine_memtable_bytes", "Memory the storage engine's memtables hold.", gauge, func(s *Stats) int64 { return int64(s.Engine.MemtableBytes) }),
	newStat("dohost_websocket_inbound_waiting", "Received WebSocket messages whose reading waits for room in the host's budget or their account's share.", gauge, func(s *Stats) int64 { return s.WebSockets.InboundWaiting }),
}

// statsCollector reads Stats once a scrape.
type statsCollector struct{ s *Server }

func (c *statsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, st := range stats {
		ch <- st.desc
	}
}

func (c *statsCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.s.Stats()
	for _, st := range stats {
		ch <- prometheus.MustNewConstMetric(st.desc, st.kind, float64(st.value(&s)))
	}
}

// SetStopping marks the server as shutting down: /readyz answers 503, so
// that a load balancer stops sending it requests while they drain.
func (s *Server) SetStopping() { s.stopping.Store(true) }

// statusWriter remembers the status a handler wrote, for the metrics. It
// passes Hijack through (WebSocket upgrades) and unwraps for
// http.ResponseController.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// flush sends the response to the client now, where its length was set
// (Content-Length): flushed without it, net/http would chunk the body.
// A response not begun, or a hijacked connection, is left alone.
func (w *statusWriter) flush() {
	if w.status == 0 || w.status == http.StatusSwitchingProtocols || w.Header().Get("Content-Length") == "" {
		return
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, fmt.Errorf("the response writer cannot be hijacked")
	}
	w.status = http.StatusSwitchingProtocols
	return hj.Hijack()
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
