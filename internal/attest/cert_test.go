package attest

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"testing"
	"time"
)

// testCert issues a certificate for key, signed by parent (self-signed
// when parent is nil).
func testCert(t testing.TB, tmpl *x509.Certificate, key crypto.Signer, parent *x509.Certificate, parentKey crypto.Signer) *x509.Certificate {
	t.Helper()
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	tmpl.SerialNumber = big.NewInt(time.Now().UnixNano())
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func pemCerts(cs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range cs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

func mustKey(t testing.TB, typ string) crypto.Signer {
	t.Helper()
	k, err := GenerateKey(typ)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustPEM(t testing.TB, k crypto.Signer) []byte {
	t.Helper()
	p, err := MarshalPrivateKey(k, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// pki is a root CA, an intermediate and a way to issue leaves under them.
type pki struct {
	root, inter       *x509.Certificate
	rootKey, interKey crypto.Signer
}

func timeIn(hours int) time.Time { return time.Now().Add(time.Duration(hours) * time.Hour) }

func newPKI(t testing.TB, rootNotAfter time.Time) *pki {
	now := time.Now()
	p := &pki{rootKey: mustKey(t, "ecdsa-p384"), interKey: mustKey(t, "ecdsa-p256")}
	p.root = testCert(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: "test root"}, NotBefore: now.Add(-48 * time.Hour), NotAfter: rootNotAfter,
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}, p.rootKey, nil, nil)
	p.inter = testCert(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: "test intermediate"}, NotBefore: now.Add(-47 * time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}, p.interKey, p.root, p.rootKey)
	return p
}

func (p *pki) leaf(t *testing.T, key crypto.Signer, ku x509.KeyUsage, eku []x509.ExtKeyUsage) *x509.Certificate {
	now := time.Now()
	return testCert(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: "model signer"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		KeyUsage: ku, ExtKeyUsage: eku,
	}, key, p.inter, p.interKey)
}

func TestCertRoundTrip(t *testing.T) {
	now := time.Now()
	good := newPKI(t, now.Add(48*time.Hour))
	other := newPKI(t, now.Add(48*time.Hour))
	// A root that expired before the leaf was issued.
	expired := newPKI(t, now.Add(-2*time.Hour))
	cases := []struct {
		name    string
		p       *pki
		trust   *pki
		ku      x509.KeyUsage
		eku     []x509.ExtKeyUsage
		keyType string
		ok      bool
	}{
		{"digital_signature", good, good, x509.KeyUsageDigitalSignature, nil, "ecdsa-p256", true},
		{"code_signing_eku", good, good, x509.KeyUsageCertSign, []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}, "ecdsa-p384", true},
		{"ed25519", good, good, x509.KeyUsageDigitalSignature, nil, "ed25519", true},
		{"wrong_usage", good, good, x509.KeyUsageKeyEncipherment, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, "ecdsa-p256", false},
		{"untrusted_root", good, other, x509.KeyUsageDigitalSignature, nil, "ecdsa-p256", false},
		{"expired_root", expired, expired, x509.KeyUsageDigitalSignature, nil, "ecdsa-p256", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			key := mustKey(t, c.keyType)
			leaf := c.p.leaf(t, key, c.ku, c.eku)
			s, err := NewCertSigner(mustPEM(t, key), pemCerts(leaf, c.p.inter), nil)
			if err != nil {
				t.Fatal(err)
			}
			b, err := s.Sign(context.Background(), InTotoPayloadType, []byte(`{"x":1}`))
			if err != nil {
				t.Fatal(err)
			}
			_, got, err := Verify(context.Background(), b, VerifyOptions{CertChain: pemCerts(c.trust.root)})
			if c.ok != (err == nil) {
				t.Fatalf("verify: err = %v, want ok=%v", err, c.ok)
			}
			if err != nil && !errors.Is(err, ErrUnverified) {
				t.Errorf("err = %v, want ErrUnverified", err)
			}
			if c.ok && string(got) != `{"x":1}` {
				t.Errorf("payload %q", got)
			}
		})
	}
}

func TestCertSignerKeyMismatch(t *testing.T) {
	p := newPKI(t, time.Now().Add(48*time.Hour))
	leaf := p.leaf(t, mustKey(t, "ecdsa-p256"), x509.KeyUsageDigitalSignature, nil)
	if _, err := NewCertSigner(mustPEM(t, mustKey(t, "ecdsa-p256")), pemCerts(leaf), nil); err == nil {
		t.Fatal("a certificate for another key was accepted")
	}
}
