package version

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func intro(v string) Event { return Event{Introduced: v} }
func fixed(v string) Event { return Event{Fixed: v} }
func last(v string) Event  { return Event{LastAffected: v} }
func limit(v string) Event { return Event{Limit: v} }

func eco(evs ...Event) []Range { return []Range{{Type: "ECOSYSTEM", Events: evs}} }

func TestAffected(t *testing.T) {
	tests := []struct {
		name     string
		eco, v   string
		ranges   []Range
		versions []string
		want     bool
	}{
		{"pypi in", "PyPI", "1.5", eco(intro("1.0"), fixed("2.0")), nil, true},
		{"pypi fixed", "PyPI", "2.0", eco(intro("1.0"), fixed("2.0")), nil, false},
		{"pypi below", "PyPI", "0.9", eco(intro("1.0"), fixed("2.0")), nil, false},
		{"pypi introduced 0", "PyPI", "0.0.1", eco(intro("0"), fixed("2.0")), nil, true},
		{"pypi pre of fix", "PyPI", "2.0rc1", eco(intro("0"), fixed("2.0")), nil, true},
		{"pypi post of fix", "PyPI", "2.0.post1", eco(intro("0"), fixed("2.0")), nil, false},
		{"pypi normalised", "PyPI", "1.0-1", eco(intro("1.0.post1"), fixed("2")), nil, true},
		{"two pairs first", "PyPI", "1.2", eco(intro("1.0"), fixed("1.3"), intro("2.0"), fixed("2.4")), nil, true},
		{"two pairs gap", "PyPI", "1.5", eco(intro("1.0"), fixed("1.3"), intro("2.0"), fixed("2.4")), nil, false},
		{"two pairs second", "PyPI", "2.3.9", eco(intro("1.0"), fixed("1.3"), intro("2.0"), fixed("2.4")), nil, true},
		{"two pairs after", "PyPI", "2.4", eco(intro("1.0"), fixed("1.3"), intro("2.0"), fixed("2.4")), nil, false},
		{"unsorted events", "PyPI", "2.1", eco(fixed("2.4"), intro("2.0"), fixed("1.3"), intro("1.0")), nil, true},
		{"unsorted gap", "PyPI", "1.5", eco(fixed("2.4"), intro("2.0"), fixed("1.3"), intro("1.0")), nil, false},
		{"no fix", "npm", "9.9.9", eco(intro("1.0.0")), nil, true},
		{"last_affected at", "npm", "1.4.0", eco(intro("1.0.0"), last("1.4.0")), nil, true},
		{"last_affected above", "npm", "1.4.1", eco(intro("1.0.0"), last("1.4.0")), nil, false},
		{"last_affected pre above", "npm", "1.4.1-rc.1", eco(intro("1.0.0"), last("1.4.0")), nil, false},
		{"limit below", "npm", "1.5.0", eco(intro("1.0.0"), limit("2.0.0")), nil, true},
		{"limit at", "npm", "2.0.0", eco(intro("1.0.0"), limit("2.0.0")), nil, false},
		{"limit star", "npm", "3.0.0", eco(intro("1.0.0"), limit("*")), nil, true},
		{"range pre", "npm", "1.0.0-beta.1", eco(intro("0"), fixed("1.0.0")), nil, true},
		{"versions list", "npm", "5.0.0", eco(intro("1.0.0"), fixed("2.0.0")), []string{"5.0.0"}, true},
		{"versions normalised", "PyPI", "1.0.0", nil, []string{"1.0"}, true},
		{"versions miss", "PyPI", "1.0.1", nil, []string{"1.0"}, false},
		{"go pseudo in", "Go", "v0.0.0-20190101000000-abcdef123456", eco(intro("0"), fixed("0.0.0-20200101000000-abcdef123456")), nil, true},
		{"go pseudo fixed", "Go", "v0.0.0-20210101000000-abcdef123456", eco(intro("0"), fixed("0.0.0-20200101000000-abcdef123456")), nil, false},
		{"go pseudo before release", "Go", "v1.2.4-0.20191109021931-daa7c04131f5", eco(intro("1.2.3"), fixed("1.2.4")), nil, true},
		{"go incompatible", "Go", "v2.1.0+incompatible", eco(intro("2.0.0"), fixed("2.2.0")), nil, true},
		{"go no v", "Go", "1.4.0", eco(intro("1.0.0"), fixed("1.4.1")), nil, true},
		{"semver type", "Maven", "1.5.0", []Range{{Type: "SEMVER", Events: []Event{intro("1.0.0"), fixed("2.0.0")}}}, nil, true},
		{"actions short tag", "GitHub Actions", "v4", eco(intro("4.0.0"), fixed("4.1.0")), nil, true},
		{"actions fixed", "GitHub Actions", "v4.1", eco(intro("4.0.0"), fixed("4.1.0")), nil, false},
		{"actions ref listed", "GitHub Actions", "main", eco(intro("4.0.0")), []string{"main"}, true},
		{"crates", "crates.io", "0.3.1", eco(intro("0.3.0"), fixed("0.3.2")), nil, true},
		{"second range hits", "npm", "3.0.0", []Range{
			{Type: "ECOSYSTEM", Events: []Event{intro("1.0.0"), fixed("2.0.0")}},
			{Type: "SEMVER", Events: []Event{intro("3.0.0"), fixed("3.1.0")}},
		}, nil, true},
		{"git range with hit", "npm", "1.5.0", []Range{
			{Type: "GIT", Events: []Event{intro("abc")}},
			{Type: "ECOSYSTEM", Events: []Event{intro("1.0.0"), fixed("2.0.0")}},
		}, nil, true},
	}
	for _, tt := range tests {
		got, err := Affected(tt.eco, tt.v, tt.ranges, tt.versions)
		if err != nil {
			t.Errorf("%s: Affected: %v", tt.name, err)
			continue
		}
		if got != tt.want {
			t.Errorf("%s: Affected(%q, %q) = %v, want %v", tt.name, tt.eco, tt.v, got, tt.want)
		}
	}
}

