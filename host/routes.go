package host

import (
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"

	"github.com/dohost/dohost/host/internal/config"
)

// routes pick the worker for a request from the workers' wrangler routes.
type routes struct {
	byPattern []route // most specific first
	fallback  *worker // the worker without routes, or nil
}

// route is one route of one worker.
type route struct {
	config.Route
	w *worker
}

// buildRoutes orders every worker's routes, most specific first, and picks
// the worker without routes, if any, as the one for everything else.
func buildRoutes(ws []*worker) (routes, error) {
	var rs routes
	var unrouted []string
	for _, w := range ws {
		if len(w.cfg.Routes) == 0 {
			unrouted = append(unrouted, fmt.Sprintf("%s (%s)", w.cfg.Name, w.cfg.File))
			rs.fallback = w
		}
		for _, r := range w.cfg.Routes {
			rs.byPattern = append(rs.byPattern, route{r, w})
		}
	}
	if len(unrouted) > 1 {
		return rs, fmt.Errorf("workers %s have no routes: with several workers, give each routes (one may have none: it serves every request no route matches)", strings.Join(unrouted, ", "))
	}
	sort.SliceStable(rs.byPattern, func(i, j int) bool {
		a, b := rs.byPattern[i].Specificity(), rs.byPattern[j].Specificity()
		for k := range a {
			if a[k] != b[k] {
				return a[k] > b[k]
			}
		}
		return false
	})
	return rs, nil
}

// pick returns the worker for r: the most specific route that matches its
// host (without the port and a trailing dot, in any case) and path, else
// the worker without routes.
func (rs *routes) pick(r *http.Request) *worker {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	// "example.com." is example.com: a fully qualified name with its root.
	host = strings.TrimSuffix(host, ".")
	for _, rt := range rs.byPattern {
		if rt.Matches(host, r.URL.Path) {
			return rt.w
		}
	}
	return rs.fallback
}
