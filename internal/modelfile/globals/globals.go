// Package globals says which Python globals a pickle may use safely and
// which run code, from reviewed lists.
//
// A pickle names every callable it uses as module + "." + qualified name
// ("os.system", "torch._utils._rebuild_tensor_v2"). [Classify] sorts such a
// name into one of four verdicts:
//
//   - Safe: a reconstruction function or plain data type that is fine to
//     call with any arguments a pickle can give.
//   - Construct: a framework class that is fine to create without __init__
//     (NEWOBJ, or copyreg._reconstructor with base object) and give state by
//     BUILD/__setstate__, but not to call.
//   - Dangerous: runs processes or code, imports, opens connections or files,
//     or loads another pickle.
//   - Unknown: on no list.
//
// # Lists
//
// The lists live in globals.txt, embedded in the binary: one entry a line,
// "verdict name category reason", grouped with a comment per group saying
// where it came from. A name may end in ".*" (a whole module or namespace),
// and braces expand ("builtins.{exec,eval}").
//
// # Matching
//
// A name is matched in these steps; the first that decides wins.
//
//  1. Limits. A name over [MaxNameBytes] or [MaxSegments] is Dangerous
//     (category "evasion"): no real Python global is that long, and
//     checking it would cost time an attacker chooses.
//  2. Dangerous. A dangerous entry matches the name itself and everything
//     under it: "trace.Trace" covers "trace.Trace.run", "os.*" covers
//     "os.path.join". It matches at the start of the name and at the start
//     of every suffix of two or more segments, because protocol 4 pickles
//     reach globals through attribute chains ("pathlib.os.system" is
//     os.system). A last segment alone matches whole-module entries only
//     ("pathlib.os" is the os module). A "*.seg" entry matches any segment
//     after the first ("x.__globals__"). Nicknames rename a segment before
//     this check ("sklearn.utils.np.load" is numpy.load), and so do the
//     aliases of step 3, applied to the whole name. Dangerous wins over any
//     safe entry.
//  3. Aliases. The start of the name is renamed as Python's unpickler
//     renames it: Python 2 modules (__builtin__ is builtins, copy_reg is
//     copyreg, exceptions is builtins) and NumPy's moved modules
//     (numpy._core is numpy.core).
//  4. Safe and Construct. These match the whole (aliased) name only, never a
//     suffix: a safe class reached through another module's attribute is not
//     safe. An exact entry beats a pattern ("sklearn.*.__pyx_unpickle_*",
//     Cython's reduce helpers), which beats a namespace ("x.*", the longest
//     wins).
//
// Some safe functions call or instantiate one of their arguments
// (numpy.random._pickle.__generator_ctor calls its second): [Class.Calls]
// and [Class.Builds] name those arguments, which a scanner must vet as it
// vets a callee, or it would miss a call made through them.
package globals

