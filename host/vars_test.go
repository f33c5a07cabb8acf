package host

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

const varsConfig = probeConfig + `
[vars]
GREETING = "hello"
LIMITS = { max = 3, on = true }
`

// TestProbe_Vars: every SDK reads the worker's vars and secrets (env_get),
// and the Go guest finds the same in its WASI environment.
func TestProbe_Vars(t *testing.T) {
	const secret = "s3cr3t-value-never-logged"
	eachLang(t, func(t *testing.T, lang string) {
		dir := t.TempDir()
		ts := startServerOpts(t, Options{DataDir: filepath.Join(dir, "data"),
			Secrets: map[string]map[string]string{"default/probe": {"API_KEY": secret}}},
			writeConfig(t, dir, probeWasm(t, lang), varsConfig))
		var v string
		ts.getJSON(t, "/env?name=GREETING", 200, &v)
		if v != "hello" {
			t.Errorf("GREETING = %q", v)
		}
		ts.getJSON(t, "/env?name=LIMITS", 200, &v)
		if v != `{"max":3,"on":true}` {
			t.Errorf("LIMITS = %q, want its JSON", v)
		}
		ts.getJSON(t, "/env?name=API_KEY", 200, &v)
		if v != secret {
			t.Errorf("API_KEY = %q", v)
		}
		ts.getJSON(t, "/env?name=NOPE", 404, nil)
		if lang == "go" {
			ts.getJSON(t, "/env/os?name=GREETING", 200, &v)
			if v != "hello" {
				t.Errorf("os GREETING = %q", v)
			}
			ts.getJSON(t, "/env/os?name=API_KEY", 200, &v)
			if v != secret {
				t.Errorf("os API_KEY = %q", v)
			}
		}
		if strings.Contains(ts.logs.String(), secret) {
			t.Error("the host logged a secret's value")
		}
	})
}

// TestSecrets_SetRedeploys: a secret set through the host deploys the
// worker again, and its guests see it; its value is never listed or
// logged; a secret named as a var is refused.
func TestSecrets_SetRedeploys(t *testing.T) {
	const secret = "another-secret-value"
	dir := t.TempDir()
	ts := startServer(t, filepath.Join(dir, "data"), writeConfig(t, dir, probeWasm(t, "go"), varsConfig))
	ts.getJSON(t, "/env?name=TOKEN", 404, nil)
	v, err := ts.SetSecret(context.Background(), "default", "probe", "TOKEN", []byte(secret), "test")
	if err != nil {
		t.Fatal(err)
	}
	if v.Version != 2 || v.Note != "secret TOKEN set" {
		t.Fatalf("version %+v", v)
	}
	var got string
	ts.getJSON(t, "/env?name=TOKEN", 200, &got)
	if got != secret {
		t.Fatalf("TOKEN = %q", got)
	}
	if names, _ := ts.SecretNames("default", "probe"); len(names) != 1 || names[0] != "TOKEN" {
		t.Fatalf("names %v", names)
	}
	if _, err := ts.SetSecret(context.Background(), "default", "probe", "GREETING", []byte("x"), "test"); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "name of a var") {
		t.Fatalf("a secret named as a var: %v", err)
	}
	if names, _ := ts.SecretNames("default", "probe"); len(names) != 1 {
		t.Fatalf("a refused secret was kept: %v", names)
	}
	if _, err := ts.SetSecret(context.Background(), "default", "probe", "bad name", []byte("x"), "test"); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("a bad name: %v", err)
	}
	// It survives a restart (it is stored), and deleting it redeploys.
	ts.stop(t)
	ts = startServer(t, filepath.Join(dir, "data"), filepath.Join(dir, "wrangler.toml"))
	ts.getJSON(t, "/env?name=TOKEN", 200, &got)
	if got != secret {
		t.Fatalf("after a restart: TOKEN = %q", got)
	}
	if _, err := ts.DeleteSecret(context.Background(), "default", "probe", "TOKEN", "test"); err != nil {
		t.Fatal(err)
	}
	ts.getJSON(t, "/env?name=TOKEN", 404, nil)
	if _, err := ts.DeleteSecret(context.Background(), "default", "probe", "TOKEN", "test"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleting it twice: %v", err)
	}
	if strings.Contains(ts.logs.String(), secret) {
		t.Error("the host logged a secret's value")
	}
}
