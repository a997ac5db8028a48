// Package attest signs payloads into Sigstore bundles and verifies them:
// a DSSE envelope whose signer is named by a public key, an X.509
// certificate chain, or a Sigstore (Fulcio + Rekor) certificate.
//
// # Format
//
// A bundle is the JSON form of the Sigstore bundle, media type
// [BundleMediaType], holding one DSSE envelope with exactly one signature.
// The signature is over the DSSE pre-authentication encoding (PAE) of the
// payload type and payload. ECDSA signatures are ASN.1 DER and use the hash
// that matches the curve (P-256: SHA-256, P-384: SHA-384, P-521: SHA-512),
// as the Sigstore protobuf specs and OpenSSF model signing do; Ed25519 signs
// the PAE itself. A key-signed bundle names its key by a hint: the hex
// SHA-256 of the public key's PKIX PEM encoding. A certificate-signed
// bundle carries the signing certificate first, then its intermediates.
//
// Verify also accepts the two quirks of bundles written by model_signing
// v0.2, so that its signatures still verify: a PAE that spelt "DSSEV1" and
// embedded Python's repr of the payload, and certificate signatures hashed
// with SHA-256 whatever the curve.
//
// Keyless (Fulcio/Rekor) signing lives in package keyless; this package
// verifies such bundles offline, with sigstore-go, against a trusted root.
package attest

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// BundleMediaType is the media type of the bundles Sign writes.
const BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"

// InTotoPayloadType is the DSSE payload type of an in-toto statement.
const InTotoPayloadType = "application/vnd.in-toto+json"

// MaxBundleSize bounds a bundle read for verification: a model manifest of
// a million files is about 150 MB of JSON, a million times more than most.
const MaxBundleSize = 256 << 20

// ErrUnverified is wrapped by every error that means "the bundle does not
// verify" (bad signature, untrusted signer, malformed bundle), as opposed
// to an error in the verifier's own inputs (an unreadable key, a bad
// option). Commands map it to exit status 1.
var ErrUnverified = errors.New("signature not verified")

// A Signer signs a DSSE payload into a Sigstore bundle (JSON, media type
// [BundleMediaType]).
type Signer interface {
	Sign(ctx context.Context, payloadType string, payload []byte) ([]byte, error)
}

// VerifyOptions say which signer is trusted: exactly one of PublicKey,
// CertChain or Sigstore.
type VerifyOptions struct {
	// PublicKey is a PEM public key (PKIX); text around the PEM block,
	// as in a `certtool` dump, is skipped.
	PublicKey []byte
	// CertChain holds PEM certificates trusted as anchors: the roots and
	// any intermediates the verifier vouches for. The bundle's signing
	// certificate must chain to one of them, through the intermediates the
	// bundle carries, and allow digital signatures or code signing.
	CertChain []byte
	// CertTime is when the chain must have been valid. The zero value means
	// the signing certificate's NotBefore, as model_signing does: without a
	// timestamp authority the signing time is unknown, and the earliest
	// moment the certificate existed is the only time it can be checked at.
	CertTime time.Time
	// Sigstore verifies a Fulcio certificate, its transparency log entry
	// and timestamps against a trusted root, offline.
	Sigstore *SigstorePolicy
}

// SigstorePolicy is who must have signed a Sigstore bundle, and the trust
// root that vouches for the Sigstore instance.
type SigstorePolicy struct {
	// TrustedRoot is a Sigstore TrustedRoot in JSON (as in the TUF target
	// trusted_root.json).
	TrustedRoot []byte
	// Identity is the exact subject alternative name of the signing
	// certificate (an e-mail address or a workflow URI).
	Identity string
	// Issuer is the exact OIDC issuer recorded in the certificate.
	Issuer string
}

// Verify checks a bundle and returns the DSSE payload type and payload it
// signs. Errors about the bundle wrap [ErrUnverified].
func Verify(ctx context.Context, bundle []byte, opts VerifyOptions) (payloadType string, payload []byte, err error) {
	n := 0
	for _, set := range []bool{opts.PublicKey != nil, opts.CertChain != nil, opts.Sigstore != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return "", nil, errors.New("attest: exactly one of a public key, a certificate chain or a Sigstore policy is needed")
	}
	if err := ctx.Err(); err != nil {
		return "", nil, err
	}
	if len(bundle) > MaxBundleSize {
		return "", nil, unverified("bundle is %d bytes, more than the %d allowed", len(bundle), MaxBundleSize)
	}
	if opts.Sigstore != nil {
		return verifySigstore(bundle, opts.Sigstore)
	}
	b, err := parseBundle(bundle)
	if err != nil {
		return "", nil, err
	}
	if opts.PublicKey != nil {
		pub, err := ParsePublicKey(opts.PublicKey)
		if err != nil {
			return "", nil, err
		}
		return b.verifyKey(pub)
	}
	return b.verifyCert(opts.CertChain, opts.CertTime)
}

// unverified returns an error wrapping ErrUnverified.
func unverified(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnverified, fmt.Sprintf(format, args...))
}
