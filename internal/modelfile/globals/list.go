package globals

import (
	"bufio"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// maxExpansions bounds the names one braced line expands to: the list is
// reviewed by people, and a line that stands for more is a mistake.
const maxExpansions = 1000

// dangerCategories are the categories a dangerous entry may have.
var dangerCategories = map[string]bool{
	"process": true, "exec": true, "code": true, "import": true,
	"network": true, "filesystem": true, "deserialize": true, "introspection": true,
}

// A rule is one list entry, after brace expansion.
type rule struct {
	verdict  Verdict
	entry    string // as written: "os.*", "builtins.eval", "*.__globals__"
	category string
	reason   string
	calls    []int
	builds   []int
	module   bool   // written "x.*": a whole module or namespace
	key      string // the dotted name matched: entry less ".*" or a pattern's namespace
	line     int
}

// A pattern is a safe entry "under.*.last*": names under a namespace whose
// last segment starts with last.
type pattern struct {
	under, last string
	rule        *rule
}

// A node is a dotted key in a table: an entry, the start of longer
// entries, or both. Matching walks a name one segment at a time and stops
// where no entry goes on.
type node struct {
	rule   *rule
	deeper bool // some entry's key starts with this key and a dot
}

// segInfo is what the dangerous check needs to know about one segment.
type segInfo struct {
	node     node   // the dangerous node of the segment as a whole key
	anywhere *rule  // a "*.seg" entry
	nick     string // the module this segment is a nickname of
}

// A table is a parsed list.
type table struct {
	danger     map[string]node // dangerous keys: the entry without ".*"
	segs       map[string]segInfo
	exact      map[string]*rule // safe and construct names
	space      map[string]node  // safe and construct namespaces, without ".*"
	patterns   []pattern
	alias      map[string]string
	aliasDepth int // the most segments in an alias source
	nick       map[string]string
	all        []*rule // every entry, in file order
}

// parse reads a list in the format of globals.txt.
func parse(text string) (*table, error) {
	t := &table{
		danger: map[string]node{},
		segs:   map[string]segInfo{},
		exact:  map[string]*rule{},
		space:  map[string]node{},
		alias:  map[string]string{},
		nick:   map[string]string{},
	}
	// seen maps every name (dangerous key, "*.seg", exact or namespace) to
	// the line that listed it, to report duplicates.
	seen := map[string]int{}
	var errs []error
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		if err := t.add(line, n, seen); err != nil {
			errs = append(errs, fmt.Errorf("line %d: %w", n, err))
		}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, err)
	}
	if err := t.check(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return t, nil
}

// add parses one non-comment line.
func (t *table) add(line string, n int, seen map[string]int) error {
	kind, rest := cut(line)
	switch kind {
	case "alias", "nickname":
		from, rest := cut(rest)
		to, reason := cut(rest)
		if reason == "" {
			return fmt.Errorf("%s %s: no reason", kind, from)
		}
		if !dotted(from) || !dotted(to) {
			return fmt.Errorf("%s %s %s: not a dotted name", kind, from, to)
		}
		m := t.alias
		if kind == "nickname" {
			m = t.nick
			if strings.Contains(from, ".") {
				return fmt.Errorf("nickname %s: not one segment", from)
			}
		}
		if _, dup := m[from]; dup {
			return fmt.Errorf("%s %s: listed twice", kind, from)
		}
		m[from] = to
		if kind == "alias" {
			t.aliasDepth = max(t.aliasDepth, strings.Count(from, ".")+1)
		}
		return nil
	case "safe", "construct", "dangerous":
	default:
		return fmt.Errorf("unknown verdict %q", kind)
	}
	verdict := map[string]Verdict{"safe": Safe, "construct": Construct, "dangerous": Dangerous}[kind]
	names, rest := cut(rest)
	category, rest := cut(rest)
	r := rule{verdict: verdict, category: category, line: n}
	for {
		opt, after := cut(rest)
		key, val, ok := strings.Cut(opt, "=")
		if !ok || (key != "calls" && key != "builds") {
			break
		}
		if verdict != Safe {
			return fmt.Errorf("%s: %s= on a %s entry", names, key, kind)
		}
		pos, err := positions(val)
		if err != nil {
			return fmt.Errorf("%s: %s=%s: %w", names, key, val, err)
		}
		if key == "calls" {
			r.calls = pos
		} else {
			r.builds = pos
		}
		rest = after
	}
	r.reason = rest
	if r.reason == "" {
		return fmt.Errorf("%s: no reason", names)
	}
	if verdict == Dangerous && !dangerCategories[category] {
		return fmt.Errorf("%s: unknown dangerous category %q", names, category)
	}
	if !lowerWord(category) {
		return fmt.Errorf("%s: category %q is not a lower-case word", names, category)
	}
	expanded, err := expand(names)
	if err != nil {
		return fmt.Errorf("%s: %w", names, err)
	}
	for _, name := range expanded {
		e := r // each name gets its own copy
		e.entry = name
		if err := t.place(&e, seen); err != nil {
			return err
		}
	}
	return nil
}

