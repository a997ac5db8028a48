package attest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
)

// ErrPassphrase is returned for an encrypted private key when no
// passphrase, or a wrong one, was given.
var ErrPassphrase = errors.New("attest: private key passphrase missing or wrong")

// ParsePublicKey reads the first PEM "PUBLIC KEY" block in data (text
// before it is skipped) and returns an ECDSA (P-256, P-384, P-521) or
// Ed25519 key.
func ParsePublicKey(data []byte) (crypto.PublicKey, error) {
	for rest := data; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			return nil, errors.New("attest: no PEM PUBLIC KEY block")
		}
		if blk.Type != "PUBLIC KEY" {
			continue
		}
		pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("attest: public key: %w", err)
		}
		if err := checkKey(pub); err != nil {
			return nil, err
		}
		return pub, nil
	}
}

// ParsePrivateKey reads a PEM private key: PKCS#8, plain or encrypted with
// PBES2 (as `openssl pkcs8 -topk8 -v2 aes-256-cbc` and Keygen write), or a
// SEC 1 "EC PRIVATE KEY". password is used only for an encrypted key.
func ParsePrivateKey(data, password []byte) (crypto.Signer, error) {
	blk := firstPrivateBlock(data)
	if blk == nil {
		return nil, errors.New("attest: no PEM private key block")
	}
	if _, ok := blk.Headers["DEK-Info"]; ok {
		return nil, errors.New("attest: legacy PEM encryption (DEK-Info) is not supported; convert with: openssl pkcs8 -topk8 -v2 aes-256-cbc")
	}
	der := blk.Bytes
	var (
		key any
		err error
	)
	switch blk.Type {
	case "ENCRYPTED PRIVATE KEY":
		if len(password) == 0 {
			return nil, fmt.Errorf("%w: the key is encrypted", ErrPassphrase)
		}
		if der, err = decryptPKCS8(der, password); err != nil {
			return nil, err
		}
		if key, err = x509.ParsePKCS8PrivateKey(der); err != nil {
			return nil, ErrPassphrase
		}
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(der)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(der)
	}
	if err != nil {
		return nil, fmt.Errorf("attest: private key: %w", err)
	}
	s, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("attest: private key of type %T cannot sign", key)
	}
	if err := checkKey(s.Public()); err != nil {
		return nil, err
	}
	return s, nil
}

func isPrivateKeyType(t string) bool {
	return t == "PRIVATE KEY" || t == "ENCRYPTED PRIVATE KEY" || t == "EC PRIVATE KEY"
}

// firstPrivateBlock returns the first PEM block in data holding a private
// key, skipping others (an "EC PARAMETERS" block, as openssl ecparam
// writes, often comes first).
func firstPrivateBlock(data []byte) *pem.Block {
	for rest := data; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil || isPrivateKeyType(blk.Type) {
			return blk
		}
	}
}

// checkKey accepts the key types the Sigstore specs name for DSSE.
func checkKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return nil
		}
		return fmt.Errorf("attest: unsupported curve %s", k.Curve.Params().Name)
	case ed25519.PublicKey:
		return nil
	}
	return fmt.Errorf("attest: unsupported key type %T (want ECDSA P-256, P-384, P-521 or Ed25519)", pub)
}

// curveHash is the hash ECDSA signatures use with a key on this curve.
func curveHash(k *ecdsa.PublicKey) crypto.Hash {
	switch k.Curve {
	case elliptic.P384():
		return crypto.SHA384
	case elliptic.P521():
		return crypto.SHA512
	}
	return crypto.SHA256
}

// KeyHint is how a bundle names the key that signed it: the hex SHA-256
// of the public key's PKIX PEM encoding.
func KeyHint(pub crypto.PublicKey) (string, error) {
	p, err := MarshalPublicKey(pub)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(p)
	return hex.EncodeToString(sum[:]), nil
}

