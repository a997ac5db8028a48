package render

import (
	"bufio"
	"bytes"
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"unicode"
	"unicode/utf8"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/rules"
)

// Layout limits of the table. They keep it readable in a terminal; the
// JSON and SARIF outputs hold every string whole.
const (
	// tableWidth is the terminal width, in columns, the table is fitted to
	// by shortening evidence. Paths are never shortened, so a long path
	// makes a row wider than this.
	tableWidth = 120
	// minEvidence is the fewest runes of evidence a row shows however wide
	// its path: evidence cut shorter says too little to act on.
	minEvidence = 32
	// maxName and maxProps bound a component's NAME and FORMAT cells, in runes.
	maxName  = 40
	maxProps = 48
	// maxFixes is how many distinct rules get a "fix:" line, worst first;
	// the rest are counted in one line that points to the JSON output.
	maxFixes = 5
	// colGap is the padding between columns, in spaces.
	colGap = 2
)

// ANSI colours of the severities, and the reset that ends them.
var severityColors = [...]string{
	inventory.Info:     "\x1b[2m",
	inventory.Low:      "\x1b[36m",
	inventory.Medium:   "\x1b[33m",
	inventory.High:     "\x1b[31m",
	inventory.Critical: "\x1b[1;31m",
}

const colorReset = "\x1b[0m"

// tableFormat writes a report for people: the findings worst first, the
// components, what to do about the worst rules, and a one-line summary.
type tableFormat struct {
	opt Options
}

func (*tableFormat) Name() string { return "table" }

func (t *tableFormat) Render(w io.Writer, r *inventory.Report) error {
	if r == nil {
		return errNilReport
	}
	bw := bufio.NewWriter(w)
	order := worstFirst(r.Findings)
	if len(order) > 0 {
		t.findings(bw, r.Findings, order)
		bw.WriteByte('\n')
	}
	if len(r.Components) > 0 {
		components(bw, r.Components)
		bw.WriteByte('\n')
	}
	if len(order) > 0 {
		fixes(bw, r.Findings, order)
	}
	t.summary(bw, r)
	if n := len(r.Suppressed); n > 0 {
		fmt.Fprintf(bw, "%d %s suppressed (see -o json)\n", n, plural(n, "finding", "findings"))
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("table: %w", err)
	}
	return nil
}

// worstFirst returns the indexes of findings ordered by severity, highest
// first, then by path and place in the file, then by rule: the order a
// reader should work through them.
func worstFirst(fs []inventory.Finding) []int {
	order := make([]int, len(fs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int {
		a, b := &fs[i], &fs[j]
		if c := cmp.Compare(b.Severity, a.Severity); c != 0 {
			return c
		}
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Line, b.Line); c != 0 {
			return c
		}
		if c := cmp.Compare(offset(a), offset(b)); c != 0 {
			return c
		}
		return strings.Compare(a.Rule, b.Rule)
	})
	return order
}

// offset is f's offset, or -1 when it has none.
func offset(f *inventory.Finding) int64 {
	if f.Offset == nil {
		return -1
	}
	return *f.Offset
}

// place is the PATH cell of a finding: its path, then ":LINE" or "@0xOFFSET".
func place(f *inventory.Finding) string {
	p := printable(f.Path)
	if p == "" {
		p = "-"
	}
	if f.Cell > 0 {
		p += fmt.Sprintf("#cell-%d", f.Cell)
	}
	switch {
	case f.Line > 0 && f.Column > 0:
		return fmt.Sprintf("%s:%d:%d", p, f.Line, f.Column)
	case f.Line > 0:
		return fmt.Sprintf("%s:%d", p, f.Line)
	case f.Offset != nil && *f.Offset >= 0:
		return fmt.Sprintf("%s@%#x", p, *f.Offset)
	}
	return p
}

func (t *tableFormat) findings(w io.Writer, fs []inventory.Finding, order []int) {
	// Evidence gets what the other columns leave of tableWidth. Their
	// widths are measured here, as tabwriter will measure them.
	places := make([]string, len(fs))
	ruleW, placeW := len("RULE"), len("PATH")
	for _, i := range order {
		places[i] = place(&fs[i])
		ruleW = max(ruleW, utf8.RuneCountInString(printable(fs[i].Rule)))
		placeW = max(placeW, utf8.RuneCountInString(places[i]))
	}
	sevW := len("CRITICAL")
	evidenceW := max(minEvidence, tableWidth-sevW-ruleW-placeW-3*colGap)

	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, colGap, ' ', 0)
	fmt.Fprintln(tw, "SEVERITY\tRULE\tPATH\tEVIDENCE")
	for _, i := range order {
		f := &fs[i]
		ev := f.Evidence
		if ev == "" {
			ev = f.Message
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", strings.ToUpper(f.Severity.String()),
			orDash(printable(f.Rule)), places[i], truncate(printable(ev), evidenceW))
	}
	tw.Flush()
	if !t.opt.Color {
		w.Write(buf.Bytes())
		return
	}
	// Colour after alignment: tabwriter counts the bytes of escape codes
	// as width, which would misalign rows of different severities. Every
	// row after the header starts with its severity's name.
	line, lines, _ := bytes.Cut(buf.Bytes(), []byte("\n"))
	w.Write(line)
	w.Write([]byte("\n"))
	for _, i := range order {
		line, lines, _ = bytes.Cut(lines, []byte("\n"))
		name := strings.ToUpper(fs[i].Severity.String())
		if rest, ok := bytes.CutPrefix(line, []byte(name)); ok {
			io.WriteString(w, paint(fs[i].Severity, name))
			line = rest
		}
		w.Write(line)
		w.Write([]byte("\n"))
	}
}

