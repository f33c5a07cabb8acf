package host

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dohost/dohost/host/internal/objects"
	"github.com/dohost/dohost/host/internal/reqid"
	"github.com/dohost/dohost/host/internal/store"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The admin API, on the admin address (never the public one):
//
//	GET    /v1/workers                                   the workers served (a tenant: its own)
//	POST   /v1/deploy                                    multipart: config (wrangler.toml), module (.wasm)
//	GET    /v1/workers/{account}/{worker}/versions       every recorded version
//	POST   /v1/workers/{account}/{worker}/rollback       ?version=N; none: the version before the active one
//	DELETE /v1/workers/{account}/{worker}                stop serving it (its data stays)
//	GET    /v1/kv/{account}/{namespace}/keys             ?prefix= &cursor= &limit=
//	GET|PUT|DELETE /v1/kv/{account}/{namespace}/values/{key}
//	GET    /v1/objects/{account}/{worker}/{class}        ?after= &limit=
//	GET    /v1/objects/{account}/{worker}/{class}/{object}  what it holds (keys, bytes, alarm…)
//	GET    /v1/objects/{account}/{worker}/{class}/{object}/storage   ?prefix= &after= &limit=
//	DELETE /v1/objects/{account}/{worker}/{class}/{object}
//	POST   /v1/backup                                    ?dir=DIR (the operator's only)
//	GET    /v1/workers/{account}/{worker}/secrets        their names (never their values)
//	PUT|DELETE /v1/workers/{account}/{worker}/secrets/{name}   the body is the value
//
// Every call carries "Authorization: Bearer TOKEN". An operator's token
// may do everything; a tenant's token only what concerns its account, and
// a config it deploys must name that account. /metrics needs the
// operator's token once any token is configured; /healthz and /readyz
// need none. Answers are JSON; a refused call answers {"error": why}.

// maxDeployBytes bounds a deploy's body: the config and the module.
const maxDeployBytes = 256 << 20

// AdminHandler serves the operator's endpoints: the admin API (above),
// /metrics (Prometheus), /healthz (the process answers) and /readyz (it
// serves; 503 once it shuts down). Serve it on an address of its own, not
// the public one. With no tokens (nil or empty), the API refuses every
// call and /metrics is open.
func (s *Server) AdminHandler(tokens *Tokens) http.Handler {
	a := &adminAPI{s: s, tokens: tokens}
	mux := http.NewServeMux()
	metrics := promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		if tokens.Len() > 0 {
			if _, ok := a.auth(w, r, "", true); !ok {
				return
			}
		}
		metrics.ServeHTTP(w, r)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if s.stopping.Load() {
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		_, _ = fmt.Fprintln(w, "ready")
	})
	mux.HandleFunc("GET /v1/workers", a.workers)
	mux.HandleFunc("POST /v1/deploy", a.deploy)
	mux.HandleFunc("GET /v1/workers/{account}/{worker}/versions", a.versions)
	mux.HandleFunc("POST /v1/workers/{account}/{worker}/rollback", a.rollback)
	mux.HandleFunc("DELETE /v1/workers/{account}/{worker}", a.remove)
	mux.HandleFunc("GET /v1/kv/{account}/{namespace}/keys", a.kvList)
	mux.HandleFunc("GET /v1/kv/{account}/{namespace}/values/{key}", a.kvGet)
	mux.HandleFunc("PUT /v1/kv/{account}/{namespace}/values/{key}", a.kvPut)
	mux.HandleFunc("DELETE /v1/kv/{account}/{namespace}/values/{key}", a.kvDelete)
	mux.HandleFunc("GET /v1/objects/{account}/{worker}/{class}", a.objects)
	mux.HandleFunc("GET /v1/objects/{account}/{worker}/{class}/{object}", a.inspect)
	mux.HandleFunc("GET /v1/objects/{account}/{worker}/{class}/{object}/storage", a.storage)
	mux.HandleFunc("DELETE /v1/objects/{account}/{worker}/{class}/{object}", a.deleteObject)
	mux.HandleFunc("POST /v1/backup", a.backup)
	mux.HandleFunc("GET /v1/workers/{account}/{worker}/secrets", a.secretNames)
	mux.HandleFunc("PUT /v1/workers/{account}/{worker}/secrets/{name}", a.secretPut)
	mux.HandleFunc("DELETE /v1/workers/{account}/{worker}/secrets/{name}", a.secretDelete)
	return mux
}

