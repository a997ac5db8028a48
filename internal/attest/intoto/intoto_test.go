package intoto

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	sumA = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824" // sha256("hello")
	sumB = "486ea46224d1bb4fb680f34f7c9ad96a8f24ec88be73ea8e5a6c65260e9cb8a7" // sha256("world")
)

func TestNewMarshalParse(t *testing.T) {
	s, err := New("https://cyclonedx.org/bom", []byte(` {"bomFormat":"CycloneDX"} `),
		[]Subject{{Name: "a.txt", Digest: map[string]string{"sha256": sumA}}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a.txt","digest":{"sha256":"` + sumA +
		`"}}],"predicateType":"https://cyclonedx.org/bom","predicate":{"bomFormat":"CycloneDX"}}`
	if string(b) != want {
		t.Fatalf("Marshal:\n got %s\nwant %s", b, want)
	}
	got, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.PredicateType != s.PredicateType || got.Subject[0].Digest["sha256"] != sumA || string(got.Predicate) != `{"bomFormat":"CycloneDX"}` {
		t.Fatalf("round trip changed the statement: %+v", got)
	}
}

func TestParseRejects(t *testing.T) {
	sub := `[{"name":"a","digest":{"sha256":"` + sumA + `"}}]`
	for _, tc := range []struct {
		name, in, want string
	}{
		{"wrong_type", `{"_type":"https://in-toto.io/Statement/v0.1","subject":` + sub + `,"predicateType":"x:y","predicate":{}}`, "_type"},
		{"no_subject", `{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"x:y","predicate":{}}`, "no subject"},
		{"missing_subject", `{"_type":"https://in-toto.io/Statement/v1","predicateType":"x:y","predicate":{}}`, "no subject"},
		{"no_digest", `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a"}],"predicateType":"x:y"}`, "no digest"},
		{"upper_hex", `{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"` + strings.ToUpper(sumA) + `"}}],"predicateType":"x:y"}`, "lower-case hex"},
		{"bad_predicate_type", `{"_type":"https://in-toto.io/Statement/v1","subject":` + sub + `,"predicateType":"bom"}`, "not a URI"},
		{"predicate_array", `{"_type":"https://in-toto.io/Statement/v1","subject":` + sub + `,"predicateType":"x:y","predicate":[1]}`, "not a JSON object"},
		{"duplicate_type", `{"_type":"https://in-toto.io/Statement/v1","_type":"https://in-toto.io/Statement/v1","subject":` + sub + `,"predicateType":"x:y"}`, "duplicate key"},
		{"duplicate_nested", `{"_type":"https://in-toto.io/Statement/v1","subject":` + sub + `,"predicateType":"x:y","predicate":{"a":{"b":1,"b":2}}}`, "duplicate key"},
		{"case_folded_key", `{"_type":"https://in-toto.io/Statement/v1","subject":` + sub + `,"predicateType":"x:y","PredicateType":"a:b"}`, "unknown field"},
		{"case_folded_subject_key", `{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"` + sumA + `"},"Digest":{"sha256":"` + sumB + `"}}],"predicateType":"x:y"}`, "unknown field"},
		{"unknown_field", `{"_type":"https://in-toto.io/Statement/v1","subject":` + sub + `,"predicateType":"x:y","extra":1}`, "unknown field"},
		{"trailing", `{"_type":"https://in-toto.io/Statement/v1","subject":` + sub + `,"predicateType":"x:y"} {}`, "malformed"},
		{"deep", `{"_type":"https://in-toto.io/Statement/v1","subject":` + sub + `,"predicateType":"x:y","predicate":{"a":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `}}`, "deeper"},
		{"truncated", `{"_type":"https://in-toto.io/Statement/v1","subject":`, "malformed"},
		{"not_json", `hello`, "malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.in))
			if err == nil {
				t.Fatal("Parse accepted it")
			}
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrMalformed mentioning %q", err, tc.want)
			}
		})
	}
}

func TestParseAcceptsFullDescriptor(t *testing.T) {
	in := `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","uri":"pkg:pypi/x@1","digest":{"sha256":"` + sumA +
		`","gitCommit":"abc1"},"mediaType":"text/plain","downloadLocation":"https://example.com/a","annotations":{"k":"v"}}],"predicateType":"x:y"}`
	if _, err := Parse([]byte(in)); err != nil {
		t.Fatal(err)
	}
}

func TestFileSubjectsAndMatch(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.txt"), filepath.Join(dir, "b.txt")
	os.WriteFile(a, []byte("hello"), 0o644)
	os.WriteFile(b, []byte("world"), 0o644)
	subs, err := FileSubjects(context.Background(), []string{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if subs[0].Digest["sha256"] != sumA || subs[1].Digest["sha256"] != sumB || subs[0].Name != filepath.ToSlash(a) {
		t.Fatalf("subjects = %+v", subs)
	}
	if _, err := FileSubjects(context.Background(), []string{dir}); err == nil {
		t.Fatal("a folder was accepted as a subject")
	}
	st, err := New("x:y", nil, []Subject{{Name: "a.txt", Digest: map[string]string{"sha256": sumA}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		want []Subject
		err  string
	}{
		{"same_digest_other_name", []Subject{{Name: "renamed", Digest: map[string]string{"sha256": sumA}}}, ""},
		{"changed_file", []Subject{{Name: "a.txt", Digest: map[string]string{"sha256": sumB}}}, "a.txt: sha256 " + sumB + ", attested " + sumA},
		{"unknown_file", []Subject{{Name: "c.txt", Digest: map[string]string{"sha256": sumB}}}, "c.txt (sha256 " + sumB + ") is not a subject"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := st.Match(tc.want)
			if tc.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err = %v, want %q", err, tc.err)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"` + sumA + `"}}],"predicateType":"x:y","predicate":{}}`))
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"` + sumA + `"}}],"predicateType":"x:y","predicate":{"a":[1,{"b":null}]}}`))
	f.Add([]byte(`{"a":{"a":1,"a":2}}`))
	f.Add([]byte(`[[[[`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error not ErrMalformed: %v", err)
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("Parse returned an invalid statement: %v", err)
		}
		out, err := s.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(out); err != nil {
			t.Fatalf("re-parse of Marshal output: %v", err)
		}
	})
}
