package advisories

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/chainvet/chainvet/internal/advisory/store"
	"github.com/chainvet/chainvet/internal/inventory"
)

const fixtures = "../../../testdata/advisory/osv"

// fixtureStore serves the committed records as an all.zip over HTTP and
// imports it with store.Update, as "chainvet advisories update" would.
func fixtureStore(t testing.TB) *store.Store {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(fixtures, "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		w, err := zw.Create(filepath.Base(p))
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(buf.Bytes()) }))
	defer srv.Close()
	s, err := store.Open(filepath.Join(t.TempDir(), "advisories.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := store.Update(context.Background(), s, srv.URL+"/PyPI/all.zip", srv.Client()); err != nil {
		t.Fatal(err)
	}
	return s
}

func pkg(eco, name, ver, spec string) inventory.Component {
	c := inventory.Component{
		ID: "pkg:" + eco + "/" + name + "@" + ver + spec, Kind: inventory.KindPackage, Name: name, Version: ver,
		Locations:  []inventory.Location{{Path: "requirements.txt", Line: 3}},
		Properties: map[string]string{"ecosystem": eco, "pinned": "true"},
	}
	if ver == "" {
		c.Properties["pinned"] = "false"
		c.Properties["version-range"] = spec
	}
	return c
}

type result struct {
	Rule, Severity, Component, Evidence, Remediation string
}

