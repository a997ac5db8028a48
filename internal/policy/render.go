package policy

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Formats are the names Render accepts.
var Formats = []string{"table", "json", "sarif", "junit", "markdown"}

// MaxMarkdown bounds the Markdown output, in bytes: GitHub refuses PR
// comments over 65536 characters, and a step summary is read by people.
const MaxMarkdown = 60 << 10

// Render writes res in the named format. With explain, the table and the
// Markdown show every control; otherwise only those with violations.
func Render(w io.Writer, res *Result, format string, explain bool) error {
	switch format {
	case "table":
		return renderTable(w, res, explain)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	case "sarif":
		return renderSARIF(w, res)
	case "junit":
		return renderJUnit(w, res)
	case "markdown":
		return renderMarkdown(w, res, explain)
	}
	return fmt.Errorf("unknown gate output format %q (want one of %s)", format, strings.Join(Formats, ", "))
}

// Verdict is the one-line outcome: PASS, FAIL, or what report mode would
// have done.
func (r *Result) Verdict() string {
	failed := 0
	for i := range r.Controls {
		if r.Controls[i].Status == Fail {
			failed++
		}
	}
	switch {
	case r.Pass:
		return "PASS"
	case r.Mode == "report":
		return fmt.Sprintf("WOULD FAIL (report mode): %d control(s)", failed)
	}
	return fmt.Sprintf("FAIL: %d control(s)", failed)
}

func location(v Violation) string {
	switch {
	case v.Path != "" && v.Line > 0:
		return v.Path + ":" + strconv.Itoa(v.Line)
	case v.Path != "":
		return v.Path
	}
	return v.Component
}

