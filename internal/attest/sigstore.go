package attest

import (
	"errors"
	"fmt"

	sgbundle "github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

// verifySigstore verifies a Fulcio-certificate bundle offline: the
// certificate chains to a Fulcio CA of the trusted root, carries an SCT, has
// the policy's identity and issuer, and the signature was logged in a
// transparency log of the root (with the log's or a timestamp authority's
// time inside the certificate's validity).
func verifySigstore(data []byte, p *SigstorePolicy) (string, []byte, error) {
	if p.Identity == "" || p.Issuer == "" {
		return "", nil, errors.New("attest: Sigstore verification needs both an identity and an issuer")
	}
	tr, err := root.NewTrustedRootFromJSON(p.TrustedRoot)
	if err != nil {
		return "", nil, fmt.Errorf("attest: trusted root: %w", err)
	}
	var b sgbundle.Bundle
	if err := b.UnmarshalJSON(data); err != nil {
		return "", nil, unverified("malformed Sigstore bundle: %v", err)
	}
	env := b.GetDsseEnvelope()
	if env == nil {
		return "", nil, unverified("bundle holds no DSSE envelope")
	}
	if n := len(env.GetSignatures()); n != 1 {
		return "", nil, unverified("DSSE envelope has %d signatures, want 1", n)
	}
	v, err := verify.NewVerifier(tr,
		verify.WithSignedCertificateTimestamps(1),
		verify.WithTransparencyLog(1),
		verify.WithObserverTimestamps(1))
	if err != nil {
		return "", nil, fmt.Errorf("attest: Sigstore verifier: %w", err)
	}
	id, err := verify.NewShortCertificateIdentity(p.Issuer, "", p.Identity, "")
	if err != nil {
		return "", nil, fmt.Errorf("attest: identity policy: %w", err)
	}
	// The payload's subjects are checked by the caller, against the files
	// themselves; here only the signature, the signer and the log count.
	if _, err := v.Verify(&b, verify.NewPolicy(verify.WithoutArtifactUnsafe(), verify.WithCertificateIdentity(id))); err != nil {
		return "", nil, unverified("%v", err)
	}
	return env.GetPayloadType(), env.GetPayload(), nil
}
