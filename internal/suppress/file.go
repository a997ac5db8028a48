// Package suppress holds back the findings a project has reviewed and
// accepted: those under an inline chainvet:ignore comment, and those an
// entry of an ignore file (.chainvet-ignore.yaml) matches.
//
// Every suppression gives a reason; a suppressed finding is not dropped
// but moved to Report.Suppressed with that reason and where it was
// written, so reports still show what was accepted and why.
//
// # Ignore file
//
// The file holds one key, ignore: a list of entries.
//
//	ignore:
//	  - rule: mcp/plain-http          # a rule id, or a glob: mcp/*, *
//	    path: "lab/**"                # optional: a glob on the finding's path
//	    component: "pkg:npm/left-pad" # optional: a component ID or purl, or a glob
//	    evidence: "10.1.2.3"          # optional: a substring of the evidence
//	    reason: lab network, no TLS   # required
//	    expires: 2026-12-31           # optional: the last day the entry holds
//	    owner: team-infra             # optional
//
// An entry matches a finding when every field it sets matches. Rule and
// component globs use * for any run of characters and ? for one, "/"
// included; a component without a version ("pkg:npm/left-pad") also
// matches every version of it ("pkg:npm/left-pad@1.3.0"). Path globs are
// matched element by element, with ** spanning directories, against the
// finding's path as reported and relative to the ignore file's directory;
// a pattern naming an archive also matches the findings of its members.
// The first matching entry suppresses a finding.
//
// An entry holds through its expires date, in the local time of the scan,
// and from the next day on suppresses nothing and is itself reported
// (suppress/expired, medium). An entry that matched nothing in a scan is
// reported as suppress/unused (info). Findings of the suppress/ rules are
// never suppressed.
//
// # Inline comments
//
// A comment "chainvet:ignore RULES REASON" on a finding's line, or alone
// on the line directly above it, suppresses the findings of RULES (a
// comma-separated list of rule ids or globs) there. The comment may open
// with #, //, --, /* or <!--. A comment with no reason suppresses nothing
// and is reported (suppress/invalid, low). In a notebook the comment is in
// the finding's cell, and lines count within the cell.
//
// Comments are read only from files on disk, never from archive members,
// and only within the first MaxSourceBytes of a file. Telling a comment
// from a string is best effort: a marker after an odd number of quotes on
// its line is taken to be inside a string and ignored; a string spanning
// lines can still hold what looks like a comment.
package suppress

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/chainvet/chainvet/internal/yamlfile"
)

// FileName is the ignore file's name at a scan root.
const FileName = ".chainvet-ignore.yaml"

// MaxFileSize bounds the ignore file read: thousands of entries fit in
// a few hundred KB.
const MaxFileSize = 1 << 20

// MaxEntries bounds the entries of one ignore file: each is tried on
// every finding.
const MaxEntries = 10000

// maxDoubleStars bounds "**" per path glob: each one multiplies the ways
// a glob can match, and real patterns use one or two.
const maxDoubleStars = 4

// dateLayout is how expires dates are written.
const dateLayout = "2006-01-02"

// An Entry is one suppression of an ignore file.
type Entry struct {
	Rule, Path, Component, Evidence string
	Reason, Owner                   string
	// Expires is the last day the entry holds, as written (YYYY-MM-DD);
	// empty when it does not expire.
	Expires string
	// Line is where the entry starts in the file.
	Line int

	// until is Expires parsed: midnight UTC starting that day.
	until time.Time
}

// A File is a loaded ignore file.
type File struct {
	// Path is the file read; Dir its directory, which relative path
	// globs are also tried from.
	Path, Dir string
	Entries   []Entry
}

// Find loads root/.chainvet-ignore.yaml; it returns nil and no error when
// there is none.
func Find(root string) (*File, error) {
	p := filepath.Join(root, FileName)
	if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return Load(p)
}

