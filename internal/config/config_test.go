package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseLookup(t *testing.T) {
	src := `fail-on: low
exclude: [vendor, "**/node_modules"]
owners:
  - match: a
    owner: x
scan:
  fail-on: high
db: cache.db
gate:
  policy: p.yaml
db :
  update:
    from: [u1, u2]
`
	f, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	f.Path = "c.yaml"
	tests := []struct {
		path, flag string
		want       Value
		ok         bool
	}{
		{"", "fail-on", Value{Text: "low", Line: 1}, true},
		{"scan", "fail-on", Value{Text: "high", Line: 7}, true},
		{"bom", "fail-on", Value{Text: "low", Line: 1}, true},
		{"db update", "from", Value{List: []string{"u1", "u2"}, IsList: true, Line: 13}, true},
		{"db update", "db", Value{Text: "cache.db", Line: 8}, true},
		{"scan", "exclude", Value{List: []string{"vendor", "**/node_modules"}, IsList: true, Line: 2}, true},
		{"gate", "policy", Value{Text: "p.yaml", Line: 10}, true},
		{"scan", "policy", Value{}, false},
		{"", "owners", Value{}, false},
	}
	for _, tc := range tests {
		got, ok := f.Lookup(tc.path, tc.flag)
		if ok != tc.ok || !cmp.Equal(got, tc.want) {
			t.Errorf("Lookup(%q, %q) = %+v, %v; want %+v, %v", tc.path, tc.flag, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"not_mapping", "[a]", "1: want a mapping"},
		{"null", "a: 1\nb:\n", "2: b: no value"},
		{"dup_flag", "a: 1\na: 2\n", "2: "},
		{"dup_section", "s:\n  a: 1\ns:\n  b: 2\n", "3: "},
		{"list_of_maps", "x:\n  - a: 1\n", "1: x: want a list of strings (rules go under owners)"},
		{"nested_list", "x: [[a]]\n", "1: x: want a list of strings"},
		{"too_deep", "a:\n b:\n  c:\n   d:\n    e:\n     f:\n      g: 1\n", "sections nested deeper"},
		{"syntax", "a: [\n", "yaml:"},
		{"empty_key", "\"\": 1\n", "want a flag or command name"},
	}
	for _, tc := range tests {
		_, err := Parse([]byte(tc.src))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

// fakeTree has the commands "", "scan", "db", "db update".
type fakeTree map[string][]string

func (t fakeTree) Command(p string) bool { _, ok := t[p]; return ok }
func (t fakeTree) Flag(p, flag string) bool {
	for q, flags := range t {
		if q == p || p == "" || strings.HasPrefix(q, p+" ") {
			for _, f := range flags {
				if f == flag {
					return true
				}
			}
		}
	}
	return false
}

func TestCheck(t *testing.T) {
	tree := fakeTree{"": nil, "scan": {"fail-on", "output"}, "db": {"db"}, "db update": {"from", "db"}}
	tests := []struct{ src, want string }{
		{"fail-on: low\ndb:\n  update:\n    from: [x]\nscan:\n  output: json\n", ""},
		{"from: [x]\n", ""},        // a flag of a command somewhere below
		{"db:\n  from: [x]\n", ""}, // of a subcommand of db
		{"scan:\n  from: [x]\n", "c.yaml:2: unknown flag \"from\": not a flag of chainvet scan"},
		{"fial-on: low\n", "c.yaml:1: unknown flag \"fial-on\": not a flag of any command"},
		{"db:\n  updat:\n    from: [x]\n", "c.yaml:2: unknown command \"db updat\""},
	}
	for _, tc := range tests {
		f, err := Parse([]byte(tc.src))
		if err != nil {
			t.Fatal(err)
		}
		f.Path = "c.yaml"
		err = f.Check(tree)
		if got := errText(err); !strings.Contains(got, tc.want) || (tc.want == "") != (err == nil) {
			t.Errorf("Check(%q) = %v, want %q", tc.src, err, tc.want)
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestEnvNames(t *testing.T) {
	tests := []struct {
		path, flag string
		want       []string
	}{
		{"", "fail-on", []string{"CHAINVET_FAIL_ON"}},
		{"scan", "fail-on", []string{"CHAINVET_SCAN_FAIL_ON", "CHAINVET_FAIL_ON"}},
		{"db update", "from", []string{"CHAINVET_DB_UPDATE_FROM", "CHAINVET_DB_FROM", "CHAINVET_FROM"}},
		{"gate", "max-archive-depth", []string{"CHAINVET_GATE_MAX_ARCHIVE_DEPTH", "CHAINVET_MAX_ARCHIVE_DEPTH"}},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, EnvNames(tc.path, tc.flag)); diff != "" {
			t.Errorf("EnvNames(%q, %q) (-want +got):\n%s", tc.path, tc.flag, diff)
		}
	}
}

func TestResolve(t *testing.T) {
	f, err := Parse([]byte("fail-on: low\nscan:\n  fail-on: medium\n  from: [a, b]\n  one: x\n"))
	if err != nil {
		t.Fatal(err)
	}
	f.Path = "c.yaml"
	env := func(m map[string]string) Env {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	tests := []struct {
		name       string
		file       *File
		env        map[string]string
		path, flag string
		set, list  bool
		want       Setting
	}{
		{"flag", f, map[string]string{"CHAINVET_FAIL_ON": "info"}, "scan", "fail-on", true, false,
			Setting{Flag: "fail-on", Value: "cur", Origin: FromFlag}},
		{"env_specific", f, map[string]string{"CHAINVET_FAIL_ON": "info", "CHAINVET_SCAN_FAIL_ON": "critical"}, "scan", "fail-on", false, false,
			Setting{Flag: "fail-on", Value: "critical", Origin: FromEnv, Source: "CHAINVET_SCAN_FAIL_ON"}},
		{"env_generic", f, map[string]string{"CHAINVET_FAIL_ON": "info"}, "scan", "fail-on", false, false,
			Setting{Flag: "fail-on", Value: "info", Origin: FromEnv, Source: "CHAINVET_FAIL_ON"}},
		{"env_empty_is_unset", f, map[string]string{"CHAINVET_SCAN_FAIL_ON": ""}, "scan", "fail-on", false, false,
			Setting{Flag: "fail-on", Value: "medium", Origin: FromFile, Source: "c.yaml:3"}},
		{"env_list", f, map[string]string{"CHAINVET_FROM": "x,y"}, "scan", "from", false, true,
			Setting{Flag: "from", Value: "x,y", List: []string{"x", "y"}, IsList: true, Origin: FromEnv, Source: "CHAINVET_FROM"}},
		{"file_section", f, nil, "scan", "fail-on", false, false,
			Setting{Flag: "fail-on", Value: "medium", Origin: FromFile, Source: "c.yaml:3"}},
		{"file_top", f, nil, "bom", "fail-on", false, false,
			Setting{Flag: "fail-on", Value: "low", Origin: FromFile, Source: "c.yaml:1"}},
		{"file_list", f, nil, "scan", "from", false, true,
			Setting{Flag: "from", Value: "a,b", List: []string{"a", "b"}, IsList: true, Origin: FromFile, Source: "c.yaml:4"}},
		{"file_scalar_for_list_flag", f, nil, "scan", "one", false, true,
			Setting{Flag: "one", Value: "x", List: []string{"x"}, IsList: true, Origin: FromFile, Source: "c.yaml:5"}},
		{"file_list_for_scalar_flag", f, nil, "scan", "from", false, false,
			Setting{Flag: "from", Value: "a,b", List: []string{"a", "b"}, IsList: true, Origin: FromFile, Source: "c.yaml:4"}},
		{"default", f, nil, "bom", "output", false, false, Setting{Flag: "output", Value: "cur", Origin: FromDefault}},
		{"no_file", nil, nil, "scan", "fail-on", false, false, Setting{Flag: "fail-on", Value: "cur", Origin: FromDefault}},
	}
	for _, tc := range tests {
		got := Resolve(tc.file, env(tc.env), tc.path, tc.flag, tc.set, tc.list, "cur")
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}

func TestExcluder(t *testing.T) {
	ex, err := Excluder([]string{"node_modules", "*.log", "vendor/**", "/models/cache", "build/", "docs/**/*.pt"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		rel  string
		dir  bool
		want bool
	}{
		{"node_modules", true, true},
		{"web/app/node_modules", true, true},
		{"a/debug.log", false, true},
		{"vendor", true, true},
		{"vendor/x/y.py", false, true},
		{"src/vendor", true, false},
		{"models/cache", true, true},
		{"x/models/cache", true, false},
		{"build", true, true},
		{"build", false, false}, // a file named build: directories only
		{"docs/a/b/m.pt", false, true},
		{"docs/m.pt", false, true},
		{"models/m.pt", false, false},
		{"main.py", false, false},
	}
	for _, tc := range tests {
		if got := ex(tc.rel, tc.dir); got != tc.want {
			t.Errorf("exclude(%q, dir=%v) = %v, want %v", tc.rel, tc.dir, got, tc.want)
		}
	}
	if ex, err := Excluder(nil); ex != nil || err != nil {
		t.Errorf("Excluder(nil) = %v, %v; want nil, nil", ex != nil, err)
	}
	for _, bad := range []string{"!keep", "", "/", "a//b", "[", "a/**/**/**/**/**/b"} {
		if _, err := Excluder([]string{bad}); err == nil {
			t.Errorf("Excluder(%q): no error", bad)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"fail-on: low\nscan:\n  output: json\n",
		"db:\n  update:\n    from: [a, b]\nowners:\n  - match: x\n    owner: y\n",
		"a: [\n", "- x\n", "a:\n  b:\n    c:\n      d:\n        e: 1\n", "&a [*a]", "x: !!binary aGk=\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err != nil {
			if !strings.Contains(err.Error(), ":") {
				t.Fatalf("error without a line: %v", err)
			}
			return
		}
		for p, flags := range c.flags {
			for name, v := range flags {
				if v.Line <= 0 {
					t.Fatalf("%s %s: line %d", p, name, v.Line)
				}
				if got, ok := c.Lookup(p, name); !ok || !cmp.Equal(got, v) {
					t.Fatalf("Lookup(%q, %q) = %+v, %v", p, name, got, ok)
				}
			}
		}
	})
}
