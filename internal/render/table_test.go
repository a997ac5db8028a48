package render

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/google/go-cmp/cmp"
)

func TestTableGolden(t *testing.T) {
	for _, tc := range []struct {
		file   string
		color  bool
		report *inventory.Report
	}{
		{"report.golden.txt", false, sampleReport()},
		{"report-color.golden.txt", true, sampleReport()},
		{"empty.golden.txt", false, emptyReport()},
	} {
		t.Run(tc.file, func(t *testing.T) {
			golden(t, tc.file, render(t, "table", Options{Color: tc.color}, tc.report))
		})
	}
}

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// Colour adds escape codes and nothing else: with them removed, the
// coloured table is the plain one, so columns still line up.
func TestTableColorOnlyAddsCodes(t *testing.T) {
	plain := string(render(t, "table", Options{}, sampleReport()))
	color := string(render(t, "table", Options{Color: true}, sampleReport()))
	if !ansi.MatchString(color) {
		t.Fatal("coloured table has no colour")
	}
	if ansi.MatchString(plain) {
		t.Fatal("plain table has colour")
	}
	if diff := cmp.Diff(plain, ansi.ReplaceAllString(color, "")); diff != "" {
		t.Errorf("colour changed more than colour (-plain +stripped):\n%s", diff)
	}
	for _, want := range []string{
		"\x1b[1;31mCRITICAL\x1b[0m", "\x1b[31mHIGH\x1b[0m", "\x1b[33mMEDIUM\x1b[0m", "\x1b[36mLOW\x1b[0m",
		"\x1b[1;31m1 critical\x1b[0m",
	} {
		if !strings.Contains(color, want) {
			t.Errorf("coloured table lacks %q", want)
		}
	}
}

// Hostile strings reach the terminal only as escapes: no control character
// but newline is written, and no escape other than our colours.
func TestTableHostileText(t *testing.T) {
	r := sampleReport()
	r.Components[0].Name = "a\x1b]0;pwned\x07b"
	r.Components[0].Properties["x\ty"] = "\u202e\xff"
	for _, color := range []bool{false, true} {
		out := string(render(t, "table", Options{Color: color}, r))
		out = ansi.ReplaceAllString(out, "")
		for i, c := range out {
			if c != '\n' && (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == '\u202e' || c == utf8.RuneError) {
				t.Fatalf("color=%v: byte %d is %U", color, i, c)
			}
		}
	}
}