// place files one expanded entry in the table.
func (t *table) place(r *rule, seen map[string]int) error {
	name := r.entry
	dup := func(key string) error {
		if line, ok := seen[key]; ok {
			return fmt.Errorf("%s: already listed on line %d", name, line)
		}
		seen[key] = r.line
		return nil
	}
	t.all = append(t.all, r)
	switch {
	case strings.HasPrefix(name, "*."):
		seg := name[2:]
		if r.verdict != Dangerous {
			return fmt.Errorf("%s: only dangerous entries may match any segment", name)
		}
		if !ident(seg) {
			return fmt.Errorf("%s: not a segment", name)
		}
		if err := dup(name); err != nil {
			return err
		}
		s := t.segs[seg]
		s.anywhere = r
		t.segs[seg] = s
		return nil
	case strings.Contains(name, ".*.") && strings.HasSuffix(name, "*"):
		under, last, _ := strings.Cut(strings.TrimSuffix(name, "*"), ".*.")
		if r.verdict == Dangerous {
			return fmt.Errorf("%s: dangerous entries may not be patterns", name)
		}
		if !dotted(under) || !ident(last) {
			return fmt.Errorf("%s: not under.*.prefix*", name)
		}
		r.key = under
		if err := dup(name); err != nil {
			return err
		}
		t.patterns = append(t.patterns, pattern{under: under, last: last, rule: r})
		return nil
	}
	key, module := strings.CutSuffix(name, ".*")
	r.module, r.key = module, key
	if !dotted(key) {
		return fmt.Errorf("%s: not a dotted name", name)
	}
	// A dangerous x and a safe x.* (or the reverse) name the same thing.
	if err := dup(key); err != nil {
		return err
	}
	switch {
	case r.verdict == Dangerous:
		insert(t.danger, key, r)
	case module:
		insert(t.space, key, r)
	default:
		t.exact[key] = r
	}
	return nil
}

// insert adds the node for key to m and marks each shorter key on its
// way as going deeper.
func insert(m map[string]node, key string, r *rule) {
	nd := m[key]
	nd.rule = r
	m[key] = nd
	for end := strings.LastIndexByte(key, '.'); end > 0; end = strings.LastIndexByte(key[:end], '.') {
		nd := m[key[:end]]
		nd.deeper = true
		m[key[:end]] = nd
	}
}

// check looks at the table as a whole once every line is read.
func (t *table) check() error {
	var errs []error
	for from, to := range t.alias {
		if _, chained := t.alias[to]; chained {
			errs = append(errs, fmt.Errorf("alias %s: target %s is itself an alias", from, to))
		}
	}
	for from, to := range t.nick {
		first, _, _ := strings.Cut(to, ".")
		if _, ok := t.nick[first]; ok {
			errs = append(errs, fmt.Errorf("nickname %s: target %s is itself a nickname", from, to))
		}
		s := t.segs[from]
		s.nick = to
		t.segs[from] = s
	}
	// Every segment that starts a dangerous key gets its node, so that
	// the check needs one lookup for segments that start none.
	for key, nd := range t.danger {
		if !strings.Contains(key, ".") {
			s := t.segs[key]
			s.node = nd
			t.segs[key] = s
		}
	}
	// The list says what a name means in the form Classify compares: a name
	// an alias or nickname would rename could never match.
	for _, r := range t.all {
		if r.key == "" {
			continue
		}
		if u := t.unalias(r.key); u != r.key {
			errs = append(errs, fmt.Errorf("line %d: %s: write %s, as the alias renames it", r.line, r.entry, u))
		}
		first, _, _ := strings.Cut(r.key, ".")
		if to, ok := t.nick[first]; ok {
			errs = append(errs, fmt.Errorf("line %d: %s: %s is a nickname of %s", r.line, r.entry, first, to))
		}
	}
	return errors.Join(errs...)
}

// expand returns the names a braced name stands for: "a.{b,c}" is "a.b"
// and "a.c". Braces do not nest.
func expand(name string) ([]string, error) {
	out := []string{""}
	for name != "" {
		open := strings.IndexByte(name, '{')
		if open < 0 {
			if strings.ContainsAny(name, "}") {
				return nil, errors.New("unbalanced braces")
			}
			for i := range out {
				out[i] += name
			}
			break
		}
		end := strings.IndexByte(name[open:], '}')
		if end < 0 || strings.ContainsAny(name[:open], "}") {
			return nil, errors.New("unbalanced braces")
		}
		alts := strings.Split(name[open+1:open+end], ",")
		if strings.ContainsAny(name[open+1:open+end], "{") {
			return nil, errors.New("nested braces")
		}
		if len(out)*len(alts) > maxExpansions {
			return nil, fmt.Errorf("expands to over %d names", maxExpansions)
		}
		next := make([]string, 0, len(out)*len(alts))
		for _, o := range out {
			for _, a := range alts {
				if a == "" {
					return nil, errors.New("empty alternative in braces")
				}
				next = append(next, o+name[:open]+a)
			}
		}
		out = next
		name = name[open+end+1:]
	}
	return out, nil
}

// positions parses "1,2": 1-based argument positions.
func positions(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		p, err := strconv.Atoi(f)
		if err != nil || p < 1 || p > 16 {
			return nil, errors.New("want argument positions 1 to 16")
		}
		out = append(out, p)
	}
	return out, nil
}

// cut splits off the first space-separated field of s.
func cut(s string) (field, rest string) {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		return s[:i], strings.TrimSpace(s[i:])
	}
	return s, ""
}

// dotted reports whether s is identifiers joined by dots.
func dotted(s string) bool {
	for _, seg := range strings.Split(s, ".") {
		if !ident(seg) {
			return false
		}
	}
	return true
}

// ident reports whether s is an ASCII Python identifier.
func ident(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range []byte(s) {
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// lowerWord reports whether s is lower-case letters, digits and dashes.
func lowerWord(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
