package policy

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chainvet/chainvet/internal/diff"
	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/lock"
)

// now is the time the tests judge exceptions at.
var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

const sha = "0123456789abcdef0123456789abcdef01234567"

func comp(kind inventory.Kind, id, purl, path string, line int, props ...string) inventory.Component {
	c := inventory.Component{ID: id, Kind: kind, Name: filepath.Base(id), PURL: purl, Properties: map[string]string{}}
	if path != "" {
		c.Locations = []inventory.Location{{Path: path, Line: line}}
	}
	for i := 0; i+1 < len(props); i += 2 {
		c.Properties[props[i]] = props[i+1]
	}
	return c
}

// testReport is a small project under proj/: a pickled model in deploy/,
// a safetensors one beside it, hub references, packages, an action, an
// image, an MCP launch and a service.
func testReport() *inventory.Report {
	return &inventory.Report{Schema: inventory.Schema, Targets: []string{"proj"}, Components: []inventory.Component{
		comp(inventory.KindModel, "model:proj/deploy/m.pt", "", "proj/deploy/m.pt", 0, "format", "pytorch-zip", "serialization", "pickle"),
		comp(inventory.KindModel, "model:proj/deploy/m.safetensors", "", "proj/deploy/m.safetensors", 0, "format", "safetensors", "license", "apache-2.0"),
		comp(inventory.KindModel, "model:proj/research/r.pkl", "", "proj/research/r.pkl", 0, "format", "pickle", "serialization", "pickle"),
		comp(inventory.KindModel, "pkg:huggingface/evil/m", "pkg:huggingface/evil/m", "proj/app.py", 3, "hub", "huggingface", "pinned", "false"),
		comp(inventory.KindModel, "pkg:huggingface/acme/m@"+sha, "pkg:huggingface/acme/m@"+sha, "proj/app.py", 4, "hub", "huggingface", "pinned", "true", "revision", sha),
		comp(inventory.KindPackage, "pkg:pypi/torch@2.5.1", "pkg:pypi/torch@2.5.1", "proj/requirements.txt", 1, "ecosystem", "pypi", "source", "registry", "pinned", "true"),
		comp(inventory.KindPackage, "pkg:pypi/leftpad", "pkg:pypi/leftpad", "proj/requirements.txt", 2, "ecosystem", "pypi", "source", "registry", "pinned", "false", "version-range", ">=1", "index", "https://evil.example/simple"),
		comp(inventory.KindPackage, "pkg:npm/react", "pkg:npm/react", "proj/package.json", 0, "ecosystem", "npm", "source", "registry", "pinned", "false", "version-range", "^18"),
		comp(inventory.KindPackage, "pkg:npm/react@18.3.1", "pkg:npm/react@18.3.1", "proj/package-lock.json", 0, "ecosystem", "npm", "source", "registry", "pinned", "true", "hashes", "true", "license", "MIT"),
		comp(inventory.KindPackage, "pkg:npm/gpl-thing@1.0.0", "pkg:npm/gpl-thing@1.0.0", "proj/package-lock.json", 0, "ecosystem", "npm", "source", "registry", "pinned", "true", "hashes", "true", "license", "GPL-3.0-only"),
		comp(inventory.KindPackage, "pkg:github/actions/checkout@v4", "pkg:github/actions/checkout@v4", "proj/.github/workflows/ci.yml", 9, "ecosystem", "github", "source", "workflow", "pinned", "false", "ref", "v4"),
		comp(inventory.KindPackage, "pkg:github/evil/action@"+sha, "pkg:github/evil/action@"+sha, "proj/.github/workflows/ci.yml", 10, "ecosystem", "github", "source", "workflow", "pinned", "true", "ref", sha),
		comp(inventory.KindContainer, "pkg:docker/python@3.12", "pkg:docker/python@3.12", "proj/Dockerfile", 1, "ecosystem", "docker", "pinned", "false"),
		comp(inventory.KindContainer, "pkg:docker/evil/img@sha256:ab", "pkg:docker/evil/img@sha256:ab", "proj/Dockerfile", 5, "ecosystem", "docker", "pinned", "true"),
		comp(inventory.KindPackage, "pkg:npm/%40evil/server@1.0.0", "pkg:npm/%40evil/server@1.0.0", "proj/.mcp.json", 0, "ecosystem", "npm", "source", "mcp", "pinned", "true"),
		comp(inventory.KindService, "service:openai", "", "proj/app.py", 1, "provider", "openai"),
	}, Findings: []inventory.Finding{
		{Rule: "pickle/unknown-call", Severity: inventory.High, Component: "model:proj/deploy/m.pt", Path: "proj/deploy/m.pt!archive/data.pkl", Evidence: "builtins.exec", Message: "calls exec", Remediation: "do not load it"},
		{Rule: "code/hub-unpinned", Severity: inventory.Medium, Path: "proj/app.py", Line: 3, Evidence: "from_pretrained", Message: "unpinned"},
		{Rule: "code/trust-remote-code", Severity: inventory.High, Path: "proj/app.py", Line: 5, Evidence: "trust_remote_code=True", Message: "remote code"},
	}}
}

