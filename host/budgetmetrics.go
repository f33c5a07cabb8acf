package host

import (
	"github.com/dohost/dohost/host/internal/quota"
	"github.com/dohost/dohost/host/internal/sockets"
	"github.com/prometheus/client_golang/prometheus"
)

// budgetCollector shows the resource model at work, once a scrape: what
// each budget holds and its limit, the host's and each account's (README,
// "Limits a tenant lives within"), so that an operator sees which tenant
// spends what before a refusal says so.
type budgetCollector struct{ s *Server }

var (
	hostBudgetUsed = prometheus.NewDesc("dohost_host_budget_used",
		"What the host's budgets hold, all accounts together, by resource: guest_memory_bytes, write_buffers_bytes, bodies_bytes (request and response bodies in memory), live_objects, running_alarms, websocket_unsent_bytes (frames not yet written to their clients, a broadcast's once), websocket_inbound_bytes (received messages read or waiting for their objects, each at the message limit).",
		[]string{"resource"}, nil)
	hostBudgetLimit = prometheus.NewDesc("dohost_host_budget_limit",
		"The limits of the host's budgets, by resource (0: none).", []string{"resource"}, nil)
	accountBudgetUsed = prometheus.NewDesc("dohost_account_budget_used",
		"What one account's budgets hold, by account and resource: those of dohost_host_budget_used (the WebSocket ones where the host keeps accounts' shares: it serves several), and stored_bytes (its KV and storage, against its disk quota).",
		[]string{"account", "resource"}, nil)
	accountBudgetLimit = prometheus.NewDesc("dohost_account_budget_limit",
		"The limits of one account's budgets, by account and resource (0: none).", []string{"account", "resource"}, nil)
)

// budgetResources names the budgets a quota.Tenant and a quota.Host have
// alike, as the metrics label them.
var budgetResources = []struct {
	name   string
	tenant func(*quota.Tenant) *quota.Budget
	host   func(*quota.Host) *quota.Budget
}{
	{"guest_memory_bytes", func(t *quota.Tenant) *quota.Budget { return t.Memory.Tenant }, func(h *quota.Host) *quota.Budget { return h.Memory }},
	{"write_buffers_bytes", func(t *quota.Tenant) *quota.Budget { return t.Writes.Tenant }, func(h *quota.Host) *quota.Budget { return h.Writes }},
	{"bodies_bytes", func(t *quota.Tenant) *quota.Budget { return t.Bodies.Tenant }, func(h *quota.Host) *quota.Budget { return h.Bodies }},
	{"live_objects", func(t *quota.Tenant) *quota.Budget { return t.Objects.Tenant }, func(h *quota.Host) *quota.Budget { return h.Objects }},
	{"running_alarms", func(t *quota.Tenant) *quota.Budget { return t.Alarms.Tenant }, func(h *quota.Host) *quota.Budget { return h.Alarms }},
}

func (budgetCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- hostBudgetUsed
	ch <- hostBudgetLimit
	ch <- accountBudgetUsed
	ch <- accountBudgetLimit
}

func (c budgetCollector) Collect(ch chan<- prometheus.Metric) {
	h := c.s.quota
	gauge := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
	}
	for _, r := range budgetResources {
		b := r.host(h)
		gauge(hostBudgetUsed, b.Used(), r.name)
		gauge(hostBudgetLimit, b.Limit(), r.name)
	}
	for _, t := range h.Tenants() {
		for _, r := range budgetResources {
			b := r.tenant(t)
			gauge(accountBudgetUsed, b.Used(), t.Account, r.name)
			gauge(accountBudgetLimit, b.Limit(), t.Account, r.name)
		}
		gauge(accountBudgetUsed, t.Disk.Used(), t.Account, "stored_bytes")
		gauge(accountBudgetLimit, t.Disk.Limit(), t.Account, "stored_bytes")
	}
	ws, accounts := c.s.sockets.Budgets()
	websocket := func(used, limit *prometheus.Desc, b sockets.Budgets, account ...string) {
		for _, r := range []struct {
			name string
			b    sockets.Budget
		}{{"websocket_unsent_bytes", b.Unsent}, {"websocket_inbound_bytes", b.Inbound}} {
			gauge(used, r.b.Used, append(account, r.name)...)
			gauge(limit, r.b.Limit, append(account, r.name)...)
		}
	}
	websocket(hostBudgetUsed, hostBudgetLimit, ws)
	for a, b := range accounts {
		websocket(accountBudgetUsed, accountBudgetLimit, b, a)
	}
}
