// Package glob matches the patterns users write in chainvet's YAML files:
// rule ids and package names with wildcards, and slash-separated paths.
package glob

import (
	"path"
	"strings"
)

// Wildcard reports whether s matches pat, where "*" is any run of bytes,
// "/" included, "?" any one byte, and every other byte itself. It
// backtracks only to the last star, so it is linear in len(s) times the
// number of stars.
func Wildcard(pat, s string) bool {
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(s) {
		switch {
		case pi < len(pat) && (pat[pi] == '?' || pat[pi] == s[si]):
			pi++
			si++
		case pi < len(pat) && pat[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(pat) && pat[pi] == '*' {
		pi++
	}
	return pi == len(pat)
}

// Path reports whether the slash-separated name matches pat, whose
// elements are path.Match patterns and where an element "**" matches any
// number of elements, none included.
func Path(pat, name string) bool {
	return pathParts(strings.Split(pat, "/"), strings.Split(name, "/"))
}

func pathParts(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			// Try every split; patterns are short and "**" rarely repeats.
			for i := 0; i <= len(name); i++ {
				if pathParts(pat[1:], name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], name[0]); !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}
