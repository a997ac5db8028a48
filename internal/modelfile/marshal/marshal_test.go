package marshal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCodeVersions decodes the code of the same lambdas as every Python
// from 2.7 to 3.13 marshals it: each must read in exactly its own layout
// and name what the source names.
func TestCodeVersions(t *testing.T) {
	layouts := map[string]Layout{
		"27": Py2, "36": Py30, "37": Py30, "38": Py38, "39": Py38, "310": Py38,
		"311": Py311, "312": Py311, "313": Py311,
	}
	type want struct {
		names   []string
		strings []string // a subset, in any order
		codes   int      // at least
	}
	lambdas := map[string]want{
		"os_system":    {names: []string{"__import__", "system"}, strings: []string{"os", "true"}, codes: 1},
		"benign":       {codes: 1},
		"getattr_eval": {names: []string{"getattr", "__builtins__"}, strings: []string{"1+1"}, codes: 1},
		"nested":       {strings: []string{"skip", "drop"}, codes: 2},
	}
	files, err := filepath.Glob("testdata/py*.marshal")
	if err != nil || len(files) < 40 {
		t.Fatalf("%d code fixtures (%v); run testdata/keras/gen.py", len(files), err)
	}
	for _, p := range files {
		base := strings.TrimSuffix(filepath.Base(p), ".marshal")
		ver, lambda, _ := strings.Cut(strings.TrimPrefix(base, "py"), "_")
		t.Run(base, func(t *testing.T) {
			codes, err := DecodeCode(read(t, filepath.Base(p)), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if len(codes) != 1 || codes[0].Layout != layouts[ver] {
				var got []string
				for _, c := range codes {
					got = append(got, c.Layout.String())
				}
				t.Fatalf("read in layouts %v, want only %v", got, layouts[ver])
			}
			c := codes[0]
			if c.Name != "<lambda>" || c.Filename != "<chainvet-fixture>" {
				t.Errorf("co_name %q, co_filename %q", c.Name, c.Filename)
			}
			if c.Layout == Py311 && c.QualName != "<lambda>" {
				t.Errorf("co_qualname %q", c.QualName)
			}
			r := c.References()
			if lambda == "consts" {
				checkConsts(t, c)
				return
			}
			w := lambdas[lambda]
			if diff := cmp.Diff(w.names, r.Names); diff != "" && (len(w.names) > 0 || len(r.Names) > 0) {
				t.Errorf("names (-want +got):\n%s", diff)
			}
			for _, s := range w.strings {
				if !slices.Contains(r.Strings, s) {
					t.Errorf("strings %q lack %q", r.Strings, s)
				}
			}
			if r.Codes < w.codes {
				t.Errorf("%d code objects, want at least %d", r.Codes, w.codes)
			}
			if lambda == "os_system" || lambda == "benign" {
				if diff := cmp.Diff([]string{"x"}, c.VarNames); diff != "" {
					t.Errorf("local names (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// checkConsts checks the tuple the consts lambda returns: every constant
// type a code object holds.
func checkConsts(t *testing.T, c *Code) {
	t.Helper()
	// Compilers fold different parts of the expression: look for each
	// constant rather than for one tuple.
	got := repr(c.Consts)
	for _, want := range []string{"1.5", "(0+2i)", "1000000000000000000000000000000", "b'raw'", "None", "True", "False", "Ellipsis", "'two'", "'snow☃'"} {
		if !strings.Contains(got, want) {
			t.Errorf("constants %s lack %s", got, want)
		}
	}
}

// repr renders a value like Python's repr, for comparisons.
func repr(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case NoneType:
		return "None"
	case EllipsisType:
		return "Ellipsis"
	case StopIterationType:
		return "StopIteration"
	case bool:
		if v {
			return "True"
		}
		return "False"
	case int64:
		return fmt.Sprint(v)
	case *big.Int:
		return v.String()
	case float64:
		return fmt.Sprint(v)
	case complex128:
		return fmt.Sprint(v)
	case string:
		return "'" + v + "'"
	case Bytes:
		return "b'" + string(v) + "'"
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = repr(x)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case *Seq:
		parts := make([]string, len(v.Items))
		for i, x := range v.Items {
			parts[i] = repr(x)
		}
		switch v.Kind {
		case typeTuple:
			if len(parts) == 1 {
				return "(" + parts[0] + ",)"
			}
			return "(" + strings.Join(parts, ", ") + ")"
		case typeList:
			return "[" + strings.Join(parts, ", ") + "]"
		}
		sort.Strings(parts)
		if v.Kind == typeSet {
			return "{" + strings.Join(parts, ", ") + "}"
		}
		return "frozenset({" + strings.Join(parts, ", ") + "})"
	case *Dict:
		parts := make([]string, len(v.Keys))
		for i := range v.Keys {
			parts[i] = repr(v.Keys[i]) + ": " + repr(v.Values[i])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case *Code:
		return "<code " + v.Name + ">"
	}
	return fmt.Sprintf("%T", v)
}

// TestValues reads the same dict marshalled in versions 0 to 4: text and
// binary floats, with and without references and short strings.
func TestValues(t *testing.T) {
	want := "{'list': [1, -7, 2.5, 'str', 'ünï', b'bytes', None, True, False, Ellipsis, (1,), {1, 2}, frozenset({3}), (1+2i), " +
		"1267650600228229401496703205376, -1267650600228229401496703205376, StopIteration, '" + strings.Repeat("x", 300) + "'], " +
		"'nested': {'k': ('a', ('b', ('c',)))}}"
	for version := range 5 {
		t.Run(fmt.Sprint("v", version), func(t *testing.T) {
			for _, l := range Layouts {
				v, err := Load(read(t, fmt.Sprintf("values_v%d.marshal", version)), l, Limits{})
				if err != nil {
					t.Fatalf("%v: %v", l, err)
				}
				if got := repr(v); got != want {
					t.Errorf("%v:\n got %s\nwant %s", l, got, want)
				}
			}
		})
	}
}

// le32 encodes n as marshal's 4-byte little-endian long.
func le32(n int32) string {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(n))
	return string(b[:])
}

func TestLoadMalformed(t *testing.T) {
	tests := []struct {
		name, data string
		want       error
	}{
		{"empty", "", ErrMalformed},
		{"unknown_type", "?", ErrMalformed},
		{"truncated_int", "i\x01\x02", ErrMalformed},
		{"negative_bytes", "s" + le32(-1), ErrMalformed},
		{"bytes_past_end", "s" + le32(100) + "abc", ErrMalformed},
		{"tuple_past_end", "(" + le32(1<<30), ErrMalformed},
		{"ref_out_of_range", "r" + le32(0), ErrMalformed},
		{"ref_negative", ")\x02\xe9" + le32(1) + "r" + le32(-1), ErrMalformed},
		{"null_in_tuple", ")\x010", ErrMalformed},
		{"null_dict_value", "{N0", ErrMalformed},
		{"dict_unterminated", "{NN", ErrMalformed},
		{"long_digit_range", "l" + le32(1) + "\xff\xff", ErrMalformed},
		{"long_unnormalized", "l" + le32(1) + "\x00\x00", ErrMalformed},
		{"long_past_end", "l" + le32(1000), ErrMalformed},
		{"float_text", "f\x03abc", ErrMalformed},
		{"string_ref_in_py3", "R" + le32(0), ErrMalformed},
		// A frozenset refers to itself before it is complete: CPython
		// refuses, since the set is built from its items.
		{"ref_to_pending_frozenset", "\xbe" + le32(1) + "r" + le32(0), ErrMalformed},
		{"deep", strings.Repeat(")\x01", 300) + "N", ErrLimit},
		{"many_objects", "(" + le32(5000) + strings.Repeat("N", 5000), ErrLimit},
	}
	lim := Limits{Objects: 1000}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := Load([]byte(tc.data), Py311, lim)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Load = %s, %v; want %v", repr(v), err, tc.want)
			}
		})
	}
}

func TestLoadReferences(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		// A shared string: written once with FLAG_REF, then referenced.
		{"shared_string", ")\x02\xda\x01xr" + le32(0), "('x', 'x')"},
		// A list may contain itself; the walk must end.
		{"self_list", "\xdb" + le32(1) + "r" + le32(0), "[<self>]"},
		{"flag_on_none_ignored", ")\x02\xcer" + le32(0), ""},
		{"big_long", "l" + le32(-3) + "\x01\x00\x00\x00\x01\x00", "-1073741825"},
		{"text_floats", ")\x02f\x03infx\x031.5\x04-nan", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := Load([]byte(tc.data), Py311, Limits{})
			switch tc.name {
			case "self_list":
				s, ok := v.(*Seq)
				if err != nil || !ok || len(s.Items) != 1 || s.Items[0] != s {
					t.Fatalf("Load = %T, %v; want a list holding itself", v, err)
				}
			case "flag_on_none_ignored":
				// FLAG_REF on None registers nothing: the reference fails.
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("Load = %v; want ErrMalformed", err)
				}
			case "text_floats":
				s, ok := v.(*Seq)
				if err != nil || !ok || len(s.Items) != 2 {
					t.Fatalf("Load = %v, %v", repr(v), err)
				}
				if f, _ := s.Items[0].(float64); !math.IsInf(f, 1) {
					t.Errorf("inf read as %v", s.Items[0])
				}
				if c, _ := s.Items[1].(complex128); real(c) != 1.5 || !math.IsNaN(imag(c)) {
					t.Errorf("complex read as %v", s.Items[1])
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if got := repr(v); got != tc.want {
					t.Errorf("got %s, want %s", got, tc.want)
				}
			}
		})
	}
}

// TestCodeRejectsWrongLayouts feeds a code object each layout it is not:
// the field types must give the guess away, not yield a code object with
// shifted fields.
func TestCodeRejectsWrongLayouts(t *testing.T) {
	b := read(t, "py311_os_system.marshal")
	for _, l := range []Layout{Py2, Py30, Py38} {
		if v, err := Load(b, l, Limits{}); err == nil {
			t.Errorf("3.11 code read as %v: %s", l, repr(v))
		}
	}
}

func TestDecodeCodeNotCode(t *testing.T) {
	_, err := DecodeCode(read(t, "values_v4.marshal"), Limits{})
	if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "not a code object") {
		t.Errorf("DecodeCode(dict) = %v; want a malformed error naming the type", err)
	}
	_, err = DecodeCode(read(t, "py311_nested.marshal"), Limits{Bytes: 16})
	if !errors.Is(err, ErrLimit) {
		t.Errorf("DecodeCode over the byte limit = %v; want ErrLimit", err)
	}
}

// TestTruncated cuts every code fixture at every length: each prefix is an
// error, never a panic or a code object.
func TestTruncated(t *testing.T) {
	files, _ := filepath.Glob("testdata/py3*_os_system.marshal")
	for _, p := range files {
		b := read(t, filepath.Base(p))
		for n := range len(b) - 1 {
			if codes, err := DecodeCode(b[:n], Limits{}); err == nil {
				t.Fatalf("%s cut to %d bytes decoded as %d code objects", p, n, len(codes))
			}
		}
	}
}

func BenchmarkDecodeCode(b *testing.B) {
	data := read(b, "py311_nested.marshal")
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := DecodeCode(data, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}
