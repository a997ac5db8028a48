package render

import (
	"bytes"
	"encoding/json"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/package-url/packageurl-go"
	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx"
	"github.com/spdx/tools-golang/spdx/v2/common"
	"github.com/spdx/tools-golang/spdxlib"

	"github.com/chainvet/chainvet/internal/inventory"
)

func TestSPDXGolden(t *testing.T) {
	got := renderWith(t, &spdxFormat{created: bomTime}, bomReport())
	golden(t, "bom.golden.spdx.json", got)
	checkSPDX(t, got)
}

func TestSPDXDeterministic(t *testing.T) {
	rd := &spdxFormat{created: bomTime}
	want := renderWith(t, rd, bomReport())
	r := bomReport()
	slices.Reverse(r.Components)
	for i := range r.Components {
		slices.Reverse(r.Components[i].DependsOn)
	}
	if diff := cmp.Diff(string(want), string(renderWith(t, rd, r))); diff != "" {
		t.Errorf("output depends on component order (-sorted +reversed):\n%s", diff)
	}
}

// TestSPDXContent reads the document back with tools-golang and checks the
// mapping.
func TestSPDXContent(t *testing.T) {
	doc := checkSPDX(t, renderWith(t, &spdxFormat{created: bomTime}, bomReport()))

	if doc.CreationInfo.Created != "2026-01-02T03:04:05Z" ||
		!slices.Equal(doc.CreationInfo.Creators, []common.Creator{{CreatorType: "Tool", Creator: "chainvet-0.4.0-dev"}}) {
		t.Errorf("creation info %+v", doc.CreationInfo)
	}
	byName := map[string]*spdx.Package{}
	for _, p := range doc.Packages {
		byName[p.PackageName] = p
	}
	purposes := map[string]string{}
	for name, p := range byName {
		purposes[name] = p.PrimaryPackagePurpose
	}
	want := map[string]string{
		".":            "APPLICATION",
		"transformers": "LIBRARY",
		"tokenizers":   "LIBRARY",
		"torch":        "LIBRARY",
		"@modelcontextprotocol/server-filesystem": "LIBRARY",
		"model.safetensors":                       "OTHER",
		"HuggingFaceFW/fineweb-edu":               "OTHER",
		"OpenAI API":                              "OTHER",
		"filesystem":                              "APPLICATION",
		"actions/checkout":                        "APPLICATION",
		"python":                                  "CONTAINER",
		"eval.ipynb":                              "FILE",
	}
	if diff := cmp.Diff(want, purposes); diff != "" {
		t.Errorf("purposes (-want +got):\n%s", diff)
	}

	tf := byName["transformers"]
	if tf.PackageLicenseDeclared != "Apache-2.0" || tf.PackageLicenseConcluded != "NOASSERTION" {
		t.Errorf("transformers licences: declared %q concluded %q", tf.PackageLicenseDeclared, tf.PackageLicenseConcluded)
	}
	if len(tf.PackageChecksums) != 1 || tf.PackageChecksums[0].Algorithm != common.SHA256 {
		t.Errorf("transformers checksums %+v, want the sha256 alone", tf.PackageChecksums)
	}
	if tf.PackageSourceInfo != "found at requirements.txt:2, poetry.lock:40" {
		t.Errorf("transformers sourceInfo %q", tf.PackageSourceInfo)
	}
	m := byName["model.safetensors"]
	if m.PackageLicenseDeclared != "NOASSERTION" {
		t.Errorf("model licenseDeclared %q: llama3.2 is no SPDX id", m.PackageLicenseDeclared)
	}
	if !strings.Contains(m.PackageComment, "machine-learning model") || !strings.Contains(m.PackageComment, "chainvet:base-model: meta-llama/Llama-3.2-1B") {
		t.Errorf("model comment %q", m.PackageComment)
	}
	if !strings.Contains(byName["torch"].PackageComment, "chainvet:version-range: >=2.4,<3") {
		t.Errorf("torch comment %q", byName["torch"].PackageComment)
	}

	rel := map[string]bool{}
	for _, r := range doc.Relationships {
		rel[string(r.RefA.ElementRefID)+" "+r.Relationship+" "+string(r.RefB.ElementRefID)] = true
	}
	id := func(name string) string { return string(byName[name].PackageSPDXIdentifier) }
	for _, r := range []string{
		"DOCUMENT DESCRIBES " + id("."),
		id(".") + " DEPENDS_ON " + id("transformers"),
		id(".") + " DEPENDS_ON " + id("model.safetensors"),
		id(".") + " DEPENDS_ON " + id("OpenAI API"),
		id("transformers") + " DEPENDS_ON " + id("tokenizers"),
		id("model.safetensors") + " DEPENDS_ON " + id("HuggingFaceFW/fineweb-edu"),
		id("filesystem") + " DEPENDS_ON " + id("@modelcontextprotocol/server-filesystem"),
	} {
		if !rel[r] {
			t.Errorf("missing relationship %s", r)
		}
	}
	for _, r := range []string{
		id(".") + " DEPENDS_ON " + id("tokenizers"),
		id(".") + " DEPENDS_ON " + id("@modelcontextprotocol/server-filesystem"),
	} {
		if rel[r] {
			t.Errorf("relationship %s: the target depends on a transitive package", r)
		}
	}
	if len(doc.Relationships) != 1+9+3 {
		t.Errorf("%d relationships, want 13 (describes, 9 not transitive, 3 dependsOn)", len(doc.Relationships))
	}
}