type adminAPI struct {
	s      *Server
	tokens *Tokens
}

// apiError is the body of a refused call.
type apiError struct {
	Error     string `json:"error"`
	RequestID string `json:"request_id,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func (a *adminAPI) refuse(w http.ResponseWriter, status int, format string, args ...any) {
	writeJSON(w, status, apiError{Error: fmt.Sprintf(format, args...)})
}

// auth returns the caller's principal if its token may act on account
// ("" for a call about no one account), or operator-only calls when
// operator is set; otherwise it answers why not and reports false.
func (a *adminAPI) auth(w http.ResponseWriter, r *http.Request, account string, operator bool) (Principal, bool) {
	if a.tokens.Len() == 0 {
		a.refuse(w, http.StatusForbidden, "the admin API is off: the host was started without admin tokens (--admin-tokens FILE or $DOHOST_ADMIN_TOKEN)")
		return Principal{}, false
	}
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="dohost"`)
		a.refuse(w, http.StatusUnauthorized, "no token: send Authorization: Bearer TOKEN")
		return Principal{}, false
	}
	p, ok := a.tokens.lookup(strings.TrimSpace(tok))
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="dohost", error="invalid_token"`)
		a.refuse(w, http.StatusUnauthorized, "the token is not one of the host's admin tokens")
		return Principal{}, false
	}
	switch {
	case p.Operator():
	case operator:
		a.refuse(w, http.StatusForbidden, "token %q is account %q's; this call needs the operator's", p.Name, p.Account)
		return Principal{}, false
	case account != "" && account != p.Account:
		a.refuse(w, http.StatusForbidden, "token %q is account %q's; it cannot act on account %q", p.Name, p.Account, account)
		return Principal{}, false
	}
	return p, true
}

func (a *adminAPI) workers(w http.ResponseWriter, r *http.Request) {
	p, ok := a.auth(w, r, "", false)
	if !ok {
		return
	}
	ws := a.s.Workers(p.Account)
	if ws == nil {
		ws = []WorkerInfo{}
	}
	writeJSON(w, http.StatusOK, ws)
}

// deploy takes a multipart form: "config", the wrangler.toml (its file
// name names it in messages), and "module", the guest .wasm.
func (a *adminAPI) deploy(w http.ResponseWriter, r *http.Request) {
	p, ok := a.auth(w, r, "", false)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxDeployBytes)
	mr, err := r.MultipartReader()
	if err != nil {
		a.refuse(w, http.StatusBadRequest, "a deploy is a multipart/form-data body with the parts config and module: %v", err)
		return
	}
	req := DeployRequest{By: p.Name, Account: p.Account, Routes: p.Routes}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			a.refuse(w, http.StatusBadRequest, "reading the deploy's body: %v", err)
			return
		}
		b, err := io.ReadAll(part)
		if err != nil {
			a.refuse(w, http.StatusBadRequest, "reading part %q: %v", part.FormName(), err)
			return
		}
		switch part.FormName() {
		case "config":
			req.Config, req.ConfigFile = b, part.FileName()
		case "module":
			req.Module = b
		default:
			a.refuse(w, http.StatusBadRequest, "unknown part %q: a deploy has the parts config and module", part.FormName())
			return
		}
	}
	if req.Config == nil || req.Module == nil {
		a.refuse(w, http.StatusBadRequest, "a deploy needs both parts, config (wrangler.toml) and module (.wasm)")
		return
	}
	if req.ConfigFile == "" {
		req.ConfigFile = "wrangler.toml"
	}
	v, err := a.s.Deploy(r.Context(), req)
	a.answer(w, v, err)
}

// answer writes the result of a call: v as JSON, or why it failed.
func (a *adminAPI) answer(w http.ResponseWriter, v any, err error) {
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, v)
	case errors.Is(err, store.ErrNoDeploy) || errors.Is(err, ErrNotFound):
		a.refuse(w, http.StatusNotFound, "%v", err)
	case errors.Is(err, ErrBadRequest):
		a.refuse(w, http.StatusBadRequest, "%v", err)
	case errors.Is(err, ErrRefused):
		a.refuse(w, http.StatusUnprocessableEntity, "%v", err)
	case errors.Is(err, objects.ErrBusy):
		a.refuse(w, http.StatusConflict, "%v", err)
	default:
		id := reqid.New()
		a.s.log.Error("admin call failed", "request_id", id, "err", err)
		writeJSON(w, http.StatusInternalServerError, apiError{Error: "the host failed; its log has the details", RequestID: id})
	}
}

func (a *adminAPI) versions(w http.ResponseWriter, r *http.Request) {
	account, name := r.PathValue("account"), r.PathValue("worker")
	if _, ok := a.auth(w, r, account, false); !ok {
		return
	}
	vs, err := a.s.Versions(account, name)
	if err != nil {
		a.answer(w, Version{}, err)
		return
	}
	if len(vs) == 0 {
		a.refuse(w, http.StatusNotFound, "worker %s/%s has no versions", account, name)
		return
	}
	writeJSON(w, http.StatusOK, vs)
}

func (a *adminAPI) rollback(w http.ResponseWriter, r *http.Request) {
	account, name := r.PathValue("account"), r.PathValue("worker")
	p, ok := a.auth(w, r, account, false)
	if !ok {
		return
	}
	version := 0
	if q := r.URL.Query().Get("version"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 {
			a.refuse(w, http.StatusBadRequest, "version %q is not a version number", q)
			return
		}
		version = n
	} else {
		n, err := a.s.previousVersion(account, name)
		if err != nil {
			a.answer(w, Version{}, err)
			return
		}
		version = n
	}
	var grants []string
	if !p.Operator() {
		grants = append([]string{}, p.Routes...) // non-nil: the tenant's routes are checked
	}
	v, err := a.s.rollback(r.Context(), account, name, version, p.Name, grants)
	a.answer(w, v, err)
}

func (a *adminAPI) remove(w http.ResponseWriter, r *http.Request) {
	account, name := r.PathValue("account"), r.PathValue("worker")
	p, ok := a.auth(w, r, account, false)
	if !ok {
		return
	}
	v, err := a.s.Remove(r.Context(), account, name, p.Name)
	a.answer(w, v, err)
}

// limitParam reads ?limit=.
func limitParam(r *http.Request) (int, error) {
	q := r.URL.Query().Get("limit")
	if q == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(q)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%w: limit %q is not a count", ErrBadRequest, q)
	}
	return n, nil
}

// pageCall authorizes a listing of the path's account and reads its
// ?limit=; ok is false when it answered already.
func (a *adminAPI) pageCall(w http.ResponseWriter, r *http.Request) (account string, limit int, ok bool) {
	account = r.PathValue("account")
	if _, ok := a.auth(w, r, account, false); !ok {
		return "", 0, false
	}
	limit, err := limitParam(r)
	if err != nil {
		a.answer(w, nil, err)
		return "", 0, false
	}
	return account, limit, true
}

func (a *adminAPI) kvList(w http.ResponseWriter, r *http.Request) {
	account, limit, ok := a.pageCall(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	p, err := a.s.KVList(account, r.PathValue("namespace"), q.Get("prefix"), q.Get("cursor"), limit)
	a.answer(w, p, err)
}

func (a *adminAPI) kvGet(w http.ResponseWriter, r *http.Request) {
	account := r.PathValue("account")
	if _, ok := a.auth(w, r, account, false); !ok {
		return
	}
	v, err := a.s.KVGet(account, r.PathValue("namespace"), r.PathValue("key"))
	if err != nil {
		a.answer(w, nil, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	_, _ = w.Write(v)
}

func (a *adminAPI) kvPut(w http.ResponseWriter, r *http.Request) {
	account := r.PathValue("account")
	if _, ok := a.auth(w, r, account, false); !ok {
		return
	}
	v, err := io.ReadAll(http.MaxBytesReader(w, r.Body, store.MaxKVValue+1))
	if err != nil {
		a.refuse(w, http.StatusBadRequest, "reading the value: %v", err)
		return
	}
	err = a.s.KVPut(account, r.PathValue("namespace"), r.PathValue("key"), v)
	a.answer(w, map[string]int{"stored": len(v)}, err)
}

func (a *adminAPI) kvDelete(w http.ResponseWriter, r *http.Request) {
	account := r.PathValue("account")
	if _, ok := a.auth(w, r, account, false); !ok {
		return
	}
	err := a.s.KVDelete(account, r.PathValue("namespace"), r.PathValue("key"))
	a.answer(w, map[string]bool{"deleted": true}, err)
}

func (a *adminAPI) objects(w http.ResponseWriter, r *http.Request) {
	account, limit, ok := a.pageCall(w, r)
	if !ok {
		return
	}
	os, err := a.s.Objects(account, r.PathValue("worker"), r.PathValue("class"), r.URL.Query().Get("after"), limit)
	if os == nil && err == nil {
		os = []ObjectInfo{}
	}
	a.answer(w, os, err)
}

func (a *adminAPI) inspect(w http.ResponseWriter, r *http.Request) {
	account := r.PathValue("account")
	if _, ok := a.auth(w, r, account, false); !ok {
		return
	}
	d, err := a.s.InspectObject(account, r.PathValue("worker"), r.PathValue("class"), r.PathValue("object"))
	a.answer(w, d, err)
}

// storagePage is one page of an object's storage.
type storagePage struct {
	Entries []StorageEntry `json:"entries"`
	More    bool           `json:"more,omitempty"`
}

func (a *adminAPI) storage(w http.ResponseWriter, r *http.Request) {
	account, limit, ok := a.pageCall(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	es, more, err := a.s.ObjectStorage(account, r.PathValue("worker"), r.PathValue("class"), r.PathValue("object"), q.Get("prefix"), q.Get("after"), limit)
	if es == nil {
		es = []StorageEntry{}
	}
	a.answer(w, storagePage{Entries: es, More: more}, err)
}

func (a *adminAPI) deleteObject(w http.ResponseWriter, r *http.Request) {
	account := r.PathValue("account")
	if _, ok := a.auth(w, r, account, false); !ok {
		return
	}
	err := a.s.DeleteObject(r.Context(), account, r.PathValue("worker"), r.PathValue("class"), r.PathValue("object"))
	a.answer(w, map[string]bool{"deleted": true}, err)
}

// backup writes a backup into ?dir= on the host's machine: the operator's
// only, since the copy holds every account's data.
func (a *adminAPI) backup(w http.ResponseWriter, r *http.Request) {
	if _, ok := a.auth(w, r, "", true); !ok {
		return
	}
	dir := r.URL.Query().Get("dir")
	if dir == "" || !filepath.IsAbs(dir) {
		a.refuse(w, http.StatusBadRequest, "give ?dir= an absolute path on the host's machine that does not exist yet")
		return
	}
	start := time.Now()
	err := a.s.Backup(dir)
	if err == nil {
		a.s.log.Info("backup written", "dir", dir, "duration", time.Since(start))
	}
	a.answer(w, map[string]string{"dir": dir}, err)
}

func (a *adminAPI) secretNames(w http.ResponseWriter, r *http.Request) {
	account := r.PathValue("account")
	if _, ok := a.auth(w, r, account, false); !ok {
		return
	}
	names, err := a.s.SecretNames(account, r.PathValue("worker"))
	a.answer(w, names, err)
}

func (a *adminAPI) secretPut(w http.ResponseWriter, r *http.Request) {
	account := r.PathValue("account")
	p, ok := a.auth(w, r, account, false)
	if !ok {
		return
	}
	v, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSecretBytes+1))
	if err != nil {
		a.refuse(w, http.StatusBadRequest, "reading the value: %v", err)
		return
	}
	ver, err := a.s.SetSecret(r.Context(), account, r.PathValue("worker"), r.PathValue("name"), v, p.Name)
	a.answer(w, ver, err)
}

func (a *adminAPI) secretDelete(w http.ResponseWriter, r *http.Request) {
	account := r.PathValue("account")
	p, ok := a.auth(w, r, account, false)
	if !ok {
		return
	}
	ver, err := a.s.DeleteSecret(r.Context(), account, r.PathValue("worker"), r.PathValue("name"), p.Name)
	a.answer(w, ver, err)
}
