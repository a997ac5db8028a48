package archive

import (
	"strconv"
	"strings"
)

// traversal says why extracting a member named name would write outside
// the extraction folder, or "" if it would not. Both separators count:
// Windows tools split on backslashes, and Python's zipfile turns them into
// slashes on Windows.
func traversal(name string) string {
	n := strings.ReplaceAll(name, `\`, "/")
	switch {
	case strings.HasPrefix(n, "/"):
		return "absolute path"
	case len(n) >= 2 && n[1] == ':' && isLetter(n[0]):
		return "drive letter"
	}
	for _, el := range strings.Split(n, "/") {
		if el == ".." {
			if strings.Contains(name, `\`) {
				return `".." with backslash separators`
			}
			return `".." element`
		}
	}
	return ""
}

func isLetter(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

// checkName reports a member whose name climbs out of the folder.
func (x *expander) checkName(name, p string, off int64) {
	if why := traversal(name); why != "" {
		x.report(ruleTraversal, p, off, why+": "+quote(name),
			"the member's name points outside the extraction folder: extracting the archive writes there",
			"do not extract the archive with a tool that follows such names; reject it or rename the member")
	}
}

// quote quotes a name for evidence, escaping control bytes, and cuts very
// long names short.
func quote(s string) string {
	const maxQuoted = 256 // bytes: evidence stays readable
	if len(s) > maxQuoted {
		return strconv.Quote(s[:maxQuoted]) + "…"
	}
	return strconv.Quote(s)
}