func TestTableOrder(t *testing.T) {
	out := string(render(t, "table", Options{}, sampleReport()))
	var got []string
	for _, line := range strings.Split(out, "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 3 {
			break
		}
		got = append(got, f[0]+" "+f[2])
	}
	want := []string{
		"CRITICAL models/evil.pkl@0x1f",
		"HIGH /opt/models/x.gguf",
		"HIGH a.zip!archive/data.pkl",
		"HIGH a.zip!archive/data.pkl@0x9a",
		"HIGH models/big", // the path has a space
		"HIGH models/notes.txt@0x0",
		"HIGH models/trick.pkl@0x3",
		"MEDIUM .github/workflows/ci.yml:12",
		"MEDIUM a.zip!archive/data.pkl@0x40",
		"LOW models/legacy.bin",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

// A long path is never cut; long evidence is, with an ellipsis, to fit
// the table in tableWidth columns while it keeps minEvidence runes.
func TestTableWidth(t *testing.T) {
	long := strings.Repeat("deep/", 30) + "model.pkl"
	evidence := strings.Repeat("e", 500)
	row := func(path string) string {
		r := &inventory.Report{Findings: []inventory.Finding{
			{Rule: "scan/limit", Severity: inventory.High, Path: path, Evidence: evidence},
		}}
		return strings.Split(string(render(t, "table", Options{}, r)), "\n")[1]
	}
	short := row("m.pkl")
	if n := utf8.RuneCountInString(short); n != tableWidth {
		t.Errorf("row with a short path is %d columns, want %d: %q", n, tableWidth, short)
	}
	if !strings.HasSuffix(short, "e…") {
		t.Errorf("evidence not cut with an ellipsis: %q", short)
	}
	deep := row(long)
	if !strings.Contains(deep, " "+long+" ") {
		t.Errorf("long path cut: %q", deep)
	}
	if !strings.HasSuffix(deep, " "+strings.Repeat("e", minEvidence-1)+"…") {
		t.Errorf("row with a long path does not keep %d runes of evidence: %q", minEvidence, deep)
	}
}

func TestTableSummary(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    inventory.Report
		want string
	}{
		{
			name: "empty",
			want: "0 files, 0 B read of 0 B in 0 ms; no findings",
		},
		{
			name: "one_file",
			r:    inventory.Report{Stats: inventory.Stats{Files: 1, Members: 1, Bytes: 2048, BytesRead: 1000, DurationMS: 7}},
			want: "1 file (1 archive member), 1000 B read of 2.0 KiB in 7 ms; no findings",
		},
		{
			name: "counts_worst_first",
			r: inventory.Report{
				Stats: inventory.Stats{Files: 2, Bytes: 5 << 40, BytesRead: 3 << 30},
				Findings: []inventory.Finding{
					{Rule: "pickle/format", Severity: inventory.Low},
					{Rule: "scan/limit", Severity: inventory.High},
					{Rule: "pickle/format", Severity: inventory.Low},
					{Rule: "x/y", Severity: inventory.Critical + 3},
				},
			},
			want: "2 files, 3.0 GiB read of 5.0 TiB in 0 ms; findings: 1 high, 2 low, 1 of unknown severity",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := strings.TrimSuffix(string(render(t, "table", Options{}, &tc.r)), "\n")
			got := out[strings.LastIndex(out, "\n")+1:]
			if got != tc.want {
				t.Errorf("summary = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestTableFixes(t *testing.T) {
	r := &inventory.Report{}
	// Seven rules: the worst five get a line, the remediation of their
	// worst finding or else the rule's help.
	for i, id := range []string{"pickle/format", "archive/symlink", "scan/limit", "pickle/dangerous-call",
		"archive/malformed", "pickle/unknown-import", "pickle/trailing-data"} {
		r.Findings = append(r.Findings, inventory.Finding{Rule: id, Severity: inventory.Severity(i % 5), Path: "p"})
	}
	r.Findings = append(r.Findings, inventory.Finding{Rule: "scan/limit", Severity: inventory.Critical, Path: "p", Remediation: "raise --max-ops"})
	var got []string
	for _, line := range strings.Split(string(render(t, "table", Options{}, r)), "\n") {
		if rest, ok := strings.CutPrefix(line, "fix: "); ok {
			rule, _, _ := strings.Cut(rest, ": ")
			got = append(got, rule)
			if rule == "scan/limit" && !strings.HasSuffix(line, "raise --max-ops") {
				t.Errorf("scan/limit fix is not its worst finding's remediation: %q", line)
			}
		}
	}
	want := []string{"archive/malformed", "scan/limit", "pickle/dangerous-call", "archive/symlink", "pickle/trailing-data", "2 more rules; -o json has the remediation of every finding"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("fix lines (-want +got):\n%s", diff)
	}
}

func TestPrintable(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"models/a.pkl", "models/a.pkl"},
		{"tab\there", `tab\x09here`},
		{"esc\x1b[31m", `esc\x1b[31m`},
		{"del\x7f", `del\x7f`},
		{"c1\u0085", `c1\u0085`},
		{"bidi\u202eabc", `bidi\u202eabc`},
		{"zw\u200bj", `zw\u200bj`},
		{"bad\xffutf8", `bad\xffutf8`},
		{"café 模型", "café 模型"},
	} {
		if got := printable(tc.in); got != tc.want {
			t.Errorf("printable(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"", 3, ""},
		{"abc", 3, "abc"},
		{"abcd", 3, "ab…"},
		{"模型模型", 3, "模型…"},
		{"abc", 0, "…"},
	} {
		if got := truncate(tc.in, tc.n); got != tc.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