// MarshalPublicKey encodes a public key as a PKIX "PUBLIC KEY" PEM block.
func MarshalPublicKey(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("attest: encoding public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// signPAE signs the PAE with the hash that matches the key.
func signPAE(key crypto.Signer, payloadType string, payload []byte) ([]byte, error) {
	msg := PAE(payloadType, payload)
	switch pub := key.Public().(type) {
	case *ecdsa.PublicKey:
		h := curveHash(pub).New()
		h.Write(msg)
		return key.Sign(rand.Reader, h.Sum(nil), curveHash(pub))
	case ed25519.PublicKey:
		return key.Sign(rand.Reader, msg, crypto.Hash(0))
	}
	return nil, fmt.Errorf("attest: unsupported key type %T", key.Public())
}

// verifySig checks sig over msg, hashed with h for ECDSA.
func verifySig(pub crypto.PublicKey, h crypto.Hash, msg, sig []byte) bool {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		d := h.New()
		d.Write(msg)
		return ecdsa.VerifyASN1(k, d.Sum(nil), sig)
	case ed25519.PublicKey:
		return ed25519.Verify(k, msg, sig)
	}
	return false
}

// keySigner signs with a private key, naming it by its hint, or, with a
// certificate chain, by the chain.
type keySigner struct {
	key   crypto.Signer
	hint  string
	chain [][]byte // DER, signing certificate first; nil for a key signer
}

// NewKeySigner returns a Signer for a PEM private key (see
// ParsePrivateKey); its bundles name the key by its hint.
func NewKeySigner(privPEM, password []byte) (Signer, error) {
	key, err := ParsePrivateKey(privPEM, password)
	if err != nil {
		return nil, err
	}
	hint, err := KeyHint(key.Public())
	if err != nil {
		return nil, err
	}
	return &keySigner{key: key, hint: hint}, nil
}

// NewCertSigner returns a Signer for a PEM private key and a PEM
// certificate chain: the signing certificate, whose public key must be the
// private key's, then any intermediates. Its bundles carry the chain.
func NewCertSigner(privPEM, certChainPEM, password []byte) (Signer, error) {
	key, err := ParsePrivateKey(privPEM, password)
	if err != nil {
		return nil, err
	}
	certs, err := parseCerts(certChainPEM)
	if err != nil {
		return nil, err
	}
	if len(certs) == 0 {
		return nil, errors.New("attest: certificate chain holds no certificate")
	}
	if len(certs) > maxChain {
		return nil, fmt.Errorf("attest: certificate chain holds %d certificates, more than %d", len(certs), maxChain)
	}
	type equaler interface{ Equal(crypto.PublicKey) bool }
	if !key.Public().(equaler).Equal(certs[0].PublicKey) {
		return nil, errors.New("attest: the first certificate of the chain is not for this private key")
	}
	s := &keySigner{key: key}
	for _, c := range certs {
		s.chain = append(s.chain, c.Raw)
	}
	return s, nil
}

// Sign implements Signer.
func (s *keySigner) Sign(ctx context.Context, payloadType string, payload []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sig, err := signPAE(s.key, payloadType, payload)
	if err != nil {
		return nil, fmt.Errorf("attest: signing: %w", err)
	}
	b := bundle{
		MediaType: BundleMediaType,
		VerificationMaterial: verificationMaterial{
			TlogEntries: []json.RawMessage{},
		},
		DSSEEnvelope: &envelope{
			Payload:     payload,
			PayloadType: payloadType,
			Signatures:  []signature{{Sig: sig}},
		},
	}
	vm := &b.VerificationMaterial
	if s.chain == nil {
		vm.PublicKey = &struct {
			Hint string `json:"hint,omitempty"`
		}{s.hint}
	} else {
		vm.X509CertificateChain = &struct {
			Certificates []rawCert `json:"certificates"`
		}{}
		for _, der := range s.chain {
			vm.X509CertificateChain.Certificates = append(vm.X509CertificateChain.Certificates, rawCert{der})
		}
	}
	return b.marshal()
}

// verifyKey checks the bundle's signature with pub: the hint, when the
// bundle has one, must name pub. Bundles from model_signing before v1.1
// carry the key itself instead of a hint; like model_signing, the key
// given to the verifier is what counts.
func (b *bundle) verifyKey(pub crypto.PublicKey) (string, []byte, error) {
	pk := b.VerificationMaterial.PublicKey
	if pk == nil {
		return "", nil, unverified("bundle is not signed with a public key (it has no publicKey material)")
	}
	if pk.Hint != "" {
		hint, err := KeyHint(pub)
		if err != nil {
			return "", nil, err
		}
		if pk.Hint != hint {
			return "", nil, unverified("signed by another key (bundle key hint %s, this key's is %s)", pk.Hint, hint)
		}
	}
	env := b.DSSEEnvelope
	sig := env.Signatures[0].Sig
	h := crypto.Hash(0)
	if k, ok := pub.(*ecdsa.PublicKey); ok {
		h = curveHash(k)
	}
	if verifySig(pub, h, PAE(env.PayloadType, env.Payload), sig) ||
		verifySig(pub, h, paeCompat(env.PayloadType, env.Payload), sig) {
		return env.PayloadType, env.Payload, nil
	}
	return "", nil, unverified("the signature does not verify with this public key")
}

// GenerateKey makes a new key of the given type: "ecdsa-p256",
// "ecdsa-p384" or "ed25519".
func GenerateKey(typ string) (crypto.Signer, error) {
	switch typ {
	case "ecdsa-p256":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "ecdsa-p384":
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "ed25519":
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	}
	return nil, fmt.Errorf("attest: unknown key type %q (want ecdsa-p256, ecdsa-p384 or ed25519)", typ)
}
