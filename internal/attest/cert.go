package attest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"time"
)

// maxPEMCerts bounds the certificates read from one PEM file: a system
// bundle holds about 150.
const maxPEMCerts = 1000

// parseCerts reads every CERTIFICATE block of a PEM file.
func parseCerts(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for rest := data; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			return certs, nil
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		if len(certs) == maxPEMCerts {
			return nil, fmt.Errorf("attest: more than %d certificates", maxPEMCerts)
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("attest: certificate %d: %w", len(certs)+1, err)
		}
		certs = append(certs, c)
	}
}

// verifyCert checks that the bundle's signing certificate chains to an
// anchor in trustedPEM, may sign, and verifies the signature.
func (b *bundle) verifyCert(trustedPEM []byte, at time.Time) (string, []byte, error) {
	anchors, err := parseCerts(trustedPEM)
	if err != nil {
		return "", nil, err
	}
	if len(anchors) == 0 {
		return "", nil, errors.New("attest: the trusted certificate file holds no certificate")
	}
	chain := b.VerificationMaterial.X509CertificateChain
	if chain == nil || len(chain.Certificates) == 0 {
		return "", nil, unverified("bundle is not signed with a certificate chain (it has no x509CertificateChain material)")
	}
	var certs []*x509.Certificate
	for i, rc := range chain.Certificates {
		c, err := x509.ParseCertificate(rc.RawBytes)
		if err != nil {
			return "", nil, unverified("bundle certificate %d: %v", i+1, err)
		}
		certs = append(certs, c)
	}
	leaf := certs[0]
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	for _, c := range anchors {
		roots.AddCert(c)
	}
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	if at.IsZero() {
		at = leaf.NotBefore
	}
	// Extended key usage is checked below as model_signing does (digital
	// signature or code signing); Verify's own check would demand TLS.
	if _, err := leaf.Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inter,
		CurrentTime:   at,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	}); err != nil {
		return "", nil, unverified("signing certificate %q: %v", leaf.Subject, err)
	}
	if !canSign(leaf) {
		return "", nil, unverified("signing certificate %q may not sign (key usage lacks digital signature and extended key usage lacks code signing)", leaf.Subject)
	}
	pub := leaf.PublicKey
	if err := checkKey(pub); err != nil {
		return "", nil, unverified("signing certificate %q: %v", leaf.Subject, err)
	}
	env := b.DSSEEnvelope
	sig := env.Signatures[0].Sig
	h := crypto.Hash(0)
	if k, ok := pub.(*ecdsa.PublicKey); ok {
		h = curveHash(k)
	}
	if verifySig(pub, h, PAE(env.PayloadType, env.Payload), sig) ||
		// model_signing v0.2 signed the broken PAE, always with SHA-256.
		verifySig(pub, crypto.SHA256, paeCompat(env.PayloadType, env.Payload), sig) {
		return env.PayloadType, env.Payload, nil
	}
	return "", nil, unverified("the signature does not verify with the key of certificate %q", leaf.Subject)
}

// canSign reports whether a certificate allows signing: key usage with
// digital signature, or extended key usage with code signing.
func canSign(c *x509.Certificate) bool {
	if c.KeyUsage&x509.KeyUsageDigitalSignature != 0 {
		return true
	}
	for _, u := range c.ExtKeyUsage {
		if u == x509.ExtKeyUsageCodeSigning {
			return true
		}
	}
	return false
}
