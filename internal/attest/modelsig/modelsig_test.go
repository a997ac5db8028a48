package modelsig

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chainvet/chainvet/internal/attest"
	"golang.org/x/crypto/blake2b"
)

func TestComparePaths(t *testing.T) {
	// The reference sorts by path components, not bytes.
	in := []string{"a.txt", "a-b", "a/b", "a/b/c", "b", "a", "a/a"}
	want := []string{"a", "a/a", "a/b", "a/b/c", "a-b", "a.txt", "b"}
	slices.SortFunc(in, comparePaths)
	if !slices.Equal(in, want) {
		t.Errorf("sorted %q, want %q", in, want)
	}
}

// model writes files into a new model directory.
func model(t *testing.T, files map[string]string) string {
	t.Helper()
	d := filepath.Join(t.TempDir(), "mymodel")
	if err := os.Mkdir(d, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		write(t, d, name, content)
	}
	return d
}

func hexSHA(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }

func TestHash(t *testing.T) {
	files := map[string]string{
		"a.txt": "hello", "a-b": "", "a/b": "0123456789", ".git/config": "x", ".gitignore": "y", "model.sig": "z",
	}
	b2 := blake2b.Sum512([]byte("hello"))
	cases := []struct {
		name string
		opt  Options
		want []string // name=digest-prefix
	}{
		{"files_sha256", Options{IgnorePaths: append(DefaultIgnores(), "model.sig")},
			[]string{"a/b=" + hexSHA("0123456789"), "a-b=" + hexSHA(""), "a.txt=" + hexSHA("hello")}},
		{"files_blake2b", Options{HashType: BLAKE2b, IgnorePaths: append(DefaultIgnores(), "model.sig")},
			[]string{"a/b=", "a-b=", "a.txt=" + hex.EncodeToString(b2[:])}},
		{"shards", Options{Method: MethodShards, ShardSize: 4, IgnorePaths: append(DefaultIgnores(), "model.sig")},
			[]string{"a/b:0:4=" + hexSHA("0123"), "a/b:4:8=" + hexSHA("4567"), "a/b:8:10=" + hexSHA("89"), "a.txt:0:4=" + hexSHA("hell"), "a.txt:4:5=" + hexSHA("o")}},
		{"no_ignores", Options{},
			[]string{".git/config=", ".gitignore=", "a/b=", "a-b=", "a.txt=", "model.sig="}},
	}
	d := model(t, files)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := Hash(context.Background(), d, c.opt)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range m.Resources {
				got = append(got, r.Name+"="+hex.EncodeToString(r.Digest))
			}
			if len(got) != len(c.want) {
				t.Fatalf("resources %q, want %q", got, c.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], c.want[i]) {
					t.Errorf("resource %q, want %q…", got[i], c.want[i])
				}
			}
			if m.Model != "mymodel" {
				t.Errorf("model name %q", m.Model)
			}
			// The statement round-trips, root digest included.
			st, err := m.Statement()
			if err != nil {
				t.Fatal(err)
			}
			back, err := ParseStatement(st)
			if err != nil {
				t.Fatal(err)
			}
			if d := Compare(m, back); len(d) > 0 {
				t.Errorf("round trip differs: %v", d)
			}
		})
	}
}

func TestHashSingleFile(t *testing.T) {
	d := model(t, map[string]string{"w.bin": "weights"})
	m, err := Hash(context.Background(), filepath.Join(d, "w.bin"), Options{IgnorePaths: DefaultIgnores()})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Resources) != 1 || m.Resources[0].Name != "." || m.Model != "w.bin" {
		t.Errorf("manifest %+v", m)
	}
}

func TestHashSymlinks(t *testing.T) {
	d := model(t, map[string]string{"real.bin": "x"})
	if err := os.Symlink("real.bin", filepath.Join(d, "link.bin")); err != nil {
		t.Skip(err)
	}
	if _, err := Hash(context.Background(), d, Options{}); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("symlink hashed without allow: err = %v", err)
	}
	m, err := Hash(context.Background(), d, Options{AllowSymlinks: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Resources) != 2 || !m.Serialization.AllowSymlinks {
		t.Errorf("manifest %+v", m)
	}
}

// statementWith builds a v1 statement over the given resources, with a
// correct root digest unless root is set.
func statementWith(method string, rs []jsonResource, root string) []byte {
	var dig []byte
	for _, r := range rs {
		b, _ := hex.DecodeString(r.Digest)
		dig = append(dig, b...)
	}
	if root == "" {
		root = hexSHA(string(dig))
	}
	ser := map[string]any{"method": method, "hash_type": "sha256", "allow_symlinks": false}
	if method == MethodShards {
		ser["shard_size"] = 10
	}
	p, _ := json.Marshal(map[string]any{"serialization": ser, "resources": rs})
	st, _ := json.Marshal(jsonStatement{Type: StatementType, PredicateType: PredicateType, Predicate: p,
		Subject: []jsonSubject{{Name: "m", Digest: map[string]string{"sha256": root}}}})
	return st
}

func res(name string) jsonResource {
	algo := SHA256
	if strings.Contains(name, ":") {
		algo = "sha256-sharded-10"
	}
	return jsonResource{Name: name, Algorithm: algo, Digest: hexSHA(name)}
}

