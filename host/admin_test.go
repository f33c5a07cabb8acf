package host

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	opsToken  = "0123456789abcdef0123456789abcdef"
	acmeToken = "fedcba9876543210fedcba9876543210"
)

// adminCall makes one admin API call with token and returns the status
// and body.
func adminCall(t *testing.T, base, method, path, token, contentType string, body io.Reader) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// deployForm is a deploy's multipart body.
func deployForm(t *testing.T, config string, module []byte) (string, *bytes.Buffer) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	w, _ := mw.CreateFormFile("config", "wrangler.toml")
	_, _ = w.Write([]byte(config))
	w, _ = mw.CreateFormFile("module", "m.wasm")
	_, _ = w.Write(module)
	_ = mw.Close()
	return mw.FormDataContentType(), &b
}

func testTokens(t *testing.T) *Tokens {
	t.Helper()
	tk := &Tokens{}
	if err := tk.Add(Principal{Name: "ops"}, opsToken); err != nil {
		t.Fatal(err)
	}
	if err := tk.Add(Principal{Name: "acme-ci", Account: "acme", Routes: []string{"*.acme.example/*", "acme.example/*"}}, acmeToken); err != nil {
		t.Fatal(err)
	}
	return tk
}

func TestAdmin_Tokens(t *testing.T) {
	ts, _ := startDeployProbe(t, Options{})
	admin := httptest.NewServer(ts.AdminHandler(testTokens(t)))
	defer admin.Close()
	v2 := deployProbe(t, "v2")
	cfg := "main = \"x.wasm\"\n" + deployConfig

	for _, c := range []struct {
		name, method, path, token string
		status                    int
		says                      string
	}{
		{"no token", "GET", "/v1/workers", "", 401, "no token"},
		{"unknown token", "GET", "/v1/workers", strings.Repeat("x", 32), 401, "not one of the host's admin tokens"},
		{"tenant reads another account", "GET", "/v1/workers/default/versioned/versions", acmeToken, 403, "cannot act on account"},
		{"tenant rolls back another account", "POST", "/v1/workers/default/versioned/rollback?version=1", acmeToken, 403, "cannot act on account"},
		{"tenant removes another account's worker", "DELETE", "/v1/workers/default/versioned", acmeToken, 403, "cannot act on account"},
		{"tenant scrapes metrics", "GET", "/metrics", acmeToken, 403, "needs the operator's"},
		{"metrics without a token", "GET", "/metrics", "", 401, "no token"},
		{"bad version", "POST", "/v1/workers/default/versioned/rollback?version=x", opsToken, 400, "not a version number"},
		{"no such worker", "GET", "/v1/workers/default/nope/versions", opsToken, 404, "no versions"},
	} {
		st, body := adminCall(t, admin.URL, c.method, c.path, c.token, "", nil)
		if st != c.status || !strings.Contains(body, c.says) {
			t.Errorf("%s: %d %s, want %d saying %q", c.name, st, body, c.status, c.says)
		}
	}
	// A tenant sees only its account's workers: none yet.
	if st, body := adminCall(t, admin.URL, "GET", "/v1/workers", acmeToken, "", nil); st != 200 || strings.TrimSpace(body) != "[]" {
		t.Errorf("tenant lists workers: %d %s", st, body)
	}
	// A tenant's config that names another account is refused.
	ct, body := deployForm(t, cfg, v2)
	if st, resp := adminCall(t, admin.URL, "POST", "/v1/deploy", acmeToken, ct, body); st != 422 || !strings.Contains(resp, "not the account of the token") {
		t.Errorf("tenant deploys to the default account: %d %s", st, resp)
	}
	// A tenant's worker serves only routes granted to it: neither another
	// host's requests nor, without routes, every unrouted one.
	for _, c := range []struct{ routes, says string }{
		{`routes = ["victim.example/*"]`, "not within the token's routes"},
		{`routes = ["*/*"]`, "not within the token's routes"},
		{``, "needs routes"},
	} {
		ct, body = deployForm(t, "account_id = \"acme\"\n"+c.routes+"\n"+cfg, v2)
		if st, resp := adminCall(t, admin.URL, "POST", "/v1/deploy", acmeToken, ct, body); st != 422 || !strings.Contains(resp, c.says) {
			t.Errorf("tenant deploys %q: %d %s, want 422 saying %q", c.routes, st, resp, c.says)
		}
	}
	// Its own account's worker deploys; the record names the token.
	ct, body = deployForm(t, "account_id = \"acme\"\nroutes = [\"acme.example/*\", \"shop.acme.example/api/*\"]\n"+cfg, v2)
	st, resp := adminCall(t, admin.URL, "POST", "/v1/deploy", acmeToken, ct, body)
	var v Version
	if st != 200 || json.Unmarshal([]byte(resp), &v) != nil || v.Account != "acme" || v.By != "acme-ci" || v.Version != 1 {
		t.Fatalf("tenant deploys its own worker: %d %s", st, resp)
	}
	if st, body := adminCall(t, admin.URL, "GET", "/v1/workers", acmeToken, "", nil); st != 200 || !strings.Contains(body, `"acme"`) || strings.Contains(body, `"default"`) {
		t.Errorf("tenant lists workers: %d %s", st, body)
	}
	// The operator deploys any account's, and sees every worker.
	ct, body = deployForm(t, cfg, v2)
	if st, resp := adminCall(t, admin.URL, "POST", "/v1/deploy", opsToken, ct, body); st != 200 || !strings.Contains(resp, `"by": "ops"`) {
		t.Fatalf("operator deploys: %d %s", st, resp)
	}
	if r := ts.post(t, "a"); r.Version != "v2" {
		t.Fatalf("after the operator's deploy: %+v", r)
	}
	if st, body := adminCall(t, admin.URL, "GET", "/v1/workers", opsToken, "", nil); st != 200 || !strings.Contains(body, `"acme"`) || !strings.Contains(body, `"default"`) {
		t.Errorf("operator lists workers: %d %s", st, body)
	}
	// A broken module is refused with the reason.
	ct, body = deployForm(t, cfg, []byte("\x00asm garbage"))
	if st, resp := adminCall(t, admin.URL, "POST", "/v1/deploy", opsToken, ct, body); st != 422 || !strings.Contains(resp, "refused") {
		t.Errorf("broken module: %d %s", st, resp)
	}
	// A rollback without a version returns to the one before.
	st, resp = adminCall(t, admin.URL, "POST", "/v1/workers/default/versioned/rollback", opsToken, "", nil)
	if st != 200 || !strings.Contains(resp, `"rollback_of": 1`) {
		t.Fatalf("rollback: %d %s", st, resp)
	}
	if r := ts.post(t, "a"); r.Version != "v1" {
		t.Fatalf("after the rollback: %+v", r)
	}
	if st, resp := adminCall(t, admin.URL, "GET", "/metrics", opsToken, "", nil); st != 200 || !strings.Contains(resp, "dohost_http_requests_total") {
		t.Errorf("operator scrapes metrics: %d", st)
	}
}