func TestAnalyze(t *testing.T) {
	s := fixtureStore(t)
	r := &inventory.Report{Components: []inventory.Component{
		pkg("pypi", "torch", "1.13.0", ""),
		pkg("pypi", "torch", "2.1.0", ""),
		pkg("pypi", "torchtriton-nightly", "3.0.0", ""),
		pkg("pypi", "numpy", "1.21.0", ""),
		pkg("pypi", "torch", "", ">=1.12,<2"),
		pkg("pypi", "torch", "", ">=2.0"),
		pkg("npm", "jquery", "", "^3.4.0"),
		pkg("npm", "jquery", "", "^3.5.0"),
		pkg("npm", "jquery", "3.4.1", ""),
		pkg("golang", "golang.org/x/net", "v0.10.0", ""),
		pkg("golang", "golang.org/x/net", "v0.12.0", ""),
		pkg("pypi", "torch", "not a version", ""),
		pkg("npm", "@example/left-pad", "1.3.0", ""),
		pkg("cargo", "torch", "1.0.0", ""),
		{ID: "model", Kind: inventory.KindModel, Name: "torch", Version: "1.13.0", Properties: map[string]string{"ecosystem": "pypi"}},
	}}
	got, err := Analyzer{Store: s}.Analyze(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	var results []result
	for _, f := range got {
		if f.Path != "requirements.txt" || f.Line != 3 || f.Message == "" {
			t.Errorf("finding %+v: want a path, line and message", f)
		}
		results = append(results, result{f.Rule, f.Severity.String(), f.Component, f.Evidence, f.Remediation})
	}
	want := []result{
		{"package/vulnerable", "critical", "pkg:pypi/torch@1.13.0",
			"PyPI torch 1.13.0: GHSA-hh2w-p6rv-4g7w, PYSEC-2022-43015, CVE-2022-45907; fixed in 1.13.1, 2.0.0",
			"Upgrade torch to 2.0.0, the smallest version clear of every known advisory."},
		{"package/malicious", "critical", "pkg:pypi/torchtriton-nightly@3.0.0",
			"PyPI torchtriton-nightly 3.0.0: MAL-2024-1234",
			"Remove the package, treat the machines that installed it as compromised and rotate their credentials."},
		{"package/vulnerable-range", "high", "pkg:pypi/torch@>=1.12,<2",
			`PyPI torch ">=1.12,<2" admits 1.12.0: GHSA-hh2w-p6rv-4g7w, CVE-2022-45907, PYSEC-2022-43015; fixed in 2.0.0`,
			"Pin the package (a lockfile) to a version clear of the advisory, such as 2.0.0 or later."},
		{"package/vulnerable-range", "low", "pkg:pypi/torch@>=1.12,<2",
			`PyPI torch ">=1.12,<2" admits 1.12.0: PYSEC-2022-43015, CVE-2022-45907, GHSA-hh2w-p6rv-4g7w; fixed in 1.13.1`,
			"Pin the package (a lockfile) to a version clear of the advisory, such as 1.13.1 or later."},
		{"package/vulnerable-range", "low", "pkg:npm/jquery@^3.4.0",
			`npm jquery "^3.4.0" admits 3.4.0: GHSA-4w2v-q235-vp99, CVE-2020-11022; fixed in 3.5.0`,
			"Pin the package (a lockfile) to a version clear of the advisory, such as 3.5.0 or later."},
		{"package/vulnerable", "medium", "pkg:npm/jquery@3.4.1",
			"npm jquery 3.4.1: GHSA-4w2v-q235-vp99, CVE-2020-11022; fixed in 3.5.0",
			"Upgrade jquery to 3.5.0, the smallest version clear of every known advisory."},
		{"package/vulnerable", "medium", "pkg:golang/golang.org/x/net@v0.10.0",
			"Go golang.org/x/net v0.10.0: GO-2023-1882, CVE-2023-29406, GHSA-f8f7-69v5-w4vx; fixed in 0.12.0",
			"Upgrade golang.org/x/net to 0.12.0, the smallest version clear of every known advisory."},
		{"package/advisory-unknown", "low", "pkg:pypi/torch@not a version", "", "Check the advisory by hand."},
		{"package/advisory-unknown", "low", "pkg:pypi/torch@not a version", "", "Check the advisory by hand."},
		{"package/vulnerable", "medium", "pkg:npm/@example/left-pad@1.3.0",
			"npm @example/left-pad 1.3.0: GHSA-v4v4-v4v4-v4v4",
			"No fixed version is known: replace @example/left-pad or mitigate as the advisory describes."},
	}
	// The error text of an unknown comes from the version package.
	for i := range results {
		if results[i].Rule == RuleUnknown {
			results[i].Evidence = ""
		}
	}
	if diff := cmp.Diff(want, results); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

// TestAnalyzeHashes matches locked file digests against malicious-package
// reports: a reported file under another name is caught, a report already
// matched by name is not repeated, and digests in a report that is not a
// MAL- report, or of another algorithm, are not taken as malicious.
func TestAnalyzeHashes(t *testing.T) {
	s := fixtureStore(t)
	evil := "689fdd80b3c0aa7ddacb221e1afcce5f1da1405b06bea8c3fe79294bd4cc574c"   // sha256("evil-wheel"), in MAL-2025-0007
	triton := "8f04988f9d92e631aeafab9e0f5f50fa9f6b0495b798e08d078ab4051a17e977" // sha256("triton-sdist"), in MAL-2024-1234
	withDigests := func(c inventory.Component, ds ...inventory.Digest) inventory.Component {
		c.Digests = ds
		return c
	}
	r := &inventory.Report{Components: []inventory.Component{
		withDigests(pkg("pypi", "requests-toolbelt-fast", "0.1.0", ""), inventory.Digest{Algorithm: "sha256", Value: strings.Repeat("0", 64)}, inventory.Digest{Algorithm: "sha256", Value: evil}),
		withDigests(pkg("pypi", "torchtriton-nightly", "3.0.0", ""), inventory.Digest{Algorithm: "sha256", Value: triton}),
		withDigests(pkg("npm", "left-pad", "", "^1.0.0"), inventory.Digest{Algorithm: "sha512", Value: strings.Repeat("ab", 64)}),
		withDigests(pkg("pypi", "numpy", "1.26.0", ""), inventory.Digest{Algorithm: "md5", Value: evil[:32]}),
	}}
	got, err := Analyzer{Store: s}.Analyze(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	var results []result
	for _, f := range got {
		results = append(results, result{f.Rule, f.Severity.String(), f.Component, f.Evidence, ""})
	}
	want := []result{
		{"package/malicious", "critical", "pkg:pypi/requests-toolbelt-fast@0.1.0",
			"sha256:" + evil + " of requests-toolbelt-fast 0.1.0 matches MAL-2025-0007 (reported as PyPI reqeusts)", ""},
		{"package/malicious", "critical", "pkg:pypi/torchtriton-nightly@3.0.0",
			"PyPI torchtriton-nightly 3.0.0: MAL-2024-1234", ""},
	}
	if diff := cmp.Diff(want, results); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

func TestAnalyzeNoStore(t *testing.T) {
	r := &inventory.Report{Components: []inventory.Component{pkg("pypi", "torch", "1.13.0", "")}}
	got, err := Analyzer{}.Analyze(context.Background(), r)
	if err != nil || got != nil {
		t.Errorf("Analyze without a store = %v, %v; want nothing", got, err)
	}
}

func BenchmarkAnalyze5000(b *testing.B) {
	s := fixtureStore(b)
	r := &inventory.Report{}
	for i := range 5000 {
		name := fmt.Sprintf("pkg-%d", i)
		if i%100 == 0 {
			name = "torch"
		}
		r.Components = append(r.Components, pkg("pypi", name, "1.13.0", ""))
	}
	for b.Loop() {
		got, err := Analyzer{Store: s}.Analyze(context.Background(), r)
		if err != nil || len(got) != 50 {
			b.Fatal(len(got), err)
		}
	}
}
