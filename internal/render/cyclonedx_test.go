package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/google/go-cmp/cmp"
	"github.com/package-url/packageurl-go"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/chainvet/chainvet/internal/inventory"
)

// bomTime is the fixed creation time of the BOM goldens.
var bomTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// bomReport holds one component of each kind, with the shapes the BOM
// renderers map: a direct package depending on a transitive one, an
// unpinned package, a model with a model card's worth of properties, the
// dataset it was trained on, a service, an MCP server, a pinned GitHub
// action, a container image and a notebook. Components are out of ID order
// on purpose.
func bomReport() *inventory.Report {
	return &inventory.Report{
		Schema:  inventory.Schema,
		Tool:    inventory.Tool{Name: "chainvet", Version: "0.4.0-dev"},
		Targets: []string{"."},
		Components: []inventory.Component{
			{
				ID: "pkg:pypi/transformers@4.46.0", Kind: inventory.KindPackage,
				Name: "transformers", Version: "4.46.0", PURL: "pkg:pypi/transformers@4.46.0",
				Digests: []inventory.Digest{
					{Algorithm: "sha256", Value: "89e71a0c5c0f7a6fe4b4b5e0cfc3ad1d8c3c2e4c5ff3d63f1b37e5b8a2f4d6c1"},
					{Algorithm: "whirlpool", Value: "00"},
				},
				Locations:  []inventory.Location{{Path: "requirements.txt", Line: 2}, {Path: "poetry.lock", Line: 40}},
				Properties: map[string]string{"ecosystem": "pypi", "pinned": "true", "hashes": "true", "manifest": "requirements.txt", "license": "apache-2.0"},
				Dependency: inventory.Direct,
				DependsOn:  []string{"pkg:pypi/tokenizers@0.20.1", "pkg:pypi/not-in-report@1.0", "pkg:pypi/tokenizers@0.20.1"},
			},
			{
				ID: "pkg:pypi/tokenizers@0.20.1", Kind: inventory.KindPackage,
				Name: "tokenizers", Version: "0.20.1", PURL: "pkg:pypi/tokenizers@0.20.1",
				Locations:  []inventory.Location{{Path: "poetry.lock", Line: 71}},
				Properties: map[string]string{"ecosystem": "pypi", "pinned": "true", "manifest": "poetry.lock"},
				Dependency: inventory.Transitive,
			},
			{
				ID: "pkg:pypi/torch", Kind: inventory.KindPackage, Name: "torch", PURL: "pkg:pypi/torch",
				Locations:  []inventory.Location{{Path: "requirements.txt", Line: 1}},
				Properties: map[string]string{"ecosystem": "pypi", "pinned": "false", "version-range": ">=2.4,<3", "markers": `python_version >= "3.10"`, "manifest": "requirements.txt"},
				Dependency: inventory.Direct,
			},
			{
				ID: "model:models/llama/model.safetensors", Kind: inventory.KindModel, Name: "model.safetensors",
				Digests:   []inventory.Digest{{Algorithm: "sha256", Value: "9F2C3A0E5B1D4C7E8F60718293A4B5C6D7E8F90112233445566778899AABBCCD"}},
				Locations: []inventory.Location{{Path: "models/llama/model.safetensors"}},
				Properties: map[string]string{
					"format": "safetensors", "framework": "pytorch", "architecture": "LlamaForCausalLM",
					"task": "text-generation", "parameters": "1235814400", "dtype": "BF16",
					"license": "llama3.2", "base-model": "meta-llama/Llama-3.2-1B",
					"datasets": "HuggingFaceFW/fineweb-edu, tatsu-lab/alpaca", "repository": "acme/llama-chat",
					"revision": "4e20de362430cd3b72f300e6b0f18e50e7166e08",
				},
				Dependency: inventory.Direct,
				DependsOn:  []string{"dataset:HuggingFaceFW/fineweb-edu"},
			},
			{
				ID: "dataset:HuggingFaceFW/fineweb-edu", Kind: inventory.KindDataset, Name: "HuggingFaceFW/fineweb-edu",
				Locations:  []inventory.Location{{Path: "train.py", Line: 12}},
				Properties: map[string]string{"loader": "load_dataset", "hub": "huggingface", "pinned": "false", "license": "ODC-By-1.0"},
				Dependency: inventory.Direct,
			},
			{
				ID: "service:openai", Kind: inventory.KindService, Name: "OpenAI API",
				Locations: []inventory.Location{{Path: "app/chat.py", Line: 7}, {Path: "app/embed.py", Line: 3}},
				Properties: map[string]string{
					"provider": "OpenAI", "endpoints": "https://api.openai.com/v1/chat/completions,https://api.openai.com/v1/embeddings",
					"authenticated": "true", "data-flow": "bi-directional", "credential-env": "OPENAI_API_KEY", "sdk": "openai",
				},
				Dependency: inventory.Direct,
			},
			{
				ID: "plugin:.cursor/mcp.json#filesystem", Kind: inventory.KindPlugin, Name: "filesystem",
				Locations: []inventory.Location{{Path: ".cursor/mcp.json", Line: 3}},
				Properties: map[string]string{
					"transport": "stdio", "command": "npx -y @modelcontextprotocol/server-filesystem /srv",
					"env": "FS_ROOT", "client": "cursor",
				},
				Dependency: inventory.Direct,
				DependsOn:  []string{"pkg:npm/%40modelcontextprotocol/server-filesystem"},
			},
			{
				ID: "pkg:npm/%40modelcontextprotocol/server-filesystem", Kind: inventory.KindPackage,
				Name: "@modelcontextprotocol/server-filesystem", PURL: "pkg:npm/%40modelcontextprotocol/server-filesystem",
				Locations:  []inventory.Location{{Path: ".cursor/mcp.json", Line: 5}},
				Properties: map[string]string{"ecosystem": "npm", "pinned": "false"},
				Dependency: inventory.Transitive,
			},
			{
				ID: "pkg:github/actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683", Kind: inventory.KindWorkflow,
				Name: "actions/checkout", Version: "11bd71901bbe5b1630ceea73d27597364c9af683",
				PURL:       "pkg:github/actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683",
				Locations:  []inventory.Location{{Path: ".github/workflows/ci.yml", Line: 14}},
				Properties: map[string]string{"ecosystem": "github", "ref": "11bd71901bbe5b1630ceea73d27597364c9af683", "pinned": "true"},
				Dependency: inventory.Direct,
			},
			{
				ID: "pkg:docker/library/python@3.12-slim", Kind: inventory.KindContainer, Name: "python", Version: "3.12-slim",
				PURL:       "pkg:docker/library/python@3.12-slim",
				Locations:  []inventory.Location{{Path: "Dockerfile", Line: 1}},
				Properties: map[string]string{"ecosystem": "docker", "ref": "python:3.12-slim", "pinned": "false"},
				Dependency: inventory.Direct,
			},
			{
				ID: "notebook:notebooks/eval.ipynb", Kind: inventory.KindNotebook, Name: "eval.ipynb",
				Locations:  []inventory.Location{{Path: "notebooks/eval.ipynb"}},
				Properties: map[string]string{"owner": "ml-team", "criticality": "low"},
			},
		},
		// Findings are not part of a BOM: the renderers must ignore them.
		Findings: []inventory.Finding{{Rule: "bom/malformed", Severity: inventory.Low, Path: "setup.cfg", Message: "setup.cfg could not be parsed."}},
	}
}

