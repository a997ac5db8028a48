package modelsig

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chainvet/chainvet/internal/attest"
)

// interopDir is the shared folder of model_signing's own signatures.
func interopDir(t *testing.T) string {
	t.Helper()
	d := filepath.Join("..", "..", "..", "..", "shared", "interop", "model-signing")
	if _, err := os.Stat(filepath.Join(d, "keys")); err != nil {
		t.Skipf("interop vectors absent (%v): they live in ../shared/interop/model-signing beside the repository", err)
	}
	return d
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// vectorOptions is how the reference's test scripts verify a vector.
func vectorOptions(t *testing.T, dir, vector string) attest.VerifyOptions {
	switch {
	case strings.HasSuffix(vector, "-elliptic-key"):
		return attest.VerifyOptions{PublicKey: readFile(t, filepath.Join(dir, "keys", "signing-key-pub.pem"))}
	case strings.HasSuffix(vector, "-certificate"):
		return attest.VerifyOptions{CertChain: readFile(t, filepath.Join(dir, "keys", "ca-cert.pem"))}
	}
	return attest.VerifyOptions{Sigstore: &attest.SigstorePolicy{
		TrustedRoot: readFile(t, filepath.Join(dir, "trusted-root-public-good.json")),
		Identity:    "stefanb@us.ibm.com",
		Issuer:      "https://sigstore.verify.ibm.com/oauth2",
	}}
}

// vectorModel is the model a vector signs: the file signme-1 when it is
// alone, else the folder.
func vectorModel(v string) string {
	if _, err := os.Stat(filepath.Join(v, "signme-2")); err != nil {
		return filepath.Join(v, "signme-1")
	}
	return v
}

var vectorCheck = CheckOptions{IgnorePaths: []string{"model.sig", "ignore-me"}, IgnoreGitPaths: true}

func TestVerifyInterop(t *testing.T) {
	dir := interopDir(t)
	vectors, _ := filepath.Glob(filepath.Join(dir, "v*"))
	if len(vectors) != 13 {
		t.Errorf("%d vectors, want 13", len(vectors))
	}
	for _, v := range vectors {
		t.Run(filepath.Base(v), func(t *testing.T) {
			m, diffs, err := Verify(context.Background(), vectorModel(v), readFile(t, filepath.Join(v, "model.sig")),
				vectorOptions(t, dir, filepath.Base(v)), vectorCheck)
			if err != nil {
				t.Fatalf("%v (diffs %v)", err, diffs)
			}
			if len(m.Resources) == 0 {
				t.Fatal("no resources")
			}
		})
	}
}

// TestReproduceInterop hashes each v1 vector's model as the reference did
// and checks the statement chainvet would sign has the same subject digest
// and resources.
func TestReproduceInterop(t *testing.T) {
	dir := interopDir(t)
	vectors, _ := filepath.Glob(filepath.Join(dir, "v*"))
	for _, v := range vectors {
		if strings.HasPrefix(filepath.Base(v), "v0.2") {
			continue // v0.2 has no root digest
		}
		t.Run(filepath.Base(v), func(t *testing.T) {
			var b struct {
				DSSEEnvelope struct{ Payload string } `json:"dsseEnvelope"`
			}
			if err := json.Unmarshal(readFile(t, filepath.Join(v, "model.sig")), &b); err != nil {
				t.Fatal(err)
			}
			payload, _ := base64.StdEncoding.DecodeString(b.DSSEEnvelope.Payload)
			ref, err := ParseStatement(payload)
			if err != nil {
				t.Fatal(err)
			}
			model := vectorModel(v)
			opt := Options{IgnorePaths: []string{"model.sig", "ignore-me"}}
			if model != v {
				opt.IgnorePaths = nil
			}
			m, err := Hash(context.Background(), model, opt)
			if err != nil {
				t.Fatal(err)
			}
			st, err := m.Statement()
			if err != nil {
				t.Fatal(err)
			}
			ours, err := ParseStatement(st)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := hex.EncodeToString(ours.RootDigest()), hex.EncodeToString(ref.RootDigest()); got != want {
				t.Errorf("root digest %s, reference %s", got, want)
			}
			if ours.Model != ref.Model {
				t.Errorf("model name %q, reference %q", ours.Model, ref.Model)
			}
			if d := Compare(ref, ours); len(d) > 0 {
				t.Errorf("differs from the reference: %v", d)
			}
		})
	}
}

// TestVerifyInteropTampered copies vectors and changes them.
func TestVerifyInteropTampered(t *testing.T) {
	dir := interopDir(t)
	cases := []struct {
		name   string
		vector string
		change func(t *testing.T, d string)
		check  CheckOptions
		want   []string // diff strings
	}{
		{"changed", "v1.1.0-elliptic-key", func(t *testing.T, d string) { write(t, d, "signme-2", "tampered") }, vectorCheck,
			[]string{"signme-2: changed"}},
		{"added", "v1.1.0-certificate", func(t *testing.T, d string) { write(t, d, "sub/new.bin", "x") }, vectorCheck,
			[]string{"sub/new.bin: extra"}},
		{"removed", "v1.0.1-sigstore", func(t *testing.T, d string) { os.Remove(filepath.Join(d, "signme-1")) }, vectorCheck,
			[]string{"signme-1: missing"}},
		// ignore-me is in the statement's own ignore_paths.
		{"statement_ignores", "v1.1.0-elliptic-key", func(*testing.T, string) {},
			CheckOptions{IgnoreGitPaths: true, IgnorePaths: []string{"model.sig"}}, nil},
		{"unsigned_ignored", "v1.1.0-elliptic-key", func(t *testing.T, d string) { write(t, d, "extra", "x") },
			CheckOptions{IgnoreGitPaths: true, IgnoreUnsigned: true}, nil},
		{"v02_changed", "v0.2.0-certificate", func(t *testing.T, d string) { write(t, d, "signme-1", "tampered") }, vectorCheck,
			[]string{"signme-1: changed"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := copyDir(t, filepath.Join(dir, c.vector))
			c.change(t, d)
			_, diffs, err := Verify(context.Background(), d, readFile(t, filepath.Join(d, "model.sig")), vectorOptions(t, dir, c.vector), c.check)
			if len(c.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrMismatch) {
				t.Fatalf("err = %v, want ErrMismatch", err)
			}
			var got []string
			for _, d := range diffs {
				got = append(got, d.String())
			}
			if len(got) != len(c.want) {
				t.Fatalf("diffs %q, want %q", got, c.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], c.want[i]) {
					t.Errorf("diff %q, want %q…", got[i], c.want[i])
				}
			}
		})
	}
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// copyDir copies a flat directory into a writable temporary one.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		write(t, dst, e.Name(), string(readFile(t, filepath.Join(src, e.Name()))))
	}
	return dst
}
