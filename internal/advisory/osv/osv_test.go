package osv

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/chainvet/chainvet/internal/inventory"
)

const fixtures = "../../../testdata/advisory/osv"

func TestCVSS3Score(t *testing.T) {
	tests := []struct {
		vector string
		want   float64
	}{
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1},
		{"CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:L/I:L/A:N", 4.7},
		{"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5},
		{"CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4},
		{"CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.6},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0},
		// Metric order does not matter; temporal metrics are ignored.
		{"CVSS:3.1/C:H/I:H/A:H/AV:N/AC:L/PR:N/UI:N/S:U/E:P", 9.8},
	}
	for _, tt := range tests {
		got, err := CVSS3Score(tt.vector)
		if err != nil {
			t.Errorf("CVSS3Score(%q): %v", tt.vector, err)
			continue
		}
		if got != tt.want {
			t.Errorf("CVSS3Score(%q) = %v, want %v", tt.vector, got, tt.want)
		}
	}
}

func TestCVSS3ScoreErrors(t *testing.T) {
	for _, v := range []string{
		"",
		"CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P",
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",
		"CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
		"CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:Q/C:H/I:H/A:H",
		"CVSS:3.1/AV",
		"CVSS:3.1/" + strings.Repeat("X:Y/", 100),
	} {
		if s, err := CVSS3Score(v); err == nil {
			t.Errorf("CVSS3Score(%q) = %v, want an error", v, s)
		}
	}
}

func TestParseFixtures(t *testing.T) {
	tests := []struct {
		file      string
		id        string
		malicious bool
		withdrawn bool
		aliases   []string
		sev       inventory.Severity
		why       string
	}{
		{"GHSA-hh2w-p6rv-4g7w.json", "GHSA-hh2w-p6rv-4g7w", false, false, []string{"CVE-2022-45907", "PYSEC-2022-43015"}, inventory.Critical, "CVSS 9.8 (CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H)"},
		{"PYSEC-2022-43015.json", "PYSEC-2022-43015", false, false, []string{"CVE-2022-45907", "GHSA-hh2w-p6rv-4g7w"}, inventory.Medium, "no severity in the record"},
		{"GHSA-4w2v-q235-vp99.json", "GHSA-4w2v-q235-vp99", false, false, []string{"CVE-2020-11022"}, inventory.Medium, "CVSS 4.7 (CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:L/I:L/A:N)"},
		{"MAL-2024-1234.json", "MAL-2024-1234", true, false, nil, inventory.Critical, "malicious package"},
		{"GO-2023-1882.json", "GO-2023-1882", false, false, []string{"CVE-2023-29406", "GHSA-f8f7-69v5-w4vx"}, inventory.Medium, "no severity in the record"},
		{"GHSA-wdrw-withdrawn.json", "GHSA-wdrw-2xq9-xxxx", false, true, nil, inventory.High, "CVSS v4 impact (CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N)"},
		{"GHSA-v4only.json", "GHSA-v4v4-v4v4-v4v4", false, false, nil, inventory.Medium, "CVSS v4 impact (CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N)"},
	}
	for _, tt := range tests {
		data, err := os.ReadFile(filepath.Join(fixtures, tt.file))
		if err != nil {
			t.Fatal(err)
		}
		r, err := Parse(data)
		if err != nil {
			t.Errorf("%s: %v", tt.file, err)
			continue
		}
		if r.ID != tt.id || r.Malicious() != tt.malicious || r.Withdrawn.IsZero() == tt.withdrawn {
			t.Errorf("%s: id %q malicious %v withdrawn %v", tt.file, r.ID, r.Malicious(), r.Withdrawn)
		}
		if diff := cmp.Diff(tt.aliases, r.Aliases); diff != "" {
			t.Errorf("%s aliases (-want +got):\n%s", tt.file, diff)
		}
		sev, why := r.Rank()
		if sev != tt.sev || why != tt.why {
			t.Errorf("%s: Rank() = %v, %q; want %v, %q", tt.file, sev, why, tt.sev, tt.why)
		}
		if len(r.Affected) == 0 || len(r.Affected[0].VersionRanges()) != len(r.Affected[0].Ranges) {
			t.Errorf("%s: affected ranges not converted", tt.file)
		}
	}
}

func TestRankDatabaseSeverity(t *testing.T) {
	r, err := Parse([]byte(`{"id":"GHSA-x","modified":"2024-01-01T00:00:00Z","database_specific":{"severity":"HIGH"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if sev, why := r.Rank(); sev != inventory.High || why != "database severity" {
		t.Errorf("Rank() = %v, %q", sev, why)
	}
}

func TestParseInvalid(t *testing.T) {
	many := func(n int, item string) string {
		return strings.TrimSuffix(strings.Repeat(item+",", n), ",")
	}
	tests := []struct {
		name string
		data string
	}{
		{"empty", ``},
		{"not json", `not json`},
		{"no id", `{"modified":"2024-01-01T00:00:00Z"}`},
		{"no modified", `{"id":"X-1"}`},
		{"bad time", `{"id":"X-1","modified":"yesterday"}`},
		{"wrong type", `{"id":"X-1","modified":"2024-01-01T00:00:00Z","affected":{}}`},
		{"too many aliases", `{"id":"X-1","modified":"2024-01-01T00:00:00Z","aliases":[` + many(MaxAliases+1, `"A"`) + `]}`},
		{"too many affected", `{"id":"X-1","modified":"2024-01-01T00:00:00Z","affected":[` + many(MaxAffected+1, `{}`) + `]}`},
		{"too many ranges", `{"id":"X-1","modified":"2024-01-01T00:00:00Z","affected":[{"ranges":[` + many(MaxRanges+1, `{}`) + `]}]}`},
		{"too many events", `{"id":"X-1","modified":"2024-01-01T00:00:00Z","affected":[{"ranges":[{"events":[` + many(4097, `{"fixed":"1"}`) + `]}]}]}`},
		{"too big", `{"id":"X-1","modified":"2024-01-01T00:00:00Z","details":"` + strings.Repeat("a", MaxRecordSize) + `"}`},
	}
	for _, tt := range tests {
		if _, err := Parse([]byte(tt.data)); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Parse error = %v, want ErrInvalid", tt.name, err)
		}
	}
}
