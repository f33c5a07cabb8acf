package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dohost/dohost/host"
)

// dataTools are what the kv, objects and backup commands do: through a
// running host's admin API, or on a data directory no host holds (--data).
type dataTools interface {
	KVGet(account, id, key string) ([]byte, error)
	KVPut(account, id, key string, value []byte) error
	KVDelete(account, id, key string) error
	KVList(account, id, prefix, cursor string, limit int) (host.KVPage, error)
	Objects(account, worker, class, after string, limit int) ([]host.ObjectInfo, error)
	ObjectStorage(account, worker, class, object, prefix, after string, limit int) ([]host.StorageEntry, bool, error)
	InspectObject(account, worker, class, object string) (host.ObjectDetail, error)
	DeleteObject(ctx context.Context, account, worker, class, object string) error
	Backup(dir string) error
}

// dataFlags are the flags every data command takes.
type dataFlags struct {
	admin, token, data, account *string
}

func addDataFlags(fs *flag.FlagSet) dataFlags {
	var f dataFlags
	f.admin, f.token = adminFlags(fs)
	f.data = fs.String("data", "", "work on this data directory instead of a running host (refused while a host holds it)")
	f.account = fs.String("account", "default", "the account_id")
	return f
}

// open returns the tools the flags name, and a function that closes them.
func (f dataFlags) open() (dataTools, func(), error) {
	if *f.data != "" {
		s, err := host.Open(*f.data, nil)
		if err != nil {
			if errors.Is(err, host.ErrDataDirInUse) {
				return nil, nil, fmt.Errorf("%w (use the host's admin API: leave out --data)", err)
			}
			return nil, nil, err
		}
		return s, func() { _ = s.Close(context.Background()) }, nil
	}
	return newAdminClient(*f.admin, *f.token), func() {}, nil
}

// parseData parses a data command's flags and returns its arguments,
// which must be n.
func parseData(fs *flag.FlagSet, args []string, n int, stderr io.Writer, usage string) ([]string, bool) {
	if err := fs.Parse(args); err != nil {
		return nil, false
	}
	if fs.NArg() != n {
		fmt.Fprintf(stderr, "usage: dohost %s %s\n", fs.Name(), usage)
		return nil, false
	}
	return fs.Args(), true
}