func renderWith(t *testing.T, rd inventory.Renderer, r *inventory.Report) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := rd.Render(&buf, r); err != nil {
		t.Fatalf("%s: %v", rd.Name(), err)
	}
	return buf.Bytes()
}

func TestCycloneDXGolden(t *testing.T) {
	for _, tc := range []struct {
		xml  bool
		file string
	}{
		{false, "bom.golden.cdx.json"},
		{true, "bom.golden.cdx.xml"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			rd := &cyclonedxFormat{xml: tc.xml, created: bomTime}
			got := renderWith(t, rd, bomReport())
			golden(t, tc.file, got)
			if !tc.xml {
				validateCycloneDX(t, got)
			}
		})
	}
}

// TestCycloneDXDeterministic renders the report with its components and
// their lists shuffled: the bytes must not change.
func TestCycloneDXDeterministic(t *testing.T) {
	for _, xml := range []bool{false, true} {
		rd := &cyclonedxFormat{xml: xml, created: bomTime}
		want := renderWith(t, rd, bomReport())
		r := bomReport()
		slices.Reverse(r.Components)
		for i := range r.Components {
			slices.Reverse(r.Components[i].DependsOn)
		}
		if diff := cmp.Diff(string(want), string(renderWith(t, rd, r))); diff != "" {
			t.Errorf("xml=%v: output depends on component order (-sorted +reversed):\n%s", xml, diff)
		}
	}
}

