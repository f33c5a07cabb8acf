package abi

import (
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// specRow is one row of a Markdown table in ABI.md: its cells, trimmed.
type specRow struct {
	line  int
	cells []string
}

// specTables returns the rows of every table in ABI.md under the section
// whose heading starts with section (e.g. "## 4."), up to the next
// heading of the same level.
func specTables(t *testing.T, section string) []specRow {
	t.Helper()
	b, err := os.ReadFile("ABI.md")
	if err != nil {
		t.Fatal(err)
	}
	level := strings.SplitN(section, " ", 2)[0] + " "
	var rows []specRow
	in := false
	for i, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, level) {
			in = strings.HasPrefix(l, section)
			continue
		}
		if !in || !strings.HasPrefix(l, "|") || strings.HasPrefix(l, "|---") {
			continue
		}
		cells := strings.Split(strings.Trim(l, "|"), "|")
		for j := range cells {
			cells[j] = strings.TrimSpace(cells[j])
		}
		rows = append(rows, specRow{line: i + 1, cells: cells})
	}
	if len(rows) == 0 {
		t.Fatalf("ABI.md has no table under %q", section)
	}
	return rows
}

var backticked = regexp.MustCompile("^`([^`]+)`$")

// name returns the cell's text without its backticks, or "".
func name(cell string) string {
	if m := backticked.FindStringSubmatch(cell); m != nil {
		return m[1]
	}
	return ""
}

// specParams parses a parameter cell: "`a, b`" or "—".
func specParams(cell string) []string {
	if cell == "—" {
		return nil
	}
	var ps []string
	for _, p := range strings.Split(name(cell), ",") {
		ps = append(ps, strings.TrimSpace(p))
	}
	return ps
}

// TestSpec_HostFuncs: ABI.md §4 lists exactly the host functions of
// HostFuncs, in the same order, with the same parameters.
func TestSpec_HostFuncs(t *testing.T) {
	var got []string
	for _, r := range specTables(t, "## 4.") {
		fn := name(r.cells[0])
		if fn == "" || len(r.cells) != 3 {
			continue // a header row
		}
		got = append(got, fn)
		f := HostFuncByName(fn)
		if f == nil {
			t.Errorf("ABI.md:%d: %s is not in abi.HostFuncs", r.line, fn)
			continue
		}
		if ps := specParams(r.cells[1]); !slices.Equal(ps, f.ParamNames()) {
			t.Errorf("ABI.md:%d: %s(%s); abi.HostFuncs has (%s)", r.line, fn, strings.Join(ps, ", "), strings.Join(f.ParamNames(), ", "))
		}
	}
	var want []string
	for _, f := range HostFuncs {
		want = append(want, f.Name)
	}
	if !slices.Equal(got, want) {
		t.Errorf("ABI.md §4 lists\n  %v\nabi.HostFuncs has\n  %v", got, want)
	}
}

// TestSpec_Handlers: ABI.md §3's table of exports is Handlers.
func TestSpec_Handlers(t *testing.T) {
	req := map[string]Requirement{"always": Always, "with classes": WithClasses, "no": Optional}
	var got []string
	for _, r := range specTables(t, "## 3.") {
		h := name(r.cells[0])
		if h == "" {
			continue
		}
		if len(r.cells) != 5 {
			t.Fatalf("ABI.md:%d: %d cells, want 5", r.line, len(r.cells))
		}
		got = append(got, h)
		i := slices.IndexFunc(Handlers, func(x Handler) bool { return x.Name == h })
		if i < 0 {
			t.Errorf("ABI.md:%d: %s is not in abi.Handlers", r.line, h)
			continue
		}
		want := Handlers[i]
		if ps := specParams(r.cells[1]); !slices.Equal(ps, want.Params) {
			t.Errorf("ABI.md:%d: %s takes %v; abi.Handlers says %v", r.line, h, ps, want.Params)
		}
		if n, err := strconv.Atoi(r.cells[2]); err != nil || n != want.Results {
			t.Errorf("ABI.md:%d: %s has %q results; abi.Handlers says %d", r.line, h, r.cells[2], want.Results)
		}
		if rq, ok := req[r.cells[3]]; !ok || rq != want.Required {
			t.Errorf("ABI.md:%d: %s required %q; abi.Handlers says %d", r.line, h, r.cells[3], want.Required)
		}
	}
	var want []string
	for _, h := range Handlers {
		want = append(want, h.Name)
	}
	if !slices.Equal(got, want) {
		t.Errorf("ABI.md §3 lists %v; abi.Handlers has %v", got, want)
	}
}

// TestSpec_Codes: ABI.md's table of status codes is Codes.
func TestSpec_Codes(t *testing.T) {
	n := 0
	for _, r := range specTables(t, "### Status codes") {
		v, err := strconv.Atoi(r.cells[0])
		if err != nil {
			continue
		}
		if v != n || len(r.cells) < 2 || r.cells[1] != Codes[n].Name || Codes[n].Code != Code(v) {
			t.Errorf("ABI.md:%d: code %d %s; abi.Codes[%d] is %d %s", r.line, v, r.cells[1], n, Codes[n].Code, Codes[n].Name)
		}
		n++
	}
	if n != len(Codes) {
		t.Errorf("ABI.md lists %d codes, abi.Codes %d", n, len(Codes))
	}
}

// TestTable_Params: every host function's parameters are well formed:
// Ptr followed by its Len (X_ptr, X_len), an out buffer last and whole.
func TestTable_Params(t *testing.T) {
	for _, f := range HostFuncs {
		ps := f.Params
		for i := 0; i < len(ps); i++ {
			switch p := ps[i]; p.Type {
			case Ptr:
				if i+1 == len(ps) || ps[i+1].Type != Len || strings.TrimSuffix(p.Name, "_ptr")+"_len" != ps[i+1].Name {
					t.Errorf("%s: %s is not followed by its length", f.Name, p.Name)
				}
				i++
			case Len:
				t.Errorf("%s: %s follows no pointer", f.Name, p.Name)
			case OutPtr:
				if i+1 == len(ps) || ps[i+1].Type != OutCap {
					t.Errorf("%s: out_ptr without out_cap", f.Name)
				}
				if f.Result == Status && (i+2 >= len(ps) || ps[i+2].Type != OutLenPtr || i+3 != len(ps)) {
					t.Errorf("%s: the out buffer is not out_ptr, out_cap, out_len_ptr at the end", f.Name)
				}
				i += 2
			}
		}
	}
}
