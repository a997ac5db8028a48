package attest

import (
	"bytes"
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestPyBytesRepr(t *testing.T) {
	cases := []struct{ in, want string }{
		{"abc", `b'abc'`},
		{"it's", `b"it's"`},
		{`it's "q"`, `b'it\'s "q"'`},
		{"{\n  \"a\": 1\t\\\r}", `b'{\n  "a": 1\t\\\r}'`},
		{"\x00\x7f\xff", `b'\x00\x7f\xff'`},
	}
	for _, c := range cases {
		if got := string(appendPyBytesRepr(nil, []byte(c.in))); got != c.want {
			t.Errorf("repr(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

// editPayload returns the bundle with its payload replaced, the
// signature kept.
func editPayload(t *testing.T, b []byte, payload []byte) []byte {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	m["dsseEnvelope"].(map[string]any)["payload"] = base64.StdEncoding.EncodeToString(payload)
	out, _ := json.Marshal(m)
	return out
}

func TestKeyRoundTrip(t *testing.T) {
	for _, typ := range []string{"ecdsa-p256", "ecdsa-p384", "ed25519"} {
		t.Run(typ, func(t *testing.T) {
			key := mustKey(t, typ)
			priv, err := MarshalPrivateKey(key, []byte("pw"), 1000)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := NewKeySigner(priv, nil); !errors.Is(err, ErrPassphrase) {
				t.Errorf("no passphrase: err = %v", err)
			}
			if _, err := NewKeySigner(priv, []byte("wrong")); !errors.Is(err, ErrPassphrase) {
				t.Errorf("wrong passphrase: err = %v", err)
			}
			s, err := NewKeySigner(priv, []byte("pw"))
			if err != nil {
				t.Fatal(err)
			}
			b, err := s.Sign(context.Background(), InTotoPayloadType, []byte(`{"a":1}`))
			if err != nil {
				t.Fatal(err)
			}
			pub, _ := MarshalPublicKey(key.Public())
			typ, payload, err := Verify(context.Background(), b, VerifyOptions{PublicKey: pub})
			if err != nil || typ != InTotoPayloadType || string(payload) != `{"a":1}` {
				t.Fatalf("verify: %q %q %v", typ, payload, err)
			}
			if _, _, err := Verify(context.Background(), editPayload(t, b, []byte(`{"a":2}`)), VerifyOptions{PublicKey: pub}); !errors.Is(err, ErrUnverified) {
				t.Errorf("edited payload: err = %v", err)
			}
			otherPub, _ := MarshalPublicKey(mustKey(t, "ecdsa-p256").Public())
			if _, _, err := Verify(context.Background(), b, VerifyOptions{PublicKey: otherPub}); !errors.Is(err, ErrUnverified) {
				t.Errorf("other key: err = %v", err)
			}
			// A certificate verifier does not take a key bundle.
			if _, _, err := Verify(context.Background(), b, VerifyOptions{CertChain: pemCerts(newPKI(t, timeIn(48)).root)}); !errors.Is(err, ErrUnverified) {
				t.Errorf("key bundle as certificate bundle: err = %v", err)
			}
		})
	}
}

// TestKeyHintInterop checks the hint of the reference's key is the one
// in its v1.1.0 signature.
func TestKeyHintInterop(t *testing.T) {
	dir := interopDir(t)
	pub, err := ParsePublicKey(readFile(t, filepath.Join(dir, "keys", "signing-key-pub.pem")))
	if err != nil {
		t.Fatal(err)
	}
	hint, _ := KeyHint(pub)
	if want := "e8450dec4eb99dae995da9af1bc2cc9f76ed669ee2e744f57abba763df3e3f8e"; hint != want {
		t.Errorf("hint %s, want %s", hint, want)
	}
}

// TestOpenSSLKeys checks openssl reads the encrypted keys written here and
// that keys openssl encrypts are read here.
func TestOpenSSLKeys(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	dir := t.TempDir()
	key := mustKey(t, "ecdsa-p384")
	enc, _ := MarshalPrivateKey(key, []byte("secret"), 2048)
	p := filepath.Join(dir, "k.pem")
	os.WriteFile(p, enc, 0o600)
	out, err := exec.Command(openssl, "pkey", "-in", p, "-passin", "pass:secret", "-pubout").Output()
	if err != nil {
		t.Fatalf("openssl pkey: %v", err)
	}
	want, _ := MarshalPublicKey(key.Public())
	if !bytes.Equal(out, want) {
		t.Errorf("openssl read another key:\n%s\nwant\n%s", out, want)
	}
	// The other way: openssl encrypts (PBKDF2-SHA256, AES-256-CBC).
	plain := filepath.Join(dir, "plain.pem")
	os.WriteFile(plain, mustPEM(t, key), 0o600)
	out, err = exec.Command(openssl, "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", plain, "-passout", "pass:pw2").Output()
	if err != nil {
		t.Fatalf("openssl pkcs8: %v", err)
	}
	got, err := ParsePrivateKey(out, []byte("pw2"))
	if err != nil {
		t.Fatal(err)
	}
	if !got.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(key.Public()) {
		t.Error("read another key")
	}
}
