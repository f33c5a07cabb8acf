package config

import (
	"strconv"
	"strings"
)

// locate maps each key path in a TOML document to the line it is written on.
// Paths look like "name", "durable_objects.bindings[1].class_name" or
// "migrations[0].tag". BurntSushi/toml keeps key positions to itself, so this
// small scanner finds them; it is best-effort and gives up quietly (leaving
// later keys without a line) on input the TOML parser would refuse anyway.
func locate(src string) map[string]int {
	l := &locator{src: src, line: 1, lines: map[string]int{}, tables: map[string]int{}}
	l.run()
	return l.lines
}

type locator struct {
	src    string
	pos    int
	line   int
	lines  map[string]int
	tables map[string]int // array-of-tables path → next index
}

func (l *locator) peek() byte {
	if l.pos < len(l.src) {
		return l.src[l.pos]
	}
	return 0
}

func (l *locator) next() byte {
	c := l.peek()
	if c == '\n' {
		l.line++
	}
	l.pos++
	return c
}

// space skips blanks, and with nl also newlines and comments.
func (l *locator) space(nl bool) {
	for l.pos < len(l.src) {
		switch c := l.peek(); {
		case c == ' ' || c == '\t' || c == '\r':
			l.next()
		case c == '#':
			for l.pos < len(l.src) && l.peek() != '\n' {
				l.next()
			}
		case c == '\n' && nl:
			l.next()
		default:
			return
		}
	}
}

func (l *locator) record(path string, line int) {
	if _, ok := l.lines[path]; !ok {
		l.lines[path] = line
	}
}

func (l *locator) run() {
	table := ""
	for {
		l.space(true)
		if l.pos >= len(l.src) {
			return
		}
		if l.peek() == '[' {
			line := l.line
			l.next()
			array := l.peek() == '['
			if array {
				l.next()
			}
			parts, ok := l.key()
			if !ok {
				return
			}
			table = strings.Join(parts, ".")
			if array {
				i := l.tables[table]
				l.tables[table] = i + 1
				table += "[" + strconv.Itoa(i) + "]"
			}
			l.record(table, line)
			for l.pos < len(l.src) && l.peek() != '\n' {
				l.next()
			}
			continue
		}
		if !l.keyValue(table) {
			return
		}
	}
}

// keyValue reads `key = value` and records the key (and any keys nested in
// the value) under base.
func (l *locator) keyValue(base string) bool {
	line := l.line
	parts, ok := l.key()
	if !ok {
		return false
	}
	path := join(base, strings.Join(parts, "."))
	l.record(path, line)
	l.space(false)
	if l.next() != '=' {
		return false
	}
	l.space(false)
	return l.value(path)
}

func join(base, k string) string {
	if base == "" {
		return k
	}
	return base + "." + k
}

// key reads a dotted key of bare and quoted parts.
func (l *locator) key() ([]string, bool) {
	var parts []string
	for {
		l.space(false)
		switch c := l.peek(); {
		case c == '"' || c == '\'':
			s, ok := l.str()
			if !ok {
				return nil, false
			}
			parts = append(parts, s)
		case isBare(c):
			start := l.pos
			for isBare(l.peek()) {
				l.next()
			}
			parts = append(parts, l.src[start:l.pos])
		default:
			return nil, false
		}
		l.space(false)
		if l.peek() != '.' {
			break
		}
		l.next()
	}
	if l.peek() == ']' { // end of a table header
		l.next()
		if l.peek() == ']' {
			l.next()
		}
	}
	return parts, true
}

func isBare(c byte) bool {
	return c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// str reads a basic, literal or multi-line string and returns its raw text
// (escapes are not interpreted; keys with escapes are rare enough).
func (l *locator) str() (string, bool) {
	q := l.next()
	multi := strings.HasPrefix(l.src[l.pos:], string([]byte{q, q}))
	if multi {
		l.next()
		l.next()
	}
	start := l.pos
	for l.pos < len(l.src) {
		c := l.peek()
		if c == '\\' && q == '"' {
			l.next()
			l.next()
			continue
		}
		if c == q {
			if !multi {
				s := l.src[start:l.pos]
				l.next()
				return s, true
			}
			if strings.HasPrefix(l.src[l.pos:], string([]byte{q, q, q})) {
				s := l.src[start:l.pos]
				l.next()
				l.next()
				l.next()
				return s, true
			}
		}
		if c == '\n' && !multi {
			return "", false
		}
		l.next()
	}
	return "", false
}

// value skips one value, recording keys inside inline tables and arrays.
func (l *locator) value(path string) bool {
	switch c := l.peek(); c {
	case '"', '\'':
		_, ok := l.str()
		return ok
	case '[':
		l.next()
		for i := 0; ; i++ {
			l.space(true)
			if l.peek() == ']' {
				l.next()
				return true
			}
			elem := path + "[" + strconv.Itoa(i) + "]"
			l.record(elem, l.line)
			if !l.value(elem) {
				return false
			}
			l.space(true)
			switch l.next() {
			case ',':
			case ']':
				return true
			default:
				return false
			}
		}
	case '{':
		l.next()
		for {
			l.space(true)
			if l.peek() == '}' {
				l.next()
				return true
			}
			if !l.keyValue(path) {
				return false
			}
			l.space(true)
			switch l.next() {
			case ',':
			case '}':
				return true
			default:
				return false
			}
		}
	default:
		start := l.pos
		for l.pos < len(l.src) {
			c := l.peek()
			if c == ',' || c == ']' || c == '}' || c == '\n' || c == '#' {
				break
			}
			l.next()
		}
		return l.pos > start
	}
}
