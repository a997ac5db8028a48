package keras

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/google/go-cmp/cmp"
)

// code returns the base64 of a marshalled lambda from package marshal's
// fixtures, with newlines as Keras's func_dump writes them.
func code(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "marshal", "testdata", name+".marshal"))
	if err != nil {
		t.Fatal(err)
	}
	s := base64.StdEncoding.EncodeToString(b)
	var lines []string
	for len(s) > 76 {
		lines = append(lines, s[:76])
		s = s[76:]
	}
	return strings.Join(append(lines, s), `\n`) + `\n`
}

// seq wraps layer JSON in a Keras 3 Sequential model.
func seq(layers ...string) string {
	return `{"module": "keras", "class_name": "Sequential", "config": {"name": "m", "trainable": true,
		"dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null},
		"layers": [` + strings.Join(layers, ", ") + `]}, "registered_name": null}`
}

// dense is a Keras 3 Dense layer with the given activation JSON.
func dense(activation string) string {
	return `{"module": "keras.layers", "class_name": "Dense", "config": {"name": "dense", "trainable": true, "units": 2,
		"activation": ` + activation + `, "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform",
		"config": {"seed": null}, "registered_name": null}}, "registered_name": null, "build_config": {"input_shape": [null, 4]}}`
}

func lambda3(code string) string {
	return `{"module": "keras.layers", "class_name": "Lambda", "config": {"name": "l", "function":
		{"class_name": "__lambda__", "config": {"code": "` + code + `", "defaults": null, "closure": null}}, "arguments": {}},
		"registered_name": null}`
}

// k2 wraps layers in a Keras 2 model_config.
func k2(layers ...string) string {
	return `{"class_name": "Sequential", "config": {"name": "sequential", "layers": [` + strings.Join(layers, ", ") + `]}}`
}

func lambda2(function, typ, module string, extra string) string {
	return `{"class_name": "Lambda", "config": {"name": "lambda", "trainable": true, "dtype": "float32",
		"function": ` + function + `, "function_type": "` + typ + `", "module": "` + module + `", "output_shape": null,
		"output_shape_type": "raw", "output_shape_module": null, "arguments": {}` + extra + `}}`
}

type want struct {
	rule     string
	severity inventory.Severity
	evidence string // a substring of the evidence
}

