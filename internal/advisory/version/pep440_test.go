package version

import (
	"errors"
	"strings"
	"testing"
)

// pep440Order is ascending, following the ordering PEP 440 describes:
// dev < pre < release < post, locals after their public version.
var pep440Order = []string{
	"0.9",
	"1.0.dev456",
	"1.0a1",
	"1.0a2.dev456",
	"1.0a12.dev456",
	"1.0a12",
	"1.0b1.dev456",
	"1.0b2",
	"1.0b2.post345.dev456",
	"1.0b2.post345",
	"1.0rc1.dev456",
	"1.0rc1",
	"1.0",
	"1.0+abc.5",
	"1.0+abc.7",
	"1.0+5",
	"1.0.post456.dev34",
	"1.0.post456",
	"1.0.15",
	"1.1.dev1",
	"1.1",
	"2.0",
	"1!0.1",
}

func TestPEP440Order(t *testing.T) {
	vs := make([]PEP440, len(pep440Order))
	for i, s := range pep440Order {
		v, err := ParsePEP440(s)
		if err != nil {
			t.Fatalf("ParsePEP440(%q): %v", s, err)
		}
		vs[i] = v
	}
	for i := range vs {
		for j := range vs {
			if got, want := vs[i].Compare(vs[j]), cmpInt(i, j); got != want {
				t.Errorf("Compare(%q, %q) = %d, want %d", pep440Order[i], pep440Order[j], got, want)
			}
		}
	}
}

