// Package osv reads OSV advisory records (https://ossf.github.io/osv-schema/)
// with bounds, and ranks each record on chainvet's severity scale.
//
// Records come from a downloaded database, so they are untrusted input:
// [Parse] rejects records over [MaxRecordSize] bytes or with more affected
// entries, ranges, events or versions than the limits below, and never
// panics.
package osv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/chainvet/chainvet/internal/advisory/version"
)

// Limits on one record. The largest real OSV records (long Debian or
// PyPI version lists) are a few hundred KiB with a few thousand versions.
const (
	// MaxRecordSize is the largest record accepted, in bytes.
	MaxRecordSize = 4 << 20
	// MaxAffected bounds the affected entries of one record.
	MaxAffected = 4096
	// MaxRanges bounds the ranges of one affected entry.
	MaxRanges = 256
	// MaxVersions bounds the versions listed across one record.
	MaxVersions = 100_000
	// MaxAliases bounds a record's aliases (and related ids).
	MaxAliases = 1024
)

// ErrInvalid marks a record that is not valid OSV or is over a limit.
var ErrInvalid = errors.New("osv: invalid record")

// Record is one OSV advisory, holding the fields chainvet uses.
type Record struct {
	ID               string          `json:"id"`
	Modified         time.Time       `json:"modified"`
	Published        time.Time       `json:"published,omitzero"`
	Withdrawn        time.Time       `json:"withdrawn,omitzero"`
	Aliases          []string        `json:"aliases,omitempty"`
	Related          []string        `json:"related,omitempty"`
	Summary          string          `json:"summary,omitempty"`
	Details          string          `json:"details,omitempty"`
	Severity         []Severity      `json:"severity,omitempty"`
	Affected         []Affected      `json:"affected,omitempty"`
	References       []Reference     `json:"references,omitempty"`
	DatabaseSpecific json.RawMessage `json:"database_specific,omitempty"`
}

// Severity is one scored severity, such as a CVSS vector.
type Severity struct {
	Type  string `json:"type"` // "CVSS_V3", "CVSS_V4", ...
	Score string `json:"score"`
}

// Affected is one affected package and the versions it is affected at.
type Affected struct {
	Package           Package         `json:"package"`
	Severity          []Severity      `json:"severity,omitempty"`
	Ranges            []Range         `json:"ranges,omitempty"`
	Versions          []string        `json:"versions,omitempty"`
	EcosystemSpecific json.RawMessage `json:"ecosystem_specific,omitempty"`
	DatabaseSpecific  json.RawMessage `json:"database_specific,omitempty"`
}

// Package names a package in an ecosystem.
type Package struct {
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
	PURL      string `json:"purl,omitempty"`
}

// Range is one affected range, as in the OSV schema.
type Range struct {
	Type   string  `json:"type"`
	Repo   string  `json:"repo,omitempty"`
	Events []Event `json:"events"`
}

// Event is one range event; exactly one field is set.
type Event struct {
	Introduced   string `json:"introduced,omitempty"`
	Fixed        string `json:"fixed,omitempty"`
	LastAffected string `json:"last_affected,omitempty"`
	Limit        string `json:"limit,omitempty"`
}

// Reference is one link of a record.
type Reference struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

// Parse reads one OSV record, checking it against the limits and the
// fields every record must have (id and modified).
func Parse(data []byte) (*Record, error) {
	if len(data) > MaxRecordSize {
		return nil, fmt.Errorf("%w: %d bytes, over the %d byte limit", ErrInvalid, len(data), MaxRecordSize)
	}
	var r Record
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if err := r.check(); err != nil {
		return nil, err
	}
	return &r, nil
}

func (r *Record) check() error {
	if r.ID == "" {
		return fmt.Errorf("%w: no id", ErrInvalid)
	}
	if r.Modified.IsZero() {
		return fmt.Errorf("%w: %s: no modified time", ErrInvalid, r.ID)
	}
	if len(r.Aliases)+len(r.Related) > MaxAliases {
		return fmt.Errorf("%w: %s: %d aliases, over the limit of %d", ErrInvalid, r.ID, len(r.Aliases)+len(r.Related), MaxAliases)
	}
	if len(r.Affected) > MaxAffected {
		return fmt.Errorf("%w: %s: %d affected entries, over the limit of %d", ErrInvalid, r.ID, len(r.Affected), MaxAffected)
	}
	versions := 0
	for i, a := range r.Affected {
		if len(a.Ranges) > MaxRanges {
			return fmt.Errorf("%w: %s: affected[%d]: %d ranges, over the limit of %d", ErrInvalid, r.ID, i, len(a.Ranges), MaxRanges)
		}
		events := 0
		for _, rg := range a.Ranges {
			events += len(rg.Events)
		}
		if events > version.MaxEvents {
			return fmt.Errorf("%w: %s: affected[%d]: %d events, over the limit of %d", ErrInvalid, r.ID, i, events, version.MaxEvents)
		}
		versions += len(a.Versions)
	}
	if versions > MaxVersions {
		return fmt.Errorf("%w: %s: %d versions, over the limit of %d", ErrInvalid, r.ID, versions, MaxVersions)
	}
	return nil
}

// VersionRanges converts a's ranges for [version.Affected].
func (a Affected) VersionRanges() []version.Range {
	out := make([]version.Range, 0, len(a.Ranges))
	for _, rg := range a.Ranges {
		vr := version.Range{Type: rg.Type, Events: make([]version.Event, len(rg.Events))}
		for i, e := range rg.Events {
			vr.Events[i] = version.Event{Introduced: e.Introduced, Fixed: e.Fixed, LastAffected: e.LastAffected, Limit: e.Limit}
		}
		out = append(out, vr)
	}
	return out
}

// Malicious reports whether r is a malicious-package report (OpenSSF
// malicious-packages ids start "MAL-").
func (r *Record) Malicious() bool {
	return strings.HasPrefix(r.ID, "MAL-")
}

// Group is r's id with its aliases: the ids that name the same issue.
func (r *Record) Group() []string {
	return append([]string{r.ID}, r.Aliases...)
}
