package suppress

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"

	"github.com/chainvet/chainvet/internal/modelfile/ipynb"
)

// MaxSourceBytes bounds the bytes of one scanned file read to find the
// comments near its findings: a comment further in is not seen.
const MaxSourceBytes = 8 << 20

// maxLineBytes bounds the bytes kept of one line; a marker beyond them is
// not seen. Real comments sit within the first hundred columns.
const maxLineBytes = 64 << 10

// maxCells bounds the cells of a notebook read for comments.
const maxCells = 20_000

// marker opens an inline suppression.
const marker = "chainvet:ignore"

// openers are the comment openers a marker may follow, longest first so
// that "<!--" is not read as "--".
var openers = []string{"<!--", "//", "/*", "--", "#"}

// A directive is a chainvet:ignore comment as written.
type directive struct {
	rules  []string
	reason string
	text   string // the comment from its opener, for evidence
}

// valid reports whether the directive names rules and gives a reason.
func (d directive) valid() bool { return len(d.rules) > 0 && d.reason != "" }

// matches reports whether the directive names rule, as an id or a glob.
func (d directive) matches(rule string) bool {
	for _, r := range d.rules {
		if wildcard(r, rule) {
			return true
		}
	}
	return false
}

// parseDirective finds a chainvet:ignore comment in line. With alone set
// the comment must be all the line holds (the line above a finding);
// otherwise it may follow code. A marker that seems to sit in a string
// (after an odd number of quotes) is not a comment.
func parseDirective(line string, alone bool) (directive, bool) {
	at := strings.Index(line, marker)
	if at < 0 {
		return directive{}, false
	}
	if end := at + len(marker); end < len(line) && line[end] != ' ' && line[end] != '\t' {
		return directive{}, false // chainvet:ignored, chainvet:ignore-x: not ours
	}
	before := strings.TrimRight(line[:at], " \t")
	open := -1
	for _, o := range openers {
		if strings.HasSuffix(before, o) {
			open = len(before) - len(o)
			break
		}
	}
	if open < 0 {
		return directive{}, false
	}
	code := line[:open]
	if alone && strings.TrimSpace(code) != "" {
		return directive{}, false
	}
	if inString(code) {
		return directive{}, false
	}
	rest := line[at+len(marker):]
	rest = strings.TrimSpace(rest)
	rest = strings.TrimSuffix(rest, "-->")
	rest = strings.TrimSuffix(rest, "*/")
	fields := strings.Fields(rest)
	d := directive{text: strings.TrimSpace(line[open:])}
	// The rule list runs until a field that neither ends nor follows a comma.
	i := 0
	var list string
	for i < len(fields) {
		list += fields[i]
		i++
		if !strings.HasSuffix(list, ",") && (i >= len(fields) || !strings.HasPrefix(fields[i], ",")) {
			break
		}
	}
	for _, r := range strings.Split(list, ",") {
		if r = strings.TrimSpace(r); r != "" {
			d.rules = append(d.rules, r)
		}
	}
	d.reason = strings.Join(fields[i:], " ")
	return d, true
}

// inString reports whether the end of code is inside a quoted string:
// an odd number of unescaped quotes of one kind.
func inString(code string) bool {
	var quote byte
	for i := 0; i < len(code); i++ {
		c := code[i]
		switch {
		case c == '\\':
			i++
		case quote == 0 && (c == '"' || c == '\'' || c == '`'):
			quote = c
		case quote != 0 && c == quote:
			quote = 0
		}
	}
	return quote != 0
}

// readLines returns the lines of the file at name with the given numbers
// (1-based), reading no further than the greatest of them and
// MaxSourceBytes. Lines that are not reached are absent. Only regular
// files are read.
func readLines(name string, want map[int]bool) (map[int]string, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return scanLines(io.LimitReader(f, MaxSourceBytes), want)
}

// scanLines is readLines on a reader.
func scanLines(r io.Reader, want map[int]bool) (map[int]string, error) {
	last := 0
	for n := range want {
		last = max(last, n)
	}
	out := map[int]string{}
	br := bufio.NewReaderSize(r, maxLineBytes)
	for n := 1; n <= last; n++ {
		b, err := br.ReadSlice('\n')
		if want[n] {
			out[n] = strings.TrimRight(string(b), "\r\n")
		}
		for errors.Is(err, bufio.ErrBufferFull) { // the rest of a long line
			_, err = br.ReadSlice('\n')
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// notebook is the part of an .ipynb that holds cell sources.
type notebook struct {
	Cells []struct {
		Source json.RawMessage `json:"source"`
	} `json:"cells"`
}

// cellLines returns the source lines of every cell of the notebook at
// name, by cell (1-based, counting every cell as Jupyter does).
func cellLines(name string) (map[int][]string, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	if fi.Size() > MaxSourceBytes {
		return nil, errors.New("notebook too large to read for comments")
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return parseCells(b)
}

// parseCells reads a notebook's cell sources.
func parseCells(b []byte) (map[int][]string, error) {
	var nb notebook
	if err := json.Unmarshal(b, &nb); err != nil {
		return nil, err
	}
	if len(nb.Cells) > maxCells {
		return nil, errors.New("too many cells")
	}
	out := map[int][]string{}
	for i, c := range nb.Cells {
		s, err := ipynb.Text(c.Source)
		if err != nil {
			continue
		}
		out[i+1] = strings.Split(s, "\n")
	}
	return out, nil
}