// Load reads and checks an ignore file. An entry without a rule or a
// reason, an unknown key or a bad date is an error naming file:line.
func Load(file string) (*File, error) {
	v, err := yamlfile.Load(file, MaxFileSize, Parse)
	if err != nil {
		return nil, err
	}
	v.Path, v.Dir = file, filepath.Dir(file)
	return v, nil
}

// Parse reads an ignore file's bytes.
func Parse(b []byte) (*File, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, yamlfile.Syntax(err)
	}
	ig := &File{}
	if len(doc.Content) == 0 {
		return ig, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, yamlfile.LineError(root.Line, "want a mapping with key ignore")
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Value != "ignore" {
			return nil, yamlfile.LineError(k.Line, "unknown key %q (want ignore)", k.Value)
		}
		if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
			continue
		}
		if v.Kind != yaml.SequenceNode {
			return nil, yamlfile.LineError(v.Line, "ignore: want a list of entries")
		}
		if len(ig.Entries)+len(v.Content) > MaxEntries {
			return nil, yamlfile.LineError(v.Line, "ignore: more than %d entries", MaxEntries)
		}
		for _, item := range v.Content {
			e, err := parseEntry(item)
			if err != nil {
				return nil, err
			}
			ig.Entries = append(ig.Entries, e)
		}
	}
	return ig, nil
}

func parseEntry(n *yaml.Node) (Entry, error) {
	e := Entry{Line: n.Line}
	if n.Kind != yaml.MappingNode {
		return e, yamlfile.LineError(n.Line, "entry: want a mapping with rule and reason")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if v.Kind != yaml.ScalarNode {
			return e, yamlfile.LineError(v.Line, "%s: want a string", k.Value)
		}
		val := strings.TrimSpace(v.Value)
		switch k.Value {
		case "rule":
			e.Rule = val
		case "path":
			e.Path = strings.TrimPrefix(filepath.ToSlash(val), "./")
		case "component":
			e.Component = val
		case "evidence":
			e.Evidence = v.Value // a substring: spaces count
		case "reason":
			e.Reason = val
		case "expires":
			e.Expires = val
		case "owner":
			e.Owner = val
		default:
			return e, yamlfile.LineError(k.Line, "unknown key %q (want rule, path, component, evidence, reason, expires or owner)", k.Value)
		}
	}
	switch {
	case e.Rule == "":
		return e, yamlfile.LineError(n.Line, "entry has no rule (a rule id or a glob such as mcp/*)")
	case e.Reason == "":
		return e, yamlfile.LineError(n.Line, "entry for rule %q has no reason: say why the finding is accepted", e.Rule)
	}
	if strings.Count(e.Path, "**") > maxDoubleStars {
		return e, yamlfile.LineError(n.Line, "path %q: more than %d \"**\"", e.Path, maxDoubleStars)
	}
	if _, err := path.Match(strings.ReplaceAll(e.Path, "**", "*"), ""); err != nil {
		return e, yamlfile.LineError(n.Line, "path %q: %v", e.Path, err)
	}
	if e.Expires != "" {
		t, err := time.Parse(dateLayout, e.Expires)
		if err != nil {
			return e, yamlfile.LineError(n.Line, "entry for rule %q: expires %q: want a date as YYYY-MM-DD", e.Rule, e.Expires)
		}
		e.until = t
	}
	return e, nil
}

// expired reports whether the entry no longer holds on the day of now, in
// now's location: it holds through its expires date.
func (e *Entry) expired(now time.Time) bool {
	if e.until.IsZero() {
		return false
	}
	y, m, d := now.Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return today.After(e.until)
}

// source is where the entry is written, as file:line.
func (f *File) source(e *Entry) string {
	return fmt.Sprintf("%s:%d", f.Path, e.Line)
}

// describe names an entry in a finding: its rule and what else it sets.
func (e *Entry) describe() string {
	s := "rule " + e.Rule
	if e.Path != "" {
		s += " path " + e.Path
	}
	if e.Component != "" {
		s += " component " + e.Component
	}
	if e.Evidence != "" {
		s += fmt.Sprintf(" evidence %q", e.Evidence)
	}
	return s
}
