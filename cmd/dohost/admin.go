package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dohost/dohost/host"
)

// The admin commands talk to a running host's admin API (dohost serve
// --admin-addr). Their exit codes: 0 done, 1 the host refused or failed
// (the reason is printed), 2 a usage error, 3 the host could not be
// reached.
const (
	exitRefused     = 1
	exitUsage       = 2
	exitUnreachable = 3
)

// defaultAdmin is the admin address the commands use without --admin or
// $DOHOST_ADMIN.
const defaultAdmin = "127.0.0.1:9090"

// adminClient calls a host's admin API.
type adminClient struct {
	base  string // http://host:port, or http://admin for a unix socket
	token string
	hc    *http.Client
}

// adminFlags adds --admin and --token to fs.
func adminFlags(fs *flag.FlagSet) (addr, token *string) {
	a := os.Getenv("DOHOST_ADMIN")
	if a == "" {
		a = defaultAdmin
	}
	addr = fs.String("admin", a, "the host's admin address: HOST:PORT or unix:PATH (default $DOHOST_ADMIN)")
	token = fs.String("token", "", "an admin token (default $DOHOST_TOKEN)")
	return addr, token
}

func newAdminClient(addr, token string) *adminClient {
	if token == "" {
		token = os.Getenv("DOHOST_TOKEN")
	}
	c := &adminClient{token: token, hc: &http.Client{Timeout: 10 * time.Minute}}
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		c.base = "http://admin"
		c.hc.Transport = &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		}}
	} else {
		c.base = "http://" + strings.TrimPrefix(addr, "http://")
	}
	return c
}

// errUnreachable marks a call that never reached the host.
var errUnreachable = errors.New("cannot reach the host's admin API")

// call sends a request and decodes a 200's JSON into out; any other
// answer is an error with the host's reason.
func (c *adminClient) call(method, path, contentType string, body io.Reader, out any) error {
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		return err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%w at %s: %v (is dohost serve running with --admin-addr?)", errUnreachable, c.base, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("reading the host's answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error     string `json:"error"`
			RequestID string `json:"request_id"`
		}
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			if e.RequestID != "" {
				return fmt.Errorf("%s (request id %s)", e.Error, e.RequestID)
			}
			return errors.New(e.Error)
		}
		return fmt.Errorf("the host answered %s", resp.Status)
	}
	if out == nil {
		return nil
	}
	if raw, ok := out.(*rawBody); ok {
		*raw = b
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("the host's answer: %w", err)
	}
	return nil
}

// exitCode maps an admin call's error to the command's exit code.
func exitCode(stderr io.Writer, cmd string, err error) int {
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "dohost %s: %v\n", cmd, err)
	if errors.Is(err, errUnreachable) {
		return exitUnreachable
	}
	return exitRefused
}

// parseAdmin parses an admin command's flags, which must leave no
// arguments.
func parseAdmin(fs *flag.FlagSet, args []string, stderr io.Writer) bool {
	if err := fs.Parse(args); err != nil {
		return false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "dohost %s: unexpected arguments %q\n", fs.Name(), fs.Args())
		return false
	}
	return true
}

func deployCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("deploy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := fs.String("config", "wrangler.toml", "the worker's wrangler.toml; its main is the module deployed")
	addr, token := adminFlags(fs)
	if !parseAdmin(fs, args, stderr) {
		return exitUsage
	}
	req, err := host.ReadDeploy(*cfg)
	if err != nil {
		fmt.Fprintf(stderr, "dohost deploy: %v\n", err)
		return exitUsage
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, p := range []struct {
		name, file string
		data       []byte
	}{{"config", *cfg, req.Config}, {"module", "module.wasm", req.Module}} {
		w, err := mw.CreateFormFile(p.name, p.file)
		if err == nil {
			_, err = w.Write(p.data)
		}
		if err != nil {
			fmt.Fprintf(stderr, "dohost deploy: %v\n", err)
			return exitRefused
		}
	}
	_ = mw.Close()
	var v host.Version
	c := newAdminClient(*addr, *token)
	if err := c.call("POST", "/v1/deploy", mw.FormDataContentType(), &body, &v); err != nil {
		return exitCode(stderr, "deploy", err)
	}
	fmt.Fprintf(stdout, "deployed %s/%s version %d (module sha256:%.12s) by %s\n", v.Account, v.Worker, v.Version, v.Module, v.By)
	return 0
}

// printJSON writes v as indented JSON and returns the exit code 0.
func printJSON(w io.Writer, v any) int {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
	return 0
}

// workerFlags adds --worker and --account to fs.
func workerFlags(fs *flag.FlagSet) (worker, account *string) {
	worker = fs.String("worker", "", "the worker's name (its wrangler.toml name)")
	account = fs.String("account", "default", "the worker's account_id")
	return worker, account
}

func workerPath(account, worker string) string {
	return "/v1/workers/" + url.PathEscape(account) + "/" + url.PathEscape(worker)
}

func rollbackCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rollback", flag.ContinueOnError)
	fs.SetOutput(stderr)
	worker, account := workerFlags(fs)
	version := fs.Int("version", 0, "the version to return to (default: the one served before the active one)")
	addr, token := adminFlags(fs)
	if !parseAdmin(fs, args, stderr) {
		return exitUsage
	}
	if *worker == "" {
		fmt.Fprintln(stderr, "dohost rollback: give --worker NAME")
		return exitUsage
	}
	path := workerPath(*account, *worker) + "/rollback"
	if *version > 0 {
		path += fmt.Sprintf("?version=%d", *version)
	}
	var v host.Version
	if err := newAdminClient(*addr, *token).call("POST", path, "", nil, &v); err != nil {
		return exitCode(stderr, "rollback", err)
	}
	fmt.Fprintf(stdout, "rolled %s/%s back to version %d, as version %d\n", v.Account, v.Worker, v.RollbackOf, v.Version)
	return 0
}

func versionsCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("versions", flag.ContinueOnError)
	fs.SetOutput(stderr)
	worker, account := workerFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	addr, token := adminFlags(fs)
	if !parseAdmin(fs, args, stderr) {
		return exitUsage
	}
	if *worker == "" {
		fmt.Fprintln(stderr, "dohost versions: give --worker NAME")
		return exitUsage
	}
	var vs []host.Version
	if err := newAdminClient(*addr, *token).call("GET", workerPath(*account, *worker)+"/versions", "", nil, &vs); err != nil {
		return exitCode(stderr, "versions", err)
	}
	if *asJSON {
		return printJSON(stdout, vs)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tTIME\tBY\tMODULE\tNOTE")
	for _, v := range vs {
		note := ""
		switch {
		case v.Removed:
			note = "removed"
		case v.RollbackOf > 0:
			note = fmt.Sprintf("rollback to %d", v.RollbackOf)
		case v.Note != "":
			note = v.Note
		}
		if v.Active {
			note = strings.TrimPrefix(note+", active", ", ")
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%.12s\t%s\n", v.Version, v.Time.Local().Format(time.DateTime), v.By, v.Module, note)
	}
	_ = tw.Flush()
	return 0
}

func workersCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("workers", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	addr, token := adminFlags(fs)
	if !parseAdmin(fs, args, stderr) {
		return exitUsage
	}
	var ws []host.WorkerInfo
	if err := newAdminClient(*addr, *token).call("GET", "/v1/workers", "", nil, &ws); err != nil {
		return exitCode(stderr, "workers", err)
	}
	if *asJSON {
		return printJSON(stdout, ws)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tWORKER\tVERSION\tCLASSES\tROUTES\tERROR")
	for _, w := range ws {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", w.Account, w.Name, w.Version, strings.Join(w.Classes, ","), strings.Join(w.Routes, ","), w.Error)
	}
	_ = tw.Flush()
	return 0
}

func removeCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("remove", flag.ContinueOnError)
	fs.SetOutput(stderr)
	worker, account := workerFlags(fs)
	addr, token := adminFlags(fs)
	if !parseAdmin(fs, args, stderr) {
		return exitUsage
	}
	if *worker == "" {
		fmt.Fprintln(stderr, "dohost remove: give --worker NAME")
		return exitUsage
	}
	var v host.Version
	if err := newAdminClient(*addr, *token).call("DELETE", workerPath(*account, *worker), "", nil, &v); err != nil {
		return exitCode(stderr, "remove", err)
	}
	fmt.Fprintf(stdout, "removed %s/%s (version %d); its data stays, and a deploy or rollback brings it back\n", v.Account, v.Worker, v.Version)
	return 0
}

// secretCmd is dohost secret put|delete|list: a worker's secrets through
// the admin API. put reads the value from standard input, so that it is
// in no shell history and no process list.
func secretCmd(args []string, stdout, stderr io.Writer) int {
	op, fs, ok := subcommand("secret", "put|delete|list --worker NAME [SECRET]", args, stderr)
	if !ok {
		return exitUsage
	}
	worker, account := workerFlags(fs)
	addr, token := adminFlags(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return exitUsage
	}
	want := 1
	if op == "list" {
		want = 0
	}
	if *worker == "" || fs.NArg() != want {
		fmt.Fprintf(stderr, "usage: dohost secret %s --worker NAME%s\n", op, map[bool]string{true: " SECRET", false: ""}[want == 1])
		return exitUsage
	}
	c := newAdminClient(*addr, *token)
	path := workerPath(*account, *worker) + "/secrets"
	switch op {
	case "list":
		var names []string
		if err := c.call("GET", path, "", nil, &names); err != nil {
			return exitCode(stderr, "secret list", err)
		}
		for _, n := range names {
			fmt.Fprintln(stdout, n)
		}
		return 0
	case "put":
		value, err := io.ReadAll(io.LimitReader(os.Stdin, 1<<20))
		if err != nil {
			return exitCode(stderr, "secret put", err)
		}
		value = bytes.TrimSuffix(value, []byte("\n"))
		var v host.Version
		if err := c.call("PUT", path+"/"+url.PathEscape(fs.Arg(0)), "application/octet-stream", bytes.NewReader(value), &v); err != nil {
			return exitCode(stderr, "secret put", err)
		}
		say := "stored; it applies at the worker's next deploy"
		if v.Version > 0 {
			say = fmt.Sprintf("deployed as version %d", v.Version)
		}
		fmt.Fprintf(stdout, "secret %s of %s/%s set: %s\n", fs.Arg(0), *account, *worker, say)
		return 0
	case "delete":
		var v host.Version
		if err := c.call("DELETE", path+"/"+url.PathEscape(fs.Arg(0)), "", nil, &v); err != nil {
			return exitCode(stderr, "secret delete", err)
		}
		fmt.Fprintf(stdout, "secret %s of %s/%s deleted\n", fs.Arg(0), *account, *worker)
		return 0
	}
	fmt.Fprintf(stderr, "dohost secret: unknown operation %q: put, delete or list\n", op)
	return exitUsage
}
