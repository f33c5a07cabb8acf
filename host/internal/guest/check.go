package guest

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/dohost/dohost/abi"
	"github.com/tetratelabs/wazero/api"
)

// check holds the compiled module to the ABI: it declares exactly this
// version, imports only what the host provides with the signatures the
// host gives them, owns and exports its memory, is a reactor rather than a
// command, and exports every handler it has with the signature
// abi.Handlers gives. Every problem is reported at once.
func (m *Module) check() error {
	exports := m.cm.ExportedFunctions()
	var versions []int
	for name := range exports {
		if v, ok := strings.CutPrefix(name, abi.VersionExportPrefix); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("export %q is not a valid ABI version marker", name)
			}
			versions = append(versions, n)
		}
	}
	sort.Ints(versions)
	switch {
	case len(versions) == 0:
		return fmt.Errorf("module does not declare a dohost ABI version: it must export a function %q (see abi/ABI.md); this host supports ABI v%d", abi.VersionExport, abi.Version)
	case len(versions) > 1:
		return fmt.Errorf("module declares several dohost ABI versions %v; export exactly one", versions)
	case versions[0] != abi.Version:
		return fmt.Errorf("module was built for dohost ABI v%d; this host supports ABI v%d only: rebuild it with a v%d SDK", versions[0], abi.Version, abi.Version)
	}
	var errs []error
	for _, f := range m.cm.ImportedFunctions() {
		mod, name, _ := f.Import()
		switch mod {
		case meterModule:
			continue // added by the meter; Prepare refuses guests that import it themselves
		case abi.ImportModule, wasiModule:
			var def api.FunctionDefinition
			if host := m.rt.Module(mod); host != nil {
				def = host.ExportedFunctionDefinitions()[name]
			}
			if def == nil {
				errs = append(errs, fmt.Errorf("imports %s.%s, which ABI v%d does not have", mod, name, abi.Version))
				continue
			}
			if sig(def) != sig(f) {
				errs = append(errs, fmt.Errorf("imports %s.%s with the wrong signature: got %s, want %s", mod, name, sig(f), sig(def)))
			}
		default:
			errs = append(errs, fmt.Errorf("imports %s.%s: only the modules %q and %q can be imported", mod, name, abi.ImportModule, wasiModule))
		}
	}
	for _, mem := range m.cm.ImportedMemories() {
		mod, name, _ := mem.Import()
		errs = append(errs, fmt.Errorf("imports memory %s.%s: a guest must define and export its own memory", mod, name))
	}
	if _, ok := m.cm.ExportedMemories()["memory"]; !ok {
		errs = append(errs, errors.New(`module does not export its memory as "memory"`))
	}
	if _, ok := exports["_start"]; ok {
		if _, ok := exports[abi.ExportInitialize]; !ok {
			errs = append(errs, fmt.Errorf("module exports _start and no %s: it is built as a WASI command, whose exports may not run before _start, which dohost never calls; build it as a reactor (Go: GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared; C: clang -mexec-model=reactor)", abi.ExportInitialize))
		}
	}
	m.exports = map[string]bool{}
	for _, h := range abi.Handlers {
		d, ok := exports[h.Name]
		if !ok {
			if h.Required == abi.Always {
				errs = append(errs, fmt.Errorf("module does not export %q, which every module must (abi/ABI.md §3)", h.Name))
			}
			continue
		}
		m.exports[h.Name] = true
		if !allI32(d.ParamTypes(), len(h.Params)) || !allI32(d.ResultTypes(), h.Results) {
			errs = append(errs, fmt.Errorf("export %s has signature %s, want %d i32 parameter(s) and %d i32 result(s)", h.Name, sig(d), len(h.Params), h.Results))
		}
	}
	return errors.Join(errs...)
}

// CheckClasses reports which handlers a module whose config binds Durable
// Object classes must export and does not.
func (m *Module) CheckClasses() error {
	var missing []string
	for _, h := range abi.Handlers {
		if h.Required == abi.WithClasses && !m.exports[h.Name] {
			missing = append(missing, h.Name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("the config binds Durable Object classes, but the module does not export %s (abi/ABI.md §3)", strings.Join(missing, ", "))
}

func allI32(ts []api.ValueType, n int) bool {
	if len(ts) != n {
		return false
	}
	for _, t := range ts {
		if t != api.ValueTypeI32 {
			return false
		}
	}
	return true
}

// sig formats a function's signature as "(i32, i32) -> (i32)".
func sig(d api.FunctionDefinition) string {
	names := func(ts []api.ValueType) string {
		s := make([]string, len(ts))
		for i, t := range ts {
			s[i] = api.ValueTypeName(t)
		}
		return strings.Join(s, ", ")
	}
	return "(" + names(d.ParamTypes()) + ") -> (" + names(d.ResultTypes()) + ")"
}
