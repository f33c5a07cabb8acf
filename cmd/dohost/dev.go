package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/dohost/dohost/host"
)

// dohost dev serves one worker for its author: it runs the config's
// [build] command when a source under its watch_dir changes and deploys
// the rebuilt module (or a changed config) into the running host, whose
// data stays; each reload, and each failure, is printed.

// devPoll is how often dev looks for changed files.
const devPoll = 300 * time.Millisecond

// buildConfig is wrangler's [build] section.
type buildConfig struct {
	Command  string `toml:"command"`
	Cwd      string `toml:"cwd"`
	WatchDir any    `toml:"watch_dir"` // a path or a list of them
}

// readBuild reads [build] of the config at path; its paths are made
// relative to the config's directory. watch_dir defaults to "src", as
// wrangler's does, when there is a command.
func readBuild(path string) (cmd, cwd string, watch []string, err error) {
	var raw struct {
		Build buildConfig `toml:"build"`
	}
	if _, err := toml.DecodeFile(path, &raw); err != nil {
		return "", "", nil, fmt.Errorf("config: %w", err)
	}
	dir := filepath.Dir(path)
	b := raw.Build
	cwd = dir
	if b.Cwd != "" {
		cwd = filepath.Join(dir, b.Cwd)
	}
	switch w := b.WatchDir.(type) {
	case nil:
		if b.Command != "" {
			watch = []string{filepath.Join(dir, "src")}
		}
	case string:
		watch = []string{filepath.Join(dir, w)}
	case []any:
		for _, e := range w {
			s, ok := e.(string)
			if !ok {
				return "", "", nil, fmt.Errorf("%s: build.watch_dir must be a path or a list of paths", path)
			}
			watch = append(watch, filepath.Join(dir, s))
		}
	default:
		return "", "", nil, fmt.Errorf("%s: build.watch_dir must be a path or a list of paths", path)
	}
	return b.Command, cwd, watch, nil
}

// fileState is what dev compares to see a change: every file's size and
// modification time.
type fileState map[string][2]int64

// scan returns the state of the files under dirs (skipping hidden
// directories, and the files and directories of skip: the build's output
// and the data directory, which would otherwise start the next build) and
// of the files given.
func scan(dirs, files []string, skip ...string) fileState {
	st := fileState{}
	add := func(p string, fi fs.FileInfo) { st[p] = [2]int64{fi.Size(), fi.ModTime().UnixNano()} }
	skipped := map[string]bool{}
	for _, s := range skip {
		if abs, err := filepath.Abs(s); err == nil {
			skipped[abs] = true
		}
	}
	for _, d := range dirs {
		_ = filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if e.IsDir() && p != d && strings.HasPrefix(e.Name(), ".") {
				return filepath.SkipDir
			}
			if abs, err := filepath.Abs(p); err == nil && skipped[abs] {
				if e.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() {
				add(p, fi)
			}
			return nil
		})
	}
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil {
			add(f, fi)
		}
	}
	return st
}

func (a fileState) equal(b fileState) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func devCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := fs.String("config", "wrangler.toml", "the worker's wrangler.toml")
	listen := fs.String("listen", "127.0.0.1:8787", "address to serve HTTP on")
	data := fs.String("data", "./.dohost", "data directory: kept across reloads and runs")
	verbose := fs.Bool("v", false, "log debug lines too")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "dohost dev: unexpected arguments %q\n", fs.Args())
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	return dev(ctx, devOptions{config: *cfg, listen: *listen, data: *data, level: level}, stdout, stderr)
}

type devOptions struct {
	config, listen, data string
	level                slog.Level
}