func TestCheck(t *testing.T) {
	evil := code(t, "py311_os_system")
	harmless := code(t, "py311_benign")
	tests := []struct {
		name   string
		config string
		want   []want
	}{
		{"benign_sequential", seq(dense(`"relu"`)), nil},
		{"activation_keras_function", seq(dense(`{"module": "keras.activations", "class_name": "function", "config": "relu", "registered_name": "relu"}`)), nil},
		{"builtins_keras_name", seq(dense(`{"module": "builtins", "class_name": "function", "config": "relu", "registered_name": "relu"}`)), nil},
		{"custom_object_without_module", seq(`{"module": null, "class_name": "Scale", "config": {"name": "s"}, "registered_name": "Custom>Scale"}`), nil},
		{"empty_module", seq(`{"module": "", "class_name": "Scale", "config": {"name": "s"}, "registered_name": null}`), nil},
		{"keras_hub_module", seq(`{"module": "keras_hub.src.models.gemma.gemma_backbone", "class_name": "GemmaBackbone", "config": {}, "registered_name": "keras_hub>GemmaBackbone"}`), nil},
		{"sentence_with_url", seq(`{"module": "keras.layers", "class_name": "Dense", "config": {"name": "see https://keras.io for details"}, "registered_name": null}`), nil},
		{"inline_vocabulary", seq(`{"module": "keras.layers", "class_name": "StringLookup", "config": {"name": "l", "vocabulary": ["a", "b"]}, "registered_name": null}`), nil},
		{"python_floats", seq(`{"module": "keras.layers", "class_name": "ReLU", "config": {"name": "r", "max_value": Infinity, "threshold": -Infinity, "negative_slope": NaN}, "registered_name": null}`), nil},

		{"lambda_os_system", seq(lambda3(evil)), []want{{RuleLambda, inventory.Critical, "dangerous: __import__, system, os"}}},
		{"lambda_harmless", seq(lambda3(harmless)), []want{{RuleLambda, inventory.High, "code object <lambda> (python 3.11+"}}},
		{"lambda_py27", seq(lambda3(code(t, "py27_os_system"))), []want{{RuleLambda, inventory.Critical, "python 2"}}},
		{"lambda_value_form", seq(dense(`{"class_name": "__lambda__", "config": {"value": ["` + evil + `", null, null]}}`)),
			[]want{{RuleLambda, inventory.Critical, "system"}}},
		{"lambda_code_list", seq(dense(`{"class_name": "__lambda__", "config": {"code": ["` + evil + `", null, null]}}`)),
			[]want{{RuleLambda, inventory.Critical, "system"}}},
		{"lambda_without_code", seq(dense(`{"class_name": "__lambda__", "config": {"defaults": null}}`)),
			[]want{{RuleLambda, inventory.High, "without a code string"}}},
		{"lambda_mask", seq(`{"module": "keras.layers", "class_name": "Lambda", "config": {"name": "l", "function": "x",
			"mask": {"class_name": "__lambda__", "config": {"code": "` + evil + `"}}}, "registered_name": null}`),
			[]want{{RuleLambda, inventory.Critical, "system"}}},
		{"lambda_undecodable", seq(lambda3(base64.StdEncoding.EncodeToString([]byte("\xe3subprocess.Popen junk")))),
			[]want{{RuleLambda, inventory.Critical, "undecodable code"}}},
		{"legacy_lambda_list", k2(lambda2(`["`+evil+`", null, null]`, "lambda", "__main__", "")),
			[]want{{RuleLambda, inventory.Critical, "system"}}},
		{"legacy_lambda_string", k2(lambda2(`"`+evil+`"`, "lambda", "__main__", "")),
			[]want{{RuleLambda, inventory.Critical, "system"}}},
		{"legacy_output_shape", k2(lambda2(`["`+harmless+`", null, null]`, "lambda", "__main__",
			`, "output_shape": ["`+evil+`", null, null], "output_shape_type": "lambda"`)),
			[]want{{RuleLambda, inventory.High, ""}, {RuleLambda, inventory.Critical, "system"}}},
		{"legacy_function_os", k2(lambda2(`"system"`, "function", "os", "")),
			[]want{{RuleForeign, inventory.Critical, "os.system"}}},
		{"legacy_function_main", k2(lambda2(`"my_fn"`, "function", "__main__", "")), nil},
		{"legacy_function_other", k2(lambda2(`"fn"`, "function", "mylib.ops", "")),
			[]want{{RuleForeign, inventory.High, "mylib.ops.fn"}}},
		{"legacy_output_shape_function", k2(lambda2(`"my_fn"`, "function", "__main__",
			`, "output_shape": "popen", "output_shape_type": "function", "output_shape_module": "os"`)),
			[]want{{RuleForeign, inventory.Critical, "os.popen"}}},

		{"module_os_system", seq(dense(`{"module": "os", "class_name": "function", "config": "system", "registered_name": null}`)),
			[]want{{RuleForeign, inventory.Critical, "os.system"}}},
		{"builtins_eval", seq(dense(`{"module": "builtins", "class_name": "function", "config": "eval", "registered_name": null}`)),
			[]want{{RuleForeign, inventory.Critical, "builtins.eval"}}},
		{"builtins_print", seq(dense(`{"module": "builtins", "class_name": "function", "config": "print", "registered_name": null}`)),
			[]want{{RuleForeign, inventory.High, "builtins.print"}}},
		{"module_class", seq(`{"module": "evil.layers", "class_name": "Backdoor", "config": {}, "registered_name": null}`),
			[]want{{RuleForeign, inventory.High, "evil.layers.Backdoor"}}},
		{"dangerous_module_class", seq(`{"module": "subprocess", "class_name": "Popen", "config": {}, "registered_name": null}`),
			[]want{{RuleForeign, inventory.Critical, "subprocess.Popen"}}},
		{"typespec", seq(`{"class_name": "__typespec__", "spec_name": "system", "module": "os", "config": [], "registered_name": null}`),
			[]want{{RuleForeign, inventory.Critical, "os.system"}}},
		{"tensorflow_gfile", seq(dense(`{"module": "tensorflow.io.gfile", "class_name": "function", "config": "GFile", "registered_name": null}`)),
			[]want{{RuleForeign, inventory.Critical, "tensorflow.io.gfile.GFile"}}},
		{"keras_func_load", seq(dense(`{"module": "keras.src.utils.python_utils", "class_name": "function", "config": "func_load", "registered_name": null}`)),
			[]want{{RuleForeign, inventory.Critical, "marshalled bytecode"}}},
		{"tensorflow_math", seq(dense(`{"module": "tensorflow.math", "class_name": "function", "config": "tanh", "registered_name": null}`)), nil},
		{"registered_dangerous", seq(`{"module": "keras.layers", "class_name": "Dense", "config": {}, "registered_name": "builtins>exec"}`),
			[]want{{RuleForeign, inventory.Critical, "builtins>exec"}}},

		{"get_file_class", seq(`{"module": "keras.utils", "class_name": "get_file", "config": {"fname": "x"}, "registered_name": null}`),
			[]want{{RuleExternal, inventory.High, "keras.utils.get_file"}}},
		{"get_file_function", seq(dense(`{"module": "keras.src.utils.file_utils", "class_name": "function", "config": "get_file", "registered_name": null}`)),
			[]want{{RuleExternal, inventory.High, "get_file"}}},
		{"url_value", seq(`{"module": "keras.layers", "class_name": "X", "config": {"origin": " HTTPS://example.com/a.py "}, "registered_name": null}`),
			[]want{{RuleExternal, inventory.High, "example.com"}}},
		{"gs_url", seq(`{"module": "keras.layers", "class_name": "X", "config": {"path": "gs://bucket/vocab"}, "registered_name": null}`),
			[]want{{RuleExternal, inventory.High, "gs://bucket/vocab"}}},
		{"vocabulary_path", seq(`{"module": "keras.layers", "class_name": "StringLookup", "config": {"vocabulary": "/etc/passwd"}, "registered_name": null}`),
			[]want{{RuleExternal, inventory.High, "/etc/passwd"}}},
		{"tfsm_layer", seq(`{"module": "keras.layers", "class_name": "TFSMLayer", "config": {"filepath": "/srv/m"}, "registered_name": null}`),
			[]want{{RuleExternal, inventory.High, "/srv/m"}}},

		// Wrappers and nested models are walked to the bottom.
		{"nested", seq(`{"module": "keras.layers", "class_name": "TimeDistributed", "config": {"layer":
			{"module": "keras.layers", "class_name": "Bidirectional", "config": {"layer": ` + lambda3(evil) + `}}}}`),
			[]want{{RuleLambda, inventory.Critical, "system"}}},
		{"compile_config", `{"module": "keras", "class_name": "Sequential", "config": {"layers": []}, "compile_config":
			{"loss": {"module": "os", "class_name": "function", "config": "system"}, "metrics": ["mae"]}}`,
			[]want{{RuleForeign, inventory.Critical, "os.system"}}},
		// Python keeps the last of duplicate keys; both are checked.
		{"duplicate_keys", `{"class_name": "Sequential", "config": {"layers": [` + lambda3(evil) + `]}, "config": {"layers": []}}`,
			[]want{{RuleLambda, inventory.Critical, "system"}}},

		{"not_json", `{"class_name": "Sequential", "config": {`, []want{{RuleMalformed, inventory.Medium, "object key expected"}}},
		{"trailing_data", `{} {}`, []want{{RuleMalformed, inventory.Medium, "extra data"}}},
		{"nul_in_string", "{\"class_name\": \"a\x00b\"}", []want{{RuleMalformed, inventory.Medium, "control character"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := CheckJSON(context.Background(), []byte(tc.config), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			var got []want
			for _, p := range res.Problems {
				got = append(got, want{p.Rule, p.Severity, p.Evidence})
			}
			if len(got) != len(tc.want) {
				t.Fatalf("problems:\n%s\nwant %d", dump(res), len(tc.want))
			}
			for i, w := range tc.want {
				if got[i].rule != w.rule || got[i].severity != w.severity || !strings.Contains(got[i].evidence, w.evidence) {
					t.Errorf("problem %d = %s %s %q; want %s %s containing %q", i, got[i].severity, got[i].rule, got[i].evidence, w.severity, w.rule, w.evidence)
				}
			}
		})
	}
}

func dump(r *Result) string {
	var b strings.Builder
	for _, p := range r.Problems {
		fmt.Fprintf(&b, "  %s %s %s: %s\n", p.Severity, p.Rule, p.Pointer, p.Evidence)
	}
	return b.String()
}

// TestOffsets checks that problems point at the value in the file, with
// the right line.
func TestOffsets(t *testing.T) {
	cfg := "{\"class_name\": \"Sequential\",\n \"config\": {\"layers\": [\n  " + lambda3(code(t, "py311_os_system")) + "]}}"
	res, err := CheckJSON(context.Background(), []byte(cfg), Limits{})
	if err != nil || len(res.Problems) != 1 {
		t.Fatalf("CheckJSON = %v, %v", res, err)
	}
	p := res.Problems[0]
	if p.Offset < 0 || cfg[p.Offset] != '"' || !strings.HasPrefix(cfg[p.Offset+1:], "4wEAAA") {
		t.Errorf("offset %d does not point at the code string", p.Offset)
	}
	if p.Line != 4 {
		t.Errorf("line %d, want 4", p.Line)
	}
	if p.Pointer != "config.layers[0].config.function.config.code" {
		t.Errorf("pointer %q", p.Pointer)
	}
}

// TestEncodings feeds json.loads's encodings: the payload must be found
// in each, and offsets given only where they are the file's.
func TestEncodings(t *testing.T) {
	cfg := seq(dense(`{"module": "os", "class_name": "function", "config": "system"}`))
	u16 := func(big bool, bom bool) []byte {
		var out []byte
		if bom {
			if big {
				out = append(out, 0xfe, 0xff)
			} else {
				out = append(out, 0xff, 0xfe)
			}
		}
		for _, u := range utf16.Encode([]rune(cfg)) {
			if big {
				out = append(out, byte(u>>8), byte(u))
			} else {
				out = append(out, byte(u), byte(u>>8))
			}
		}
		return out
	}
	u32 := func(big bool) []byte {
		var out []byte
		for _, r := range cfg {
			if big {
				out = append(out, 0, 0, byte(r>>8), byte(r))
			} else {
				out = append(out, byte(r), byte(r>>8), 0, 0)
			}
		}
		return out
	}
	tests := []struct {
		name    string
		data    []byte
		offsets bool
	}{
		{"utf8", []byte(cfg), true},
		{"utf8_bom", append([]byte{0xef, 0xbb, 0xbf}, cfg...), false},
		{"utf16le_bom", u16(false, true), false},
		{"utf16be_bom", u16(true, true), false},
		{"utf16le", u16(false, false), false},
		{"utf16be", u16(true, false), false},
		{"utf32le", u32(false), false},
		{"utf32be", u32(true), false},
		{"utf32le_bom", append([]byte{0xff, 0xfe, 0, 0}, u32(false)...), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := CheckJSON(context.Background(), tc.data, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Problems) != 1 || res.Problems[0].Severity != inventory.Critical {
				t.Fatalf("problems:\n%s", dump(res))
			}
			if got := res.Problems[0].Offset >= 0; got != tc.offsets {
				t.Errorf("offset %d given: %v, want %v", res.Problems[0].Offset, got, tc.offsets)
			}
			if !LooksLikeConfig(tc.data[:min(len(tc.data), 301)]) {
				t.Error("LooksLikeConfig = false")
			}
		})
	}
}

func TestJSONGrammar(t *testing.T) {
	tests := []struct {
		text string
		ok   bool
	}{
		{`{"a": [1, -2.5e3, 0, NaN, Infinity, -Infinity, true, false, null, "\u00e9\ud83d\ude00\ud800x"]}`, true},
		{" \t\r\n[]\n", true},
		{`"\/\b\f\n\r\t\"\\"`, true},
		{`01`, false},
		{`[1,]`, false},
		{`{"a" 1}`, false},
		{`{"a": 1,}`, false},
		{`1.`, false},
		{`1e`, false},
		{`-`, false},
		{`"\x"`, false},
		{`"\u12"`, false},
		{`nan`, false},
		{`'a'`, false},
		{``, false},
	}
	for _, tc := range tests {
		_, err := parseJSON([]byte(tc.text), DefaultLimits)
		if (err == nil) != tc.ok {
			t.Errorf("parseJSON(%q) = %v, want ok %v", tc.text, err, tc.ok)
		}
	}
	n, err := parseJSON([]byte(`{"k": 1, "k": "\ud83d\ude00\ud800"}`), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := n.str("k"); s != "😀\ufffd" {
		t.Errorf("last duplicate key = %q", s)
	}
}

func TestLimits(t *testing.T) {
	deep := strings.Repeat("[", 100) + strings.Repeat("]", 100)
	many := "[" + strings.Repeat("1,", 999) + "1]"
	var lambdas []string
	for range 12 {
		lambdas = append(lambdas, lambda3(code(t, "py311_benign")))
	}
	tests := []struct {
		name string
		text string
		lim  Limits
		want []string // rules, in order
	}{
		{"depth", deep, Limits{Depth: 50}, []string{RuleLimit}},
		{"values", many, Limits{Values: 100}, []string{RuleLimit}},
		{"bytes", many, Limits{ConfigBytes: 100}, []string{RuleLimit}},
		{"problems", seq(lambdas...), Limits{Problems: 10}, append(slices.Repeat([]string{RuleLambda}, 10), RuleLimit)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := CheckJSON(context.Background(), []byte(tc.text), tc.lim)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range res.Problems {
				got = append(got, p.Rule)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("rules (-want +got):\n%s", diff)
			}
		})
	}
}

func TestModel(t *testing.T) {
	cfg := `{"module": "keras.src.models.functional", "class_name": "Functional", "config": {"name": "two_tower", "layers": [
		{"class_name": "InputLayer", "config": {"dtype": "float32", "name": "in"}},
		{"class_name": "Dense", "config": {"name": "d", "trainable": true, "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "mixed_bfloat16"}}}},
		{"class_name": "Dense", "config": {"name": "q", "trainable": true, "dtype": {"module": "keras", "class_name": "QuantizedDTypePolicy", "config": {"name": "int8_from_float32"}}}},
		{"class_name": "Sequential", "config": {"name": "inner", "layers": [{"class_name": "Dense", "config": {"name": "h", "trainable": true, "dtype": "float16"}}]}}
	]}}`
	res, err := CheckJSON(context.Background(), []byte(cfg), Limits{})
	if err != nil || len(res.Problems) != 0 {
		t.Fatalf("CheckJSON = %v, %v", dump(res), err)
	}
	got := *res.Model
	want := Model{ClassName: "Functional", Name: "two_tower", Layers: 5, DTypes: []string{"F16", "F32", "I8"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("model (-want +got):\n%s", diff)
	}
	if a := got.Architecture(); a != "Functional(two_tower)" {
		t.Errorf("Architecture = %q", a)
	}
}

func TestCheckString(t *testing.T) {
	// Text, not bytes: no encoding is guessed for a .h5 attribute.
	res, err := CheckString(context.Background(), k2(lambda2(`["`+code(t, "py38_os_system")+`", null, null]`, "lambda", "__main__", "")), Limits{})
	if err != nil || len(res.Problems) != 1 || res.Problems[0].Severity != inventory.Critical {
		t.Fatalf("CheckString = %v, %v", dump(res), err)
	}
	if !strings.Contains(res.Problems[0].Evidence, "python 3.8-3.10") {
		t.Errorf("evidence %q", res.Problems[0].Evidence)
	}
}

func TestReadMetadata(t *testing.T) {
	md, err := ReadMetadata([]byte(`{"keras_version": "3.6.0", "date_saved": "2024-11-21@12:00:00"}`), Limits{})
	if err != nil || md.KerasVersion != "3.6.0" || md.DateSaved != "2024-11-21@12:00:00" {
		t.Errorf("ReadMetadata = %+v, %v", md, err)
	}
	if _, err := ReadMetadata([]byte(`[1]`), Limits{}); err == nil {
		t.Error("metadata that is not an object read without error")
	}
}

func TestPyBase64(t *testing.T) {
	// What binascii.a2b_base64 (codecs 'base64') gives, checked with CPython.
	tests := []struct {
		in, out string
		ok      bool
	}{
		{"YWJj", "abc", true},
		{"YW\nJj", "abc", true},
		{"YWJ=", "ab", true},
		{"YQ==", "a", true},
		{"YQ", "", false},
		{"Y", "", false},
		{"YWJj====extra", "", false},
		{"YWJj====ZGVm", "abcdef", true},
		{"YQ=x=", "a\x0c", true},
		{"YQ==ZGVm", "a", true},
		{"!YWJj!", "abc", true},
		{"", "", true},
		{"YWJj\u00e9", "", false},
	}
	for _, tc := range tests {
		got, ok := pyBase64(tc.in)
		if ok != tc.ok || (ok && string(got) != tc.out) {
			t.Errorf("pyBase64(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.out, tc.ok)
		}
	}
	if got := string(rawUnicodeEscape("a\u00ff\u0100\U0001f600")); got != `a`+"\xff"+`\u0100\U0001f600` {
		t.Errorf("rawUnicodeEscape = %q", got)
	}
}

func TestLooksLikeConfig(t *testing.T) {
	tests := []struct {
		head string
		want bool
	}{
		{`{"module": "keras", "class_name": "Sequential", "config": {}}`, true},
		{"\ufeff  {\"class_name\": \"Functional\", \"config\": {}}", true},
		{`{"architectures": ["LlamaForCausalLM"], "model_type": "llama"}`, false},
		{`[{"class_name": "x", "config": 1}]`, false},
		{`not json`, false},
	}
	for _, tc := range tests {
		if got := LooksLikeConfig([]byte(tc.head)); got != tc.want {
			t.Errorf("LooksLikeConfig(%q) = %v, want %v", tc.head, got, tc.want)
		}
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var layers []string
	for range 3000 {
		layers = append(layers, dense(`"relu"`))
	}
	if _, err := CheckJSON(ctx, []byte(seq(layers...)), Limits{}); err == nil {
		t.Error("a cancelled check of a large config returned no error")
	}
}
