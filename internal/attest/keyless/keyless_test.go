package keyless

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jsoncanonicalizer "github.com/cyberphone/json-canonicalization/go/src/webpki.org/jsoncanonicalizer"
	"github.com/go-openapi/runtime"
	ct "github.com/google/certificate-transparency-go"
	cttls "github.com/google/certificate-transparency-go/tls"
	ctx509 "github.com/google/certificate-transparency-go/x509"
	"github.com/google/certificate-transparency-go/x509util"
	"github.com/sigstore/rekor/pkg/generated/models"
	"github.com/sigstore/rekor/pkg/types"
	_ "github.com/sigstore/rekor/pkg/types/dsse/v0.0.1"
	rekorutil "github.com/sigstore/rekor/pkg/util"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/chainvet/chainvet/internal/attest"
)

const (
	testIdentity = "builder@example.com"
	testIssuer   = "https://issuer.example.com"
)

// fakeSigstore is a Fulcio that issues certificates with an embedded SCT
// from a test CA and CT log, and a Rekor that logs entries in a one-leaf
// tree, both on loopback httptest servers.
type fakeSigstore struct {
	t                     *testing.T
	caKey, ctKey, logKey  *ecdsa.PrivateKey
	ca                    *x509.Certificate
	fulcio, rekor         *httptest.Server
	fulcioCalls, logCalls atomic.Int32
}

func newFakeSigstore(t *testing.T) *fakeSigstore {
	t.Helper()
	f := &fakeSigstore{t: t, caKey: newKey(t), ctKey: newKey(t), logKey: newKey(t)}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "test fulcio root"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, f.caKey.Public(), f.caKey)
	if err != nil {
		t.Fatal(err)
	}
	f.ca, _ = x509.ParseCertificate(der)
	f.fulcio = httptest.NewServer(http.HandlerFunc(f.serveFulcio))
	f.rekor = httptest.NewServer(http.HandlerFunc(f.serveRekor))
	t.Cleanup(f.fulcio.Close)
	t.Cleanup(f.rekor.Close)
	return f
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func logID(pub crypto.PublicKey) []byte {
	der, _ := x509.MarshalPKIXPublicKey(pub)
	sum := sha256.Sum256(der)
	return sum[:]
}

var (
	oidIssuerV1 = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 1}
	oidPoison   = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 3}
	oidSCTList  = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 2}
)

