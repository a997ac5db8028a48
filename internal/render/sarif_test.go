package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// sarifSchemaFile is the official OASIS schema, kept beside the repository.
const sarifSchemaFile = "../../../shared/schemas/sarif-schema-2.1.0.json"

// pathlessReport has a finding about no file, which SARIF must still carry.
func pathlessReport() *inventory.Report {
	r := emptyReport()
	r.Findings = []inventory.Finding{{Rule: "scan/error", Severity: inventory.High, Message: "The walk failed."}}
	return r
}

// sarifValidator returns the compiled SARIF schema, and skips the test
// when the schema is absent.
func sarifValidator(t testing.TB) *jsonschema.Schema {
	t.Helper()
	sch, err := loadSARIFSchema()
	if errors.Is(err, fs.ErrNotExist) {
		t.Skip("SARIF schema not found: shared/ absent beside the repository")
	}
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// loadSARIFSchema compiles the SARIF schema from disk, with no network: the
// draft-04 metaschema it names ships inside the jsonschema module, and
// nothing else is loaded. Formats (uri, uri-reference) are asserted.
func loadSARIFSchema() (*jsonschema.Schema, error) {
	f, err := os.Open(sarifSchemaFile)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(sarifSchemaFile)
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	// Only files are loadable: a remote $ref fails the compile rather
	// than reaching the network.
	c.UseLoader(jsonschema.SchemeURLLoader{"file": jsonschema.FileLoader{}})
	url := "file://" + filepath.ToSlash(abs)
	if err := c.AddResource(url, doc); err != nil {
		return nil, err
	}
	return c.Compile(url)
}

func validate(sch *jsonschema.Schema, b []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return err
	}
	return sch.Validate(inst)
}

func TestSARIFGolden(t *testing.T) {
	for _, tc := range []struct {
		file   string
		report *inventory.Report
	}{
		{"report.golden.sarif", sampleReport()},
		{"empty.golden.sarif", emptyReport()},
	} {
		t.Run(tc.file, func(t *testing.T) {
			golden(t, tc.file, render(t, "sarif", Options{Version: "0.3.0-dev"}, tc.report))
		})
	}
}

func TestSARIFSchema(t *testing.T) {
	sch := sarifValidator(t)
	for _, tc := range []struct {
		name   string
		opt    Options
		report *inventory.Report
	}{
		{"sample", Options{Version: "0.3.0-dev"}, sampleReport()},
		{"empty", Options{}, emptyReport()},
		{"pathless", Options{Version: "not semver"}, pathlessReport()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := render(t, "sarif", tc.opt, tc.report)
			if err := validate(sch, out); err != nil {
				t.Errorf("invalid SARIF: %v", err)
			}
			checkGitHub(t, out)
		})
	}
}

