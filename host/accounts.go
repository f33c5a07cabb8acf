package host

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/dohost/dohost/host/internal/config"
)

// checkAccounts holds each config to the accounts the operator granted:
// with grants (Options.Accounts: account → patterns of config files, as
// filepath.Match spells them), a config may claim an account_id only if
// its file matches one of that account's patterns. A tenant that writes
// its own wrangler.toml cannot then name another tenant's account and
// reach its KV, objects or storage. Without grants every config is the
// operator's own, and trusted.
func checkAccounts(cfgs []*config.Config, grants map[string][]string) error {
	if grants == nil {
		return nil
	}
	var errs []error
	for _, c := range cfgs {
		abs, err := filepath.Abs(c.File)
		if err != nil {
			abs = c.File
		}
		ok := false
		for _, p := range grants[c.AccountID] {
			if m, _ := filepath.Match(p, abs); m {
				ok = true
				break
			}
		}
		if !ok {
			granted := strings.Join(grants[c.AccountID], ", ")
			if granted == "" {
				granted = "no config"
			}
			errs = append(errs, fmt.Errorf("%s: account_id %q is granted only to %s (--accounts)", c.File, c.AccountID, granted))
		}
	}
	return errors.Join(errs...)
}