// TestCycloneDXContent decodes the BOM, in both encodings, and checks the
// mapping the golden files could hide in their bulk.
func TestCycloneDXContent(t *testing.T) {
	for _, format := range []cdx.BOMFileFormat{cdx.BOMFileFormatJSON, cdx.BOMFileFormatXML} {
		rd := &cyclonedxFormat{xml: format == cdx.BOMFileFormatXML, created: bomTime}
		out := renderWith(t, rd, bomReport())
		var bom cdx.BOM
		if err := cdx.NewBOMDecoder(bytes.NewReader(out), format).Decode(&bom); err != nil {
			t.Fatalf("%s: decoding: %v", rd.Name(), err)
		}
		if bom.SpecVersion != cdx.SpecVersion1_6 {
			t.Errorf("%s: specVersion %v, want 1.6", rd.Name(), bom.SpecVersion)
		}
		if bom.Metadata == nil || bom.Metadata.Timestamp != "2026-01-02T03:04:05Z" || bom.Metadata.Component == nil {
			t.Fatalf("%s: metadata %+v", rd.Name(), bom.Metadata)
		}
		if !strings.HasPrefix(bom.SerialNumber, "urn:uuid:") {
			t.Errorf("%s: serialNumber %q", rd.Name(), bom.SerialNumber)
		}

		types := map[string]cdx.ComponentType{}
		byRef := map[string]cdx.Component{}
		for _, c := range *bom.Components {
			types[c.BOMRef] = c.Type
			byRef[c.BOMRef] = c
			if c.PackageURL != "" {
				if _, err := packageurl.FromString(c.PackageURL); err != nil {
					t.Errorf("%s: %s: purl %q: %v", rd.Name(), c.BOMRef, c.PackageURL, err)
				}
			}
		}
		wantTypes := map[string]cdx.ComponentType{
			"pkg:pypi/transformers@4.46.0":                                         cdx.ComponentTypeLibrary,
			"pkg:pypi/tokenizers@0.20.1":                                           cdx.ComponentTypeLibrary,
			"pkg:pypi/torch":                                                       cdx.ComponentTypeLibrary,
			"pkg:npm/%40modelcontextprotocol/server-filesystem":                    cdx.ComponentTypeLibrary,
			"model:models/llama/model.safetensors":                                 cdx.ComponentTypeMachineLearningModel,
			"dataset:HuggingFaceFW/fineweb-edu":                                    cdx.ComponentTypeData,
			"plugin:.cursor/mcp.json#filesystem":                                   cdx.ComponentTypeApplication,
			"pkg:github/actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683": cdx.ComponentTypeApplication,
			"pkg:docker/library/python@3.12-slim":                                  cdx.ComponentTypeContainer,
			"notebook:notebooks/eval.ipynb":                                        cdx.ComponentTypeFile,
		}
		if diff := cmp.Diff(wantTypes, types); diff != "" {
			t.Errorf("%s: component types (-want +got):\n%s", rd.Name(), diff)
		}

		model := byRef["model:models/llama/model.safetensors"]
		mp := model.ModelCard.ModelParameters
		if mp.ModelArchitecture != "LlamaForCausalLM" || mp.Task != "text-generation" {
			t.Errorf("%s: model parameters %+v", rd.Name(), mp)
		}
		if got := len(*mp.Datasets); got != 2 || (*mp.Datasets)[0].Ref != "dataset:HuggingFaceFW/fineweb-edu" ||
			(*mp.Datasets)[1].ComponentData == nil || (*mp.Datasets)[1].ComponentData.Name != "tatsu-lab/alpaca" {
			t.Errorf("%s: datasets %+v", rd.Name(), *mp.Datasets)
		}
		anc := (*model.Pedigree.Ancestors)[0]
		if anc.Name != "meta-llama/Llama-3.2-1B" || anc.PackageURL != "pkg:huggingface/meta-llama/Llama-3.2-1B" {
			t.Errorf("%s: ancestor %+v", rd.Name(), anc)
		}
		if l := (*model.Licenses)[0].License; l == nil || l.Name != "llama3.2" || l.ID != "" {
			t.Errorf("%s: model licence %+v, want name llama3.2", rd.Name(), (*model.Licenses)[0])
		}
		if l := (*byRef["pkg:pypi/transformers@4.46.0"].Licenses)[0].License; l == nil || l.ID != "Apache-2.0" {
			t.Errorf("%s: package licence %+v, want id Apache-2.0", rd.Name(), l)
		}
		if h := *byRef["pkg:pypi/transformers@4.46.0"].Hashes; len(h) != 1 || h[0].Algorithm != cdx.HashAlgoSHA256 {
			t.Errorf("%s: hashes %+v, want the sha256 alone", rd.Name(), h)
		}
		if d := byRef["dataset:HuggingFaceFW/fineweb-edu"].Data; d == nil || (*d)[0].Type != cdx.ComponentDataTypeDataset {
			t.Errorf("%s: dataset data %+v", rd.Name(), d)
		}
		occ := *byRef["pkg:pypi/transformers@4.46.0"].Evidence.Occurrences
		if len(occ) != 2 || occ[0].Location != "requirements.txt" || occ[0].Line == nil || *occ[0].Line != 2 {
			t.Errorf("%s: occurrences %+v", rd.Name(), occ)
		}
		if !hasProperty(byRef["pkg:pypi/torch"].Properties, "chainvet:version-range", ">=2.4,<3") {
			t.Errorf("%s: torch lacks chainvet:version-range", rd.Name())
		}

		svc := (*bom.Services)[0]
		if svc.BOMRef != "service:openai" || svc.Provider.Name != "OpenAI" || len(*svc.Endpoints) != 2 ||
			svc.Authenticated == nil || !*svc.Authenticated || (*svc.Data)[0].Flow != cdx.DataFlowBidirectional ||
			!hasProperty(svc.Properties, "chainvet:credential-env", "OPENAI_API_KEY") ||
			!hasProperty(svc.Properties, "chainvet:location", "app/chat.py:7") {
			t.Errorf("%s: service %+v", rd.Name(), svc)
		}

		deps := map[string][]string{}
		for _, d := range *bom.Dependencies {
			if d.Dependencies != nil {
				deps[d.Ref] = *d.Dependencies
			} else {
				deps[d.Ref] = nil
			}
		}
		if got := deps["pkg:pypi/transformers@4.46.0"]; !slices.Equal(got, []string{"pkg:pypi/tokenizers@0.20.1"}) {
			t.Errorf("%s: transformers dependsOn %q, want tokenizers alone", rd.Name(), got)
		}
		root := deps[targetRef]
		for ref, typ := range wantTypes {
			transitive := ref == "pkg:pypi/tokenizers@0.20.1" || ref == "pkg:npm/%40modelcontextprotocol/server-filesystem"
			if slices.Contains(root, ref) == transitive {
				t.Errorf("%s: target dependsOn %s (%s) is %v, want %v", rd.Name(), ref, typ, !transitive, !transitive)
			}
		}
		if !slices.Contains(root, "service:openai") {
			t.Errorf("%s: target does not depend on the service", rd.Name())
		}
		if len(deps) != len(bomReport().Components)+1 {
			t.Errorf("%s: %d dependency entries, want one per component and the target", rd.Name(), len(deps))
		}
		if bytes.Contains(out, []byte("bom/malformed")) {
			t.Errorf("%s: a finding leaked into the BOM", rd.Name())
		}
	}
}

