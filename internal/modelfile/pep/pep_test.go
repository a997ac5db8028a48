package pep

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"Django":            "django",
		"zope.interface":    "zope-interface",
		"Foo__Bar-.-baz":    "foo-bar-baz",
		"typing_extensions": "typing-extensions",
	} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Requirement
	}{
		{"requests", Requirement{Name: "requests"}},
		{"torch==2.5.1", Requirement{Name: "torch", Specifier: "==2.5.1"}},
		{"requests[socks, security] >= 2.31 , <3 ; python_version >= \"3.8\"",
			Requirement{Name: "requests", Extras: []string{"socks", "security"}, Specifier: ">=2.31,<3", Markers: `python_version >= "3.8"`}},
		{"name (>=1.0)", Requirement{Name: "name", Specifier: ">=1.0"}},
		{"pip @ https://example.org/pip-24.0.zip ; os_name == 'nt'",
			Requirement{Name: "pip", URL: "https://example.org/pip-24.0.zip", Markers: "os_name == 'nt'"}},
		{"numpy==1.26.*", Requirement{Name: "numpy", Specifier: "==1.26.*"}},
		{"legacy===1.0-weird", Requirement{Name: "legacy", Specifier: "===1.0-weird"}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Parse(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{
		"", "-bad", "name[extra", "name >= ", "name 1.0", "name @ ", "name ; ",
		"name[b@d]", "name ==1.*.0", "a b",
	} {
		if _, err := Parse(in); !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q) error = %v, want ErrSyntax", in, err)
		}
	}
}

func TestPinned(t *testing.T) {
	tests := []struct {
		spec string
		want string
		ok   bool
	}{
		{"==1.2.3", "1.2.3", true},
		{"===1.0", "1.0", true},
		{"==1.*", "", false},
		{">=1.0", "", false},
		{"==1.0,!=1.1", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		v, ok := Pinned(tt.spec)
		if v != tt.want || ok != tt.ok {
			t.Errorf("Pinned(%q) = %q, %v; want %q, %v", tt.spec, v, ok, tt.want, tt.ok)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"requests[socks]>=2;python_version>'3'", "a @ git+https://x/y@v1", "n (==1)", "x===y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := Parse(s)
		if err != nil {
			return
		}
		if !ValidName(r.Name) {
			t.Fatalf("Parse(%q) accepted name %q", s, r.Name)
		}
		if _, err := Specifier(r.Specifier); err != nil {
			t.Fatalf("Parse(%q) returned specifier %q that does not reparse: %v", s, r.Specifier, err)
		}
	})
}