// The validator must be able to fail, or the schema test proves nothing.
func TestSARIFSchemaRejects(t *testing.T) {
	sch := sarifValidator(t)
	good := string(render(t, "sarif", Options{}, sampleReport()))
	for _, tc := range []struct{ name, old, new string }{
		{"bad_level", `"level": "error"`, `"level": "fatal"`},
		{"line_zero", `"startLine": 12`, `"startLine": 0`},
		{"bad_uri", `"uri": "models/evil.pkl"`, `"uri": "models\\\\evil.pkl"`},
		{"extra_property", `"ruleIndex"`, `"ruleNumber"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := strings.Replace(good, tc.old, tc.new, 1)
			if bad == good {
				t.Fatalf("%q not in the output", tc.old)
			}
			if validate(sch, []byte(bad)) == nil {
				t.Error("schema accepted an invalid document")
			}
		})
	}
}

// sarifDoc is what checkGitHub reads of a SARIF log.
type sarifDoc struct {
	Runs []struct {
		Tool struct {
			Driver struct {
				Rules []struct {
					ID               string
					ShortDescription struct{ Text string }
					FullDescription  struct{ Text string }
					Help             struct{ Text string }
					Properties       map[string]any
				}
			}
		}
		Results []struct {
			RuleID              string
			RuleIndex           int
			Message             struct{ Text string }
			PartialFingerprints map[string]string
			Locations           []struct {
				PhysicalLocation *struct {
					ArtifactLocation struct{ URI string }
					Region           *struct{ StartLine int }
				}
			}
		}
	}
}

// uriChars matches strings of the characters RFC 3986 allows in a URI
// reference, with "%" only as the start of an escape. The schema's format
// check is looser (it accepts spaces).
var uriChars = regexp.MustCompile(`^([A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=-]|%[0-9A-Fa-f]{2})*$`)

// checkGitHub checks what GitHub code scanning needs beyond the schema:
// rules with descriptions, help and a security severity, results that
// point at their rule, a start line in every region, a fingerprint.
func checkGitHub(t *testing.T, out []byte) {
	t.Helper()
	var doc sarifDoc
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Runs) != 1 {
		t.Fatalf("%d runs, want 1", len(doc.Runs))
	}
	run := doc.Runs[0]
	rules := run.Tool.Driver.Rules
	for i, r := range rules {
		if i > 0 && rules[i-1].ID >= r.ID {
			t.Errorf("rules not sorted by id: %q before %q", rules[i-1].ID, r.ID)
		}
		if r.ShortDescription.Text == "" || r.FullDescription.Text == "" || r.Help.Text == "" {
			t.Errorf("rule %s lacks a description or help", r.ID)
		}
		s, ok := r.Properties["security-severity"].(string)
		if v, err := strconv.ParseFloat(s, 64); !ok || err != nil || v < 0 || v > 10 {
			t.Errorf("rule %s: security-severity %v", r.ID, r.Properties["security-severity"])
		}
	}
	for _, res := range run.Results {
		if res.RuleIndex < 0 || res.RuleIndex >= len(rules) || rules[res.RuleIndex].ID != res.RuleID {
			t.Errorf("result of %s has ruleIndex %d", res.RuleID, res.RuleIndex)
		}
		if res.Message.Text == "" {
			t.Errorf("result of %s has no message", res.RuleID)
		}
		if len(res.PartialFingerprints["chainvet/v1"]) != 64 {
			t.Errorf("result of %s: fingerprint %q", res.RuleID, res.PartialFingerprints)
		}
		for _, l := range res.Locations {
			if p := l.PhysicalLocation; p != nil && (p.ArtifactLocation.URI == "" || p.Region == nil || p.Region.StartLine < 1) {
				t.Errorf("result of %s: location %+v lacks a uri or start line", res.RuleID, p)
			}
			if p := l.PhysicalLocation; p != nil && !uriChars.MatchString(p.ArtifactLocation.URI) {
				t.Errorf("result of %s: uri %q has characters RFC 3986 does not allow", res.RuleID, p.ArtifactLocation.URI)
			}
		}
	}
}

func TestSARIFLocations(t *testing.T) {
	type region struct {
		StartLine   int
		StartColumn int
		ByteOffset  *int64
	}
	type want struct {
		URI, Base string
		Region    region
		Logical   string
		InMessage string
	}
	for _, tc := range []struct {
		name string
		f    inventory.Finding
		want want
	}{
		{
			name: "offset_on_disk",
			f:    inventory.Finding{Path: "models/evil.pkl", Offset: inventory.At(0x1f)},
			want: want{URI: "models/evil.pkl", Base: "%SRCROOT%", Region: region{1, 0, inventory.At(0x1f)}},
		},
		{
			name: "offset_zero",
			f:    inventory.Finding{Path: "m.pkl", Offset: inventory.At(0)},
			want: want{URI: "m.pkl", Base: "%SRCROOT%", Region: region{1, 0, inventory.At(0)}},
		},
		{
			name: "line",
			f:    inventory.Finding{Path: "./ci.yml", Line: 12},
			want: want{URI: "ci.yml", Base: "%SRCROOT%", Region: region{12, 0, nil}},
		},
		{
			name: "line_column",
			f:    inventory.Finding{Path: "app/chat.py", Line: 7, Column: 13},
			want: want{URI: "app/chat.py", Base: "%SRCROOT%", Region: region{7, 13, nil}},
		},
		{
			name: "notebook_cell",
			f:    inventory.Finding{Path: "nb/train.ipynb", Cell: 3, Line: 2, Column: 5},
			want: want{URI: "nb/train.ipynb", Base: "%SRCROOT%", Region: region{1, 0, nil}, Logical: "nb/train.ipynb#cell-3",
				InMessage: "Notebook cell 3, line 2, column 5"},
		},
		{
			name: "archive_member",
			f:    inventory.Finding{Path: "a.zip!archive/data.pkl", Offset: inventory.At(0x40), Line: 3},
			want: want{URI: "a.zip", Base: "%SRCROOT%", Region: region{1, 0, nil}, Logical: "a.zip!archive/data.pkl",
				InMessage: "Archive member: a.zip!archive/data.pkl, line 3"},
		},
		{
			name: "nested_member",
			f:    inventory.Finding{Path: "x/a.tar!b.zip!c.pkl", Offset: inventory.At(0x40)},
			want: want{URI: "x/a.tar", Base: "%SRCROOT%", Region: region{1, 0, nil}, Logical: "x/a.tar!b.zip!c.pkl",
				InMessage: "Archive member: x/a.tar!b.zip!c.pkl, offset 0x40"},
		},
		{
			name: "absolute",
			f:    inventory.Finding{Path: "/opt/m/x y.gguf"},
			want: want{URI: "file:///opt/m/x%20y.gguf", Region: region{1, 0, nil}},
		},
		{
			name: "negative_offset_dropped",
			f:    inventory.Finding{Path: "m.pkl", Offset: inventory.At(-5), Line: -2},
			want: want{URI: "m.pkl", Base: "%SRCROOT%", Region: region{1, 0, nil}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.f.Rule, tc.f.Message = "scan/limit", "msg"
			res := result(&tc.f, 0)
			if len(res.Locations) != 1 {
				t.Fatalf("%d locations", len(res.Locations))
			}
			l := res.Locations[0]
			got := want{
				URI: l.PhysicalLocation.ArtifactLocation.URI, Base: l.PhysicalLocation.ArtifactLocation.URIBaseID,
				Region: region(l.PhysicalLocation.Region),
			}
			if len(l.LogicalLocations) > 0 {
				got.Logical = l.LogicalLocations[0].FullyQualifiedName
			}
			if tc.want.InMessage != "" && strings.Contains(res.Message.Text, tc.want.InMessage) {
				got.InMessage = tc.want.InMessage
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("location (-want +got):\n%s", diff)
			}
		})
	}
}

func TestArtifactURI(t *testing.T) {
	for _, tc := range []struct{ in, uri, base string }{
		{"", "", ""},
		{"!member", "", ""},
		{"models/a.pkl", "models/a.pkl", "%SRCROOT%"},
		{"./models//a.pkl", "models/a.pkl", "%SRCROOT%"},
		{"../up/a.pkl", "../up/a.pkl", "%SRCROOT%"},
		{"dir/100%.pkl", "dir/100%25.pkl", "%SRCROOT%"},
		{"dir/a#b?.pkl", "dir/a%23b%3F.pkl", "%SRCROOT%"},
		{"c:odd/a.pkl", "./c:odd/a.pkl", "%SRCROOT%"},
		{"模型/a.pkl", "%E6%A8%A1%E5%9E%8B/a.pkl", "%SRCROOT%"},
		{"bad\xff.pkl", "bad%FF.pkl", "%SRCROOT%"},
		{"/abs/a.pkl", "file:///abs/a.pkl", ""},
		{"C:/Users/a.pkl", "file:///C:/Users/a.pkl", ""},
	} {
		uri, base := artifactURI(tc.in)
		if uri != tc.uri || base != tc.base {
			t.Errorf("artifactURI(%q) = %q, %q; want %q, %q", tc.in, uri, base, tc.uri, tc.base)
		}
	}
}

func TestSemver(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"1.2.3", "1.2.3", true},
		{"v0.3.0-dev", "0.3.0-dev", true},
		{"1.0.0-rc.1+build.5", "1.0.0-rc.1+build.5", true},
		{"1.0.0+001", "1.0.0+001", true},
		{"", "", false},
		{"dev", "", false},
		{"1.2", "", false},
		{"01.2.3", "", false},
		{"1.2.3-01", "", false},
		{"1.2.3-", "", false},
		{"1.2.3-a..b", "", false},
		{"1.2.3-a_b", "", false},
		{"(devel)", "", false},
	} {
		got, ok := semver(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("semver(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestCamelCase(t *testing.T) {
	for in, want := range map[string]string{
		"pickle/dangerous-call":    "PickleDangerousCall",
		"model/extension-mismatch": "ModelExtensionMismatch",
		"scan/limit":               "ScanLimit",
		"a//b--c9":                 "ABC9",
	} {
		if got := camelCase(in); got != want {
			t.Errorf("camelCase(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLevel(t *testing.T) {
	for s, want := range map[inventory.Severity]string{
		inventory.Info: "note", inventory.Low: "note", inventory.Medium: "warning",
		inventory.High: "error", inventory.Critical: "error",
		-1: "note", inventory.Critical + 1: "error",
	} {
		if got := level(clamp(s)); got != want {
			t.Errorf("level(%v) = %q, want %q", s, got, want)
		}
	}
}

// A rule's security severity is the worst of its findings, never less than
// the rule's usual one.
func TestSARIFRuleSeverity(t *testing.T) {
	r := &inventory.Report{Findings: []inventory.Finding{
		{Rule: "pickle/malformed", Severity: inventory.High, Path: "a"},
		{Rule: "pickle/malformed", Severity: inventory.Low, Path: "b"},
		{Rule: "pickle/dangerous-call", Severity: inventory.Low, Path: "c"},
		{Rule: "new/rule", Severity: inventory.Medium, Path: "d"},
	}}
	var doc sarifLog
	if err := json.Unmarshal(render(t, "sarif", Options{}, r), &doc); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, rule := range doc.Runs[0].Tool.Driver.Rules {
		got[rule.ID] = rule.Properties.SecuritySeverity + " " + rule.DefaultConfiguration.Level
	}
	want := map[string]string{
		"new/rule":              "5.5 warning",
		"pickle/dangerous-call": "9.5 error",
		"pickle/malformed":      "8.0 warning",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rules (-want +got):\n%s", diff)
	}
}

func TestFingerprint(t *testing.T) {
	base := inventory.Finding{Rule: "r/x", Path: "p", Evidence: "e", Line: 3}
	fp := fingerprint(&base)
	moved := base
	moved.Line, moved.Offset = 9, inventory.At(4)
	if fingerprint(&moved) != fp {
		t.Error("fingerprint changed with the line or offset")
	}
	// Each field counts, and a byte cannot move between fields unnoticed.
	for _, f := range []inventory.Finding{
		{Rule: "r/y", Path: "p", Evidence: "e"},
		{Rule: "r/x", Path: "q", Evidence: "e"},
		{Rule: "r/x", Path: "p", Evidence: "f"},
		{Rule: "r/x", Path: "pe", Evidence: ""},
		{Rule: "r/x", Path: "", Evidence: "pe"},
	} {
		if fingerprint(&f) == fp {
			t.Errorf("%+v has the fingerprint of %+v", f, base)
		}
	}
	if a, b := (inventory.Finding{Path: "pe"}), (inventory.Finding{Evidence: "pe"}); fingerprint(&a) == fingerprint(&b) {
		t.Error("path and evidence run together")
	}
}

func TestSARIFVersion(t *testing.T) {
	for _, tc := range []struct {
		name, opt, report, version, semantic string
	}{
		{"option_wins", "1.2.3", "0.1.0", "1.2.3", "1.2.3"},
		{"report_fallback", "", "v0.1.0", "v0.1.0", "0.1.0"},
		{"not_semver", "(devel)", "", "(devel)", ""},
		{"none", "", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := emptyReport()
			r.Tool.Version = tc.report
			var doc sarifLog
			if err := json.Unmarshal(render(t, "sarif", Options{Version: tc.opt}, r), &doc); err != nil {
				t.Fatal(err)
			}
			d := doc.Runs[0].Tool.Driver
			if d.Version != tc.version || d.SemanticVersion != tc.semantic {
				t.Errorf("version %q, semanticVersion %q; want %q, %q", d.Version, d.SemanticVersion, tc.version, tc.semantic)
			}
		})
	}
}

func TestMarkdown(t *testing.T) {
	for in, want := range map[string]string{
		"plain words":                   "plain words",
		"[click](https://evil.example)": `\[click\]\(https\:\/\/evil\.example\)`,
		"__main__.Net <b>`x`</b>":       `\_\_main\_\_\.Net \<b\>\` + "`" + `x\` + "`" + `\<\/b\>`,
		`back\slash *em*`:               `back\\slash \*em\*`,
		"模型":                            "模型",
	} {
		if got := markdown(in); got != want {
			t.Errorf("markdown(%q) = %q, want %q", in, got, want)
		}
	}
}