func TestAffectedUnknown(t *testing.T) {
	tests := []struct {
		name   string
		eco, v string
		ranges []Range
		want   error
	}{
		{"git only", "npm", "1.0.0", []Range{{Type: "GIT", Events: []Event{intro("abc")}}}, ErrUnsupported},
		{"unknown ecosystem", "Hackage", "1.0", eco(intro("0")), ErrUnsupported},
		{"bad version", "npm", "1.0", eco(intro("0")), ErrInvalid},
		{"bad event", "PyPI", "1.0", eco(intro("0"), fixed("not a version")), ErrInvalid},
		{"empty event", "PyPI", "1.0", eco(Event{}), ErrInvalid},
		{"too long", "PyPI", string(make([]byte, MaxVersionLen+1)), eco(intro("0")), ErrTooLong},
		{"too many events", "PyPI", "1.0", eco(make([]Event, MaxEvents+1)...), ErrTooLong},
		{"actions branch", "GitHub Actions", "main", eco(intro("4.0.0")), ErrInvalid},
	}
	for _, tt := range tests {
		got, err := Affected(tt.eco, tt.v, tt.ranges, nil)
		if !errors.Is(err, tt.want) || got {
			t.Errorf("%s: Affected = %v, %v; want false, %v", tt.name, got, err, tt.want)
		}
	}
}

func TestCompare(t *testing.T) {
	tests := []struct {
		eco, a, b string
		want      int
	}{
		{"PyPI", "1.0", "1.0.0", 0},
		{"PyPI", "1.0rc1", "1.0", -1},
		{"npm", "1.0.0-rc.1", "1.0.0", -1},
		{"npm", "1.10.0", "1.9.0", 1},
		{"Go", "v1.2.3", "1.2.3", 0},
		{"Go", "v0.0.0-20190101000000-abcdef123456", "v0.0.1", -1},
		{"Go", "v2.0.0+incompatible", "v2.0.0", 0},
		{"Go", "v1.2.4-0.20191109021931-daa7c04131f5", "v1.2.3", 1},
		{"GitHub Actions", "v4", "v4.0.1", -1},
		{"PyPI:3", "2.0", "10.0", -1},
	}
	for _, tt := range tests {
		got, err := Compare(tt.eco, tt.a, tt.b)
		if err != nil || got != tt.want {
			t.Errorf("Compare(%q, %q, %q) = %d, %v; want %d", tt.eco, tt.a, tt.b, got, err, tt.want)
		}
	}
	if _, err := Compare("Go", "v1.2", "vx"); !errors.Is(err, ErrInvalid) {
		t.Errorf("Compare bad go version: err = %v", err)
	}
}

func TestFixedVersions(t *testing.T) {
	rs := eco(intro("1.0"), fixed("1.3"), intro("2.0"), fixed("2.4"), intro("3.0"), fixed("3.0.1"), fixed("1.3.0"))
	got, err := FixedVersions("PyPI", "1.3", rs)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"1.3", "2.4", "3.0.1"}, got); diff != "" {
		t.Errorf("FixedVersions (-want +got):\n%s", diff)
	}
}

func TestSmallestFix(t *testing.T) {
	tests := []struct {
		name       string
		eco, v     string
		advisories [][]Range
		want       string
		ok         bool
	}{
		{"one", "npm", "1.2.0", [][]Range{eco(intro("0"), fixed("1.2.5"))}, "1.2.5", true},
		{"two, larger wins", "npm", "1.2.0", [][]Range{
			eco(intro("0"), fixed("1.2.5")),
			eco(intro("1.0.0"), fixed("1.4.0")),
		}, "1.4.0", true},
		{"fix reintroduced", "PyPI", "1.0", [][]Range{
			eco(intro("0"), fixed("1.1")),
			eco(intro("1.1"), fixed("1.2")),
		}, "1.2", true},
		{"already clear", "PyPI", "3.0", [][]Range{eco(intro("0"), fixed("2.0"))}, "3.0", true},
		{"no fix", "npm", "1.0.0", [][]Range{eco(intro("0"))}, "", false},
		{"last_affected only", "npm", "1.0.0", [][]Range{eco(intro("0"), last("1.2.0"))}, "", false},
		{"unknown", "npm", "1.0.0", [][]Range{{{Type: "GIT", Events: []Event{intro("a")}}}}, "", false},
		{"semver ranges of an unsupported ecosystem", "Maven", "1.0.0", [][]Range{
			{{Type: "SEMVER", Events: []Event{intro("0"), fixed("1.10.0")}}},
			{{Type: "SEMVER", Events: []Event{intro("0"), fixed("1.9.0")}}},
		}, "1.10.0", true},
		{"ecosystem ranges of an unsupported ecosystem", "Maven", "1.0.0", [][]Range{eco(intro("0"), fixed("1.1"))}, "", false},
	}
	for _, tt := range tests {
		got, ok := SmallestFix(tt.eco, tt.v, tt.advisories)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: SmallestFix = %q, %v; want %q, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}
