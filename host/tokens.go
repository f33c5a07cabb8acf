package host

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/dohost/dohost/host/internal/config"
)

// Principal is who an admin token stands for: the operator (Account
// empty), who may do everything, or one account's tenant, who may touch
// only that account's workers.
type Principal struct {
	// Name is the token's name: it is recorded as who deployed a version.
	Name    string
	Account string
	// Routes are the route patterns a tenant's workers may serve: each
	// route of a config it deploys must be within one of them (an
	// operator's token is not held to any).
	Routes []string
}

// Operator reports whether p may act on every account.
func (p Principal) Operator() bool { return p.Account == "" }

// Tokens are the admin API's credentials. The tokens themselves are kept
// only as SHA-256 hashes: a lookup compares hashes, which leaks nothing of
// a token through its timing.
type Tokens struct {
	byHash map[[32]byte]Principal
}

// minTokenLen is the shortest token accepted: 128 bits in hex.
const minTokenLen = 32

// Add adds a token. It refuses a short token, an empty name, and a name
// or token given twice.
func (t *Tokens) Add(p Principal, token string) error {
	if p.Name == "" {
		return errors.New("a token needs a name")
	}
	if len(token) < minTokenLen {
		return fmt.Errorf("token %q is %d characters; give at least %d (openssl rand -hex 16)", p.Name, len(token), minTokenLen)
	}
	if t.byHash == nil {
		t.byHash = map[[32]byte]Principal{}
	}
	for _, q := range t.byHash {
		if q.Name == p.Name {
			return fmt.Errorf("token name %q is given twice", p.Name)
		}
	}
	h := sha256.Sum256([]byte(token))
	if _, ok := t.byHash[h]; ok {
		return fmt.Errorf("token %q is the same as another one", p.Name)
	}
	t.byHash[h] = p
	return nil
}

// Len is the number of tokens; nil has none.
func (t *Tokens) Len() int {
	if t == nil {
		return 0
	}
	return len(t.byHash)
}

// lookup returns the principal of token.
func (t *Tokens) lookup(token string) (Principal, bool) {
	if t == nil || token == "" {
		return Principal{}, false
	}
	p, ok := t.byHash[sha256.Sum256([]byte(token))]
	return p, ok
}

// LoadTokens reads a tokens file:
//
//	[[token]]
//	name = "ops"                        # the operator: every account
//	token_env = "DOHOST_OPS_TOKEN"      # the token, from the environment
//
//	[[token]]
//	name = "acme-ci"
//	account = "acme"                    # a tenant: this account only
//	routes = ["*.acme.example/*"]       # what its workers may serve
//	token = "6f1c…"                     # or the token itself
//
// A file that holds a token itself should be readable by its owner only;
// LoadTokens refuses one that others may read.
func LoadTokens(path string) (*Tokens, error) {
	var raw struct {
		Token []struct {
			Name     string   `toml:"name"`
			Account  string   `toml:"account"`
			Token    string   `toml:"token"`
			TokenEnv string   `toml:"token_env"`
			Routes   []string `toml:"routes"`
		} `toml:"token"`
	}
	md, err := toml.DecodeFile(path, &raw)
	if err != nil {
		return nil, fmt.Errorf("admin tokens %s: %w", path, err)
	}
	if un := md.Undecoded(); len(un) > 0 {
		keys := make([]string, len(un))
		for i, k := range un {
			keys[i] = k.String()
		}
		return nil, fmt.Errorf("admin tokens %s: unknown keys %s", path, strings.Join(keys, ", "))
	}
	t := &Tokens{}
	inline := false
	for i, e := range raw.Token {
		tok := e.Token
		switch {
		case tok != "" && e.TokenEnv != "":
			return nil, fmt.Errorf("admin tokens %s: token %d (%q) has both token and token_env", path, i+1, e.Name)
		case e.TokenEnv != "":
			if tok = os.Getenv(e.TokenEnv); tok == "" {
				return nil, fmt.Errorf("admin tokens %s: token %q: $%s is not set", path, e.Name, e.TokenEnv)
			}
		default:
			inline = true
		}
		if e.Account == "" && len(e.Routes) > 0 {
			return nil, fmt.Errorf("admin tokens %s: token %q: routes bound a tenant's token; an operator's (no account) may deploy any", path, e.Name)
		}
		for _, r := range e.Routes {
			if _, err := config.ParseRoute(r); err != nil {
				return nil, fmt.Errorf("admin tokens %s: token %q: route %q: %w", path, e.Name, r, err)
			}
		}
		if err := t.Add(Principal{Name: e.Name, Account: e.Account, Routes: e.Routes}, tok); err != nil {
			return nil, fmt.Errorf("admin tokens %s: %w", path, err)
		}
	}
	if inline {
		if err := checkPrivate(path); err != nil {
			return nil, fmt.Errorf("admin tokens %s holds tokens and %w", path, err)
		}
	}
	return t, nil
}

// checkPrivate refuses a file of credentials that others than its owner
// may read.
func checkPrivate(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if m := st.Mode().Perm(); m&0o077 != 0 {
		return fmt.Errorf("others may read it (mode %v): chmod 600 it", m)
	}
	return nil
}