func TestSPDXNamespace(t *testing.T) {
	ns := func(rd *spdxFormat, r *inventory.Report) string {
		var doc struct{ DocumentNamespace string }
		if err := json.Unmarshal(renderWith(t, rd, r), &doc); err != nil {
			t.Fatal(err)
		}
		return doc.DocumentNamespace
	}
	a := ns(&spdxFormat{created: bomTime}, bomReport())
	if b := ns(&spdxFormat{created: bomTime}, bomReport()); a != b {
		t.Errorf("namespace not deterministic: %q, %q", a, b)
	}
	other := bomReport()
	other.Targets = []string{"elsewhere"}
	if b := ns(&spdxFormat{created: bomTime}, other); a == b {
		t.Errorf("two targets share namespace %q", a)
	}
	if b := ns(&spdxFormat{created: bomTime, opt: Options{Version: "9.9.9"}}, bomReport()); a == b {
		t.Errorf("two versions share namespace %q", a)
	}
	const set = "https://example.com/spdx/run-42"
	if b := ns(&spdxFormat{created: bomTime, namespace: set}, bomReport()); b != set {
		t.Errorf("namespace %q, want %q", b, set)
	}
}

func TestSPDXIDs(t *testing.T) {
	comps := []inventory.Component{
		{ID: "pkg:pypi/a@1"}, {ID: "pkg:pypi/a_1"}, {ID: "pkg/pypi/a@1"}, {ID: "model:é.bin"}, {ID: "%%%"}, {ID: "pkg:pypi/a@1"},
	}
	got := spdxIDs(comps)
	want := map[string]common.ElementID{
		"pkg:pypi/a@1": "Component-pkg-pypi-a-1",
		"pkg:pypi/a_1": "Component-pkg-pypi-a-1-2",
		"pkg/pypi/a@1": "Component-pkg-pypi-a-1-3",
		"model:é.bin":  "Component-model-.bin",
		"%%%":          "Component-x",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("spdxIDs (-want +got):\n%s", diff)
	}
}

func TestSPDXEmpty(t *testing.T) {
	r := &inventory.Report{Schema: inventory.Schema, Tool: inventory.Tool{Name: "chainvet", Version: "1.0.0"}}
	checkSPDX(t, renderWith(t, &spdxFormat{created: bomTime}, r))
	if err := (&spdxFormat{}).Render(&bytes.Buffer{}, nil); err == nil {
		t.Error("nil report rendered without error")
	}
}

// FuzzSPDX puts hostile strings where a scanned file can put them: the
// document must always read back and validate.
func FuzzSPDX(f *testing.F) {
	for _, c := range bomReport().Components {
		f.Add(c.ID, c.Name, c.PURL, c.Properties["license"], c.Version)
	}
	f.Add("", "\x00<\xff>", "pkg:", "MIT AND (", "\n")
	f.Fuzz(func(t *testing.T, id, name, purl, license, version string) {
		r := bomReport()
		for i := range r.Components {
			if i%2 == 1 {
				c := &r.Components[i]
				c.Name, c.PURL, c.Version = name, purl, version
				c.Properties["license"] = license
				c.Properties[name] = id
				c.Locations = append(c.Locations, inventory.Location{Path: name})
			}
		}
		r.Components = append(r.Components, inventory.Component{ID: id, Kind: inventory.Kind(name), Name: name, DependsOn: []string{id, "pkg:pypi/torch"}})
		r.Targets = append(r.Targets, name)
		if err := checkSPDXDoc(renderWith(t, &spdxFormat{created: bomTime}, r)); err != "" {
			t.Fatal(err)
		}
	})
}

