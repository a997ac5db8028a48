package secrets

import (
	"bufio"
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chainvet/chainvet/internal/catalog/manifest"
	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/render"
	"github.com/google/go-cmp/cmp"
)

const fixtures = "../../../testdata/secrets"

func scanPath(t testing.TB, p string) *inventory.Report {
	t.Helper()
	r, err := inventory.Scan(context.Background(), []string{p}, inventory.Options{Catalogers: []inventory.Cataloger{Secrets{}}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// fixtureSecrets reads SECRETS.tsv: every fake key gen.py wrote, by file.
func fixtureSecrets(t testing.TB) map[string][]string {
	t.Helper()
	f, err := os.Open(filepath.Join(fixtures, "SECRETS.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "#") {
			continue
		}
		p, s, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			t.Fatalf("SECRETS.tsv: bad line %q", sc.Text())
		}
		out[p] = append(out[p], s)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestManifest scans each fixture alone and holds the findings to its
// manifest row; for this cataloger alone the rules must match exactly.
func TestManifest(t *testing.T) {
	rows, err := manifest.Read(filepath.Join(fixtures, "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 40 {
		t.Fatalf("only %d rows", len(rows))
	}
	for _, row := range rows {
		t.Run(strings.ReplaceAll(row.Path, "/", "_"), func(t *testing.T) {
			r := scanPath(t, filepath.Join(fixtures, row.Path))
			for _, p := range row.Check(r) {
				t.Errorf("%s (%s): %s\n%s", row.Path, row.Description, p, manifest.Dump(r))
			}
			var got []string
			for _, f := range r.Findings {
				if !slices.Contains(got, f.Rule) {
					got = append(got, f.Rule)
				}
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(row.Rules))
			if !slices.Equal(got, want) {
				t.Errorf("rules %v, want %v\n%s", got, want, manifest.Dump(r))
			}
		})
	}
}

// TestNoSecretInReports renders a scan of every fixture in every output
// format and checks that no fake key, nor any 32-byte piece of one, is in
// any of them.
func TestNoSecretInReports(t *testing.T) {
	r := scanPath(t, fixtures)
	if len(r.Findings) < 30 {
		t.Fatalf("only %d findings over the fixtures", len(r.Findings))
	}
	all := fixtureSecrets(t)
	for _, name := range render.Names() {
		rd, err := render.New(name, render.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := rd.Render(&b, r); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out := b.String()
		for file, ss := range all {
			for _, s := range ss {
				for _, piece := range pieces(s, 32) {
					if strings.Contains(out, piece) {
						t.Errorf("%s output shows the secret of %s (%q…)", name, file, piece[:8])
						break
					}
				}
			}
		}
	}
}

// pieces are the n-byte substrings of s, or s itself when shorter.
func pieces(s string, n int) []string {
	if len(s) <= n {
		return []string{s}
	}
	out := make([]string, 0, len(s)-n+1)
	for i := 0; i+n <= len(s); i++ {
		out = append(out, s[i:i+n])
	}
	return out
}

// TestNotebookLocations checks cells, lines and columns in notebooks:
// a key split by JSON escapes in a source, a token in a stream output, a
// key in an error's value.
func TestNotebookLocations(t *testing.T) {
	type loc struct {
		Rule               string
		Cell, Line, Column int
		Output             bool
	}
	tests := []struct {
		file string
		want []loc
	}{
		{"malicious/notebook/leak.ipynb", []loc{
			{RuleAIKey, 2, 3, 33, false},
			{RuleAIKey, 3, 2, 1, true},
		}},
		{"malicious/notebook/error.ipynb", []loc{{RuleAIKey, 1, 1, 18, true}}},
		{"benign/notebook/clean.ipynb", nil},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			r := scanPath(t, filepath.Join(fixtures, tt.file))
			var got []loc
			for _, f := range r.Findings {
				got = append(got, loc{f.Rule, f.Cell, f.Line, f.Column, strings.Contains(f.Message, "output")})
			}
			slices.SortFunc(got, func(a, b loc) int { return a.Cell - b.Cell })
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// TestMalformedNotebook: a notebook that does not decode is reported, and
// its text still scanned.
func TestMalformedNotebook(t *testing.T) {
	k := "ghp_" + rnd(1, alnum, 36)
	src := `{"cells": [{"cell_type": "code", "source": 7}], "token": "` + k + `"}`
	got := catalogBytes(t, "nb.ipynb", []byte(src))
	if d := cmp.Diff([]string{RuleGitHub, RuleMalformed}, rulesOf(got)); d != "" {
		t.Errorf("rules (-want +got):\n%s", d)
	}
}

func catalogBytes(t testing.TB, name string, b []byte) []inventory.Finding {
	t.Helper()
	f, err := inventory.NewFile(name, bytes.NewReader(b), int64(len(b)), nil)
	if err != nil {
		t.Fatal(err)
	}
	var s sink
	if !(Secrets{}).Wants(f) {
		t.Fatalf("%s not wanted", name)
	}
	if err := (Secrets{}).Catalog(context.Background(), f, &s); err != nil {
		t.Fatal(err)
	}
	return s.got
}

func rulesOf(fs []inventory.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Rule)
	}
	slices.Sort(out)
	return out
}

type sink struct{ got []inventory.Finding }

func (s *sink) Component(inventory.Component)         {}
func (s *sink) Scan(context.Context, *inventory.File) {}
func (s *sink) Finding(f inventory.Finding)           { s.got = append(s.got, f) }

const (
	alnum  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	hexa   = "0123456789abcdef"
	base32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b64    = alnum + "+/"
)

// rnd is n bytes drawn from alphabet by a generator seeded with seed:
// made-up keys, the same on every run.
func rnd(seed uint64, alphabet string, n int) string {
	r := rand.New(rand.NewPCG(seed, 0x5ec7e75))
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

// TestScanText holds the detectors to small texts: each kind of key in
// context, and the look-alikes that must not be reported.
func TestScanText(t *testing.T) {
	aws := "AKIA" + rnd(2, base32, 16)
	awsSecret := rnd(3, b64, 40)
	hex40 := rnd(4, hexa, 40)
	hex32 := rnd(5, hexa, 32)
	tok := rnd(6, alnum, 24)
	pemBody := rnd(7, b64, 300)
	tests := []struct {
		name string
		text string
		want []string // rule:severity of each match, in order
	}{
		{"openai_project", `key = "sk-proj-` + rnd(8, alnum, 100) + `"`, []string{"secret/ai-provider-key:critical"}},
		{"openai_inside_word", `x = "xsk-proj-` + rnd(8, alnum, 100) + `"`, nil},
		{"openai_classic_without_marker", `k = "sk-` + rnd(9, alnum, 48) + `"`, nil},
		{"anthropic_not_openai", `"sk-ant-api03-` + rnd(10, alnum, 93) + `AA"`, []string{"secret/ai-provider-key:critical"}},
		{"hf_too_long", "hf_" + rnd(11, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", 40), nil},
		{"hf_function_name", "from huggingface_hub import hf_hub_download", nil},
		{"aws_id_alone", "id: " + aws, []string{"secret/aws-key:high"}},
		{"aws_pair", "id: " + aws + "\nkey: " + awsSecret, []string{"secret/aws-key:critical"}},
		{"aws_pair_too_far", "id: " + aws + "\n" + strings.Repeat("# filler line\n", 60) + "k " + awsSecret, []string{"secret/aws-key:high"}},
		{"aws_docs_key", "AKIAIOSFODNN7EXAMPLE", nil},
		{"aws_in_longer_word", "X" + aws + "Y", nil},
		{"wandb_env", "WANDB_API_KEY=" + hex40, []string{"secret/ai-provider-key:critical"}},
		{"wandb_login", "wandb.login(key='" + hex40 + "')", []string{"secret/ai-provider-key:critical"}},
		{"wandb_local", "WANDB_API_KEY: local-" + hex40, []string{"secret/ai-provider-key:critical"}},
		{"pinecone_uuid", "PINECONE_API_KEY='" + hex32[:8] + "-" + hex32[8:12] + "-" + hex32[12:16] + "-" + hex32[16:20] + "-" + hex32[20:] + "'", []string{"secret/ai-provider-key:critical"}},
		{"aws_secret_alone", "aws_secret_access_key = " + awsSecret, []string{"secret/aws-key:critical"}},
		{"ghp_low_entropy_not_generic", `GITHUB_TOKEN = "ghp_FAKEfakeFAKEfakeFAKEfakeFAKEfake0000"`, nil},
		{"deepseek_sk_is_generic", `DEEPSEEK_API_KEY = "sk-` + hex32 + `"`, []string{"secret/generic:high"}},
		{"hex40_without_context", "revision = '" + hex40 + "'", nil},
		{"azure_env_name", "AZURE_OPENAI_KEY: " + hex32, []string{"secret/ai-provider-key:critical"}},
		{"azure_header_near_endpoint", "u='https://a.openai.azure.com/'\nh={'api-key': '" + hex32 + "'}", []string{"secret/ai-provider-key:critical"}},
		{"hex32_api_key_no_endpoint_is_generic", "h={'api-key': '" + hex32 + "'}", []string{"secret/generic:high"}},
		{"mistral_wrong_shape_is_generic", "MISTRAL_API_KEY='" + tok + "-x'", []string{"secret/generic:high"}},
		{"generic_quoted", `"auth_token": "` + tok + `"`, []string{"secret/generic:high"}},
		{"generic_camel", `apiKey: '` + tok + `'`, []string{"secret/generic:high"}},
		{"generic_bearer", `ACCESS_TOKEN = "Bearer ` + tok + `"`, []string{"secret/generic:high"}},
		{"generic_call", `token = get_token(` + tok + `)`, nil},
		{"generic_attribute", `api_key = settings.` + tok, nil},
		{"generic_environ", `API_KEY = os.environ["API_KEY"]`, nil},
		{"generic_template", `api_key: ${OPENAI_API_KEY}`, nil},
		{"generic_github_expression", `token: ${{ secrets.GITHUB_TOKEN }}`, nil},
		{"generic_words", `SECRET_KEY = "django-insecure-default-value"`, nil},
		{"generic_tokenizer", `tokenizer = "` + tok + `"`, nil},
		{"generic_not_key_name", `monkey = "` + tok + `"`, nil},
		{"generic_short", `api_key = "Ab3dEf9h"`, nil},
		{"generic_unquoted_env", "DEPLOY_TOKEN=" + tok + "\n", []string{"secret/generic:high"}},
		{"generic_placeholder", `api_key = "<your-api-key>"`, nil},
		{"generic_stars", `api_key = "****************"`, nil},
		{"generic_sequence", `api_key = "abcdefghij0123456789"`, nil},
		{"slack_docs_webhook", "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX", nil},
		{"pem", "-----BEGIN EC PRIVATE KEY-----\n" + pemBody + "\n-----END EC PRIVATE KEY-----\n", []string{"secret/private-key:critical"}},
		{"pem_escaped_newlines", `{"k": "-----BEGIN OPENSSH PRIVATE KEY-----\n` + pemBody[:70] + `\n` + pemBody[70:] + `\n-----END OPENSSH PRIVATE KEY-----\n"}`, []string{"secret/private-key:critical"}},
		{"pem_encrypted", "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\n" + pemBody + "\n-----END RSA PRIVATE KEY-----\n", []string{"secret/private-key:high"}},
		{"pem_header_only", `if s.startswith("-----BEGIN PRIVATE KEY-----"):`, nil},
		{"pem_placeholder_body", "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----", nil},
		{"two_keys_one_line", "a=ghp_" + rnd(12, alnum, 36) + " b=gsk_" + rnd(13, alnum, 52), []string{"secret/github-token:critical", "secret/ai-provider-key:critical"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, m := range scanText([]byte(tt.text)) {
				got = append(got, m.rule+":"+m.sev.String())
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("%q (-want +got):\n%s", tt.text, d)
			}
		})
	}
}

// TestLocations checks lines, columns and offsets in a text file.
func TestLocations(t *testing.T) {
	k := "gsk_" + rnd(14, alnum, 52)
	src := "# config\n\n\tGROQ_API_KEY = '" + k + "'  # " + "ghp_" + rnd(15, alnum, 36) + "\n"
	got := catalogBytes(t, "a/settings.py", []byte(src))
	type loc struct {
		Rule         string
		Line, Column int
		Offset       int64
	}
	var gl []loc
	for _, f := range got {
		gl = append(gl, loc{f.Rule, f.Line, f.Column, *f.Offset})
	}
	want := []loc{
		{RuleAIKey, 3, 18, int64(strings.Index(src, "gsk_"))},
		{RuleGitHub, 3, 18 + len(k) + 5, int64(strings.Index(src, "ghp_"))},
	}
	if d := cmp.Diff(want, gl); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	for _, f := range got {
		if strings.Contains(f.Evidence+f.Message+f.Remediation, k[4:12]) {
			t.Errorf("finding shows the key: %+v", f)
		}
	}
}

// TestWindows scans a file bigger than a window, with a key across the
// edge between two windows: each key is reported once, at its line.
func TestWindows(t *testing.T) {
	var b bytes.Buffer
	keys := []string{"ghp_" + rnd(16, alnum, 36), "ghp_" + rnd(17, alnum, 36), "ghp_" + rnd(18, alnum, 36)}
	line := 1
	var wantLines []int
	put := func(s string) {
		b.WriteString(s)
		line += strings.Count(s, "\n")
	}
	put("token: " + keys[0] + "\n")
	wantLines = append(wantLines, 1)
	for b.Len() < window-20 {
		put("filler = 'a line of ordinary code without credentials'\n")
	}
	put(strings.Repeat("x", window-10-b.Len()) + " ")
	wantLines = append(wantLines, line) // keys[1] starts at window-9
	put(keys[1] + "\n")
	for b.Len() < 2*window+window/2 {
		put("filler = 'a line of ordinary code without credentials'\n")
	}
	wantLines = append(wantLines, line)
	put("t = " + keys[2] + "\n")
	got := catalogBytes(t, "big.yaml", b.Bytes())
	var gotLines []int
	for _, f := range got {
		gotLines = append(gotLines, f.Line)
	}
	if d := cmp.Diff(wantLines, gotLines); d != "" {
		t.Errorf("lines (-want +got):\n%s", d)
	}
	if len(got) == 3 && *got[1].Offset != int64(window-9) {
		t.Errorf("second key at offset %d, want %d", *got[1].Offset, window-9)
	}
}

// filler is a ReaderAt of size bytes of text, for files too big to hold.
type filler struct{}

func (filler) ReadAt(p []byte, off int64) (int, error) {
	for i := range p {
		p[i] = "abcdefgh\n"[(off+int64(i))%9]
	}
	return len(p), nil
}

// TestLimit: a file over the limits is reported, not skipped in silence.
func TestLimit(t *testing.T) {
	tests := []struct {
		name string
		size int64
		want []string
	}{
		{"big.json", maxText + 1, []string{inventory.RuleScanLimit}},
		{"big.ipynb", maxNotebook + 1, []string{inventory.RuleScanLimit}},
		{"ok.json", 1 << 20, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := inventory.NewFile(tt.name, filler{}, tt.size, nil)
			if err != nil {
				t.Fatal(err)
			}
			var s sink
			if err := (Secrets{}).Catalog(context.Background(), f, &s); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, rulesOf(s.got)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestWants(t *testing.T) {
	tests := []struct {
		name string
		head string
		want bool
	}{
		{"app.py", "import os\n", true},
		{"index.ts", "export {}\n", true},
		{".env", "A=1\n", true},
		{".env.production", "A=1\n", true},
		{"prod.env", "A=1\n", true},
		{".npmrc", "registry=x\n", true},
		{".pypirc", "[pypi]\n", true},
		{"pip.conf", "[global]\n", true},
		{"Dockerfile", "FROM x\n", true},
		{"Containerfile", "FROM x\n", true},
		{"main.tf", "provider {}\n", true},
		{"prod.tfvars", "a = 1\n", true},
		{"settings.json", "{}", true},
		{"nb.ipynb", "{}", true},
		{"deploy", "#!/bin/sh\necho\n", true},
		{"credentials", "[default]\n", true},
		{"README.md", "# hi\n", false},
		{"model.bin", "abc", false},
		{"data.json", "{\"a\": \"\x00\"}", false},
		{"empty.py", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := inventory.NewFile("d/"+tt.name, strings.NewReader(tt.head), int64(len(tt.head)), nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := (Secrets{}).Wants(f); got != tt.want {
				t.Errorf("Wants = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestJSONEscapes: keys in JSON strings written with escapes are found as
// a program reading the file sees them, at the string's opening quote,
// and keys seen raw are not reported twice.
func TestJSONEscapes(t *testing.T) {
	k := "sk-proj-" + rnd(19, alnum, 60)
	g := "ghp_" + rnd(20, alnum, 36)
	src := "{\n  \"a\": \"" + strings.ReplaceAll(k, "-", `\u002d`) + "\",\n" +
		"  \"b\": \"x\\/" + g + "\"\n}\n"
	got := catalogBytes(t, "conf.json", []byte(src))
	type loc struct {
		Rule         string
		Line, Column int
	}
	var gl []loc
	for _, f := range got {
		gl = append(gl, loc{f.Rule, f.Line, f.Column})
	}
	// The GitHub token is found raw (after \/), at its own column; the
	// OpenAI key only decoded, at the opening quote of its string.
	want := []loc{{RuleGitHub, 3, 12}, {RuleAIKey, 2, 8}}
	if d := cmp.Diff(want, gl); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// TestCap: a dump of keys is listed up to a bound, and the rest said to
// be left out.
func TestCap(t *testing.T) {
	var b strings.Builder
	for i := range 1500 {
		b.WriteString("ghp_" + rnd(uint64(100+i), alnum, 36) + "\n")
	}
	got := catalogBytes(t, "dump.txt.sh", []byte(b.String()))
	n := 0
	for _, f := range got {
		if f.Rule == RuleGitHub {
			n++
		}
	}
	if n != maxMatches || got[len(got)-1].Rule != inventory.RuleScanLimit {
		t.Errorf("%d tokens listed, last finding %s; want %d and %s", n, got[len(got)-1].Rule, maxMatches, inventory.RuleScanLimit)
	}
}

func TestEntropy(t *testing.T) {
	tests := []struct {
		in     string
		lo, hi float64
	}{
		{"", 0, 0},
		{"aaaaaaaa", 0, 0},
		{"abababab", 1, 1},
		{"0123456789abcdef", 4, 4},
		{rnd(21, alnum, 4096), 5.9, 5.96},
		{rnd(22, hexa, 4096), 3.99, 4},
	}
	for _, tt := range tests {
		if got := entropy([]byte(tt.in)); got < tt.lo-1e-9 || got > tt.hi+1e-9 {
			t.Errorf("entropy(%.12q) = %v, want in [%v, %v]", tt.in, got, tt.lo, tt.hi)
		}
	}
}

func TestPlaceholder(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"sk-...", true},
		{"sk-xxxxxxxxxxxxxxxxxxxx", true},
		{"YOUR_KEY_HERE", true},
		{"<your-key>", true},
		{"${OPENAI_API_KEY}", true},
		{"changeme", true},
		{"AKIAIOSFODNN7EXAMPLE", true},
		{"ghp_****************", true},
		{"aaaaaa", true},
		{"abcdef", true},
		{"987654", true},
		{"a1b2c3-fake-token", true},
		{"aaaaa", false},
		{"abcdf", false},
		{rnd(23, alnum, 40), false},
		{rnd(24, hexa, 32), false},
	}
	for _, tt := range tests {
		if got := placeholder([]byte(tt.in)); got != tt.want {
			t.Errorf("placeholder(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestWordy(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"my_secret_name", true},
		{"DEFAULT-TOKEN", true},
		{"settings.key", true},
		{"MixedCase", false},
		{"abc123", false},
		{rnd(25, alnum, 24), false},
	}
	for _, tt := range tests {
		if got := wordy([]byte(tt.in)); got != tt.want {
			t.Errorf("wordy(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestGenericName(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"API_KEY", true},
		{"OPENAI_API_KEY", true},
		{"apiKey", true},
		{"authKey", true},
		{"client-secret", true},
		{"SLACK_BOT_TOKEN", true},
		{"key", true},
		{"_authToken", true},
		{"monkey", false},
		{"TOKENIZER_NAME", false},
		{"max_tokens", false},
		{"public_key", false},
		{"cache_key", false},
		{"API_KEY_ENV", false},
		{"secret_name", false},
		{"token_type", false},
	}
	for _, tt := range tests {
		if got := genericName([]byte(tt.in)); got != tt.want {
			t.Errorf("genericName(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestRedact: evidence shows the fixed prefix, the length and a
// fingerprint, and nothing of the random part.
func TestRedact(t *testing.T) {
	k := []byte("sk-proj-" + rnd(26, alnum, 60))
	got := redact("sk-proj-", k)
	want := "sk-proj-…(len 68, " + fingerprint(k) + ")"
	if got != want {
		t.Errorf("redact = %q, want %q", got, want)
	}
	if !strings.HasPrefix(fingerprint(k), "sha256:") || len(fingerprint(k)) != len("sha256:")+8 {
		t.Errorf("fingerprint = %q", fingerprint(k))
	}
}