func TestAdmin_OffWithoutTokens(t *testing.T) {
	ts, _ := startDeployProbe(t, Options{})
	admin := httptest.NewServer(ts.AdminHandler(nil))
	defer admin.Close()
	if st, body := adminCall(t, admin.URL, "GET", "/v1/workers", opsToken, "", nil); st != 403 || !strings.Contains(body, "admin API is off") {
		t.Errorf("no tokens: %d %s", st, body)
	}
}

func TestLoadTokens(t *testing.T) {
	dir := t.TempDir()
	write := func(text string, mode os.FileMode) string {
		p := filepath.Join(dir, "tokens.toml")
		if err := os.WriteFile(p, []byte(text), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Setenv("DOHOST_TEST_OPS", opsToken)
	tk, err := LoadTokens(write(`
[[token]]
name = "ops"
token_env = "DOHOST_TEST_OPS"

[[token]]
name = "acme-ci"
account = "acme"
token = "`+acmeToken+`"
`, 0o600))
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := tk.lookup(opsToken); !ok || !p.Operator() || p.Name != "ops" {
		t.Errorf("ops token: %+v %v", p, ok)
	}
	if p, ok := tk.lookup(acmeToken); !ok || p.Account != "acme" {
		t.Errorf("acme token: %+v %v", p, ok)
	}
	for _, c := range []struct {
		text string
		mode os.FileMode
		says string
	}{
		{"[[token]]\nname = \"a\"\ntoken = \"" + acmeToken + "\"\n", 0o644, "chmod 600"},
		{"[[token]]\nname = \"a\"\ntoken = \"short\"\n", 0o600, "at least 32"},
		{"[[token]]\nname = \"a\"\ntoken_env = \"DOHOST_TEST_UNSET\"\n", 0o600, "is not set"},
		{"[[token]]\nname = \"a\"\ntoken = \"" + acmeToken + "\"\n[[token]]\nname = \"a\"\ntoken = \"" + opsToken + "\"\n", 0o600, "given twice"},
		{"[[token]]\nnam = \"a\"\n", 0o600, "unknown keys"},
	} {
		if _, err := LoadTokens(write(c.text, c.mode)); err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%q: %v, want an error saying %q", c.text, err, c.says)
		}
	}
}