func TestParseStatementRejects(t *testing.T) {
	cases := []struct {
		name string
		st   []byte
		want string
	}{
		{"dotdot", statementWith(MethodFiles, []jsonResource{res("../etc/passwd")}, ""), "clean relative path"},
		{"inner_dotdot", statementWith(MethodFiles, []jsonResource{res("a/../../b")}, ""), "clean relative path"},
		{"absolute", statementWith(MethodFiles, []jsonResource{res("/etc/passwd")}, ""), "clean relative path"},
		{"unclean", statementWith(MethodFiles, []jsonResource{res("a//b")}, ""), "clean relative path"},
		{"dot_among_others", statementWith(MethodFiles, []jsonResource{res("."), res("a")}, ""), "clean relative path"},
		{"backslash", statementWith(MethodFiles, []jsonResource{res(`..\x`)}, ""), "clean relative path"},
		{"duplicate", statementWith(MethodFiles, []jsonResource{res("a"), res("a")}, ""), "listed twice"},
		{"empty", statementWith(MethodFiles, nil, ""), "no files"},
		{"root_mismatch", statementWith(MethodFiles, []jsonResource{res("a")}, hexSHA("other")), "root digest"},
		{"bad_shard", statementWith(MethodShards, []jsonResource{res("a:0:11")}, ""), "shard size"},
		{"shard_offsets", statementWith(MethodShards, []jsonResource{res("a:00:5")}, ""), "decimal"},
		{"algorithm", statementWith(MethodFiles, []jsonResource{{Name: "a", Algorithm: "md5", Digest: hexSHA("a")}}, ""), "algorithm"},
		{"short_digest", statementWith(MethodFiles, []jsonResource{{Name: "a", Algorithm: SHA256, Digest: "abcd"}}, ""), "bytes of hex"},
		{"not_json", []byte("{"), "malformed"},
		{"predicate", []byte(`{"_type":"https://in-toto.io/Statement/v1","predicateType":"x","subject":[]}`), "predicate type"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseStatement(c.st)
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want ErrMalformed with %q", err, c.want)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	for _, typ := range []string{"ecdsa-p256", "ecdsa-p384", "ed25519"} {
		t.Run(typ, func(t *testing.T) {
			key, err := attest.GenerateKey(typ)
			if err != nil {
				t.Fatal(err)
			}
			priv, _ := attest.MarshalPrivateKey(key, nil, 0)
			pub, _ := attest.MarshalPublicKey(key.Public())
			s, err := attest.NewKeySigner(priv, nil)
			if err != nil {
				t.Fatal(err)
			}
			d := model(t, map[string]string{"config.json": "{}", "w/0.bin": "abc", "w/1.bin": "def"})
			for _, opt := range []Options{{}, {Method: MethodShards, ShardSize: 2, HashType: BLAKE2b}} {
				b, _, err := Sign(context.Background(), d, opt, s)
				if err != nil {
					t.Fatal(err)
				}
				vo := attest.VerifyOptions{PublicKey: pub}
				if _, _, err := Verify(context.Background(), d, b, vo, CheckOptions{}); err != nil {
					t.Fatalf("%+v: %v", opt, err)
				}
				// A statement edited after signing fails the signature.
				edited := strings.Replace(string(b), `"payload": "`, `"payload": "IC`, 1)
				if _, _, err := Verify(context.Background(), d, []byte(edited), vo, CheckOptions{}); !errors.Is(err, attest.ErrUnverified) {
					t.Errorf("edited statement: err = %v", err)
				}
			}
			// Another key does not verify.
			other, _ := attest.GenerateKey(typ)
			otherPub, _ := attest.MarshalPublicKey(other.Public())
			b, _, _ := Sign(context.Background(), d, Options{}, s)
			if _, _, err := Verify(context.Background(), d, b, attest.VerifyOptions{PublicKey: otherPub}, CheckOptions{}); !errors.Is(err, attest.ErrUnverified) {
				t.Errorf("wrong key: err = %v", err)
			}
		})
	}
}

// TestIgnoreUnsignedTricks checks that --ignore-unsigned-files cannot be
// led outside the model or through links.
func TestIgnoreUnsignedTricks(t *testing.T) {
	outside := model(t, map[string]string{"secret": "s"})
	d := model(t, map[string]string{"w.bin": "w", "sub/x": "x"})
	key, _ := attest.GenerateKey("ecdsa-p256")
	priv, _ := attest.MarshalPrivateKey(key, nil, 0)
	pub, _ := attest.MarshalPublicKey(key.Public())
	s, _ := attest.NewKeySigner(priv, nil)
	b, _, err := Sign(context.Background(), d, Options{}, s)
	if err != nil {
		t.Fatal(err)
	}
	// Replace sub/ by a link to a directory outside holding the same names.
	write(t, outside, "x", "x")
	os.RemoveAll(filepath.Join(d, "sub"))
	if err := os.Symlink(outside, filepath.Join(d, "sub")); err != nil {
		t.Skip(err)
	}
	_, diffs, err := Verify(context.Background(), d, b, attest.VerifyOptions{PublicKey: pub}, CheckOptions{IgnoreUnsigned: true})
	if !errors.Is(err, ErrMismatch) || len(diffs) != 1 || diffs[0].Name != "sub/x" || diffs[0].Kind != Missing {
		t.Errorf("err = %v, diffs %v; want sub/x missing", err, diffs)
	}
}

func TestHashSymlinkedRoot(t *testing.T) {
	d := model(t, map[string]string{"a": "1", "b/c": "2"})
	link := filepath.Join(t.TempDir(), "linked")
	if err := os.Symlink(d, link); err != nil {
		t.Skip(err)
	}
	if _, err := Hash(context.Background(), link, Options{}); err == nil {
		t.Error("a linked model was hashed without allowing links")
	}
	m, err := Hash(context.Background(), link, Options{AllowSymlinks: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Resources) != 2 || m.Resources[1].Name != "b/c" || m.Model != "linked" {
		t.Errorf("manifest %+v", m)
	}
}
