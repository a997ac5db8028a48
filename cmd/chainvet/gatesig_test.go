package main

import (
	"context"
	"crypto"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chainvet/chainvet/internal/attest"
	"github.com/chainvet/chainvet/internal/attest/intoto"
	"github.com/chainvet/chainvet/internal/attest/modelsig"
	"github.com/chainvet/chainvet/internal/policy"
)

// keyPair writes a fresh ECDSA key pair under dir and returns a signer and
// the public key's path.
func keyPair(t *testing.T, dir, name string) (attest.Signer, string) {
	t.Helper()
	k, err := attest.GenerateKey("ecdsa-p256")
	if err != nil {
		t.Fatal(err)
	}
	priv, err := attest.MarshalPrivateKey(k, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := attest.MarshalPublicKey(k.Public().(crypto.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	s, err := attest.NewKeySigner(priv, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name+".pub")
	if err := os.WriteFile(p, pub, 0o644); err != nil {
		t.Fatal(err)
	}
	return s, p
}

// TestSignatureChecker is the gate's signature and attestation check
// against real signatures: verified, tampered, wrong key, missing,
// wrong predicate type.
func TestSignatureChecker(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	signer, pub := keyPair(t, dir, "release")
	_, otherPub := keyPair(t, dir, "other")

	model := filepath.Join(dir, "deploy", "bert")
	os.MkdirAll(model, 0o755)
	os.WriteFile(filepath.Join(model, "model.safetensors"), []byte("weights"), 0o644)
	os.WriteFile(filepath.Join(model, "config.json"), []byte("{}"), 0o644)
	bundle, _, err := modelsig.Sign(ctx, model, modelsig.Options{IgnorePaths: []string{"model.sig"}}, signer)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(model, "model.sig"), bundle, 0o644)

	wheel := filepath.Join(dir, "dist", "app.whl")
	os.MkdirAll(filepath.Dir(wheel), 0o755)
	os.WriteFile(wheel, []byte("wheel"), 0o644)
	subjects, err := intoto.FileSubjects(ctx, []string{wheel})
	if err != nil {
		t.Fatal(err)
	}
	st, err := intoto.New("https://slsa.dev/provenance/v1", []byte(`{"buildDefinition":{}}`), subjects)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := st.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	att, err := signer.Sign(ctx, attest.InTotoPayloadType, payload)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(wheel+".sigstore.json", att, 0o644)

	slsa := "https://slsa.dev/provenance/v1"
	check := func(p string, req policy.Requirement) policy.Verdict {
		return signatureChecker{}.Check(ctx, p, req)
	}
	for _, tc := range []struct {
		name   string
		path   string
		req    policy.Requirement
		ok     bool
		detail string
	}{
		{"model_signed", model, policy.Requirement{Key: pub}, true, "2 resources"},
		{"model_other_key", model, policy.Requirement{Key: otherPub}, false, "model.sig"},
		{"model_unsigned", wheel, policy.Requirement{Key: pub}, false, "no signature"},
		{"attestation", wheel, policy.Requirement{Key: pub, PredicateType: slsa}, true, slsa},
		{"attestation_other_type", wheel, policy.Requirement{Key: pub, PredicateType: "https://cyclonedx.org/bom"}, false, "predicate type"},
		{"attestation_missing", model, policy.Requirement{Key: pub, PredicateType: slsa}, false, "no attestation"},
		{"no_signer", model, policy.Requirement{}, false, "names no key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := check(tc.path, tc.req)
			if v.Verified != tc.ok || !strings.Contains(v.Detail, tc.detail) {
				t.Errorf("Check = %+v, want verified %v and detail containing %q", v, tc.ok, tc.detail)
			}
		})
	}

	// Tampering after signing: the changed file is named.
	os.WriteFile(filepath.Join(model, "config.json"), []byte(`{"x":1}`), 0o644)
	if v := check(model, policy.Requirement{Key: pub}); v.Verified || !strings.Contains(v.Detail, "config.json") {
		t.Errorf("tampered model: %+v", v)
	}
	os.WriteFile(wheel, []byte("other wheel"), 0o644)
	if v := check(wheel, policy.Requirement{Key: pub, PredicateType: slsa}); v.Verified || !strings.Contains(v.Detail, "app.whl") {
		t.Errorf("tampered subject: %+v", v)
	}
}