func TestPEP440Normalise(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1.0", "1.0"},
		{"v1.0", "1.0"},
		{" 1.0\n", "1.0"},
		{"V1.0", "1.0"},
		{"0!1.0", "1.0"},
		{"01!002.0010", "1!2.10"},
		{"1.0-ALPHA.1", "1.0a1"},
		{"1.0alpha", "1.0a0"},
		{"1.0.beta2", "1.0b2"},
		{"1.0c1", "1.0rc1"},
		{"1.0-pre_3", "1.0rc3"},
		{"1.0.preview-2", "1.0rc2"},
		{"1.0-1", "1.0.post1"},
		{"1.0.rev2", "1.0.post2"},
		{"1.0r", "1.0.post0"},
		{"1.0_post_7", "1.0.post7"},
		{"1.0.dev", "1.0.dev0"},
		{"1.0-DEV-3", "1.0.dev3"},
		{"1.0a1.post2.dev3", "1.0a1.post2.dev3"},
		{"1.0+Ubuntu-1_007", "1.0+ubuntu.1.7"},
	}
	for _, tt := range tests {
		v, err := ParsePEP440(tt.in)
		if err != nil {
			t.Errorf("ParsePEP440(%q): %v", tt.in, err)
			continue
		}
		if got := v.String(); got != tt.want {
			t.Errorf("ParsePEP440(%q).String() = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPEP440Equal(t *testing.T) {
	for _, p := range [][2]string{
		{"1.0", "1.0.0.0"},
		{"1.0a", "1.0a0"},
		{"1.0-1", "1.0.post1"},
		{"1!1.0", "1!1"},
		{"1.0+abc.01", "1.0+ABC-1"},
	} {
		a, err1 := ParsePEP440(p[0])
		b, err2 := ParsePEP440(p[1])
		if err1 != nil || err2 != nil {
			t.Fatalf("parse %q: %v, %v", p, err1, err2)
		}
		if c := a.Compare(b); c != 0 {
			t.Errorf("Compare(%q, %q) = %d, want 0", p[0], p[1], c)
		}
	}
}

func TestPEP440Invalid(t *testing.T) {
	for _, s := range []string{
		"", "a1", "1.0.", "1..0", "1.0+", "1.0+abc_", "1.0 2", "1.0-", "1.0.foo",
		"1.0a1a2", "!1.0", "1.0++a", "1,0", "1.0.*", strings.Repeat("1.", 200) + "1",
	} {
		if v, err := ParsePEP440(s); err == nil {
			t.Errorf("ParsePEP440(%q) = %v, want error", s, v)
		}
	}
	_, err := ParsePEP440(strings.Repeat("1", MaxVersionLen+1))
	if !errors.Is(err, ErrTooLong) {
		t.Errorf("long version: err = %v, want ErrTooLong", err)
	}
}

func TestSpecifierSet(t *testing.T) {
	tests := []struct {
		spec, v string
		pre     bool
		want    bool
	}{
		{"", "1.0", false, true},
		{"", "1.0a1", false, false},
		{"", "1.0a1", true, true},
		{"~=2.2", "2.2", false, true},
		{"~=2.2", "2.9.1", false, true},
		{"~=2.2", "3.0", false, false},
		{"~=2.2", "2.1", false, false},
		{"~=1.4.5", "1.4.9", false, true},
		{"~=1.4.5", "1.5.0", false, false},
		{"~=2.2.post3", "2.2", false, false},
		{"~=2.2.post3", "2.2.post3", false, true},
		{"~=2.2.post3", "2.3", false, true},
		{"~=1.4.5a4", "1.4.5a4", false, true},
		{"~=1.4.5a4", "1.4.5a3", false, false},
		{"~=1.4.5a4", "1.4.6", false, true},
		{"~=1.4.5a4", "1.5", false, false},
		{"==1.1.*", "1.1", false, true},
		{"==1.1.*", "1.1.post1", false, true},
		{"==1.1.*", "1.1.7+local", false, true},
		{"==1.1.*", "1.10", false, false},
		{"==1.1.*", "1.1a1", false, false},
		{"==1.1.*", "1.1a1", true, true},
		{"==1.1.0.0.*", "1.1", false, true},
		{"==1!1.*", "1.1", false, false},
		{"==1.1", "1.1.0", false, true},
		{"==1.1", "1.1+local", false, true},
		{"==1.1", "1.1.post1", false, false},
		{"==1.1+local", "1.1", false, false},
		{"==1.1+local", "1.1+LOCAL", false, true},
		{"==1.1+local", "1.1+local.2", false, false},
		{"!=1.1.*", "1.2", false, true},
		{"!=1.1.*", "1.1.5", false, false},
		{"!=1.1", "1.1+local", false, false},
		{"<3", "2.9", false, true},
		{"<3", "3.0", false, false},
		{"<3", "3.0a1", true, false},
		{"<3", "2.9a1", true, true},
		{"<3.0a2", "3.0a1", false, false},
		{"<3.0a2", "3.0a1", true, true},
		{"<=3.0a2", "3.0a1", false, true},
		{"<3.0a2", "3.0a2", false, false},
		{"<=3", "3.0+local", false, true},
		{"<=3", "3.0.post1", false, false},
		{">1.7", "1.7.1", false, true},
		{">1.7", "1.7", false, false},
		{">1.7", "1.7.0.post1", false, false},
		{">1.7", "1.7+local", false, false},
		{">1.7.post2", "1.7.0.post3", false, true},
		{">1.7.post2", "1.7.0.post2", false, false},
		{">=1.0,<2.0", "1.5", false, true},
		{">=1.0, <2.0", "2.0", false, false},
		{">=1.0,<2.0", "1.5rc1", false, false},
		{">=1.0,<2.0", "1.5rc1", true, true},
		{">=1.0rc1", "1.0rc2", false, true},
		{">=1.0rc1", "1.1.dev1", false, true},
		{">=1.0,!=1.3.4.*,<2.0", "1.3.4.1", false, false},
		{">=1.0,!=1.3.4.*,<2.0", "1.3.5", false, true},
		{"===1.0", "1.0", false, true},
		{"===1.0", "1.0.0", false, false},
		{"===1.0", "v1.0", false, true},
		{"===1.0a1", "1.0a1", false, true},
		{"== 1.0", "1.0", false, true},
	}
	for _, tt := range tests {
		set, err := ParseSpecifierSet(tt.spec)
		if err != nil {
			t.Errorf("ParseSpecifierSet(%q): %v", tt.spec, err)
			continue
		}
		v, err := ParsePEP440(tt.v)
		if err != nil {
			t.Fatalf("ParsePEP440(%q): %v", tt.v, err)
		}
		if got := set.Contains(v, tt.pre); got != tt.want {
			t.Errorf("%q.Contains(%q, %v) = %v, want %v", tt.spec, tt.v, tt.pre, got, tt.want)
		}
	}
}

func TestSpecifierSetInvalid(t *testing.T) {
	tests := []struct {
		spec string
		want error
	}{
		{"1.0", ErrInvalid},
		{">=", ErrInvalid},
		{">=1.0.*", ErrInvalid},
		{"~=1", ErrInvalid},
		{"<=1.0+local", ErrInvalid},
		{">=1.0,", ErrInvalid},
		{"==1.0a1.*", ErrUnsupported},
		{">=x", ErrInvalid},
		{strings.Repeat(">=1,", MaxClauses) + ">=1", ErrTooLong},
	}
	for _, tt := range tests {
		if _, err := ParseSpecifierSet(tt.spec); !errors.Is(err, tt.want) {
			t.Errorf("ParseSpecifierSet(%q): err = %v, want %v", tt.spec, err, tt.want)
		}
	}
}