func hasProperty(props *[]cdx.Property, name, value string) bool {
	if props == nil {
		return false
	}
	return slices.Contains(*props, cdx.Property{Name: name, Value: value})
}

func TestCycloneDXEmpty(t *testing.T) {
	r := &inventory.Report{Schema: inventory.Schema, Tool: inventory.Tool{Name: "chainvet", Version: "1.0.0"}}
	out := renderWith(t, &cyclonedxFormat{created: bomTime}, r)
	validateCycloneDX(t, out)
	renderWith(t, &cyclonedxFormat{xml: true, created: bomTime}, r)
	if err := (&cyclonedxFormat{}).Render(&bytes.Buffer{}, nil); err == nil {
		t.Error("nil report rendered without error")
	}
}

// TestLicenseIDsKnown checks every licence id chainvet maps to is in the
// SPDX list that CycloneDX's schema carries: an id outside it makes the BOM
// invalid.
func TestLicenseIDsKnown(t *testing.T) {
	dir := cyclonedxSchemaDir(t)
	b, err := os.ReadFile(filepath.Join(dir, "spdx.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var list struct{ Enum []string }
	if err := json.Unmarshal(b, &list); err != nil {
		t.Fatal(err)
	}
	for _, m := range []map[string]string{spdxLicenses, spdxExceptions} {
		for _, id := range m {
			if !slices.Contains(list.Enum, id) {
				t.Errorf("%s is not in the SPDX list", id)
			}
		}
	}
}

func TestSPDXExpression(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"apache-2.0", "Apache-2.0", true},
		{"MIT", "MIT", true},
		{"mit or apache-2.0", "MIT OR Apache-2.0", true},
		{"(MIT OR Apache-2.0) AND BSD-3-Clause", "(MIT OR Apache-2.0) AND BSD-3-Clause", true},
		{"GPL-2.0-or-later WITH classpath-exception-2.0", "GPL-2.0-or-later WITH Classpath-exception-2.0", true},
		{"GPL-2.0+", "GPL-2.0+", true},
		{"llama3.2", "", false},
		{"other", "", false},
		{"LicenseRef-acme", "", false},
		{"MIT OR", "", false},
		{"(MIT", "", false},
		{"MIT)", "", false},
		{"MIT WITH", "", false},
		{"MIT WITH MIT", "", false},
		{"AND", "", false},
		{"", "", false},
		{strings.Repeat("(", 200) + "MIT" + strings.Repeat(")", 200), "", false},
	} {
		got, ok := spdxExpression(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("spdxExpression(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// FuzzCycloneDX puts hostile strings where a scanned file can put them:
// the renderer must not panic, and its JSON must stay valid against the
// schema and its XML decodable.
func FuzzCycloneDX(f *testing.F) {
	for _, c := range bomReport().Components {
		f.Add(c.ID, c.Name, c.PURL, c.Properties["license"], c.Properties["datasets"], c.Properties["base-model"], c.Properties["endpoints"])
	}
	f.Add("\x00", "<\xff&>", "pkg:", "(((", ",,", "/", "\x1b[31m")
	sch := compileCycloneDXSchema(f)
	f.Fuzz(func(t *testing.T, id, name, purl, license, datasets, base, endpoints string) {
		r := bomReport()
		for i := range r.Components {
			if i%2 == 0 {
				continue
			}
			c := &r.Components[i]
			c.Name = name
			c.PURL = purl
			c.Properties["license"] = license
			c.Properties["datasets"] = datasets
			c.Properties["base-model"] = base
			c.Properties["endpoints"] = endpoints
			c.Locations = append(c.Locations, inventory.Location{Path: name, Line: len(id)})
		}
		r.Components = append(r.Components, inventory.Component{ID: id, Kind: inventory.Kind(name), Name: name, DependsOn: []string{id}})
		var buf bytes.Buffer
		if err := (&cyclonedxFormat{created: bomTime}).Render(&buf, r); err != nil {
			t.Fatal(err)
		}
		if err := validateAgainst(sch, buf.Bytes()); err != nil {
			t.Fatalf("%v\n%s", err, buf.Bytes())
		}
		buf.Reset()
		if err := (&cyclonedxFormat{xml: true, created: bomTime}).Render(&buf, r); err != nil {
			t.Fatal(err)
		}
		var bom cdx.BOM
		if err := cdx.NewBOMDecoder(&buf, cdx.BOMFileFormatXML).Decode(&bom); err != nil {
			t.Fatalf("xml does not decode: %v", err)
		}
	})
}

var cdxDir struct {
	once sync.Once
	dir  string
	err  error
}

// cyclonedxSchemaDir is the schema folder of the cyclonedx-go module, which
// `go test` has downloaded to build this package.
func cyclonedxSchemaDir(t testing.TB) string {
	t.Helper()
	cdxDir.once.Do(func() {
		out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/CycloneDX/cyclonedx-go").Output()
		if err != nil {
			cdxDir.err = err
			return
		}
		cdxDir.dir = filepath.Join(strings.TrimSpace(string(out)), "schema")
	})
	if cdxDir.err != nil {
		t.Fatalf("finding cyclonedx-go's schema: %v", cdxDir.err)
	}
	return cdxDir.dir
}

// compileCycloneDXSchema compiles bom-1.6.schema.json with the two schemas
// it refers to preloaded, so that nothing is fetched.
func compileCycloneDXSchema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	dir := cyclonedxSchemaDir(t)
	c := jsonschema.NewCompiler()
	for url, file := range map[string]string{
		"http://cyclonedx.org/schema/bom-1.6.schema.json":  "bom-1.6.schema.json",
		"http://cyclonedx.org/schema/spdx.schema.json":     "spdx.schema.json",
		"http://cyclonedx.org/schema/jsf-0.82.schema.json": "jsf-0.82.schemax.json", // sic: the module's file name
	} {
		f, err := os.Open(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if err := c.AddResource(url, doc); err != nil {
			t.Fatal(err)
		}
	}
	c.AssertFormat()
	sch, err := c.Compile("http://cyclonedx.org/schema/bom-1.6.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

var cdxSchema struct {
	once sync.Once
	sch  *jsonschema.Schema
}

func validateCycloneDX(t *testing.T, doc []byte) {
	t.Helper()
	cdxSchema.once.Do(func() { cdxSchema.sch = compileCycloneDXSchema(t) })
	if cdxSchema.sch == nil {
		t.Fatal("schema did not compile")
	}
	if err := validateAgainst(cdxSchema.sch, doc); err != nil {
		t.Error(err)
	}
}

func validateAgainst(sch *jsonschema.Schema, doc []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return err
	}
	return sch.Validate(v)
}

// TestBOMNoCredentials gives a service an endpoint with a password in it:
// neither BOM format may write the password.
func TestBOMNoCredentials(t *testing.T) {
	r := bomReport()
	for i := range r.Components {
		if r.Components[i].Kind == inventory.KindService {
			r.Components[i].Properties["endpoints"] = "https://bob:hunter2@llm.example.com/v1,https://api.example.com/v2"
		}
	}
	for _, rd := range []inventory.Renderer{
		&cyclonedxFormat{created: bomTime}, &cyclonedxFormat{xml: true, created: bomTime}, &spdxFormat{created: bomTime},
	} {
		out := renderWith(t, rd, r)
		if bytes.Contains(out, []byte("hunter2")) || bytes.Contains(out, []byte("bob")) {
			t.Errorf("%s: the endpoint's credentials reached the output", rd.Name())
		}
		if !bytes.Contains(out, []byte("https://llm.example.com/v1")) {
			t.Errorf("%s: the endpoint was dropped, not cleaned", rd.Name())
		}
	}
}

// TestBOMConstructors checks the constructors render.go lists, and that
// Options.Version reaches the documents.
func TestBOMConstructors(t *testing.T) {
	opt := Options{Version: "7.7.7"}
	for _, tc := range []struct {
		rd   inventory.Renderer
		name string
		tool string
	}{
		{newCycloneDX(opt, false), "cyclonedx-json", `"version": "7.7.7"`},
		{newCycloneDX(opt, true), "cyclonedx-xml", `<version>7.7.7</version>`},
		{newSPDX(opt), "spdx-json", `"Tool: chainvet-7.7.7"`},
	} {
		if got := tc.rd.Name(); got != tc.name {
			t.Errorf("Name() = %q, want %q", got, tc.name)
		}
		if out := renderWith(t, tc.rd, bomReport()); !bytes.Contains(out, []byte(tc.tool)) {
			t.Errorf("%s: output lacks %s", tc.name, tc.tool)
		}
	}
}

// bigBOMReport is bomReport with its components repeated n times under
// distinct IDs, each depending on the one before.
func bigBOMReport(n int) *inventory.Report {
	r := bomReport()
	base := r.Components
	r.Components = nil
	for i := range n {
		for _, c := range base {
			c.ID = fmt.Sprintf("%s#%d", c.ID, i)
			c.DependsOn = []string{fmt.Sprintf("%s#%d", c.ID, i-1)}
			r.Components = append(r.Components, c)
		}
	}
	return r
}

func BenchmarkCycloneDX(b *testing.B) {
	r := bigBOMReport(100)
	for _, xml := range []bool{false, true} {
		rd := &cyclonedxFormat{xml: xml, created: bomTime}
		b.Run(rd.Name(), func(b *testing.B) {
			for b.Loop() {
				if err := rd.Render(io.Discard, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
