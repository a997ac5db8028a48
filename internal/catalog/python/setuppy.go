package python

import (
	"context"
	"fmt"
	"strings"

	"github.com/chainvet/chainvet/internal/modelfile/pysource"
)

// setupKeywords are the setup() arguments that list requirements, with
// the group their entries are reported in.
var setupKeywords = map[string]string{"install_requires": "", "setup_requires": "build-system", "tests_require": "test"}

// setupPy reads the requirement lists of setup(...) calls in setup.py
// when they are written as a literal list of strings. The file is only
// tokenized: a list built at run time is beyond a static reading and is
// left out.
func (e *emitter) setupPy(ctx context.Context, data []byte) {
	res, err := pysource.Scan(ctx, data, pysource.DefaultLimits)
	if err != nil {
		return
	}
	if res.Syntax != nil {
		e.malformed(e.path, res.Syntax.Line, "", fmt.Errorf("python: %s", res.Syntax.Msg))
	}
	for _, c := range res.Calls {
		if !c.Called || (c.Resolved != "setup" && !strings.HasSuffix(c.Resolved, ".setup")) {
			continue
		}
		for _, a := range c.Args {
			group, ok := setupKeywords[a.Keyword]
			if !ok || a.Start < 0 || a.End > len(data) || a.Start > a.End {
				continue
			}
			text := string(data[a.Start:a.End])
			// The argument's source includes its "keyword=".
			_, text, _ = strings.Cut(text, "=")
			items, ok := literalList(text)
			if !ok {
				continue
			}
			line := c.Line + strings.Count(string(data[c.Offset:a.Start]), "\n")
			for _, it := range items {
				e.pipLine(it.value, line+it.line, group)
			}
		}
	}
}

// A listItem is a string of a literal list, with its line within the list.
type listItem struct {
	value string
	line  int
}

// literalList reads a Python list or tuple of plain string literals
// ("..." or '...', with backslash escapes of quotes only), with comments
// and a trailing comma allowed. Anything else reports false.
func literalList(s string) ([]listItem, bool) {
	s = strings.TrimSpace(s)
	if len(s) < 2 || !(s[0] == '[' && s[len(s)-1] == ']' || s[0] == '(' && s[len(s)-1] == ')') {
		return nil, false
	}
	body := s[1 : len(s)-1]
	var out []listItem
	line, wantComma := 0, false
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case c == '\n':
			line++
		case c == ' ' || c == '\t' || c == '\r':
		case c == '#':
			for i < len(body) && body[i] != '\n' {
				i++
			}
			i--
		case c == ',' && wantComma:
			wantComma = false
		case (c == '"' || c == '\'') && !wantComma:
			var b strings.Builder
			j := i + 1
			for ; j < len(body) && body[j] != c; j++ {
				if body[j] == '\n' {
					return nil, false
				}
				if body[j] == '\\' && j+1 < len(body) {
					j++
				}
				b.WriteByte(body[j])
			}
			if j >= len(body) {
				return nil, false
			}
			out = append(out, listItem{b.String(), line})
			i, wantComma = j, true
		default:
			return nil, false
		}
	}
	return out, true
}