func renderTable(w io.Writer, res *Result, explain bool) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if explain {
		fmt.Fprintln(tw, "CONTROL\tTYPE\tMODE\tRESULT\tCHECKED\tVIOLATIONS")
		for _, c := range res.Controls {
			note := strconv.Itoa(len(c.Violations))
			if c.Note != "" {
				note += " (" + c.Note + ")"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", c.ID, c.Type, c.Mode, c.Status, c.Checked, note)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	for _, c := range res.Controls {
		for _, v := range c.Violations {
			tag := strings.ToUpper(string(c.Status))
			if v.Exception != nil {
				tag = "EXCEPTED"
			}
			fmt.Fprintf(w, "%s %s: %s\n", tag, c.ID, v.Message)
			fmt.Fprintf(w, "    at:       %s\n", location(v))
			if v.Component != "" && v.Component != location(v) {
				fmt.Fprintf(w, "    what:     %s\n", v.Component)
			}
			fmt.Fprintf(w, "    evidence: %s\n", v.Evidence)
			if v.Exception != nil {
				fmt.Fprintf(w, "    excepted: %s (owner %s, until %s)\n", v.Exception.Reason, v.Exception.Owner, v.Exception.Expires)
			} else {
				fmt.Fprintf(w, "    fix:      %s\n", v.Fix)
			}
		}
	}
	_, err := fmt.Fprintf(w, "chainvet gate: %s (%s)\n", res.Verdict(), res.Policy)
	return err
}

func renderMarkdown(w io.Writer, res *Result, explain bool) error {
	var b bytes.Buffer
	icon := map[Status]string{Pass: "✅", Fail: "❌", Warned: "⚠️", Skip: "➖"}
	fmt.Fprintf(&b, "## chainvet gate: %s\n\nPolicy `%s` on `%s`.\n\n", res.Verdict(), md(res.Policy), md(res.Target))
	fmt.Fprintln(&b, "| | control | type | mode | checked | violations |\n| --- | --- | --- | --- | ---: | ---: |")
	for _, c := range res.Controls {
		if !explain && len(c.Violations) == 0 {
			continue
		}
		fmt.Fprintf(&b, "| %s | `%s` | %s | %s | %d | %d |\n", icon[c.Status], md(c.ID), c.Type, c.Mode, c.Checked, len(c.Violations))
	}
	for _, c := range res.Controls {
		if len(c.Violations) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n### %s `%s`\n\n", icon[c.Status], md(c.ID))
		for _, v := range c.Violations {
			line := fmt.Sprintf("- **%s** at `%s` — evidence: `%s`. Fix: %s", md(v.Message), md(location(v)), md(v.Evidence), md(v.Fix))
			if v.Exception != nil {
				line = fmt.Sprintf("- ~~%s~~ at `%s` — excepted: %s (%s, until %s)", md(v.Message), md(location(v)), md(v.Exception.Reason), md(v.Exception.Owner), v.Exception.Expires)
			}
			if b.Len()+len(line) > MaxMarkdown-200 {
				fmt.Fprintf(&b, "\n… cut at %d bytes: run `chainvet gate -o table` for every violation.\n", MaxMarkdown)
				_, err := w.Write(b.Bytes())
				return err
			}
			fmt.Fprintln(&b, line)
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// md makes s safe inside Markdown text and code spans: no table breaks, no
// backticks that close the span, no HTML.
func md(s string) string {
	return strings.NewReplacer("|", `\|`, "`", "'", "<", "&lt;", ">", "&gt;", "\n", " ", "\r", " ").Replace(s)
}

// JUnit XML as Jenkins and GitLab read it: a testsuites root holding one
// testsuite, one testcase per control; a failing control has a failure
// element, a skipped one a skipped element, a warning its text in
// system-out.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr,omitempty"`
}

func violationsText(vs []Violation) string {
	var b strings.Builder
	for _, v := range vs {
		fmt.Fprintf(&b, "%s\n  at: %s\n  evidence: %s\n", v.Message, location(v), v.Evidence)
		if v.Exception != nil {
			fmt.Fprintf(&b, "  excepted: %s (owner %s, until %s)\n", v.Exception.Reason, v.Exception.Owner, v.Exception.Expires)
		} else {
			fmt.Fprintf(&b, "  fix: %s\n", v.Fix)
		}
	}
	return b.String()
}

func renderJUnit(w io.Writer, res *Result) error {
	s := junitSuite{Name: "chainvet gate " + res.Policy, Time: "0"}
	for _, c := range res.Controls {
		tc := junitCase{Name: c.ID, Classname: "chainvet.gate." + string(c.Type), Time: "0"}
		switch c.Status {
		case Fail:
			tc.Failure = &junitFailure{Message: fmt.Sprintf("%d violation(s) of %s", c.Failed(), c.ID), Type: string(c.Type), Text: violationsText(c.Violations)}
			s.Failures++
		case Skip:
			tc.Skipped = &junitSkipped{Message: c.Note}
			s.Skipped++
		default:
			tc.SystemOut = violationsText(c.Violations)
		}
		s.Cases = append(s.Cases, tc)
	}
	s.Tests = len(s.Cases)
	root := junitSuites{Name: "chainvet gate", Tests: s.Tests, Failures: s.Failures, Skipped: s.Skipped, Suites: []junitSuite{s}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(root); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// SARIF 2.1.0: one rule per control, one result per violation. Excepted
// violations are results with an external suppression, so code scanning
// shows them dismissed.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID               string        `json:"id"`
	ShortDescription sarifText     `json:"shortDescription"`
	DefaultConfig    sarifDefaults `json:"defaultConfiguration"`
}

type sarifDefaults struct {
	Level string `json:"level"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID       string             `json:"ruleId"`
	Level        string             `json:"level"`
	Message      sarifText          `json:"message"`
	Locations    []sarifLocation    `json:"locations,omitempty"`
	Suppressions []sarifSuppression `json:"suppressions,omitempty"`
}

type sarifLocation struct {
	Physical *sarifPhysical `json:"physicalLocation,omitempty"`
}

type sarifPhysical struct {
	Artifact sarifArtifact `json:"artifactLocation"`
	Region   *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Justification string `json:"justification"`
}

// sarifURI is a relative URI reference for a path; an archive member is
// named by its outer file, the member being in the message.
func sarifURI(p string) string {
	p, _, _ = strings.Cut(p, "!")
	p = strings.TrimPrefix(strings.ReplaceAll(p, `\`, "/"), "./")
	var b strings.Builder
	for _, c := range []byte(p) {
		if c > ' ' && c < 0x7f && !strings.ContainsRune(`"<>\^{|}%# `+"`", rune(c)) {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func renderSARIF(w io.Writer, res *Result) error {
	run := sarifRun{Tool: sarifTool{Driver: sarifDriver{Name: "chainvet", Version: res.Tool.Version,
		InformationURI: "https://github.com/chainvet/chainvet"}}, Results: []sarifResult{}}
	for _, c := range res.Controls {
		level := "error"
		if c.Mode == Warn {
			level = "warning"
		}
		desc := cmpOr(c.Description, fmt.Sprintf("policy control %s (%s)", c.ID, c.Type))
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRule{ID: "gate/" + c.ID, ShortDescription: sarifText{desc}, DefaultConfig: sarifDefaults{level}})
		for _, v := range c.Violations {
			r := sarifResult{RuleID: "gate/" + c.ID, Level: level,
				Message: sarifText{fmt.Sprintf("%s (evidence: %s). Fix: %s", v.Message, v.Evidence, v.Fix)}}
			if v.Path != "" {
				ph := &sarifPhysical{Artifact: sarifArtifact{URI: sarifURI(v.Path)}}
				if v.Line > 0 {
					ph.Region = &sarifRegion{StartLine: v.Line}
				}
				r.Locations = []sarifLocation{{Physical: ph}}
			}
			if v.Exception != nil {
				r.Suppressions = []sarifSuppression{{Kind: "external", Justification: fmt.Sprintf("%s (owner %s, until %s)", v.Exception.Reason, v.Exception.Owner, v.Exception.Expires)}}
			}
			run.Results = append(run.Results, r)
		}
	}
	if run.Tool.Driver.Rules == nil {
		run.Tool.Driver.Rules = []sarifRule{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}})
}