func components(w io.Writer, cs []inventory.Component) {
	tw := tabwriter.NewWriter(w, 0, 0, colGap, ' ', 0)
	fmt.Fprintln(tw, "KIND\tNAME\tFORMAT\tPATH")
	for i := range cs {
		c := &cs[i]
		name := c.Name
		if c.Version != "" {
			name += "@" + c.Version
		}
		path := "-"
		if len(c.Locations) > 0 {
			l := c.Locations[0]
			path = printable(l.Path)
			if l.Line > 0 {
				path += fmt.Sprintf(":%d", l.Line)
			}
			if n := len(c.Locations) - 1; n > 0 {
				path += fmt.Sprintf(" (+%d)", n)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", orDash(printable(string(c.Kind))),
			orDash(truncate(printable(name), maxName)), orDash(truncate(digest(c.Properties), maxProps)), path)
	}
	tw.Flush()
}

// digest is a component's properties in one cell: key=value pairs in
// key order, which puts format before framework.
func digest(props map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(props)) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(printable(k))
		b.WriteByte('=')
		b.WriteString(printable(props[k]))
	}
	return b.String()
}

// fixes writes one "fix:" line for each of the worst distinct rules: the
// remediation of its worst finding, or the rule's help when that has none.
func fixes(w io.Writer, fs []inventory.Finding, order []int) {
	seen := make(map[string]bool)
	var lines []string
	more := 0
	for _, i := range order {
		f := &fs[i]
		if seen[f.Rule] {
			continue
		}
		seen[f.Rule] = true
		if len(lines) == maxFixes {
			more++
			continue
		}
		fix := f.Remediation
		if fix == "" {
			if rule, ok := rules.Lookup(f.Rule); ok {
				fix = rule.Help
			}
		}
		if fix == "" {
			continue
		}
		lines = append(lines, fmt.Sprintf("fix: %s: %s\n", printable(f.Rule), printable(fix)))
	}
	if len(lines) == 0 {
		return
	}
	for _, l := range lines {
		io.WriteString(w, l)
	}
	if more > 0 {
		fmt.Fprintf(w, "fix: %d more rules; -o json has the remediation of every finding\n", more)
	}
	w.Write([]byte("\n"))
}

func (t *tableFormat) summary(w io.Writer, r *inventory.Report) {
	s := &r.Stats
	fmt.Fprintf(w, "%d %s", s.Files, plural(s.Files, "file", "files"))
	if s.Members > 0 {
		fmt.Fprintf(w, " (%d archive %s)", s.Members, plural(s.Members, "member", "members"))
	}
	fmt.Fprintf(w, ", %s read of %s in %d ms; ", size(s.BytesRead), size(s.Bytes), s.DurationMS)
	var counts [inventory.Critical + 1]int
	valid := 0
	for _, f := range r.Findings {
		if f.Severity >= inventory.Info && f.Severity <= inventory.Critical {
			counts[f.Severity]++
			valid++
		}
	}
	if len(r.Findings) == 0 {
		io.WriteString(w, "no findings\n")
		return
	}
	io.WriteString(w, "findings: ")
	sep := ""
	for s := inventory.Critical; s >= inventory.Info; s-- {
		if counts[s] == 0 {
			continue
		}
		io.WriteString(w, sep)
		io.WriteString(w, t.color(s, fmt.Sprintf("%d %s", counts[s], s)))
		sep = ", "
	}
	if n := len(r.Findings) - valid; n > 0 {
		fmt.Fprintf(w, "%s%d of unknown severity", sep, n)
	}
	io.WriteString(w, "\n")
}

func (t *tableFormat) color(s inventory.Severity, text string) string {
	if !t.opt.Color {
		return text
	}
	return paint(s, text)
}

// paint wraps text in the colour of s; a severity out of range stays plain.
func paint(s inventory.Severity, text string) string {
	if s < inventory.Info || s > inventory.Critical {
		return text
	}
	return severityColors[s] + text + colorReset
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// size writes a byte count in binary units with one decimal.
func size(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v, unit := float64(n)/1024, 0
	units := [...]string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	for v >= 1024 && unit < len(units)-1 {
		v /= 1024
		unit++
	}
	return fmt.Sprintf("%.1f %s", v, units[unit])
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// truncate shortens s to at most n runes, marking the cut with an ellipsis.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n < 1 {
		return "…"
	}
	i, count := 0, 0
	for j := range s {
		if count == n-1 {
			i = j
			break
		}
		count++
	}
	return s[:i] + "…"
}

// printable makes a hostile string safe to print on a terminal and to put in
// a table cell: control characters (which include the tab and newline that
// would break the table, and the escape that starts terminal commands),
// invisible formatting characters (such as the bidirectional overrides that
// make text read in another order than it is stored) and invalid UTF-8
// are written as Go-style escapes.
func printable(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x80 && unicode.IsControl(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029':
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}