import (
	_ "embed"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Limits on the names Classify checks. Python's own qualified names are a
// few hundred bytes and a dozen segments at most; past these a name is an
// attempt to make the check slow or to hide a suffix.
const (
	// MaxNameBytes bounds a dotted name, in bytes.
	MaxNameBytes = 4096
	// MaxSegments bounds the number of dot-separated segments in a name.
	MaxSegments = 64
)

// A Verdict says what a global may be used for.
type Verdict int

// The verdicts. The zero value is Unknown.
const (
	Unknown Verdict = iota
	Safe
	Construct
	Dangerous
)

var verdictNames = [...]string{"unknown", "safe", "construct", "dangerous"}

func (v Verdict) String() string {
	if v < Unknown || v > Dangerous {
		return fmt.Sprintf("verdict(%d)", int(v))
	}
	return verdictNames[v]
}

// A Class is what Classify found out about a name.
type Class struct {
	Verdict Verdict
	// Category is, for Dangerous, what the global does: "process", "exec",
	// "code", "import", "network", "filesystem", "deserialize",
	// "introspection", or "evasion" for names over the limits. For Safe and
	// Construct it is the framework: "torch", "numpy", "sklearn",
	// "python-data" and so on. Empty for Unknown.
	Category string
	// Entry is the list entry that matched, e.g. "os.*" or "builtins.eval".
	Entry string
	// Reason is one short phrase, shown to users as evidence.
	Reason string
	// Calls lists the 1-based positions of arguments a Safe function calls
	// (copyreg._reconstructor calls its base class): each must itself be
	// Safe, or the call is one the scanner did not see.
	Calls []int
	// Builds lists the 1-based positions of class arguments a Safe function
	// instantiates without __init__, running the class's own hooks
	// (numpy's _reconstruct runs the subclass's __array_finalize__): each
	// must be Safe or Construct.
	Builds []int
}

//go:embed globals.txt
var listText string

// std is the embedded list, parsed once. A parse error is a bug in the
// committed file, which the tests catch.
var std = sync.OnceValue(func() *table {
	t, err := parse(listText)
	if err != nil {
		panic("globals: embedded list: " + err.Error())
	}
	return t
})

// Classify says what the global named dotted (module + "." + qualified
// name, e.g. "trace.Trace.run") is. It never fails: a name on no list is
// Unknown.
func Classify(dotted string) Class {
	return std().classify(dotted)
}

func (t *table) classify(dotted string) Class {
	if tooLong(dotted) {
		return evasion()
	}
	name := t.unalias(dotted)
	if tooLong(name) {
		return evasion()
	}
	if r := t.dangerous(dotted); r != nil {
		return r.class()
	}
	if name != dotted {
		if r := t.dangerous(name); r != nil {
			return r.class()
		}
	}
	if r := t.safe(name); r != nil {
		return r.class()
	}
	return Class{}
}

// evasion is the class of names over the limits.
func evasion() Class {
	return Class{
		Verdict:  Dangerous,
		Category: "evasion",
		Reason:   fmt.Sprintf("name too long to check (over %d bytes or %d segments)", MaxNameBytes, MaxSegments),
	}
}

func tooLong(name string) bool {
	return len(name) > MaxNameBytes || strings.Count(name, ".") >= MaxSegments
}

// dangerous returns the dangerous entry that matches name, if any. The name
// has at most MaxSegments segments.
func (t *table) dangerous(name string) *rule {
	var starts, ends [MaxSegments]int
	n := 0
	for i := 0; n < MaxSegments; n++ {
		starts[n] = i
		j := strings.IndexByte(name[i:], '.')
		if j < 0 {
			ends[n] = len(name)
			n++
			break
		}
		ends[n] = i + j
		i += j + 1
	}
	for i := range n {
		seg, ok := t.segs[name[starts[i]:ends[i]]]
		if !ok {
			continue
		}
		if i > 0 && seg.anywhere != nil {
			return seg.anywhere
		}
		if i > 0 && i == n-1 {
			// A last segment alone: an attribute that is a whole module.
			if r := seg.node.rule; r != nil && r.module {
				return r
			}
			if seg.nick != "" {
				if r := t.danger[seg.nick].rule; r != nil && r.module {
					return r
				}
			}
			continue
		}
		if seg.nick != "" {
			if r := t.prefix(seg.nick + name[ends[i]:]); r != nil {
				return r
			}
		}
		// Walk the keys that start at this segment, one segment longer
		// each time, while some entry is that long.
		for j, nd := i, seg.node; ; {
			if nd.rule != nil {
				return nd.rule
			}
			if j++; !nd.deeper || j == n {
				break
			}
			nd = t.danger[name[starts[i]:ends[j]]]
		}
	}
	return nil
}

// prefix returns the dangerous entry that matches a leading part of name.
func (t *table) prefix(name string) *rule {
	for end := 0; ; end++ {
		j := strings.IndexByte(name[end:], '.')
		if j < 0 {
			return t.danger[name].rule
		}
		end += j
		nd := t.danger[name[:end]]
		if nd.rule != nil {
			return nd.rule
		}
		if !nd.deeper {
			return nil
		}
	}
}

// safe returns the safe or construct entry for name, if any.
func (t *table) safe(name string) *rule {
	if r := t.exact[name]; r != nil {
		return r
	}
	last := name[strings.LastIndexByte(name, '.')+1:]
	for _, p := range t.patterns {
		if strings.HasPrefix(last, p.last) && len(name) > len(p.under) &&
			strings.HasPrefix(name, p.under) && name[len(p.under)] == '.' {
			return p.rule
		}
	}
	// The longest namespace that name is under.
	var best *rule
	for end := 0; ; end++ {
		j := strings.IndexByte(name[end:], '.')
		if j < 0 {
			return best
		}
		end += j
		nd, ok := t.space[name[:end]]
		if !ok {
			return best
		}
		if nd.rule != nil {
			best = nd.rule
		}
		if !nd.deeper {
			return best
		}
	}
}

// unalias renames the start of name as Python's unpickler would, trying
// the longest leading part first.
func (t *table) unalias(name string) string {
	for end := nthDot(name, t.aliasDepth); end > 0; end = strings.LastIndexByte(name[:end], '.') {
		if to, ok := t.alias[name[:end]]; ok {
			return to + name[end:]
		}
	}
	return name
}

// nthDot returns the index of the n-th dot in s, len(s) if s has fewer,
// and -1 for n = 0.
func nthDot(s string, n int) int {
	i := 0
	for range n {
		j := strings.IndexByte(s[i:], '.')
		if j < 0 {
			return len(s)
		}
		i += j + 1
	}
	return i - 1
}

func (r *rule) class() Class {
	return Class{
		Verdict:  r.verdict,
		Category: r.category,
		Entry:    r.entry,
		Reason:   r.reason,
		Calls:    slices.Clone(r.calls),
		Builds:   slices.Clone(r.builds),
	}
}
