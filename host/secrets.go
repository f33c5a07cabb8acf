package host

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/dohost/dohost/host/internal/config"
	"github.com/dohost/dohost/host/internal/store"
)

// A worker's secrets: values its guests read as vars (env_get, the WASI
// environment) that are set outside its config and never shown again.
// Setting or deleting one deploys the worker again (the version's note
// says which secret), so that every instance, and the snapshot, see the
// new environment; the host never logs a value.

// secretNameRe is what a secret may be called: as a var.
var secretNameRe = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*$`)

// maxSecretBytes bounds a secret's value (Cloudflare's limit).
const maxSecretBytes = 5 << 10

// SetSecret sets a worker's secret and, when the worker is served,
// deploys it again with the secret; the version is returned (zero when
// the worker is not served: the secret applies at its next deploy).
func (s *Server) SetSecret(ctx context.Context, account, worker, name string, value []byte, by string) (Version, error) {
	if !secretNameRe.MatchString(name) {
		return Version{}, fmt.Errorf("%w: %q is not a valid secret name (letters, digits, _ and $, not first a digit)", ErrBadRequest, name)
	}
	if len(value) > maxSecretBytes {
		return Version{}, fmt.Errorf("%w: secret %s is %d bytes; the limit is %d", ErrBadRequest, name, len(value), maxSecretBytes)
	}
	old, err := s.store.Secrets(account, worker)
	if err != nil {
		return Version{}, err
	}
	prev, had := old[name]
	if err := s.store.SetSecret(account, worker, name, value); err != nil {
		return Version{}, err
	}
	v, err := s.redeploy(ctx, account, worker, by, "secret "+name+" set")
	if err != nil {
		// The version that would hold it was refused (the secret has a
		// var's name, say): the stored secrets go back as they were.
		if had {
			_ = s.store.SetSecret(account, worker, name, prev)
		} else {
			_, _ = s.store.DeleteSecret(account, worker, name)
		}
	}
	return v, err
}

// DeleteSecret deletes a worker's secret and deploys it again without it.
func (s *Server) DeleteSecret(ctx context.Context, account, worker, name, by string) (Version, error) {
	ok, err := s.store.DeleteSecret(account, worker, name)
	if err != nil {
		return Version{}, err
	}
	if !ok {
		return Version{}, fmt.Errorf("worker %s/%s has no secret %s: %w", account, worker, name, ErrNotFound)
	}
	return s.redeploy(ctx, account, worker, by, "secret "+name+" deleted")
}

// SecretNames lists a worker's stored secrets: their names, never their
// values.
func (s *Server) SecretNames(account, worker string) ([]string, error) {
	m, err := s.store.Secrets(account, worker)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

// redeploy deploys the active version of a worker again, as a new version
// with note; a worker not served is left alone.
func (s *Server) redeploy(ctx context.Context, account, worker, by, note string) (Version, error) {
	active := s.activeVersion(account, worker)
	if active == 0 {
		return Version{}, nil
	}
	spec, d, err := s.recordedSpec(account, worker, active)
	if err != nil {
		return Version{}, err
	}
	spec.version = 0
	v, err := s.deploy(ctx, spec, store.Deploy{By: by, ConfigFile: d.ConfigFile, Note: note})
	s.metrics.deployed(err)
	return v, err
}

// LoadSecrets reads a secrets file (none if path is ""): a table per
// worker, named "worker" (of the default account) or "account/worker",
// of NAME = "value". Others may not read it.
//
//	[counter]
//	API_KEY = "…"
//
//	["acme/shop"]
//	STRIPE_KEY = "…"
func LoadSecrets(path string) (map[string]map[string]string, error) {
	if path == "" {
		return nil, nil
	}
	if err := checkPrivate(path); err != nil {
		return nil, fmt.Errorf("secrets %s: %w", path, err)
	}
	var raw map[string]map[string]string
	if _, err := toml.DecodeFile(path, &raw); err != nil {
		return nil, fmt.Errorf("secrets %s: %w", path, err)
	}
	out := map[string]map[string]string{}
	for w, m := range raw {
		key := w
		if !strings.Contains(w, "/") {
			key = config.DefaultAccount + "/" + w
		}
		for name, v := range m {
			if !secretNameRe.MatchString(name) || len(v) > maxSecretBytes {
				return nil, fmt.Errorf("secrets %s: [%s] %s: a name is letters, digits, _ and $, and a value at most %d bytes", path, w, name, maxSecretBytes)
			}
		}
		out[key] = m
	}
	return out, nil
}