// subcommand returns the operation that args begin with and a flag set
// for it ("cmd op"), or prints cmd's usage and reports false.
func subcommand(cmd, usage string, args []string, stderr io.Writer) (op string, fs *flag.FlagSet, ok bool) {
	if len(args) == 0 {
		fmt.Fprintf(stderr, "usage: dohost %s %s\n", cmd, usage)
		return "", nil, false
	}
	fs = flag.NewFlagSet(cmd+" "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	return args[0], fs, true
}

// kvCmd is dohost kv get|put|delete|list.
func kvCmd(args []string, stdout, stderr io.Writer) int {
	op, fs, ok := subcommand("kv", "get|put|delete|list --namespace-id ID [--account A] …", args, stderr)
	if !ok {
		return exitUsage
	}
	f := addDataFlags(fs)
	ns := fs.String("namespace-id", "", "the KV namespace's id (kv_namespaces id in wrangler.toml)")
	var rest []string
	switch op {
	case "get", "delete":
		rest, ok = parseData(fs, args[1:], 1, stderr, "--namespace-id ID KEY")
	case "put":
		rest, ok = parseData(fs, args[1:], 2, stderr, "--namespace-id ID KEY VALUE (- reads the value from standard input)")
	case "list":
		prefix := fs.String("prefix", "", "only keys that start with this")
		rest, ok = parseData(fs, args[1:], 0, stderr, "--namespace-id ID [--prefix P]")
		rest = []string{*prefix}
	default:
		fmt.Fprintf(stderr, "dohost kv: unknown operation %q: get, put, delete or list\n", op)
		return exitUsage
	}
	if !ok {
		return exitUsage
	}
	if *ns == "" {
		fmt.Fprintln(stderr, "dohost kv: give --namespace-id ID")
		return exitUsage
	}
	t, done, err := f.open()
	if err != nil {
		return exitCode(stderr, "kv "+op, err)
	}
	defer done()
	switch op {
	case "get":
		v, err := t.KVGet(*f.account, *ns, rest[0])
		if err != nil {
			return exitCode(stderr, "kv get", err)
		}
		_, _ = stdout.Write(v)
	case "put":
		v := []byte(rest[1])
		if rest[1] == "-" {
			if v, err = io.ReadAll(os.Stdin); err != nil {
				return exitCode(stderr, "kv put", err)
			}
		}
		if err := t.KVPut(*f.account, *ns, rest[0], v); err != nil {
			return exitCode(stderr, "kv put", err)
		}
	case "delete":
		if err := t.KVDelete(*f.account, *ns, rest[0]); err != nil {
			return exitCode(stderr, "kv delete", err)
		}
	case "list":
		cursor := ""
		for {
			p, err := t.KVList(*f.account, *ns, rest[0], cursor, 0)
			if err != nil {
				return exitCode(stderr, "kv list", err)
			}
			for _, k := range p.Keys {
				fmt.Fprintln(stdout, k.Name)
			}
			if cursor = p.Cursor; cursor == "" {
				break
			}
		}
	}
	return 0
}

// objectsCmd is dohost objects list|storage|delete.
func objectsCmd(args []string, stdout, stderr io.Writer) int {
	op, fs, ok := subcommand("objects", "list|inspect|storage|delete --worker W --class C [OBJECT]", args, stderr)
	if !ok {
		return exitUsage
	}
	f := addDataFlags(fs)
	worker := fs.String("worker", "", "the worker's name")
	class := fs.String("class", "", "the Durable Object class")
	asJSON := fs.Bool("json", false, "print JSON")
	var rest []string
	switch op {
	case "list":
		rest, ok = parseData(fs, args[1:], 0, stderr, "--worker W --class C")
	case "inspect", "storage", "delete":
		rest, ok = parseData(fs, args[1:], 1, stderr, "--worker W --class C OBJECT (its ID or its name)")
	default:
		fmt.Fprintf(stderr, "dohost objects: unknown operation %q: list, inspect, storage or delete\n", op)
		return exitUsage
	}
	if !ok {
		return exitUsage
	}
	if *worker == "" || *class == "" {
		fmt.Fprintln(stderr, "dohost objects: give --worker NAME and --class CLASS")
		return exitUsage
	}
	t, done, err := f.open()
	if err != nil {
		return exitCode(stderr, "objects "+op, err)
	}
	defer done()
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	switch op {
	case "list":
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		if !*asJSON {
			fmt.Fprintln(tw, "ID\tNAME\tALARM\tLIVE\tWEBSOCKETS\tBUSY")
		}
		after := ""
		for {
			os, err := t.Objects(*f.account, *worker, *class, after, 1000)
			if err != nil {
				return exitCode(stderr, "objects list", err)
			}
			for _, o := range os {
				if *asJSON {
					_ = enc.Encode(o)
					continue
				}
				alarm := ""
				if o.Alarm > 0 {
					alarm = time.UnixMilli(o.Alarm).UTC().Format(time.RFC3339)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%d\t%v\n", o.ID, o.Name, alarm, o.Live, o.WebSockets, o.Busy)
			}
			if len(os) < 1000 {
				break
			}
			after = os[len(os)-1].ID
		}
		_ = tw.Flush()
	case "inspect":
		d, err := t.InspectObject(*f.account, *worker, *class, rest[0])
		if err != nil {
			return exitCode(stderr, "objects inspect", err)
		}
		_ = enc.Encode(d)
	case "storage":
		after := ""
		for {
			es, more, err := t.ObjectStorage(*f.account, *worker, *class, rest[0], "", after, 0)
			if err != nil {
				return exitCode(stderr, "objects storage", err)
			}
			for _, e := range es {
				if *asJSON {
					_ = enc.Encode(e)
				} else {
					fmt.Fprintf(stdout, "%s\t%s\n", e.Key, strconv.Quote(string(e.Value)))
				}
			}
			if !more || len(es) == 0 {
				break
			}
			after = es[len(es)-1].Key
		}
	case "delete":
		if err := t.DeleteObject(context.Background(), *f.account, *worker, *class, rest[0]); err != nil {
			return exitCode(stderr, "objects delete", err)
		}
		fmt.Fprintf(stdout, "deleted object %s of %s/%s/%s\n", rest[0], *f.account, *worker, *class)
	}
	return 0
}

// backupCmd is dohost backup --to DIR.
func backupCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := addDataFlags(fs)
	to := fs.String("to", "", "the new directory to write the backup into (on the host's machine)")
	if _, ok := parseData(fs, args, 0, stderr, "--to DIR [--data DIR]"); !ok {
		return exitUsage
	}
	if *to == "" {
		fmt.Fprintln(stderr, "dohost backup: give --to DIR")
		return exitUsage
	}
	dir, err := filepath.Abs(*to)
	if err != nil {
		return exitCode(stderr, "backup", err)
	}
	t, done, err := f.open()
	if err != nil {
		return exitCode(stderr, "backup", err)
	}
	defer done()
	start := time.Now()
	fmt.Fprintf(stderr, "backing up to %s …\n", dir)
	if err := t.Backup(dir); err != nil {
		return exitCode(stderr, "backup", err)
	}
	fmt.Fprintf(stdout, "backup written to %s in %s; restore it with: dohost restore --from %s --data DIR\n", dir, time.Since(start).Round(time.Millisecond), dir)
	return 0
}

// restoreCmd is dohost restore --from DIR --data DIR.
func restoreCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "a backup directory (dohost backup --to)")
	data := fs.String("data", "", "the data directory to restore into; no host may hold it")
	if _, ok := parseData(fs, args, 0, stderr, "--from DIR --data DIR"); !ok {
		return exitUsage
	}
	if *from == "" || *data == "" {
		fmt.Fprintln(stderr, "dohost restore: give --from DIR and --data DIR")
		return exitUsage
	}
	if err := host.Restore(*from, *data); err != nil {
		return exitCode(stderr, "restore", err)
	}
	fmt.Fprintf(stdout, "restored %s into %s (the database it replaced, if any, is kept beside it as db.replaced-…)\n", *from, *data)
	return 0
}

