package attest

import (
	"context"
	"errors"
	"testing"
)

// FuzzVerify feeds bundles to key and certificate verification: nothing
// may panic, and every failure must say the bundle did not verify.
func FuzzVerify(f *testing.F) {
	key := mustKey(f, "ecdsa-p256")
	root := pemCerts(newPKI(f, timeIn(48)).root)
	priv, _ := MarshalPrivateKey(key, nil, 0)
	pub, _ := MarshalPublicKey(key.Public())
	s, err := NewKeySigner(priv, nil)
	if err != nil {
		f.Fatal(err)
	}
	good, _ := s.Sign(context.Background(), InTotoPayloadType, []byte(`{"_type":"x"}`))
	f.Add(good)
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"publicKey":{"hint":"00"}},"dsseEnvelope":{"payload":"","payloadType":"","signatures":[{"sig":"AA=="}]}}`))
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"x509CertificateChain":{"certificates":[{"rawBytes":"MAA="}]}},"dsseEnvelope":{"payload":"e30=","payloadType":"t","signatures":[{"sig":"MAA="}]}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, opts := range []VerifyOptions{{PublicKey: pub}, {CertChain: root}} {
			typ, payload, err := Verify(context.Background(), b, opts)
			if err != nil && !errors.Is(err, ErrUnverified) {
				t.Fatalf("error not marked unverified: %v", err)
			}
			if err == nil && (typ == "" && payload == nil) {
				t.Fatal("verified without a payload")
			}
		}
	})
}
