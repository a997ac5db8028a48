package confusion

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/google/go-cmp/cmp"
)

const fixtures = "../../../testdata/pkg/confusion"

func TestCheck(t *testing.T) {
	tests := []struct {
		name, path, data string
		want             []string // rule|line|evidence
	}{
		{"torchtriton", "requirements.txt",
			"--extra-index-url https://download.pytorch.org/whl/nightly/cpu\ntorch\ntorchtriton==2.0.0\n",
			[]string{
				"package/dependency-confusion|2|torch with extra index https://download.pytorch.org/whl/nightly/cpu (line 1)",
				"package/dependency-confusion|3|torchtriton with extra index https://download.pytorch.org/whl/nightly/cpu (line 1)",
			}},
		{"index-url only", "requirements.txt", "--index-url https://x.example/simple\ntorch==2\n", nil},
		{"extra is pypi", "requirements.txt", "--extra-index-url=https://pypi.org/simple\ntorch==2\n", nil},
		{"url and vcs lines not at risk", "requirements.txt",
			"--extra-index-url https://x.example/simple\ngit+https://github.com/a/b@v1\n./local\nname @ https://x.example/a.whl\nFoo_Bar>=1\n",
			[]string{"package/dependency-confusion|5|foo-bar with extra index https://x.example/simple (line 1)"}},
		{"pip.conf credentials redacted", "pip.conf",
			"[global]\nindex-url = https://pypi.org/simple\nextra-index-url = https://u:p@x.example/simple\n",
			[]string{"package/dependency-confusion|3|extra index https://***@x.example/simple"}},
		{"comment ignored", "pip.conf", "# extra-index-url = https://x.example/simple\n", nil},
		{"variable", "ci.sh", "pip install --extra-index-url \"$PRIVATE_INDEX\" acme\n",
			[]string{"package/dependency-confusion|1|extra index $PRIVATE_INDEX"}},
		{"prose naming the option", "notes.txt", "Never use --extra-index-url; see PIP_EXTRA_INDEX_URL set by CI.\n", nil},
		{"documentation", "README.md", "pip install --extra-index-url https://x.example/simple acme\n", nil},
		{"source code", "main.go", "args := []string{\"--extra-index-url\", \"https://x.example/simple\"}\n", nil},
		{"dockerfile env", "Dockerfile", "ENV PIP_EXTRA_INDEX_URL=\"https://x.example/simple\"\n",
			[]string{"package/dependency-confusion|1|extra index https://x.example/simple"}},
		{"ci run line", "ci.yml", "  - pip install --extra-index-url https://x.example/simple acme\n",
			[]string{"package/dependency-confusion|1|extra index https://x.example/simple"}},
		{"npm default private", ".npmrc", "registry = https://npm.x.example/\n",
			[]string{"package/npm-registry-override|1|registry = https://npm.x.example/"}},
		{"uv tool table extra-index-url", "pyproject.toml", "[tool.uv]\nextra-index-url = [\"https://x.example/simple\"]\n",
			[]string{"package/dependency-confusion|2|extra index https://x.example/simple"}},
		{"uv unsafe strategy", "pyproject.toml",
			"[project]\nname = \"a\"\ndependencies = [\"acme-utils>=1\", \"requests\"]\n[tool.uv]\nindex-strategy = \"unsafe-best-match\"\n[[tool.uv.index]]\nname = \"internal\"\nurl = \"https://x.example/simple\"\n[tool.uv.sources]\nrequests = { index = \"internal\" }\n",
			[]string{"package/dependency-confusion|5|index-strategy = \"unsafe-best-match\" with index https://x.example/simple"}},
		{"uv default strategy is safe", "pyproject.toml",
			"[project]\nname = \"a\"\ndependencies = [\"acme-utils\"]\n[[tool.uv.index]]\nname = \"internal\"\nurl = \"https://x.example/simple\"\n", nil},
		{"uv unsafe but explicit", "pyproject.toml",
			"[tool.uv]\nindex-strategy = \"unsafe-best-match\"\n[[tool.uv.index]]\nname = \"internal\"\nurl = \"https://x.example/simple\"\nexplicit = true\n", nil},
		{"poetry supplemental", "pyproject.toml",
			"[tool.poetry.dependencies]\npython = \"^3.11\"\nacme-utils = \"^1\"\n[[tool.poetry.source]]\nname = \"internal\"\nurl = \"https://x.example/simple\"\npriority = \"supplemental\"\n",
			[]string{"package/dependency-confusion|7|poetry source \"internal\" https://x.example/simple priority supplemental"}},
		{"poetry explicit", "pyproject.toml",
			"[tool.poetry.dependencies]\nacme-utils = { version = \"^1\", source = \"internal\" }\n[[tool.poetry.source]]\nname = \"internal\"\nurl = \"https://x.example/simple\"\npriority = \"explicit\"\n", nil},
		{"malformed toml", "pyproject.toml", "[[tool.poetry.source]]\nname = \n", nil},
		{"npm scoped only", ".npmrc", "@acme:registry=https://npm.x.example/\nregistry=https://registry.npmjs.org/\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, f := range Check(tt.path, []byte(tt.data)) {
				got = append(got, f.Rule+"|"+strconv.Itoa(f.Line)+"|"+f.Evidence)
				if f.Remediation == "" || f.Message == "" {
					t.Errorf("finding without message or fix: %+v", f)
				}
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
		})
	}
}

