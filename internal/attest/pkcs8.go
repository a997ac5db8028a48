package attest

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
)

// PKCS #5 v2 (RFC 8018) object identifiers.
var (
	oidPBES2         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACWithSHA1  = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACWithSHA2  = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidAES128CBC     = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC     = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC     = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	asn1NullParamRaw = asn1.RawValue{Tag: asn1.TagNull}
)

// KeyIterations is the PBKDF2-HMAC-SHA256 iteration count MarshalPrivateKey
// uses: OWASP's 2023 figure for that PRF, about a quarter second per try.
const KeyIterations = 600_000

// maxKeyIterations bounds the iteration count a key file may ask for, so
// that a hostile key cannot stall the signer for hours.
const maxKeyIterations = 10_000_000

type encryptedPrivateKeyInfo struct {
	Algo pkix.AlgorithmIdentifier
	Data []byte
}

type pbes2Params struct {
	KDF    pkix.AlgorithmIdentifier
	Scheme pkix.AlgorithmIdentifier
}

type pbkdf2Params struct {
	Salt       []byte
	Iterations int
	KeyLength  int                      `asn1:"optional"`
	PRF        pkix.AlgorithmIdentifier `asn1:"optional"`
}

// MarshalPrivateKey encodes key as PKCS#8 PEM, encrypted with PBES2
// (PBKDF2-HMAC-SHA256, iterations rounds, AES-256-CBC) when password is
// not empty — the scheme `openssl pkcs8 -topk8 -v2 aes-256-cbc` writes and
// reads.
func MarshalPrivateKey(key crypto.Signer, password []byte, iterations int) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("attest: encoding private key: %w", err)
	}
	if len(password) == 0 {
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
	}
	salt, iv := make([]byte, 16), make([]byte, aes.BlockSize)
	rand.Read(salt)
	rand.Read(iv)
	dk, err := pbkdf2.Key(sha256.New, string(password), salt, iterations, 32)
	if err != nil {
		return nil, fmt.Errorf("attest: deriving key: %w", err)
	}
	block, _ := aes.NewCipher(dk)
	pad := aes.BlockSize - len(der)%aes.BlockSize
	plain := append(der, bytesOf(byte(pad), pad)...)
	enc := make([]byte, len(plain))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(enc, plain)

	kdf, err := asn1.Marshal(pbkdf2Params{Salt: salt, Iterations: iterations,
		PRF: pkix.AlgorithmIdentifier{Algorithm: oidHMACWithSHA2, Parameters: asn1NullParamRaw}})
	if err != nil {
		return nil, err
	}
	ivDER, err := asn1.Marshal(iv)
	if err != nil {
		return nil, err
	}
	params, err := asn1.Marshal(pbes2Params{
		KDF:    pkix.AlgorithmIdentifier{Algorithm: oidPBKDF2, Parameters: asn1.RawValue{FullBytes: kdf}},
		Scheme: pkix.AlgorithmIdentifier{Algorithm: oidAES256CBC, Parameters: asn1.RawValue{FullBytes: ivDER}},
	})
	if err != nil {
		return nil, err
	}
	out, err := asn1.Marshal(encryptedPrivateKeyInfo{
		Algo: pkix.AlgorithmIdentifier{Algorithm: oidPBES2, Parameters: asn1.RawValue{FullBytes: params}},
		Data: enc,
	})
	if err != nil {
		return nil, fmt.Errorf("attest: encoding encrypted key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: out}), nil
}

func bytesOf(c byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = c
	}
	return b
}

// decryptPKCS8 decrypts a PBES2 EncryptedPrivateKeyInfo (PBKDF2 with
// HMAC-SHA1 or HMAC-SHA256; AES-CBC) into PKCS#8 DER.
func decryptPKCS8(der, password []byte) ([]byte, error) {
	var info encryptedPrivateKeyInfo
	if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) > 0 {
		return nil, errors.New("attest: malformed encrypted private key")
	}
	if !info.Algo.Algorithm.Equal(oidPBES2) {
		return nil, fmt.Errorf("attest: encrypted private key uses %v, only PBES2 is supported", info.Algo.Algorithm)
	}
	var params pbes2Params
	if _, err := asn1.Unmarshal(info.Algo.Parameters.FullBytes, &params); err != nil {
		return nil, errors.New("attest: malformed PBES2 parameters")
	}
	if !params.KDF.Algorithm.Equal(oidPBKDF2) {
		return nil, fmt.Errorf("attest: key derivation %v is not supported (want PBKDF2)", params.KDF.Algorithm)
	}
	var kdf pbkdf2Params
	if _, err := asn1.Unmarshal(params.KDF.Parameters.FullBytes, &kdf); err != nil {
		return nil, errors.New("attest: malformed PBKDF2 parameters")
	}
	if kdf.Iterations < 1 || kdf.Iterations > maxKeyIterations {
		return nil, fmt.Errorf("attest: PBKDF2 iteration count %d out of range", kdf.Iterations)
	}
	var prf func() hash.Hash
	switch a := kdf.PRF.Algorithm; {
	case len(a) == 0 || a.Equal(oidHMACWithSHA1):
		prf = sha1.New
	case a.Equal(oidHMACWithSHA2):
		prf = sha256.New
	default:
		return nil, fmt.Errorf("attest: PBKDF2 PRF %v is not supported", a)
	}
	var keyLen int
	switch a := params.Scheme.Algorithm; {
	case a.Equal(oidAES128CBC):
		keyLen = 16
	case a.Equal(oidAES192CBC):
		keyLen = 24
	case a.Equal(oidAES256CBC):
		keyLen = 32
	default:
		return nil, fmt.Errorf("attest: key encryption %v is not supported (want AES-CBC)", a)
	}
	var iv []byte
	if _, err := asn1.Unmarshal(params.Scheme.Parameters.FullBytes, &iv); err != nil || len(iv) != aes.BlockSize {
		return nil, errors.New("attest: malformed AES-CBC parameters")
	}
	if len(info.Data) == 0 || len(info.Data)%aes.BlockSize != 0 {
		return nil, errors.New("attest: malformed encrypted key data")
	}
	dk, err := pbkdf2.Key(prf, string(password), kdf.Salt, kdf.Iterations, keyLen)
	if err != nil {
		return nil, fmt.Errorf("attest: deriving key: %w", err)
	}
	block, _ := aes.NewCipher(dk)
	plain := make([]byte, len(info.Data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, info.Data)
	// A wrong passphrase shows as bad padding (or, rarely, bad DER, which
	// the caller reports); compare in constant time for good measure.
	pad := int(plain[len(plain)-1])
	if pad < 1 || pad > aes.BlockSize || !hmac.Equal(plain[len(plain)-pad:], bytesOf(byte(pad), pad)) {
		return nil, ErrPassphrase
	}
	return plain[:len(plain)-pad], nil
}
