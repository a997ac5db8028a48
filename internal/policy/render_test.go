package policy

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// sarifSchemaFile is the official OASIS schema, kept beside the repository.
const sarifSchemaFile = "../../../shared/schemas/sarif-schema-2.1.0.json"

// failingResult evaluates a policy with a failing, a warning, a skipped,
// a passing and an excepted control, and an expired exception.
func failingResult(t *testing.T) *Result {
	t.Helper()
	p := mustParse(t, `version: 1
controls:
  - id: no-pickle
    type: formats
    deny: [pickle]
  - id: hub-orgs
    type: sources
    mode: warn
    models: ["huggingface/acme/*"]
  - id: approvals
    type: approvals
  - id: sev
    type: severity
    fail-on: critical
  - id: licences
    type: licenses
    deny: ["GPL-*"]
exceptions:
  - control: licences
    reason: "dual-licensed <commercial> | see LICENSES"
    owner: legal
    expires: 2027-01-01
  - control: sev
    reason: old
    owner: bob
    expires: 2026-01-01
`)
	res, err := p.Evaluate(context.Background(), &Input{Root: "proj", Report: testReport(), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func loadSARIFSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(sarifSchemaFile)
	if os.IsNotExist(err) {
		t.Skip("SARIF schema not found: shared/ absent beside the repository")
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(sarifSchemaFile)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	// Only files load: a remote $ref fails rather than reaching the network.
	c.UseLoader(jsonschema.SchemeURLLoader{"file": jsonschema.FileLoader{}})
	url := "file://" + filepath.ToSlash(abs)
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func TestSARIFValidates(t *testing.T) {
	sch := loadSARIFSchema(t)
	var b bytes.Buffer
	if err := Render(&b, failingResult(t), "sarif", false); err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Fatalf("SARIF does not validate: %v\n%s", err, b.String())
	}
	var log struct {
		Runs []struct {
			Results []struct {
				RuleID       string `json:"ruleId"`
				Level        string `json:"level"`
				Suppressions []any  `json:"suppressions"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(b.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, r := range log.Runs[0].Results {
		counts[r.RuleID+" "+r.Level+" "+strconv.Itoa(len(r.Suppressions))]++
	}
	want := map[string]int{"gate/no-pickle error 0": 2, "gate/hub-orgs warning 0": 1, "gate/licences error 1": 1, "gate/exceptions error 0": 1}
	for k, n := range want {
		if counts[k] != n {
			t.Errorf("%s: %d results, want %d (all: %v)", k, counts[k], n, counts)
		}
	}
}

// TestJUnitStructure checks the JUnit XML against the format as Jenkins'
// JUnit plugin and GitLab's unit test reports read it (from their
// documentation): a testsuites root, testsuite elements with name, tests,
// failures, errors and skipped counts that agree with their testcases,
// testcases with name and classname, failures carrying a message, skipped
// cases a skipped element, and nothing but the documented elements.
func TestJUnitStructure(t *testing.T) {
	var b bytes.Buffer
	if err := Render(&b, failingResult(t), "junit", false); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), `<?xml version="1.0" encoding="UTF-8"?>`) {
		t.Errorf("no XML declaration")
	}
	type node struct {
		XMLName xml.Name
		Attrs   []xml.Attr `xml:",any,attr"`
		Nodes   []node     `xml:",any"`
		Text    string     `xml:",chardata"`
	}
	var root node
	if err := xml.Unmarshal(b.Bytes(), &root); err != nil {
		t.Fatal(err)
	}
	attr := func(n node, name string) string {
		for _, a := range n.Attrs {
			if a.Name.Local == name {
				return a.Value
			}
		}
		t.Errorf("<%s> lacks %s", n.XMLName.Local, name)
		return ""
	}
	num := func(n node, name string) int {
		v, err := strconv.Atoi(attr(n, name))
		if err != nil {
			t.Errorf("<%s %s=...> is not a number", n.XMLName.Local, name)
		}
		return v
	}
	if root.XMLName.Local != "testsuites" {
		t.Fatalf("root is <%s>", root.XMLName.Local)
	}
	tests, failures, skipped := 0, 0, 0
	for _, s := range root.Nodes {
		if s.XMLName.Local != "testsuite" {
			t.Fatalf("<testsuites> holds <%s>", s.XMLName.Local)
		}
		attr(s, "name")
		var ft, ff, fs int
		for _, c := range s.Nodes {
			if c.XMLName.Local != "testcase" || attr(c, "name") == "" || attr(c, "classname") == "" {
				t.Fatalf("bad testcase %+v", c)
			}
			ft++
			for _, e := range c.Nodes {
				switch e.XMLName.Local {
				case "failure":
					ff++
					if attr(e, "message") == "" || !strings.Contains(e.Text, "fix:") {
						t.Errorf("failure without message or fix: %+v", e)
					}
				case "skipped":
					fs++
				case "system-out":
				default:
					t.Errorf("unexpected <%s> in a testcase", e.XMLName.Local)
				}
			}
		}
		if num(s, "tests") != ft || num(s, "failures") != ff || num(s, "skipped") != fs || num(s, "errors") != 0 {
			t.Errorf("testsuite counts disagree with its testcases: %d tests, %d failures, %d skipped", ft, ff, fs)
		}
		tests, failures, skipped = tests+ft, failures+ff, skipped+fs
	}
	// One testcase per control plus the expired exceptions; no-pickle and
	// exceptions fail; approvals (no --base) is skipped.
	if tests != 6 || failures != 2 || skipped != 1 || num(root, "tests") != tests || num(root, "failures") != failures {
		t.Errorf("tests %d, failures %d, skipped %d", tests, failures, skipped)
	}
}

func TestTableAndMarkdown(t *testing.T) {
	res := failingResult(t)
	tests := []struct {
		format  string
		explain bool
		want    []string
		not     []string
	}{
		{"table", false, []string{"FAIL no-pickle: deploy/m.pt is pytorch-zip", "at:       proj/deploy/m.pt", "fix:      convert",
			"WARN hub-orgs:", "EXCEPTED licences:", "excepted: dual-licensed", "FAIL exceptions: the exception to sev expired on 2026-01-01",
			"chainvet gate: FAIL: 2 control(s)"}, []string{"CONTROL"}},
		{"table", true, []string{"CONTROL", "approvals   approvals   deny  skip", "no --base"}, nil},
		{"markdown", false, []string{"## chainvet gate: FAIL", "| ❌ | `no-pickle` |", "dual-licensed &lt;commercial&gt; \\| see LICENSES"}, []string{"`sev`"}},
		{"markdown", true, []string{"| ✅ | `sev` |", "| ➖ | `approvals` |"}, nil},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		if err := Render(&b, res, tt.format, tt.explain); err != nil {
			t.Fatal(err)
		}
		for _, w := range tt.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s (explain %v) lacks %q:\n%s", tt.format, tt.explain, w, b.String())
			}
		}
		for _, w := range tt.not {
			if strings.Contains(b.String(), w) {
				t.Errorf("%s (explain %v) has %q", tt.format, tt.explain, w)
			}
		}
	}
	res.Mode = "report"
	if v := res.Verdict(); v != "WOULD FAIL (report mode): 2 control(s)" {
		t.Errorf("report verdict %q", v)
	}
}

func TestMarkdownCapped(t *testing.T) {
	res := &Result{Schema: ResultSchema, Policy: "p.yaml", Controls: []ControlResult{{ID: "c", Type: TypeFormats, Mode: Deny, Status: Fail}}}
	for i := 0; i < 5000; i++ {
		res.Controls[0].Violations = append(res.Controls[0].Violations, Violation{Path: strings.Repeat("x", 40) + strconv.Itoa(i), Evidence: "e", Message: "m", Fix: "f"})
	}
	var b bytes.Buffer
	if err := Render(&b, res, "markdown", false); err != nil {
		t.Fatal(err)
	}
	if b.Len() > MaxMarkdown || !strings.Contains(b.String(), "cut at") {
		t.Errorf("markdown is %d bytes, cap %d", b.Len(), MaxMarkdown)
	}
}
