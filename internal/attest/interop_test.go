package attest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// interopDir is the shared folder of model_signing's own signatures.
func interopDir(t *testing.T) string {
	t.Helper()
	d := filepath.Join("..", "..", "..", "shared", "interop", "model-signing")
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

// optionsFor returns how the reference's test scripts verify a vector.
func optionsFor(t *testing.T, dir, vector string) VerifyOptions {
	switch {
	case strings.HasSuffix(vector, "-elliptic-key"):
		return VerifyOptions{PublicKey: readFile(t, filepath.Join(dir, "keys", "signing-key-pub.pem"))}
	case strings.HasSuffix(vector, "-certificate"):
		return VerifyOptions{CertChain: readFile(t, filepath.Join(dir, "keys", "ca-cert.pem"))}
	case strings.HasSuffix(vector, "-sigstore"):
		return VerifyOptions{Sigstore: &SigstorePolicy{
			TrustedRoot: readFile(t, filepath.Join(dir, "trusted-root-public-good.json")),
			Identity:    "stefanb@us.ibm.com",
			Issuer:      "https://sigstore.verify.ibm.com/oauth2",
		}}
	}
	t.Fatalf("unknown vector kind %s", vector)
	return VerifyOptions{}
}

func TestVerifyInterop(t *testing.T) {
	dir := interopDir(t)
	vectors, _ := filepath.Glob(filepath.Join(dir, "v*"))
	if len(vectors) == 0 {
		t.Fatal("no vectors")
	}
	for _, v := range vectors {
		name := filepath.Base(v)
		t.Run(name, func(t *testing.T) {
			sig := readFile(t, filepath.Join(v, "model.sig"))
			typ, payload, err := Verify(context.Background(), sig, optionsFor(t, dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if typ != InTotoPayloadType || !strings.Contains(string(payload), "https://in-toto.io/Statement/v1") {
				t.Errorf("payload type %q, payload %.80q", typ, payload)
			}
		})
	}
}

// TestVerifyInteropWrongSigner checks each vector fails with a signer
// policy that does not match it.
func TestVerifyInteropWrongSigner(t *testing.T) {
	dir := interopDir(t)
	other, err := GenerateKey("ecdsa-p384")
	if err != nil {
		t.Fatal(err)
	}
	otherPub, _ := MarshalPublicKey(other.Public())
	cases := []struct {
		vector string
		opts   VerifyOptions
	}{
		{"v1.1.0-elliptic-key", VerifyOptions{PublicKey: otherPub}},
		{"v1.0.0-elliptic-key", VerifyOptions{PublicKey: otherPub}},
		// The signing certificate is not an anchor's child without its CA.
		{"v1.1.0-certificate", VerifyOptions{CertChain: pemCerts(newPKI(t, time.Now().Add(time.Hour)).root)}},
		{"v1.1.0-sigstore", VerifyOptions{Sigstore: &SigstorePolicy{
			TrustedRoot: readFile(t, filepath.Join(dir, "trusted-root-public-good.json")),
			Identity:    "someone@example.com",
			Issuer:      "https://sigstore.verify.ibm.com/oauth2",
		}}},
		{"v1.1.0-sigstore", VerifyOptions{Sigstore: &SigstorePolicy{
			TrustedRoot: readFile(t, filepath.Join(dir, "trusted-root-public-good.json")),
			Identity:    "stefanb@us.ibm.com",
			Issuer:      "https://accounts.google.com",
		}}},
	}
	for _, c := range cases {
		sig := readFile(t, filepath.Join(dir, c.vector, "model.sig"))
		_, _, err := Verify(context.Background(), sig, c.opts)
		if !errors.Is(err, ErrUnverified) {
			t.Errorf("%s: err = %v, want ErrUnverified", c.vector, err)
		}
	}
}