// checkSPDX reads doc back and checks it, failing t if it is not valid.
func checkSPDX(t *testing.T, doc []byte) *spdx.Document {
	t.Helper()
	if err := checkSPDXDoc(doc); err != "" {
		t.Fatalf("%s\n%s", err, doc)
	}
	d, _ := spdxjson.Read(bytes.NewReader(doc))
	return d
}

var (
	spdxIDPattern = regexp.MustCompile(`^SPDXRef-[A-Za-z0-9.-]+$`)
	checksumHex   = regexp.MustCompile(`^[0-9a-f]+$`)
)

// checkSPDXDoc stands in for the SPDX 2.3 JSON schema, which no module we
// depend on ships: it reads the document with tools-golang, runs its
// validation, and checks what the schema requires of what we write
// (required fields, id syntax, unique ids, relationships between known
// elements, parseable purls). It returns "" or what is wrong.
func checkSPDXDoc(b []byte) string {
	doc, err := spdxjson.Read(bytes.NewReader(b))
	if err != nil {
		return "reading back: " + err.Error()
	}
	if err := spdxlib.ValidateDocument(doc); err != nil {
		return "tools-golang validation: " + err.Error()
	}
	var raw struct {
		SPDXVersion       string `json:"spdxVersion"`
		DataLicense       string `json:"dataLicense"`
		SPDXID            string `json:"SPDXID"`
		Name              string `json:"name"`
		DocumentNamespace string `json:"documentNamespace"`
		CreationInfo      *struct {
			Created  string   `json:"created"`
			Creators []string `json:"creators"`
		} `json:"creationInfo"`
		Packages []struct {
			Name             string `json:"name"`
			SPDXID           string `json:"SPDXID"`
			DownloadLocation string `json:"downloadLocation"`
			Checksums        []struct{ Algorithm, ChecksumValue string }
		} `json:"packages"`
		Relationships []struct {
			A    string `json:"spdxElementId"`
			B    string `json:"relatedSpdxElement"`
			Type string `json:"relationshipType"`
		} `json:"relationships"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err.Error()
	}
	switch {
	case raw.SPDXVersion != "SPDX-2.3", raw.DataLicense != "CC0-1.0", raw.SPDXID != "SPDXRef-DOCUMENT":
		return "document header wrong"
	case raw.Name == "", !strings.HasPrefix(raw.DocumentNamespace, "https://"), strings.Contains(raw.DocumentNamespace, "#"):
		return "document name or namespace wrong: " + raw.DocumentNamespace
	case raw.CreationInfo == nil || raw.CreationInfo.Created == "" || len(raw.CreationInfo.Creators) == 0:
		return "creation info incomplete"
	}
	ids := map[string]bool{"SPDXRef-DOCUMENT": true}
	for _, p := range raw.Packages {
		if p.Name == "" || p.DownloadLocation == "" || !spdxIDPattern.MatchString(p.SPDXID) || ids[p.SPDXID] {
			return "package incomplete or id bad/duplicate: " + p.SPDXID
		}
		ids[p.SPDXID] = true
		for _, c := range p.Checksums {
			if !checksumHex.MatchString(c.ChecksumValue) {
				return "checksum not lower-case hex: " + c.ChecksumValue
			}
		}
	}
	for _, r := range raw.Relationships {
		if !ids[r.A] || !ids[r.B] {
			return "relationship between unknown elements: " + r.A + " " + r.B
		}
	}
	for _, p := range doc.Packages {
		for _, ref := range p.PackageExternalReferences {
			if ref.RefType != common.TypePackageManagerPURL {
				continue
			}
			if _, err := packageurl.FromString(ref.Locator); err != nil {
				return "purl " + ref.Locator + ": " + err.Error()
			}
		}
	}
	return ""
}

func BenchmarkSPDX(b *testing.B) {
	r := bigBOMReport(100)
	rd := &spdxFormat{created: bomTime}
	for b.Loop() {
		if err := rd.Render(io.Discard, r); err != nil {
			b.Fatal(err)
		}
	}
}