// The admin client implements dataTools over the admin API.

func kvPath(account, id string) string {
	return "/v1/kv/" + url.PathEscape(account) + "/" + url.PathEscape(id)
}

func (c *adminClient) KVGet(account, id, key string) ([]byte, error) {
	var raw rawBody
	err := c.call("GET", kvPath(account, id)+"/values/"+url.PathEscape(key), "", nil, &raw)
	return raw, err
}

func (c *adminClient) KVPut(account, id, key string, value []byte) error {
	return c.call("PUT", kvPath(account, id)+"/values/"+url.PathEscape(key), "application/octet-stream", strings.NewReader(string(value)), nil)
}

func (c *adminClient) KVDelete(account, id, key string) error {
	return c.call("DELETE", kvPath(account, id)+"/values/"+url.PathEscape(key), "", nil, nil)
}

func (c *adminClient) KVList(account, id, prefix, cursor string, limit int) (host.KVPage, error) {
	q := url.Values{"prefix": {prefix}, "cursor": {cursor}, "limit": {strconv.Itoa(limit)}}
	var p host.KVPage
	err := c.call("GET", kvPath(account, id)+"/keys?"+q.Encode(), "", nil, &p)
	return p, err
}

func objectsPath(account, worker, class string) string {
	return "/v1/objects/" + url.PathEscape(account) + "/" + url.PathEscape(worker) + "/" + url.PathEscape(class)
}

func (c *adminClient) Objects(account, worker, class, after string, limit int) ([]host.ObjectInfo, error) {
	q := url.Values{"after": {after}, "limit": {strconv.Itoa(limit)}}
	var os []host.ObjectInfo
	err := c.call("GET", objectsPath(account, worker, class)+"?"+q.Encode(), "", nil, &os)
	return os, err
}

func (c *adminClient) ObjectStorage(account, worker, class, object, prefix, after string, limit int) ([]host.StorageEntry, bool, error) {
	q := url.Values{"prefix": {prefix}, "after": {after}, "limit": {strconv.Itoa(limit)}}
	var p struct {
		Entries []host.StorageEntry `json:"entries"`
		More    bool                `json:"more"`
	}
	err := c.call("GET", objectsPath(account, worker, class)+"/"+url.PathEscape(object)+"/storage?"+q.Encode(), "", nil, &p)
	return p.Entries, p.More, err
}

func (c *adminClient) InspectObject(account, worker, class, object string) (host.ObjectDetail, error) {
	var d host.ObjectDetail
	err := c.call("GET", objectsPath(account, worker, class)+"/"+url.PathEscape(object), "", nil, &d)
	return d, err
}

func (c *adminClient) DeleteObject(_ context.Context, account, worker, class, object string) error {
	return c.call("DELETE", objectsPath(account, worker, class)+"/"+url.PathEscape(object), "", nil, nil)
}

func (c *adminClient) Backup(dir string) error {
	return c.call("POST", "/v1/backup?dir="+url.QueryEscape(dir), "", nil, nil)
}

// rawBody takes a 200's body as it is, for call's out.
type rawBody []byte
