package render

import (
	"encoding/json"
	"io"
	"testing"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/google/go-cmp/cmp"
)

func TestJSONGolden(t *testing.T) {
	for _, tc := range []struct {
		file   string
		report *inventory.Report
	}{
		{"report.golden.json", sampleReport()},
		{"empty.golden.json", emptyReport()},
	} {
		t.Run(tc.file, func(t *testing.T) {
			golden(t, tc.file, render(t, "json", Options{}, tc.report))
		})
	}
}

func TestJSONRoundTrip(t *testing.T) {
	want := sampleReport()
	var got inventory.Report
	if err := json.Unmarshal(render(t, "json", Options{}, want), &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, &got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

// The empty report has lists, not nulls, so consumers need no checks.
func TestJSONEmptyLists(t *testing.T) {
	var got map[string]any
	if err := json.Unmarshal(render(t, "json", Options{}, emptyReport()), &got); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"targets", "components", "findings"} {
		if l, ok := got[key].([]any); !ok || len(l) != 0 {
			t.Errorf("%s = %#v, want []", key, got[key])
		}
	}
}

func TestJSONInvalidSeverity(t *testing.T) {
	r := sampleReport()
	r.Findings[0].Severity = inventory.Critical + 1
	rd, _ := New("json", Options{})
	if err := rd.Render(io.Discard, r); err == nil {
		t.Error("a report with an invalid severity was written")
	}
}