// TestManifest scans the fixtures through the pipeline and checks each
// file's findings against MANIFEST.tsv.
func TestManifest(t *testing.T) {
	r, err := inventory.Scan(context.Background(), []string{fixtures}, inventory.Options{
		Catalogers: []inventory.Cataloger{Indexes{}}, Workers: 1, MaxDepth: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	byPath := map[string][]inventory.Finding{}
	for _, f := range r.Findings {
		rel, err := filepath.Rel(fixtures, f.Path)
		if err != nil {
			t.Fatal(err)
		}
		byPath[filepath.ToSlash(rel)] = append(byPath[filepath.ToSlash(rel)], f)
	}
	mf, err := os.Open(filepath.Join(fixtures, "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer mf.Close()
	sc := bufio.NewScanner(mf)
	sc.Scan() // header
	rows := 0
	for sc.Scan() {
		col := strings.Split(sc.Text(), "\t")
		if len(col) != 7 {
			t.Fatalf("manifest row has %d columns: %q", len(col), sc.Text())
		}
		rows++
		fs := byPath[col[0]]
		worst := inventory.Info
		seen := map[string]bool{}
		evidence := false
		for _, f := range fs {
			worst = max(worst, f.Severity)
			seen[f.Rule] = true
			if col[5] != "" && strings.Contains(f.Evidence, col[5]) {
				evidence = true
			}
		}
		if !inRange(worst, col[2], col[3]) {
			t.Errorf("%s: worst severity %v, want %s..%s (findings %+v)", col[0], worst, col[2], col[3], fs)
		}
		for _, rule := range strings.Fields(strings.ReplaceAll(col[4], ",", " ")) {
			if !seen[rule] {
				t.Errorf("%s: no %s finding; got %+v", col[0], rule, fs)
			}
		}
		if col[5] != "" && !evidence {
			t.Errorf("%s: no finding with evidence %q; got %+v", col[0], col[5], fs)
		}
	}
	if rows == 0 {
		t.Fatal("empty manifest")
	}
}

func inRange(s inventory.Severity, lo, hi string) bool {
	var l, h inventory.Severity
	if err := l.UnmarshalText([]byte(lo)); err != nil {
		return false
	}
	if err := h.UnmarshalText([]byte(hi)); err != nil {
		return false
	}
	return s >= l && s <= h
}

func FuzzCheck(f *testing.F) {
	filepath.WalkDir(fixtures, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(filepath.Base(p), b)
			}
		}
		return nil
	})
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		for _, fd := range Check(name, data) {
			if fd.Rule == "" || fd.Message == "" {
				t.Fatalf("empty finding %+v", fd)
			}
		}
		fi := &inventory.File{Name: name, Head: data}
		_ = Indexes{}.Wants(fi)
	})
}

// TestAtRiskNamed checks that configuration findings name the packages the
// setting exposes and the exact fix.
func TestAtRiskNamed(t *testing.T) {
	tests := []struct{ file, want, fix string }{
		{"malicious/poetry-supplemental/pyproject.toml", "packages at risk: acme-utils", `priority = "explicit"`},
		{"malicious/uv-unsafe/pyproject.toml", "packages at risk: acme-utils", "explicit = true"},
		{"malicious/torchtriton/requirements.txt", "torchtriton may be installed from PyPI", "--index-url"},
		{"malicious/npmrc/.npmrc", "unscoped package name", "@org:registry="},
	}
	for _, tt := range tests {
		data, err := os.ReadFile(filepath.Join(fixtures, tt.file))
		if err != nil {
			t.Fatal(err)
		}
		fs := Check(tt.file, data)
		found := false
		for _, f := range fs {
			if strings.Contains(f.Message, tt.want) && strings.Contains(f.Remediation, tt.fix) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no finding with message %q and fix %q in %+v", tt.file, tt.want, tt.fix, fs)
		}
	}
}

func TestContainsFold(t *testing.T) {
	for _, tc := range []struct {
		b, needle string
		want      bool
	}{
		{"--Extra-Index-URL https://x", "extra-index-url", true},
		{"EXTRA_INDEX_URL=1", "extra_index_url", true},
		{"extra-index-ur", "extra-index-url", false},
		{"", "registry", false},
		{"@acme:Registry=https://npm.acme.invalid", "registry", true},
		{"regis\xfftry", "registry", false},
	} {
		if got := containsFold([]byte(tc.b), tc.needle); got != tc.want {
			t.Errorf("containsFold(%q, %q) = %v", tc.b, tc.needle, got)
		}
	}
}
