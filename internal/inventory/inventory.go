// Package inventory holds chainvet's data model — Component, Finding, Report —
// the plug-in interfaces of the pipeline, and the walk that drives them.
//
// The pipeline has four stages: discover (one parallel walk; archives opened
// through catalogers), inventory (catalogers turn files into components),
// analyze (analyzers look at the whole report) and report (renderers). Every
// output format is a rendering of one Report.
package inventory

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Schema names the JSON report format. It changes only compatibly: fields
// are added, never renamed or removed.
const Schema = "chainvet/report/v1"

// Kind says what sort of thing a component is.
type Kind string

// The kinds of component.
const (
	KindPackage   Kind = "package"
	KindModel     Kind = "model"
	KindDataset   Kind = "dataset"
	KindService   Kind = "service"
	KindPlugin    Kind = "plugin"
	KindWorkflow  Kind = "workflow"
	KindContainer Kind = "container"
	KindNotebook  Kind = "notebook"
)

// A Component is one thing the project depends on.
type Component struct {
	// ID is unique within a report. Findings refer to components by it.
	ID      string `json:"id"`
	Kind    Kind   `json:"kind"`
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	PURL    string `json:"purl,omitempty"`
	// Digests identify the exact bytes, where they were computed.
	Digests   []Digest   `json:"digests,omitempty"`
	Locations []Location `json:"locations,omitempty"`
	// Properties hold what is known of the component: format, framework,
	// licence, owner and so on. Keys are lower-case words joined by dashes.
	Properties map[string]string `json:"properties,omitempty"`
	// Dependency is "direct" for what the project declares itself and
	// "transitive" for what those bring in; empty when not known.
	Dependency string `json:"dependency,omitempty"`
	// DependsOn lists the IDs of the components this one needs.
	DependsOn []string `json:"dependsOn,omitempty"`
}

// Dependency values.
const (
	Direct     = "direct"
	Transitive = "transitive"
)

// FileComponentID is the ID of a component that is the file at path.
func FileComponentID(kind Kind, path string) string {
	return string(kind) + ":" + path
}

// A Digest is a cryptographic hash of a component's bytes.
type Digest struct {
	Algorithm string `json:"algorithm"` // "sha256"
	Value     string `json:"value"`     // lower-case hex
}

// A Location is a place in the scanned tree. Path names members of archives
// as outer.zip!inner/data.pkl.
type Location struct {
	Path string `json:"path"`
	Line int    `json:"line,omitempty"`
}

// Severity ranks findings. The zero value is Info.
type Severity int

// The severities, lowest first.
const (
	Info Severity = iota
	Low
	Medium
	High
	Critical
)

var severityNames = [...]string{"info", "low", "medium", "high", "critical"}

func (s Severity) String() string {
	if s < Info || s > Critical {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity reads a severity name, in any case.
func ParseSeverity(name string) (Severity, error) {
	for i, n := range severityNames {
		if strings.EqualFold(name, n) {
			return Severity(i), nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want one of %s)", name, strings.Join(severityNames[:], ", "))
}

// MarshalText writes the severity's name.
func (s Severity) MarshalText() ([]byte, error) {
	if s < Info || s > Critical {
		return nil, fmt.Errorf("invalid severity %d", int(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText reads a severity's name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// A Finding is one thing chainvet found wrong, or worth knowing, about a
// component.
type Finding struct {
	// Rule is a stable id such as "pickle/dangerous-call". Rule ids are
	// listed in the README; they are never reused for another meaning.
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	// Component is the ID of the component the finding is about, if any.
	Component string `json:"component,omitempty"`
	// Path is the file, or archive member, the evidence is in.
	Path string `json:"path"`
	// Offset is the byte offset of the evidence within Path, when known.
	Offset *int64 `json:"offset,omitempty"`
	// Line is the 1-based line of the evidence within Path, when known.
	Line int `json:"line,omitempty"`
	// Column is the 1-based column, in bytes, of the evidence on Line,
	// when known.
	Column int `json:"column,omitempty"`
	// Cell is the 1-based index of the notebook cell the evidence is in;
	// Line and Column then count within the cell's source, as Jupyter
	// shows it.
	Cell int `json:"cell,omitempty"`
	// Evidence is the exact thing seen, e.g. "os.system via STACK_GLOBAL at 0x1f".
	Evidence    string `json:"evidence,omitempty"`
	Message     string `json:"message"`
	Remediation string `json:"remediation,omitempty"`
}

// At returns a pointer to off, for Finding.Offset.
func At(off int64) *int64 { return &off }

// A Report is the result of one run: the inventory, the findings about it,
// and what was scanned.
type Report struct {
	Schema     string      `json:"schema"`
	Tool       Tool        `json:"tool"`
	Targets    []string    `json:"targets"`
	Components []Component `json:"components"`
	Findings   []Finding   `json:"findings"`
	// Suppressed holds the findings that an inline comment or an ignore
	// file accepted, with why; they are not in Findings and do not count
	// towards the exit code.
	Suppressed []Suppressed `json:"suppressed,omitempty"`
	Stats      Stats        `json:"stats"`
}

// A Suppressed finding is one a project reviewed and accepted: the finding
// as it was reported, and the suppression that holds it back.
type Suppressed struct {
	Finding
	// Kind is SuppressInline for a comment in the file the finding is in,
	// SuppressFile for an entry of an ignore file.
	Kind string `json:"kind"`
	// Reason is the justification the suppression gives.
	Reason string `json:"reason"`
	// Expires is the last day (YYYY-MM-DD) an ignore-file entry holds, if it has one.
	Expires string `json:"expires,omitempty"`
	// Owner is who answers for the suppression, if the entry names one.
	Owner string `json:"owner,omitempty"`
	// Source is where the suppression is written, as file:line.
	Source string `json:"source"`
}

// The kinds of suppression.
const (
	SuppressInline = "inline"
	SuppressFile   = "file"
)

// Tool names the program that wrote a report.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Stats say how much was scanned and how long it took.
type Stats struct {
	// Files is the number of files found on disk.
	Files int `json:"files"`
	// Members is the number of archive members scanned as files of their own.
	Members int `json:"members"`
	// Bytes is the total size of the files found on disk.
	Bytes int64 `json:"bytes"`
	// BytesRead is how many bytes were read from disk: less than Bytes
	// where formats were scanned by their headers alone.
	BytesRead  int64 `json:"bytesRead"`
	DurationMS int64 `json:"durationMs"`
}

// Max is the highest severity among the findings, and false if there are none.
func (r *Report) Max() (Severity, bool) {
	if len(r.Findings) == 0 {
		return Info, false
	}
	m := Info
	for _, f := range r.Findings {
		m = max(m, f.Severity)
	}
	return m, true
}

// CountAtLeast is the number of findings at or above s.
func (r *Report) CountAtLeast(s Severity) int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity >= s {
			n++
		}
	}
	return n
}

// Component returns the component with the given ID, or nil.
func (r *Report) Component(id string) *Component {
	for i := range r.Components {
		if r.Components[i].ID == id {
			return &r.Components[i]
		}
	}
	return nil
}

// MarshalJSON writes empty lists as [] rather than null, so that consumers
// can iterate without checks.
func (r *Report) MarshalJSON() ([]byte, error) {
	type plain Report
	c := plain(*r)
	if c.Targets == nil {
		c.Targets = []string{}
	}
	if c.Components == nil {
		c.Components = []Component{}
	}
	if c.Findings == nil {
		c.Findings = []Finding{}
	}
	return json.Marshal(c)
}
