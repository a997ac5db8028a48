package attest

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// bundle is the part of a Sigstore bundle (protobuf JSON form) that key and
// certificate verification read. Unknown fields are ignored, as protobuf
// JSON readers may; fields that matter are checked.
type bundle struct {
	MediaType            string               `json:"mediaType"`
	VerificationMaterial verificationMaterial `json:"verificationMaterial"`
	DSSEEnvelope         *envelope            `json:"dsseEnvelope,omitempty"`
}

type verificationMaterial struct {
	PublicKey *struct {
		Hint string `json:"hint,omitempty"`
	} `json:"publicKey,omitempty"`
	X509CertificateChain *struct {
		Certificates []rawCert `json:"certificates"`
	} `json:"x509CertificateChain,omitempty"`
	Certificate *rawCert `json:"certificate,omitempty"`
	// TlogEntries is always written (empty) for key and certificate
	// bundles, as model_signing writes it.
	TlogEntries []json.RawMessage `json:"tlogEntries"`
}

type rawCert struct {
	RawBytes []byte `json:"rawBytes"` // base64 in JSON
}

// envelope is a DSSE envelope. Payload and signatures are standard base64
// in JSON; encoding/json decodes them.
type envelope struct {
	Payload     []byte      `json:"payload"`
	PayloadType string      `json:"payloadType"`
	Signatures  []signature `json:"signatures"`
}

type signature struct {
	Sig   []byte `json:"sig"`
	KeyID string `json:"keyid"`
}

// maxChain bounds the certificates a bundle may carry.
const maxChain = 10

// parseBundle decodes a key- or certificate-signed bundle and checks its
// shape: the media type, one envelope, one signature.
func parseBundle(data []byte) (*bundle, error) {
	var b bundle
	d := json.NewDecoder(bytes.NewReader(data))
	if err := d.Decode(&b); err != nil {
		return nil, unverified("malformed bundle: %v", err)
	}
	if d.More() {
		return nil, unverified("malformed bundle: data after the JSON object")
	}
	if b.MediaType != BundleMediaType {
		return nil, unverified("bundle media type is %q, want %q", b.MediaType, BundleMediaType)
	}
	if b.DSSEEnvelope == nil {
		return nil, unverified("bundle holds no DSSE envelope")
	}
	if n := len(b.DSSEEnvelope.Signatures); n != 1 {
		return nil, unverified("DSSE envelope has %d signatures, want 1", n)
	}
	if len(b.DSSEEnvelope.Signatures[0].Sig) == 0 {
		return nil, unverified("DSSE signature is empty")
	}
	if c := b.VerificationMaterial.X509CertificateChain; c != nil && len(c.Certificates) > maxChain {
		return nil, unverified("bundle carries %d certificates, more than %d", len(c.Certificates), maxChain)
	}
	return &b, nil
}

// marshal writes the bundle as model_signing does: two-space indented JSON.
func (b *bundle) marshal() ([]byte, error) {
	out, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("attest: encoding bundle: %w", err)
	}
	return append(out, '\n'), nil
}
