package diff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/chainvet/chainvet/internal/inventory"
)

// Formats are the names Render accepts.
var Formats = []string{"table", "json", "markdown"}

// MarkdownLimit is the most bytes the markdown form takes: GitHub refuses
// comments over 65,536 characters, and a bot's comment often has a header
// and footer around the report.
const MarkdownLimit = 60000

// markdownRows is how many rows a markdown section shows at most before
// "…and N more"; fewer when the whole would pass MarkdownLimit.
const markdownRows = 50

// maxCell bounds one table cell, in bytes: a name or version is short,
// and a crafted one must not fill the comment.
const maxCell = 200

// Render writes r in format: "table" (sections for a terminal), "json"
// (the Result as chainvet/diff/v1) or "markdown" (for a pull-request
// comment, at most MarkdownLimit bytes).
func Render(w io.Writer, r *Result, format string) error {
	var err error
	switch format {
	case "table":
		err = renderTable(w, r)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		c := *r
		if c.Changes == nil {
			c.Changes = []Change{}
		}
		err = enc.Encode(&c)
	case "markdown":
		_, err = io.WriteString(w, Markdown(r, MarkdownLimit))
	default:
		return fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(Formats, ", "))
	}
	if err != nil {
		return fmt.Errorf("writing %s diff: %w", format, err)
	}
	return nil
}

// A section is one group of changes in the table and markdown forms; a
// change may be in several (a version jump that also moved index).
type section struct {
	title   string
	columns []string
	has     func(*Change) bool
	row     func(*Change) []string
}

