package diff

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/chainvet/chainvet/internal/glob"
)

var fixtureNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func loadApprovals(t *testing.T) *Approvals {
	t.Helper()
	a, err := LoadApprovals(filepath.Join(fixtures, "approvals", ApprovalsName))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// verdicts is each change that needs approval, with its verdict.
func verdicts(r *Result) []string {
	var out []string
	for _, c := range r.Changes {
		if c.Approval == nil {
			continue
		}
		v := c.Approval.Note
		if c.Approval.Approved {
			v = "approved by " + c.Approval.By
		}
		out = append(out, c.Key+": "+v)
	}
	return out
}

func TestApply(t *testing.T) {
	r := Compare("old", load(t, "reports/old.json"), "new", load(t, "reports/new.json"))
	r.Apply(loadApprovals(t), fixtureNow)
	want := []string{
		"model:models/new.safetensors: no approval",
		"pkg:npm/path-to-regexp: no approval",
		"pkg:pypi/accelerate: no approval",
		"plugin:.mcp.json#github: no approval",
		"service:anthropic: no approval",
		"pkg:docker/python: no approval",
		"pkg:docker/ubuntu: no approval",
		"dataset:huggingface/acme/tickets: no approval",
		"model:models/classifier.pt: no approval",
		"pkg:huggingface/google-bert/bert-base-uncased: no approval",
		"pkg:golang/golang.org/x/net: no approval",
		"pkg:npm/express: no approval",
		"pkg:pypi/numpy: approval expired on 2026-01-31",
		"pkg:pypi/requests: no approval",
		"pkg:pypi/tokenizers: no approval",
		"pkg:pypi/torch: approved by alice@example.com",
		"pkg:pypi/transformers: no approval",
		"pkg:github/actions/checkout: approved by ci-team",
		"pkg:github/actions/setup-python: approved by ci-team",
	}
	if diff := cmp.Diff(want, verdicts(r)); diff != "" {
		t.Errorf("verdicts (-want +got):\n%s", diff)
	}
	if got := len(r.Unapproved()); got != r.Summary.Unapproved || got != 16 {
		t.Errorf("Unapproved() = %d, summary %d; want 16", got, r.Summary.Unapproved)
	}
}

// TestApprovalMatch checks one entry against one change: version ranges
// per ecosystem, kind, wildcards, and the expiry day.
func TestApprovalMatch(t *testing.T) {
	change := func(name, key, purl, v string) *Change {
		return &Change{Type: Added, Kind: "package", Key: key, New: &Ref{ID: purl, Name: name, Version: v, PURL: purl}}
	}
	torch := change("torch", "pkg:pypi/torch", "pkg:pypi/torch@2.5.1", "2.5.1")
	express := change("express", "pkg:npm/express", "pkg:npm/express@4.21.2", "4.21.2")
	sha := strings.Repeat("c", 40)
	checkout := &Change{Type: Changed, Kind: "workflow", Key: "pkg:github/actions/checkout", Jump: Revision,
		Old: &Ref{Version: strings.Repeat("b", 40)}, New: &Ref{ID: "pkg:github/actions/checkout@" + sha, Version: sha, PURL: "pkg:github/actions/checkout@" + sha}}
	entry := func(extra string) string {
		return "approvals:\n  - " + extra + "\n    approved_by: a\n    reason: r\n    expires: 2026-06-01\n"
	}
	tests := []struct {
		name string
		yaml string
		c    *Change
		now  time.Time
		want string
	}{
		{"range_holds", entry("component: pkg:pypi/torch\n    versions: \">=2.5,<3\""), torch, fixtureNow, "approved"},
		{"range_pep440_order", entry("component: pkg:pypi/torch\n    versions: \">2.5.1.dev0,<=2.5.1\""), torch, fixtureNow, "approved"},
		{"range_misses", entry("component: pkg:pypi/torch\n    versions: \">=2.6\""), torch, fixtureNow, "no approval"},
		{"exact", entry("component: torch\n    versions: \"2.5.1\""), torch, fixtureNow, "approved"},
		{"not_equal", entry("component: torch\n    versions: \"!=2.5.1\""), torch, fixtureNow, "no approval"},
		{"any_version", entry("component: pkg:pypi/torch\n    versions: \"*\""), torch, fixtureNow, "approved"},
		{"no_prefix_match", entry("component: pkg:pypi/tor"), torch, fixtureNow, "no approval"},
		{"glob", entry("component: \"pkg:pypi/t*\""), torch, fixtureNow, "approved"},
		{"glob_case", entry("component: \"PKG:PyPI/Torch\""), torch, fixtureNow, "approved"},
		{"kind_mismatch", entry("component: torch\n    kind: model"), torch, fixtureNow, "no approval"},
		{"npm_range", entry("component: pkg:npm/express\n    versions: \">=4.21.1,<5\""), express, fixtureNow, "approved"},
		{"revision_exact", entry("component: pkg:github/actions/checkout\n    versions: \"" + sha + "\""), checkout, fixtureNow, "approved"},
		{"revision_not_ordered", entry("component: pkg:github/actions/checkout\n    versions: \">=" + sha + "\""), checkout, fixtureNow, "no approval"},
		{"last_day_live", entry("component: torch"), torch, time.Date(2026, 6, 1, 23, 59, 59, 0, time.UTC), "approved"},
		{"day_after_expired", entry("component: torch"), torch, time.Date(2026, 6, 2, 0, 0, 0, 0, time.UTC), "approval expired on 2026-06-01"},
		{"expired_range_misses", entry("component: torch\n    versions: \"<2\""), torch, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), "no approval"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ParseApprovals("a.yaml", []byte(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			c := *tc.c
			r := &Result{Changes: []Change{c}}
			r.Apply(a, tc.now)
			got := r.Changes[0].Approval.Note
			if r.Changes[0].Approval.Approved {
				got = "approved"
			}
			if got != tc.want {
				t.Errorf("verdict %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseApprovalsErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"missing_who_why", "approvals:\n  - component: pkg:pypi/torch\n    expires: 2026-01-01\n", "a.yaml:2: entry 1: pkg:pypi/torch: missing approved_by, reason"},
		{"missing_component", "approvals:\n  - approved_by: a\n    reason: r\n    expires: 2026-01-01\n", "(no component): missing component"},
		{"missing_expiry", "approvals:\n  - component: x\n    approved_by: a\n    reason: r\n", "x: missing expires"},
		{"bad_date", "approvals:\n  - {component: x, approved_by: a, reason: r, expires: 01/02/2026}\n", `expires "01/02/2026" is not a date`},
		{"unknown_key", "approvals:\n  - {component: x, approved_by: a, reason: r, expires: 2026-01-01, version: 1}\n", `unknown key "version"`},
		{"unknown_top", "aprovals: []\n", `unknown key "aprovals"`},
		{"bad_kind", "approvals:\n  - {component: x, kind: pkg, approved_by: a, reason: r, expires: 2026-01-01}\n", `unknown kind "pkg"`},
		{"bad_range", "approvals:\n  - {component: x, versions: '>=1.0 <2', approved_by: a, reason: r, expires: 2026-01-01}\n", "want an operator"},
		{"not_list", "approvals: {component: x}\n", "must be a list"},
		{"not_mapping", "- x\n", "want a mapping"},
		{"nested_value", "approvals:\n  - {component: [x], approved_by: a, reason: r, expires: 2026-01-01}\n", "component must be a string"},
		{"syntax", "approvals: [\n", "a.yaml"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseApprovals("a.yaml", []byte(tc.yaml))
			if err == nil || !errors.Is(err, ErrApprovals) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want ErrApprovals mentioning %q", err, tc.want)
			}
		})
	}
	for _, ok := range []string{"", "# nothing yet\n", "approvals:\n", "approvals: []\n"} {
		if a, err := ParseApprovals("a.yaml", []byte(ok)); err != nil || len(a.Entries) != 0 {
			t.Errorf("ParseApprovals(%q) = %v, %v; want no entries", ok, a, err)
		}
	}
	big := make([]byte, MaxApprovalsSize+1)
	if _, err := ParseApprovals("big.yaml", big); err == nil {
		t.Error("an oversized file was accepted")
	}
	if _, err := LoadApprovals(filepath.Join(t.TempDir(), "none.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want ErrNotExist", err)
	}
}

func TestGlob(t *testing.T) {
	tests := []struct {
		p, s string
		want bool
	}{
		{"*", "", true},
		{"pkg:npm/*", "pkg:npm/@scope/x", true},
		{"pkg:npm/?", "pkg:npm/ab", false},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"*torch", "pkg:pypi/torch", true},
		{"torch", "torchvision", false},
	}
	for _, tc := range tests {
		if got := glob.Wildcard(tc.p, tc.s); got != tc.want {
			t.Errorf("glob(%q, %q) = %v, want %v", tc.p, tc.s, got, tc.want)
		}
	}
}
