package host

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/dohost/dohost/host/internal/config"
	"github.com/dohost/dohost/host/internal/jsbundle"
)

// JSRuntimeEnv is the environment variable that names the JavaScript
// runtime's module when no option does.
const JSRuntimeEnv = "DOHOST_JS_RUNTIME"

// JSRuntimeFile is the runtime module's file name beside the dohost
// executable (make builds bin/dohost-js.wasm beside bin/dohost).
const JSRuntimeFile = "dohost-js.wasm"

// DefaultJSRuntime is where the JavaScript runtime's module is looked for:
// $DOHOST_JS_RUNTIME, or dohost-js.wasm beside the running executable.
func DefaultJSRuntime() string {
	if p := os.Getenv(JSRuntimeEnv); p != "" {
		return p
	}
	exe, err := os.Executable()
	if err != nil {
		return JSRuntimeFile
	}
	return filepath.Join(filepath.Dir(exe), JSRuntimeFile)
}

// IsScriptMain reports whether a config's main names a Worker in
// JavaScript or TypeScript (bundled at load) rather than a module.
func IsScriptMain(main string) bool { return config.IsScript(main) }

// readModule is the guest module of the worker c: its main's bytes, or,
// for a Worker in JavaScript or TypeScript, the runtime at jsRuntime
// (empty: DefaultJSRuntime) with main bundled into it.
func readModule(c *config.Config, jsRuntime string) ([]byte, error) {
	if !config.IsScript(c.Main) {
		wasm, err := os.ReadFile(c.Main)
		if err != nil {
			return nil, fmt.Errorf("%s: read guest module: %w", c.File, err)
		}
		return wasm, nil
	}
	if jsRuntime == "" {
		jsRuntime = DefaultJSRuntime()
	}
	wasm, err := jsbundle.Build(c, jsRuntime)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.File, err)
	}
	return wasm, nil
}
