// Package config reads the command defaults in .chainvet.yaml and decides
// where each flag's value comes from: the command line, the environment,
// the file, or the flag's built-in default, in that order.
//
// # The file
//
// .chainvet.yaml is a YAML mapping. The key owners belongs to package
// ownership. Every other key is either a flag or a command section, told
// apart by its value: a scalar or a list sets a flag, a mapping is a section
// for the command of that name, holding that command's flags and the
// sections of its subcommands:
//
//	output: json              # --output of every command that has one
//	fail-on: critical         # --fail-on of every command that has one
//	exclude: [vendor, "**/node_modules"]
//	scan:
//	  max-archive-depth: 4    # only for chainvet scan
//	gate:
//	  policy: chainvet-policy.yaml
//	db:
//	  update:
//	    from: [https://mirror.example/PyPI/all.zip]
//
// A flag key applies to the command of its section and to all the
// commands below it; the innermost section that sets a flag wins. Lists are
// for flags that take several values; a scalar is passed to the flag as it
// would be on the command line, so the flag itself checks its type.
//
// # The environment
//
// CHAINVET_<COMMAND>_<FLAG> (e.g. CHAINVET_SCAN_FAIL_ON, CHAINVET_DB_UPDATE_FROM)
// sets a flag of one command, CHAINVET_<FLAG> (CHAINVET_FAIL_ON) of every
// command that has it: names are upper case, with "-" and " " as "_". A list
// flag takes comma-separated values from the environment. Any variable beats
// the file; the most specific variable beats the others.
package config

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/chainvet/chainvet/internal/yamlfile"
)

// MaxSize bounds the file read: defaults and ownership for a large monorepo
// fit in a few KB; 1 MiB leaves room without reading a mistaken huge file.
const MaxSize = 1 << 20

// maxDepth bounds section nesting: chainvet's commands are two deep, and
// one more level leaves room for growth.
const maxDepth = 4

// maxList bounds the values of one list flag: excludes and sources are
// tens, not thousands.
const maxList = 10000

// reserved are top-level keys that other packages read.
var reserved = map[string]bool{"owners": true}

// A Value is one flag value set in the file.
type Value struct {
	// Text is a scalar's text; List the items of a list (then IsList).
	Text   string
	List   []string
	IsList bool
	// Line is where the key is in the file.
	Line int
}

// String is the value as a user would write it on the command line.
func (v Value) String() string {
	if v.IsList {
		return strings.Join(v.List, ",")
	}
	return v.Text
}

// A File is a loaded .chainvet.yaml.
type File struct {
	// Path is the file read ("" for bytes given to Parse).
	Path string
	// flags maps a command path below the root ("" for the top level,
	// "scan", "db update") to the flags its section sets.
	flags map[string]map[string]Value
	// sections maps each command path to the line of its section.
	sections map[string]int
}

// Load reads and parses a file. Errors name file:line.
func Load(file string) (*File, error) {
	v, err := yamlfile.Load(file, MaxSize, Parse)
	if err != nil {
		return nil, err
	}
	v.Path = file
	return v, nil
}

// Parse reads a file's bytes. It checks the shape only; which flags and
// commands exist is for Check.
func Parse(b []byte) (*File, error) {
	f := &File{flags: map[string]map[string]Value{}, sections: map[string]int{}}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, yamlfile.Syntax(err)
	}
	if len(doc.Content) == 0 {
		return f, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, yamlfile.LineError(root.Line, "want a mapping of flags and command sections")
	}
	if err := f.section(root, "", 0); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *File) section(n *yaml.Node, path string, depth int) error {
	if depth > maxDepth {
		return yamlfile.LineError(n.Line, "sections nested deeper than %d", maxDepth)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Value == "" {
			return yamlfile.LineError(k.Line, "want a flag or command name as key")
		}
		if depth == 0 && reserved[k.Value] {
			continue
		}
		name := k.Value
		switch v.Kind {
		case yaml.MappingNode:
			sub := strings.TrimSpace(path + " " + name)
			if _, dup := f.sections[sub]; dup {
				return yamlfile.LineError(k.Line, "section %q appears twice", sub)
			}
			f.sections[sub] = k.Line
			if err := f.section(v, sub, depth+1); err != nil {
				return err
			}
		case yaml.ScalarNode:
			if v.Tag == "!!null" {
				return yamlfile.LineError(k.Line, "%s: no value", name)
			}
			if err := f.set(path, name, Value{Text: v.Value, Line: k.Line}); err != nil {
				return err
			}
		case yaml.SequenceNode:
			if len(v.Content) > maxList {
				return yamlfile.LineError(k.Line, "%s: %d values, more than %d", name, len(v.Content), maxList)
			}
			val := Value{IsList: true, List: []string{}, Line: k.Line}
			for _, item := range v.Content {
				if item.Kind != yaml.ScalarNode || item.Tag == "!!null" {
					hint := ""
					if item.Kind == yaml.MappingNode {
						hint = " (rules go under owners)"
					}
					return yamlfile.LineError(k.Line, "%s: want a list of strings%s", name, hint)
				}
				val.List = append(val.List, item.Value)
			}
			if err := f.set(path, name, val); err != nil {
				return err
			}
		default:
			return yamlfile.LineError(k.Line, "%s: want a value, a list or a section", name)
		}
	}
	return nil
}