// dev runs the dev loop until ctx is done.
func dev(ctx context.Context, o devOptions, stdout, stderr io.Writer) int {
	say := func(format string, args ...any) {
		fmt.Fprintf(stdout, "[dohost dev %s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
	}
	command, cwd, watch, err := readBuild(o.config)
	if err != nil {
		fmt.Fprintf(stderr, "dohost dev: %v\n", err)
		return exitUsage
	}
	build := func() bool {
		if command == "" {
			return true
		}
		say("building: %s", command)
		cmd := exec.CommandContext(ctx, "sh", "-c", command)
		cmd.Dir = cwd
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		start := time.Now()
		if err := cmd.Run(); err != nil {
			say("build failed (%v); the running version serves on:\n%s", err, strings.TrimRight(out.String(), "\n"))
			return false
		}
		say("built in %s", time.Since(start).Round(time.Millisecond))
		return true
	}
	build()
	req, err := host.ReadDeploy(o.config)
	if err != nil {
		fmt.Fprintf(stderr, "dohost dev: %v\n", err)
		return 1
	}
	secrets, err := devVars(o.config)
	if err != nil {
		fmt.Fprintf(stderr, "dohost dev: %v\n", err)
		return exitUsage
	}
	if len(secrets) > 0 {
		say("secrets from .dev.vars: %d", len(secrets))
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: o.level}))
	srv, err := host.New(ctx, host.Options{Configs: []string{o.config}, DataDir: o.data, Logger: log, AccessLog: true, Secrets: secrets})
	if err != nil {
		fmt.Fprintf(stderr, "dohost dev: %v\n", err)
		return 1
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		defer cancel()
		_ = srv.Close(cctx)
	}()
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		fmt.Fprintf(stderr, "dohost dev: %v\n", err)
		return 1
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	// What is watched is read before the first line says it serves: a
	// change made after that line is a change.
	deployed := sha256.Sum256(append(append([]byte{}, req.Config...), req.Module...))
	mainFile, cfgFile := modulePath(o.config), o.config
	sources := scan(watch, nil, mainFile, o.data)
	// What a reload reads: the module and the config, or, for a Worker
	// in JavaScript, every file beside its entry (its imports).
	outputScan := func() fileState {
		if host.IsScriptMain(mainFile) {
			dir := filepath.Dir(mainFile)
			return scan([]string{dir}, []string{cfgFile}, o.data, filepath.Join(dir, "node_modules"))
		}
		return scan(nil, []string{mainFile, cfgFile})
	}
	outputs := outputScan()
	say("serving %s on http://%s (data in %s)", o.config, ln.Addr(), o.data)
	if len(watch) > 0 {
		say("watching %s; rebuilding with: %s", strings.Join(watch, ", "), command)
	}
	// A change is acted on once it has held for a poll: a file caught
	// while an editor writes it (truncated, half written) is not built
	// or deployed, only what it became.
	srcSeen, outSeen := sources, outputs
	t := time.NewTicker(devPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			say("stopped")
			return 0
		case <-t.C:
		}
		if now := scan(watch, nil, mainFile, o.data); !now.equal(sources) {
			if now.equal(srcSeen) {
				sources = now
				build()
			}
			srcSeen = now
		}
		now := outputScan()
		if now.equal(outputs) {
			continue
		}
		if !now.equal(outSeen) {
			outSeen = now
			continue
		}
		outputs = now
		req, err := host.ReadDeploy(o.config)
		if err != nil {
			say("not reloaded: %v", err)
			continue
		}
		sum := sha256.Sum256(append(append([]byte{}, req.Config...), req.Module...))
		if sum == deployed {
			continue
		}
		req.By = "dev"
		v, err := srv.Deploy(ctx, req)
		if err != nil {
			say("reload refused; the running version serves on: %v", err)
			continue
		}
		deployed = sum
		say("reloaded: version %d (module sha256:%.12s); storage and alarms kept", v.Version, v.Module)
		// The config may name another module or watch other files now.
		mainFile = modulePath(o.config)
		if command, cwd, watch, err = readBuild(o.config); err != nil {
			say("%v", err)
		}
	}
}

// devVars reads .dev.vars beside the config, as wrangler dev does: the
// worker's secrets while developing, as NAME=value lines (# comments,
// optional quotes). They are not stored; a change needs a restart.
func devVars(config string) (map[string]map[string]string, error) {
	path := filepath.Join(filepath.Dir(config), ".dev.vars")
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	account, name, err := host.ConfigWorker(config)
	if err != nil {
		return nil, err
	}
	vars := map[string]string{}
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s:%d: want NAME=value", path, i+1)
		}
		name, value = strings.TrimSpace(strings.TrimPrefix(name, "export ")), strings.TrimSpace(value)
		if len(value) >= 2 && (value[0] == '"' || value[0] == '\'') && value[len(value)-1] == value[0] {
			value = value[1 : len(value)-1]
		}
		vars[name] = value
	}
	return map[string]map[string]string{account + "/" + name: vars}, nil
}

// modulePath returns the file the config's main names, or "" if the
// config does not read.
func modulePath(config string) string {
	var raw struct {
		Main string `toml:"main"`
	}
	if _, err := toml.DecodeFile(config, &raw); err != nil || raw.Main == "" {
		return ""
	}
	if filepath.IsAbs(raw.Main) {
		return raw.Main
	}
	return filepath.Join(filepath.Dir(config), raw.Main)
}
