package glob

import (
	"strings"
	"testing"
)

func TestWildcard(t *testing.T) {
	for _, tc := range []struct {
		pat, s string
		want   bool
	}{
		{"", "", true},
		{"*", "", true},
		{"", "a", false},
		{"mcp/*", "mcp/plain-http", true},
		{"mcp/*", "code/x", false},
		{"pkg:npm/*", "pkg:npm/@scope/left-pad@1.0.0", true},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"*a*b*c*", "xxaxxbxxc", true},
		{"*a*b*c*", "xxaxxcxxb", false},
		{"exact", "exact", true},
		{"exact", "exactly", false},
		{strings.Repeat("*a", 8) + "b", strings.Repeat("a", 5000), false},
	} {
		if got := Wildcard(tc.pat, tc.s); got != tc.want {
			t.Errorf("Wildcard(%q, %q) = %v, want %v", tc.pat, tc.s, got, tc.want)
		}
	}
}

func TestPath(t *testing.T) {
	for _, tc := range []struct {
		pat, name string
		want      bool
	}{
		{"deploy/**", "deploy/a/b.pt", true},
		{"deploy/**", "deploy", true},
		{"**/*.pt", "x/y/m.pt", true},
		{"**/*.pt", "m.pt", true},
		{"*.pt", "x/m.pt", false},
		{"models/*/config.json", "models/bert/config.json", true},
		{"models/*/config.json", "models/a/b/config.json", false},
		{"[", "[", false},
	} {
		if got := Path(tc.pat, tc.name); got != tc.want {
			t.Errorf("Path(%q, %q) = %v, want %v", tc.pat, tc.name, got, tc.want)
		}
	}
}