func sections(r *Result) []section {
	approvals := r.Summary.Unapproved+r.Summary.Approved > 0
	approval := func(c *Change) string {
		switch {
		case c.Approval == nil:
			return ""
		case c.Approval.Approved:
			return "approved by " + c.Approval.By + " until " + c.Approval.Expires
		}
		return c.Approval.Note
	}
	withApproval := func(cols []string) []string {
		if approvals {
			return append(cols, "approval")
		}
		return cols
	}
	rowA := func(c *Change, cells ...string) []string {
		if approvals {
			return append(cells, approval(c))
		}
		return cells
	}
	return []section{
		{
			title:   "Same version, different digest (red flag)",
			columns: withApproval([]string{"kind", "component", "version", "digest"}),
			has:     (*Change).RedFlag,
			row: func(c *Change) []string {
				return rowA(c, string(c.Kind), c.Key, c.New.Version, digestChange(c))
			},
		},
		{
			title:   "Added",
			columns: withApproval([]string{"kind", "component", "version", "dependency"}),
			has:     func(c *Change) bool { return c.Type == Added && c.New.Dependency != inventory.Transitive },
			row: func(c *Change) []string {
				return rowA(c, string(c.Kind), c.Key, c.New.Version, c.New.Dependency)
			},
		},
		{
			title:   "New transitive dependencies",
			columns: withApproval([]string{"kind", "component", "version", "pulled in by"}),
			has:     func(c *Change) bool { return c.Type == Added && c.New.Dependency == inventory.Transitive },
			row: func(c *Change) []string {
				return rowA(c, string(c.Kind), c.Key, c.New.Version, strings.Join(c.Via, ", "))
			},
		},
		{
			title:   "Removed",
			columns: []string{"kind", "component", "version"},
			has:     func(c *Change) bool { return c.Type == Removed },
			row:     func(c *Change) []string { return []string{string(c.Kind), c.Key, c.Old.Version} },
		},
		{
			title:   "Version changes",
			columns: withApproval([]string{"kind", "component", "old", "new", "jump"}),
			has:     func(c *Change) bool { return c.Jump != "" && c.Jump != Revision },
			row: func(c *Change) []string {
				return rowA(c, string(c.Kind), c.Key, c.Old.Version, c.New.Version, string(c.Jump))
			},
		},
		{
			title:   "Revision changes",
			columns: withApproval([]string{"kind", "component", "old", "new"}),
			has:     func(c *Change) bool { return c.Jump == Revision },
			row: func(c *Change) []string {
				return rowA(c, string(c.Kind), c.Key, c.Old.Version, c.New.Version)
			},
		},
		{
			title:   "Content changes",
			columns: withApproval([]string{"kind", "component", "digest"}),
			has:     func(c *Change) bool { return c.DigestChanged && !c.RedFlag() },
			row: func(c *Change) []string {
				return rowA(c, string(c.Kind), c.Key, digestChange(c))
			},
		},
		{
			title:   "Source changes",
			columns: []string{"kind", "component", "property", "old", "new"},
			has:     (*Change).SourceChanged,
			row: func(c *Change) []string {
				var k, o, n []string
				for _, p := range c.Properties {
					if p.Source {
						k, o, n = append(k, p.Key), append(o, p.Old), append(n, p.New)
					}
				}
				return []string{string(c.Kind), c.Key, strings.Join(k, ", "), strings.Join(o, ", "), strings.Join(n, ", ")}
			},
		},
		{
			title:   "Other changes",
			columns: []string{"kind", "component", "what"},
			has: func(c *Change) bool {
				return c.Type == Changed && c.Jump == "" && !c.DigestChanged && !c.SourceChanged()
			},
			row: func(c *Change) []string {
				var what []string
				if c.Old.Dependency != c.New.Dependency {
					what = append(what, fmt.Sprintf("dependency %s → %s", orNone(c.Old.Dependency), orNone(c.New.Dependency)))
				}
				for _, p := range c.Properties {
					what = append(what, fmt.Sprintf("%s %s → %s", p.Key, orNone(p.Old), orNone(p.New)))
				}
				for _, p := range c.Digests {
					what = append(what, fmt.Sprintf("%s %s → %s", p.Key, orNone(short(p.Old)), orNone(short(p.New))))
				}
				return []string{string(c.Kind), c.Key, strings.Join(what, "; ")}
			},
		},
	}
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// digestChange shows the first digest whose values differ: a component
// digest, else the lockfile hashes recorded in its properties.
func digestChange(c *Change) string {
	for _, od := range c.Old.Digests {
		for _, nd := range c.New.Digests {
			if strings.EqualFold(od.Algorithm, nd.Algorithm) && !strings.EqualFold(od.Value, nd.Value) {
				return od.Algorithm + " " + short(od.Value) + " → " + short(nd.Value)
			}
		}
	}
	for _, p := range c.Digests {
		return p.Key + " " + short(p.Old) + " → " + short(p.New)
	}
	return "digests differ"
}

// short cuts a digest, or the first of a list, to its first 12 hex
// digits, keeping an "algorithm:" prefix.
func short(h string) string {
	h, _, more := strings.Cut(h, ",")
	alg, hex, ok := strings.Cut(h, ":")
	if !ok {
		alg, hex = "", h
	} else {
		alg += ":"
	}
	if len(hex) > 12 {
		hex = hex[:12] + "…"
	}
	if more {
		hex += ",…"
	}
	return alg + hex
}

// SummaryLine says in one line what changed.
func SummaryLine(r *Result) string {
	s := r.Summary
	var b strings.Builder
	fmt.Fprintf(&b, "%d added", s.Added)
	if s.NewTransitive > 0 {
		fmt.Fprintf(&b, " (%d transitive)", s.NewTransitive)
	}
	fmt.Fprintf(&b, ", %d removed, %d changed", s.Removed, s.Changed)
	var grades []string
	for _, g := range []struct {
		n    int
		name string
	}{{s.Major, "major"}, {s.Minor, "minor"}, {s.Patch, "patch"}, {s.Prerelease, "prerelease"},
		{s.Downgrade, "downgrade"}, {s.Revision, "revision"}, {s.OtherVersion, "other version"}, {s.SourceChanged, "source"}} {
		if g.n > 0 {
			grades = append(grades, fmt.Sprintf("%d %s", g.n, g.name))
		}
	}
	if len(grades) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(grades, ", "))
	}
	if s.DigestChanged > 0 {
		fmt.Fprintf(&b, "; %d same version with a different digest", s.DigestChanged)
	}
	if s.Unapproved+s.Approved > 0 {
		fmt.Fprintf(&b, "; %d need approval, %d approved", s.Unapproved, s.Approved)
	}
	return b.String()
}