func (f *File) set(path, flag string, v Value) error {
	m := f.flags[path]
	if m == nil {
		m = map[string]Value{}
		f.flags[path] = m
	}
	if _, dup := m[flag]; dup {
		return yamlfile.LineError(v.Line, "%s set twice", flag)
	}
	m[flag] = v
	return nil
}

// Lookup returns the value the file gives flag for the command at path
// (e.g. "db update"): from the innermost section that sets it.
func (f *File) Lookup(path, flag string) (Value, bool) {
	if f == nil {
		return Value{}, false
	}
	for p := path; ; {
		if v, ok := f.flags[p][flag]; ok {
			return v, true
		}
		if p == "" {
			return Value{}, false
		}
		if i := strings.LastIndexByte(p, ' '); i >= 0 {
			p = p[:i]
		} else {
			p = ""
		}
	}
}

// A Tree says which commands and flags exist, for Check.
type Tree interface {
	// Command reports whether path (e.g. "db update") names a command.
	Command(path string) bool
	// Flag reports whether the command at path, or one below it, has flag.
	Flag(path, flag string) bool
}

// Check reports the first key that names no command or no flag of its
// command or the commands below it: a misspelt key would otherwise be
// ignored without a word.
func (f *File) Check(t Tree) error {
	for _, k := range sortedKeys(f.sections) {
		if !t.Command(k) {
			return f.errorAt(f.sections[k], "unknown command %q", k)
		}
	}
	for _, p := range sortedKeys(f.flags) {
		for _, name := range sortedKeys(f.flags[p]) {
			if !t.Flag(p, name) {
				where := "any command"
				if p != "" {
					where = "chainvet " + p
				}
				return f.errorAt(f.flags[p][name].Line, "unknown flag %q: not a flag of %s", name, where)
			}
		}
	}
	return nil
}

func (f *File) errorAt(line int, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", f.Path, line, fmt.Sprintf(format, args...))
}

// EnvNames are the environment variables that can set flag for the command
// at path, most specific first: for "db update" and "from",
// CHAINVET_DB_UPDATE_FROM, CHAINVET_DB_FROM, CHAINVET_FROM.
func EnvNames(path, flag string) []string {
	var names []string
	for p := path; ; {
		names = append(names, envName(p, flag))
		if p == "" {
			return names
		}
		if i := strings.LastIndexByte(p, ' '); i >= 0 {
			p = p[:i]
		} else {
			p = ""
		}
	}
}

func envName(path, flag string) string {
	s := "CHAINVET_"
	if path != "" {
		s += path + "_"
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == '-' || r == ' ' || r == '.':
			return '_'
		case 'a' <= r && r <= 'z':
			return r - 'a' + 'A'
		}
		return r
	}, s+flag)
}

// Origin says where a flag's value came from.
type Origin string

// The origins, from strongest to weakest.
const (
	FromFlag    Origin = "flag"
	FromEnv     Origin = "env"
	FromFile    Origin = "file"
	FromDefault Origin = "default"
)

// A Setting is a flag's effective value and where it came from.
type Setting struct {
	Flag   string
	Value  string
	List   []string // the values, for a list flag set from a list or the environment
	IsList bool
	Origin Origin
	// Source is the variable (for FromEnv) or file:line (for FromFile).
	Source string
}

// Env looks a variable up, like os.LookupEnv.
type Env func(name string) (string, bool)

// Resolve decides where one flag's value comes from. set says whether it
// was given on the command line, and current is its value then; list says
// whether the flag takes several values (split from the environment on
// commas). A variable set to the empty string counts as unset, as it does
// for most tools, so that CI templates can pass empty inputs through.
func Resolve(f *File, env Env, path, flag string, set, list bool, current string) Setting {
	s := Setting{Flag: flag, Value: current, Origin: FromDefault}
	if set {
		s.Origin = FromFlag
		return s
	}
	for _, name := range EnvNames(path, flag) {
		if v, ok := env(name); ok && v != "" {
			s.Value, s.Origin, s.Source = v, FromEnv, name
			if list {
				s.IsList = true
				s.List = strings.Split(v, ",")
			}
			return s
		}
	}
	if v, ok := f.Lookup(path, flag); ok {
		s.Value, s.Origin, s.Source = v.String(), FromFile, fmt.Sprintf("%s:%d", f.Path, v.Line)
		if v.IsList || list {
			s.IsList, s.List = true, v.List
			if !v.IsList {
				s.List = []string{v.Text}
			}
		}
	}
	return s
}

// ErrNotFound is returned by Find when no directory holds a file.
var ErrNotFound = errors.New("config: no " + FileName)

// FileName is the file's name at a project root.
const FileName = ".chainvet.yaml"

// Find returns the path of the first of dirs that holds a FileName, or
// ErrNotFound.
func Find(dirs ...string) (string, error) {
	for _, d := range dirs {
		p := FileName
		if d != "" && d != "." {
			p = d + string(os.PathSeparator) + FileName
		}
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", ErrNotFound
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
