package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// LoadAll reads every worker's config. A directory among paths stands for
// every *.toml in it and every */wrangler.toml below it. Two workers of
// one account may not share a name. Every problem of every file is
// reported at once; the warnings stay in each Config.
func LoadAll(paths []string) ([]*Config, error) {
	var files []string
	var errs []error
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil || !st.IsDir() {
			files = append(files, p) // Load reports a missing file
			continue
		}
		a, _ := filepath.Glob(filepath.Join(p, "*.toml"))
		b, _ := filepath.Glob(filepath.Join(p, "*", "wrangler.toml"))
		found := append(a, b...)
		sort.Strings(found)
		if len(found) == 0 {
			errs = append(errs, fmt.Errorf("%s: no *.toml or */wrangler.toml in the directory", p))
		}
		files = append(files, found...)
	}
	var cfgs []*Config
	names := map[string]string{} // account/name → file
	for _, f := range files {
		c, err := Load(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		key := c.AccountID + "/" + c.Name
		if prev, ok := names[key]; ok {
			errs = append(errs, fmt.Errorf("%s: worker %q of account %q is already defined by %s", f, c.Name, c.AccountID, prev))
			continue
		}
		names[key] = f
		cfgs = append(cfgs, c)
	}
	return cfgs, errors.Join(errs...)
}