func renderTable(w io.Writer, r *Result) error {
	bw := &errWriter{w: w}
	fmt.Fprintf(bw, "%s → %s: %s\n", r.Old, r.New, SummaryLine(r))
	for _, s := range sections(r) {
		var rows [][]string
		for i := range r.Changes {
			if c := &r.Changes[i]; s.has(c) {
				rows = append(rows, s.row(c))
			}
		}
		if len(rows) == 0 {
			continue
		}
		fmt.Fprintf(bw, "\n%s (%d)\n", strings.ToUpper(s.title[:1])+s.title[1:], len(rows))
		tw := tabwriter.NewWriter(bw, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  "+strings.ToUpper(strings.Join(s.columns, "\t")))
		for _, row := range rows {
			for i := range row {
				row[i] = plainCell(row[i])
			}
			fmt.Fprintln(tw, "  "+strings.Join(row, "\t"))
		}
		tw.Flush()
	}
	return bw.err
}

// plainCell keeps a cell on one line, without tabs or control characters
// that a crafted name could use to redraw a terminal.
func plainCell(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, s)
	return clip(s)
}

func clip(s string) string {
	if len(s) <= maxCell {
		return s
	}
	cut := maxCell
	for cut > 0 && s[cut]&0xc0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

// Markdown renders r for a pull-request comment in at most limit bytes: a
// summary line, then one collapsible section per kind of change, each
// showing as many rows as fit and "…and N more".
func Markdown(r *Result, limit int) string {
	for rows := markdownRows; ; rows /= 2 {
		s := markdown(r, rows)
		if len(s) <= limit || rows == 0 {
			if len(s) > limit {
				s = clipMarkdown(s, limit)
			}
			return s
		}
	}
}

// clipMarkdown cuts s to limit bytes at a line end, with a note.
func clipMarkdown(s string, limit int) string {
	const note = "\n…output cut to fit a comment; run chainvet diff -o json for all of it.\n"
	if limit <= len(note) {
		return ""
	}
	s = s[:limit-len(note)]
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s + note
}

func markdown(r *Result, maxRows int) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "### chainvet diff: %s → %s\n\n", mdCode(r.Old), mdCode(r.New))
	if len(r.Changes) == 0 {
		b.WriteString("No changes to the supply chain.\n")
		return b.String()
	}
	summary := SummaryLine(r)
	if r.Summary.DigestChanged > 0 || r.Summary.Unapproved > 0 {
		summary = "⚠️ " + summary
	}
	b.WriteString(summary + "\n")
	for _, s := range sections(r) {
		var matched []*Change
		for i := range r.Changes {
			if c := &r.Changes[i]; s.has(c) {
				matched = append(matched, c)
			}
		}
		if len(matched) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n<details><summary>%s (%d)</summary>\n\n", s.title, len(matched))
		b.WriteString("| " + strings.Join(s.columns, " | ") + " |\n")
		b.WriteString("|" + strings.Repeat(" --- |", len(s.columns)) + "\n")
		for i, c := range matched {
			if i == maxRows {
				break
			}
			cells := s.row(c)
			for j := range cells {
				cells[j] = mdCode(cells[j])
			}
			b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
		}
		if n := len(matched) - maxRows; n > 0 {
			fmt.Fprintf(&b, "\n…and %d more\n", n)
		}
		b.WriteString("\n</details>\n")
	}
	return b.String()
}

// mdCode puts s in a code span that is safe in a table cell: no backtick
// can end it, no pipe can end the cell, no line break can end the row.
// Inside a code span GitHub neither renders HTML nor notifies @mentions,
// which a crafted package name could otherwise do.
func mdCode(s string) string {
	if s == "" {
		return ""
	}
	s = plainCell(s)
	s = strings.ReplaceAll(s, "`", "'")
	s = strings.ReplaceAll(s, "|", `\|`)
	return "`" + s + "`"
}
