package version

import (
	"errors"
	"testing"
)

func TestConstraint(t *testing.T) {
	tests := []struct {
		eco, rng string
		in, out  []string
		bad      []string // versions that do not parse
	}{
		{"PyPI", ">=2.0,<2.5", []string{"2.0", "2.4.1", "2.4.0rc1", "2.0.0.post1"}, []string{"1.9", "2.5.0", "2.5.0rc1", "3"}, []string{"not-a-version", ""}},
		{"PyPI", "!=2.3.*, >=2", []string{"2.2", "2.4"}, []string{"2.3.1", "1.0"}, nil},
		{"npm", "^1.2.0 || >=3.0.0 <3.1.0", []string{"1.2.0", "1.9.9", "3.0.5", "1.3.0-beta.1"}, []string{"1.1.9", "2.0.0", "3.1.0"}, []string{"1.2", "latest"}},
		{"Go", ">=v1.2.0,<1.5.0,!=1.3.1", []string{"v1.2.0", "1.4.9", "v1.3.0"}, []string{"v1.3.1", "v1.5.0", "v1.1.0"}, []string{"main"}},
		{"crates.io", "==0.3.0", []string{"0.3.0"}, []string{"0.3.1"}, []string{"0.3"}},
		{"GitHub Actions", ">v3, <= v4.1", []string{"v4", "v3.0.1", "4.1.0"}, []string{"v3", "v4.1.1"}, []string{"main"}},
	}
	for _, tt := range tests {
		c, err := ParseConstraint(tt.eco, tt.rng)
		if err != nil {
			t.Fatalf("ParseConstraint(%q, %q): %v", tt.eco, tt.rng, err)
		}
		for _, v := range tt.in {
			if ok, err := c.Contains(v); !ok || err != nil {
				t.Errorf("%s %q contains %q = %v, %v; want true", tt.eco, tt.rng, v, ok, err)
			}
		}
		for _, v := range tt.out {
			if ok, err := c.Contains(v); ok || err != nil {
				t.Errorf("%s %q contains %q = %v, %v; want false", tt.eco, tt.rng, v, ok, err)
			}
		}
		for _, v := range tt.bad {
			if _, err := c.Contains(v); err == nil {
				t.Errorf("%s %q contains %q: no error for a version that does not parse", tt.eco, tt.rng, v)
			}
		}
	}
}

func TestParseConstraintErrors(t *testing.T) {
	tests := []struct {
		eco, rng string
		want     error
	}{
		{"HuggingFace", ">=1", ErrUnsupported},
		{"Maven", ">=1", ErrUnsupported},
		{"PyPI", " ", ErrInvalid},
		{"PyPI", ">=2.0,<<3", ErrInvalid},
		{"Go", "~1.2", ErrInvalid},
		{"Go", ">=banana", ErrInvalid},
		{"crates.io", "1.0.0", ErrInvalid},
		{"npm", ">=1.0.0 <banana", ErrInvalid},
	}
	for _, tt := range tests {
		if _, err := ParseConstraint(tt.eco, tt.rng); !errors.Is(err, tt.want) {
			t.Errorf("ParseConstraint(%q, %q) = %v, want %v", tt.eco, tt.rng, err, tt.want)
		}
	}
	if _, err := (Constraint{}).Contains("1.0"); err == nil {
		t.Error("the zero Constraint contains 1.0")
	}
}