func (f *fakeSigstore) serveFulcio(w http.ResponseWriter, r *http.Request) {
	f.fulcioCalls.Add(1)
	if r.URL.Path != "/api/v2/signingCert" || !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	var req struct {
		PublicKeyRequest struct {
			PublicKey struct{ Content string } `json:"publicKey"`
		} `json:"publicKeyRequest"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	block, _ := pem.Decode([]byte(req.PublicKeyRequest.PublicKey.Content))
	if block == nil {
		http.Error(w, "no PEM public key", http.StatusBadRequest)
		return
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	leaf, err := f.issue(pub)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	pemOf := func(der []byte) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	}
	resp := map[string]any{"signedCertificateEmbeddedSct": map[string]any{
		"chain": map[string]any{"certificates": []string{pemOf(leaf), pemOf(f.ca.Raw)}},
	}}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(resp)
}

// issue makes a precertificate, has the CT log sign an SCT over it, and
// returns the final certificate carrying that SCT, as Fulcio does.
func (f *fakeSigstore) issue(pub crypto.PublicKey) ([]byte, error) {
	now := time.Now()
	tmpl := func(last pkix.Extension) *x509.Certificate {
		return &x509.Certificate{
			SerialNumber:   big.NewInt(now.UnixNano()),
			NotBefore:      now.Add(-time.Minute),
			NotAfter:       now.Add(10 * time.Minute),
			KeyUsage:       x509.KeyUsageDigitalSignature,
			ExtKeyUsage:    []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
			EmailAddresses: []string{testIdentity},
			ExtraExtensions: []pkix.Extension{
				{Id: oidIssuerV1, Value: []byte(testIssuer)},
				last,
			},
		}
	}
	pre, err := x509.CreateCertificate(rand.Reader, tmpl(pkix.Extension{Id: oidPoison, Critical: true, Value: []byte{0x05, 0x00}}), f.ca, pub, f.caKey)
	if err != nil {
		return nil, err
	}
	preCT, err := ctx509.ParseCertificate(pre)
	if err != nil {
		return nil, err
	}
	caCT, err := ctx509.ParseCertificate(f.ca.Raw)
	if err != nil {
		return nil, err
	}
	leaf, err := ct.MerkleTreeLeafFromChain([]*ctx509.Certificate{preCT, caCT}, ct.PrecertLogEntryType, uint64(now.UnixMilli()))
	if err != nil {
		return nil, err
	}
	sct := ct.SignedCertificateTimestamp{SCTVersion: ct.V1, Timestamp: uint64(now.UnixMilli())}
	copy(sct.LogID.KeyID[:], logID(f.ctKey.Public()))
	input, err := ct.SerializeSCTSignatureInput(sct, ct.LogEntry{Leaf: *leaf})
	if err != nil {
		return nil, err
	}
	sig, err := cttls.CreateSignature(*f.ctKey, cttls.SHA256, input)
	if err != nil {
		return nil, err
	}
	sct.Signature = ct.DigitallySigned(sig)
	list, err := x509util.MarshalSCTsIntoSCTList([]*ct.SignedCertificateTimestamp{&sct})
	if err != nil {
		return nil, err
	}
	raw, err := cttls.Marshal(*list)
	if err != nil {
		return nil, err
	}
	ext, err := asn1.Marshal(raw)
	if err != nil {
		return nil, err
	}
	return x509.CreateCertificate(rand.Reader, tmpl(pkix.Extension{Id: oidSCTList, Value: ext}), f.ca, pub, f.caKey)
}

func (f *fakeSigstore) serveRekor(w http.ResponseWriter, r *http.Request) {
	f.logCalls.Add(1)
	if r.Method != http.MethodPost || r.URL.Path != "/api/v1/log/entries" {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	ctx := r.Context()
	pe, err := models.UnmarshalProposedEntry(r.Body, runtime.JSONConsumer())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ei, err := types.CreateVersionedEntry(pe)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	body, err := types.CanonicalizeEntry(ctx, ei)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	id := hex.EncodeToString(logID(f.logKey.Public()))
	integrated := time.Now().Unix()
	b64 := base64.StdEncoding.EncodeToString(body)
	// The signed entry timestamp: the log's signature over the canonical
	// JSON of the entry's body, time, log id and index.
	setJSON, _ := json.Marshal(map[string]any{"body": b64, "integratedTime": integrated, "logID": id, "logIndex": 0})
	canon, err := jsoncanonicalizer.Transform(setJSON)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	digest := sha256.Sum256(canon)
	set, err := ecdsa.SignASN1(rand.Reader, f.logKey, digest[:])
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	// A tree of one leaf: its root is the leaf hash.
	leafHash := sha256.Sum256(append([]byte{0}, body...))
	signer, err := signature.LoadECDSASignerVerifier(f.logKey, crypto.SHA256)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	checkpoint, err := rekorutil.CreateAndSignCheckpoint(ctx, "rekor.test", 1, 1, leafHash[:], signer)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	uuid := hex.EncodeToString(leafHash[:])
	entry := map[string]any{uuid: map[string]any{
		"body": b64, "integratedTime": integrated, "logID": id, "logIndex": 0,
		"verification": map[string]any{
			"signedEntryTimestamp": set,
			"inclusionProof": map[string]any{
				"checkpoint": string(checkpoint), "hashes": []string{},
				"logIndex": 0, "rootHash": uuid, "treeSize": 1,
			},
		},
	}}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("ETag", uuid)
	w.Header().Set("Location", "/api/v1/log/entries/"+uuid)
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(entry)
}

// trustedRoot is the trusted_root.json naming the fake CA, CT log and Rekor.
func (f *fakeSigstore) trustedRoot() []byte {
	f.t.Helper()
	start := time.Now().Add(-time.Hour)
	tlog := func(u string, k *ecdsa.PrivateKey) map[string]*root.TransparencyLog {
		id := logID(k.Public())
		return map[string]*root.TransparencyLog{hex.EncodeToString(id): {
			BaseURL: u, ID: id, ValidityPeriodStart: start, HashFunc: crypto.SHA256,
			PublicKey: k.Public(), SignatureHashFunc: crypto.SHA256,
		}}
	}
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01,
		[]root.CertificateAuthority{&root.FulcioCertificateAuthority{Root: f.ca, ValidityPeriodStart: start, URI: f.fulcio.URL}},
		tlog("https://ct.test", f.ctKey), nil, tlog(f.rekor.URL, f.logKey))
	if err != nil {
		f.t.Fatal(err)
	}
	b, err := tr.MarshalJSON()
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

// fakeToken is an unsigned JWT: the fake Fulcio does not check it, and
// the signer only reads its subject for the proof of possession.
func fakeToken() string {
	enc := base64.RawURLEncoding.EncodeToString
	claims, _ := json.Marshal(map[string]any{"iss": testIssuer, "sub": "1234", "email": testIdentity, "email_verified": true, "aud": Audience})
	return enc([]byte(`{"alg":"none"}`)) + "." + enc(claims) + ".sig"
}

func TestSignVerifyRoundTrip(t *testing.T) {
	f := newFakeSigstore(t)
	s, err := New(Options{FulcioURL: f.fulcio.URL, RekorURL: f.rekor.URL, IDToken: fakeToken()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	payload := []byte(`{"_type":"https://in-toto.io/Statement/v1"}`)
	bundle, err := s.Sign(ctx, attest.InTotoPayloadType, payload)
	if err != nil {
		t.Fatal(err)
	}
	if f.fulcioCalls.Load() != 1 || f.logCalls.Load() != 1 {
		t.Fatalf("calls: fulcio %d, rekor %d; want 1 each", f.fulcioCalls.Load(), f.logCalls.Load())
	}
	var shape struct {
		MediaType string `json:"mediaType"`
	}
	if err := json.Unmarshal(bundle, &shape); err != nil || shape.MediaType != attest.BundleMediaType {
		t.Fatalf("bundle media type %q (%v)", shape.MediaType, err)
	}
	trusted := f.trustedRoot()
	policy := func(identity, issuer string) attest.VerifyOptions {
		return attest.VerifyOptions{Sigstore: &attest.SigstorePolicy{TrustedRoot: trusted, Identity: identity, Issuer: issuer}}
	}
	pt, got, err := attest.Verify(ctx, bundle, policy(testIdentity, testIssuer))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if pt != attest.InTotoPayloadType || string(got) != string(payload) {
		t.Fatalf("Verify returned %q %q", pt, got)
	}

	tampered := strings.Replace(string(bundle), base64.StdEncoding.EncodeToString(payload),
		base64.StdEncoding.EncodeToString([]byte(`{"_type":"https://in-toto.io/Statement/v2"}`)), 1)
	if tampered == string(bundle) {
		t.Fatal("test did not find the payload to tamper with")
	}
	other := newFakeSigstore(t)
	for _, tc := range []struct {
		name   string
		bundle string
		opts   attest.VerifyOptions
	}{
		{"identity_mismatch", string(bundle), policy("someone@example.com", testIssuer)},
		{"issuer_mismatch", string(bundle), policy(testIdentity, "https://other.example.com")},
		{"payload_edited", tampered, policy(testIdentity, testIssuer)},
		{"other_instance_root", string(bundle), attest.VerifyOptions{Sigstore: &attest.SigstorePolicy{TrustedRoot: other.trustedRoot(), Identity: testIdentity, Issuer: testIssuer}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := attest.Verify(ctx, []byte(tc.bundle), tc.opts)
			if !errors.Is(err, attest.ErrUnverified) {
				t.Fatalf("err = %v, want ErrUnverified", err)
			}
		})
	}
}

func TestSignErrors(t *testing.T) {
	if _, err := New(Options{}); !errors.Is(err, ErrNoToken) {
		t.Fatalf("New without token: %v", err)
	}
	if _, err := New(Options{IDToken: "x", FulcioURL: "file:///etc/passwd"}); err == nil {
		t.Fatal("a file URL was accepted")
	}
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "denied", http.StatusUnauthorized)
	}))
	defer down.Close()
	s, err := New(Options{FulcioURL: down.URL, RekorURL: down.URL, IDToken: fakeToken()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sign(context.Background(), attest.InTotoPayloadType, []byte("{}")); err == nil || !strings.Contains(err.Error(), "keyless: signing") {
		t.Fatalf("Sign against a refusing Fulcio: %v", err)
	}
}

func TestIDToken(t *testing.T) {
	var gotAuth, gotAudience atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth.Store(r.Header.Get("Authorization"))
		gotAudience.Store(r.URL.Query().Get("audience"))
		if r.URL.Query().Get("api-version") != "2.0" {
			http.Error(w, "lost the existing query", http.StatusBadRequest)
			return
		}
		w.Write([]byte(`{"value":"gh.jwt.token"}`))
	}))
	defer srv.Close()
	ctx := context.Background()
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	gh := map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": srv.URL + "/token?api-version=2.0", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "req-secret"}
	for _, tc := range []struct {
		name, explicit string
		env            map[string]string
		want           string
		err            error
	}{
		{"explicit_wins", "given", map[string]string{"SIGSTORE_ID_TOKEN": "env"}, "given", nil},
		{"sigstore_env", "", map[string]string{"SIGSTORE_ID_TOKEN": "env", "ACTIONS_ID_TOKEN_REQUEST_URL": "x"}, "env", nil},
		{"github_exchange", "", gh, "gh.jwt.token", nil},
		{"none", "", map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": srv.URL}, "", ErrNoToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := IDToken(ctx, tc.explicit, env(tc.env), srv.Client())
			if !errors.Is(err, tc.err) || got != tc.want {
				t.Fatalf("IDToken = %q, %v; want %q, %v", got, err, tc.want, tc.err)
			}
		})
	}
	if gotAuth.Load() != "bearer req-secret" || gotAudience.Load() != Audience {
		t.Fatalf("GitHub request: Authorization %q, audience %q", gotAuth.Load(), gotAudience.Load())
	}
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "secret echo req-secret", http.StatusForbidden)
	}))
	defer refusing.Close()
	_, err := IDToken(ctx, "", env(map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": refusing.URL, "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "req-secret"}), refusing.Client())
	if err == nil || strings.Contains(err.Error(), "req-secret") || !strings.Contains(err.Error(), "403") {
		t.Fatalf("refused exchange: %v", err)
	}
}