// fakeChecker verifies what its paths name, and nothing else.
type fakeChecker struct{ signed []string }

func (f fakeChecker) Check(_ context.Context, p string, req Requirement) Verdict {
	for _, s := range f.signed {
		if strings.HasSuffix(p, s) {
			return Verdict{Verified: true, Signer: req.Identity + req.Key, Detail: "verified"}
		}
	}
	return Verdict{Detail: "no signature bundle " + p + ".sig"}
}

func mustParse(t *testing.T, src string) *Policy {
	t.Helper()
	p, err := Parse("test.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestControls runs each control, failing and passing, over testReport.
func TestControls(t *testing.T) {
	tests := []struct {
		name     string
		control  string // the control's YAML, after "  - id: c\n"
		in       func(*Input)
		status   Status
		evidence []string // one per violation, in order (substring)
	}{
		{"formats_deny_pickle_in_deploy", "type: formats\n    paths: [\"deploy/**\"]\n    deny: [pickle]", nil, Fail,
			[]string{"format: pytorch-zip, serialization: pickle"}},
		{"formats_pass_elsewhere", "type: formats\n    paths: [\"other/**\"]\n    deny: [pickle]", nil, Pass, nil},
		{"formats_allow_list", "type: formats\n    allow: [safetensors, pickle]", nil, Pass, nil},
		{"formats_allow_list_fails", "type: formats\n    allow: [safetensors]", nil, Fail,
			[]string{"pytorch-zip", "format: pickle"}},
		{"formats_warn_mode", "type: formats\n    mode: warn\n    deny: [pytorch-zip]", nil, Warned, []string{"pytorch-zip"}},
		{"sources_models", "type: sources\n    models: [\"huggingface/acme/*\"]", nil, Fail, []string{"huggingface/evil/m"}},
		{"sources_models_pass", "type: sources\n    models: [\"huggingface/*/*\"]", nil, Pass, nil},
		{"sources_indexes", "type: sources\n    indexes: [\"https://pypi.org/simple\", \"https://registry.npmjs.org\"]", nil, Fail,
			[]string{"https://evil.example/simple"}},
		{"sources_actions", "type: sources\n    actions: [\"actions/*\"]", nil, Fail, []string{"evil/action"}},
		{"sources_containers", "type: sources\n    containers: [\"docker.io/library/*\"]", nil, Fail, []string{"docker.io/evil/img"}},
		{"sources_mcp", "type: sources\n    mcp: [\"npm:@modelcontextprotocol/*\"]", nil, Fail, []string{"npm:@evil/server"}},
		{"sources_mcp_pass", "type: sources\n    mcp: [\"npm:@evil/*\"]", nil, Pass, nil},
		{"signatures_fail_closed_without_checker", "type: signatures\n    paths: [\"deploy/**\"]\n    key: k.pub", nil, Fail,
			[]string{"cannot verify", "cannot verify"}},
		{"signatures_checked", "type: signatures\n    paths: [\"deploy/**\"]\n    identity: a@b\n    issuer: https://i\n    trusted-root: root.json",
			func(in *Input) { in.Checker = fakeChecker{signed: []string{"m.safetensors"}} }, Fail, []string{"no signature bundle proj/deploy/m.pt.sig"}},
		{"signatures_pass", "type: signatures\n    paths: [\"deploy/*.safetensors\"]\n    key: k.pub",
			func(in *Input) { in.Checker = fakeChecker{signed: []string{"m.safetensors"}} }, Pass, nil},
		{"attestations", "type: attestations\n    paths: [\"research/**\"]\n    predicate-type: https://slsa.dev/provenance/v1\n    key: k.pub",
			func(in *Input) { in.Checker = fakeChecker{} }, Fail, []string{"r.pkl"}},
		{"severity_default", "type: severity", nil, Fail, []string{"builtins.exec", "trust_remote_code"}},
		{"severity_group_and_override", "type: severity\n    fail-on: critical\n    rules:\n      \"code/*\": medium\n      code/hub-unpinned: none", nil, Fail,
			[]string{"trust_remote_code"}},
		{"severity_pass", "type: severity\n    fail-on: critical", nil, Pass, nil},
		{"pinning_hub", "type: pinning\n    lock: off\n    hub: true", nil, Fail, []string{"revision: none"}},
		{"pinning_actions", "type: pinning\n    lock: off\n    actions: true", nil, Fail, []string{"ref: v4"}},
		{"pinning_images", "type: pinning\n    lock: off\n    images: true", nil, Fail, []string{"image: python@3.12"}},
		// react's range is pinned by the lockfile; leftpad is not.
		{"pinning_packages", "type: pinning\n    lock: off\n    packages: pinned", nil, Fail, []string{">=1"}},
		{"pinning_packages_hashed", "type: pinning\n    lock: off\n    packages: hashed", nil, Fail, []string{"no hashes", ">=1", "no hashes"}}, // torch; leftpad; the npx launch
		{"pinning_lock_required", "type: pinning\n    lock: required", nil, Fail, []string{"no chainvet.lock"}},
		{"pinning_lock_drift", "type: pinning\n    lock: required", func(in *Input) {
			in.Lock = &LockStatus{Path: "proj/chainvet.lock", Drifts: []lock.Drift{{Rule: lock.RuleChanged, Kind: inventory.KindModel,
				Path: "deploy/m.pt", Expected: "sha256:aa", Found: "sha256:bb", Accept: "chainvet lock --update proj/deploy/m.pt"}}}
		}, Fail, []string{"expected sha256:aa; found sha256:bb"}},
		{"pinning_lock_verified", "type: pinning\n    lock: required", func(in *Input) { in.Lock = &LockStatus{Path: "proj/chainvet.lock"} }, Pass, nil},
		{"licenses_deny", "type: licenses\n    deny: [\"GPL-*\"]", nil, Fail, []string{"GPL-3.0-only"}},
		{"licenses_allow", "type: licenses\n    kinds: [model]\n    allow: [\"apache-2.0\", \"MIT\"]", nil, Pass, nil},
		{"licenses_unknown_fail", "type: licenses\n    kinds: [service]\n    unknown: fail", nil, Fail, []string{"no licence"}},
		{"approvals_skip_without_base", "type: approvals", nil, Skip, nil},
		{"approvals_require_base", "type: approvals\n    require-base: true", nil, Fail, []string{"no --base"}},
		{"approvals_unapproved", "type: approvals", func(in *Input) {
			in.Diff = &diff.Result{Changes: []diff.Change{
				{Type: diff.Added, Kind: inventory.KindPackage, Key: "package:pkg:pypi/leftpad", New: &diff.Ref{ID: "pkg:pypi/leftpad@1.0", Version: "1.0"},
					Approval: &diff.Verdict{Note: "no approval"}},
				{Type: diff.Changed, Kind: inventory.KindPackage, Key: "package:pkg:pypi/torch", Jump: diff.Minor,
					Old: &diff.Ref{Version: "2.4.0"}, New: &diff.Ref{ID: "pkg:pypi/torch@2.5.1", Version: "2.5.1"},
					Approval: &diff.Verdict{Approved: true, By: "alice"}},
			}}
		}, Fail, []string{"added package:pkg:pypi/leftpad 1.0"}},
		{"bom_missing", "type: bom", nil, Fail, []string{"no --bom"}},
		{"bom_written", "type: bom", func(in *Input) { in.BOM = "bom.cdx.json" }, Pass, nil},
		{"bom_attested", "type: bom\n    attested: true\n    key: k.pub", func(in *Input) { in.BOM = "bom.cdx.json"; in.Checker = fakeChecker{} }, Fail,
			[]string{"no signature bundle bom.cdx.json.sig"}},
		{"cel_once", "type: cel\n    message: calls openai\n    deny: components.exists(c, c.kind == \"service\" && c.properties[\"provider\"] == \"openai\")", nil, Fail,
			[]string{"components.exists"}},
		{"cel_each_component", "type: cel\n    for: components\n    message: unpinned hub model\n    deny: has(component.properties.hub) && component.properties[\"pinned\"] != \"true\"", nil, Fail,
			[]string{"pkg:huggingface/evil/m"}},
		{"cel_each_finding", "type: cel\n    for: findings\n    message: remote code\n    deny: finding.rule == \"code/trust-remote-code\" && finding.level >= 3", nil, Fail,
			[]string{"code/trust-remote-code: trust_remote_code=True"}},
		{"cel_lock_and_diff", "type: cel\n    message: no lock\n    deny: '!lock.present || (diff.present && diff.changes.exists(c, !c.approved))'", nil, Fail, []string{"lock.present"}},
		{"cel_pass", "type: cel\n    message: m\n    deny: findings.exists(f, f.severity == \"critical\")", nil, Pass, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustParse(t, "version: 1\ncontrols:\n  - id: c\n    "+tt.control+"\n")
			in := &Input{Root: "proj", Report: testReport(), Now: now}
			if tt.in != nil {
				tt.in(in)
			}
			res, err := p.Evaluate(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			c := res.Controls[0]
			if c.Status != tt.status || len(c.Violations) != len(tt.evidence) {
				t.Fatalf("status %s with %d violation(s) %+v; want %s with %d", c.Status, len(c.Violations), c.Violations, tt.status, len(tt.evidence))
			}
			for i, v := range c.Violations {
				if got := v.Evidence + " " + v.Message; !strings.Contains(got, tt.evidence[i]) {
					t.Errorf("violation %d: %q lacks %q", i, got, tt.evidence[i])
				}
				if v.Message == "" || v.Fix == "" {
					t.Errorf("violation %d has no message or no fix: %+v", i, v)
				}
			}
			if res.Pass != (tt.status != Fail) {
				t.Errorf("Pass = %v with status %s", res.Pass, tt.status)
			}
		})
	}
}

func TestExceptions(t *testing.T) {
	const control = "version: 1\ncontrols:\n  - id: no-pickle\n    type: formats\n    deny: [pickle]\nexceptions:\n"
	tests := []struct {
		name      string
		exception string
		pass      bool
		excepted  int
		expired   bool
	}{
		{"covers_one", "  - control: no-pickle\n    component: \"model:*/research/*\"\n    reason: r\n    owner: o\n    expires: 2026-06-01\n", false, 1, false},
		{"covers_all", "  - control: no-pickle\n    reason: r\n    owner: o\n    expires: 2027-01-01\n", true, 2, false},
		{"by_path", "  - control: no-pickle\n    component: \"proj/**\"\n    reason: r\n    owner: o\n    expires: 2027-01-01\n", true, 2, false},
		{"expired_day_before", "  - control: no-pickle\n    reason: r\n    owner: team-ml\n    expires: 2026-05-31\n", false, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustParse(t, control+tt.exception)
			res, err := p.Evaluate(context.Background(), &Input{Root: "proj", Report: testReport(), Now: now})
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, v := range res.Controls[0].Violations {
				if v.Exception != nil {
					n++
				}
			}
			if res.Pass != tt.pass || n != tt.excepted {
				t.Errorf("pass %v with %d excepted; want %v with %d", res.Pass, n, tt.pass, tt.excepted)
			}
			last := res.Controls[len(res.Controls)-1]
			if got := last.ID == "exceptions" && last.Status == Fail; got != tt.expired {
				t.Fatalf("expired-exception failure = %v, want %v", got, tt.expired)
			}
			if tt.expired && !strings.Contains(last.Violations[0].Message, "expired on 2026-05-31") {
				t.Errorf("message: %q", last.Violations[0].Message)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"no_version", "controls: []\n", "version: 1 is required"},
		{"bad_version", "version: 2\n", "test.yaml:1:10: version must be 1"},
		{"unknown_top_key", "version: 1\nrules: []\n", "test.yaml:2:1: unknown key \"rules\""},
		{"unknown_type", "version: 1\ncontrols:\n  - id: a\n    type: magic\n", "control type \"magic\""},
		{"key_of_other_type", "version: 1\ncontrols:\n  - id: a\n    type: formats\n    deny: [pickle]\n    hub: true\n", "test.yaml:6:5: formats control: unknown key \"hub\""},
		{"bad_id", "version: 1\ncontrols:\n  - id: A B\n    type: approvals\n", "control id \"A B\""},
		{"duplicate_id", "version: 1\ncontrols:\n  - id: a\n    type: approvals\n  - id: a\n    type: bom\n", "already used on line 3"},
		{"bad_mode", "version: 1\ncontrols:\n  - id: a\n    type: approvals\n    mode: block\n", "mode \"block\""},
		{"bad_severity", "version: 1\ncontrols:\n  - id: a\n    type: severity\n    rules:\n      code/*: huge\n", "test.yaml:6:15: control a: rules: code/*: unknown severity"},
		{"empty_sources", "version: 1\ncontrols:\n  - id: a\n    type: sources\n", "list at least one"},
		{"signer_needed", "version: 1\ncontrols:\n  - id: a\n    type: signatures\n    identity: x\n", "name a key"},
		{"identity_needs_root", "version: 1\ncontrols:\n  - id: a\n    type: signatures\n    identity: x\n    issuer: https://i\n", "trusted root"},
		{"exception_no_owner", "version: 1\ncontrols:\n  - id: a\n    type: bom\nexceptions:\n  - control: a\n    reason: r\n    expires: 2026-01-01\n", "test.yaml:6:5: an exception needs control, reason, owner and expires"},
		{"exception_bad_date", "version: 1\ncontrols:\n  - id: a\n    type: bom\nexceptions:\n  - control: a\n    reason: r\n    owner: o\n    expires: soon\n", "want YYYY-MM-DD"},
		{"exception_unknown_control", "version: 1\ncontrols:\n  - id: a\n    type: bom\nexceptions:\n  - control: b\n    reason: r\n    owner: o\n    expires: 2026-01-01\n", "names control \"b\""},
		{"cel_not_bool", "version: 1\ncontrols:\n  - id: a\n    type: cel\n    message: m\n    deny: components.size()\n", "of type int; deny needs a bool"},
		{"cel_undeclared", "version: 1\ncontrols:\n  - id: a\n    type: cel\n    message: m\n    deny: component.kind == \"model\"\n", "line 6, column 11 (expression 1:1): undeclared reference to 'component'"},
		{"cel_unknown_field", "version: 1\ncontrols:\n  - id: a\n    type: cel\n    message: m\n    for: findings\n    deny: finding.sev == \"x\"\n", "line 7, column 18 (expression 1:8): undefined field 'sev'"},
		{"cel_no_message", "version: 1\ncontrols:\n  - id: a\n    type: cel\n    deny: \"true\"\n", "message is required"},
		{"not_yaml", "version: [\n", "not YAML"},
		{"too_deep", "version: 1\ncontrols: " + strings.Repeat("[", 40) + strings.Repeat("]", 40) + "\n", "nested deeper"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("test.yaml", []byte(tt.src))
			if err == nil || !errors.Is(err, ErrPolicy) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestFixturePolicies parses the committed policies: the one of every
// control, the example policies, and the CEL type error with its
// position in the file.
func TestFixturePolicies(t *testing.T) {
	for _, f := range []string{"../../testdata/policy/all-controls.yaml", "../../examples/policies/strict.yaml", "../../examples/policies/balanced.yaml"} {
		p, err := Load(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Evaluate(context.Background(), &Input{Root: "proj", Report: testReport(), Now: now}); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	_, err := Load("../../testdata/policy/cel-type-error.yaml")
	want := "cel-type-error.yaml:8:11: control broken: CEL: line 10, column 25 (expression 2:19): found no matching overload for '_>_' applied to '(int, string)'"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v, want %q", err, want)
	}
}

func TestGlob(t *testing.T) {
	tests := []struct {
		glob, name string
		want       bool
	}{
		{"deploy/**", "deploy/a/b.pt", true},
		{"deploy/**", "deployx/a.pt", false},
		{"**/*.pt", "a.pt", true},
		{"**/*.pt", "x/y/a.pt", true},
		{"*.pt", "x/a.pt", false},
		{"huggingface/acme/*", "huggingface/acme/m", true},
		{"huggingface/acme/*", "huggingface/acme/m/extra", false},
		{"a?c", "abc", true},
		{"a.c", "abc", false},
	}
	for _, tt := range tests {
		re, err := compileGlob(tt.glob, false)
		if err != nil {
			t.Fatal(err)
		}
		if got := re.MatchString(tt.name); got != tt.want {
			t.Errorf("%q ~ %q = %v, want %v", tt.glob, tt.name, got, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, pat := range []string{"../../testdata/policy/*.yaml", "../../examples/policies/*.yaml"} {
		files, _ := filepath.Glob(pat)
		for _, name := range files {
			b, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Add([]byte("version: 1\ncontrols:\n  - id: a\n    type: cel\n    message: m\n    deny: components.all(c, c.name.size() < 3)\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse("fuzz.yaml", b)
		if err != nil {
			if !errors.Is(err, ErrPolicy) {
				t.Fatalf("error not wrapping ErrPolicy: %v", err)
			}
			return
		}
		if p.Version != Version {
			t.Fatalf("accepted version %d", p.Version)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := p.Evaluate(ctx, &Input{Root: "proj", Report: testReport(), Now: now}); err != nil && ctx.Err() == nil {
			// A CEL rule may fail at run time (a missing map key); that is
			// an error the gate reports, never a panic.
			if !strings.Contains(err.Error(), "control ") {
				t.Fatalf("evaluation error without its control: %v", err)
			}
		}
	})
}

// BenchmarkEvaluate judges a 16,000-component report by the strict example
// policy (every control but signatures, and a CEL rule per finding).
func BenchmarkEvaluate(b *testing.B) {
	p, err := Load("../../examples/policies/strict.yaml")
	if err != nil {
		b.Fatal(err)
	}
	rep := testReport()
	base := rep.Components
	for i := 0; i < 1000; i++ {
		rep.Components = append(rep.Components, base...)
	}
	for i := 0; i < 1000; i++ {
		rep.Findings = append(rep.Findings, testReport().Findings...)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := p.Evaluate(context.Background(), &Input{Root: "proj", Report: rep, Now: now}); err != nil {
			b.Fatal(err)
		}
	}
}
