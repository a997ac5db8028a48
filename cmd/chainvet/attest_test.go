package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/chainvet/chainvet/internal/attest/intoto"
)

// attestCLI runs the attest and verify attestation commands under a root
// of their own (main wires them into the real one) and returns the exit
// code run would.
func attestCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	root := &cobra.Command{Use: "chainvet", SilenceUsage: true, SilenceErrors: true}
	verify := &cobra.Command{Use: "verify"}
	verify.AddCommand(newVerifyAttestation(&out, &errb))
	root.AddCommand(newAttest(&out, &errb), verify)
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	switch err := root.ExecuteContext(context.Background()); {
	case errors.Is(err, errFailOn):
		return 1, out.String(), errb.String()
	case err != nil:
		return 2, out.String(), errb.String() + err.Error()
	}
	return 0, out.String(), errb.String()
}

type testPKI struct {
	priv, pub, otherPub   string // PEM files
	leafPriv, leaf, caPEM string
}

func writePEM(t *testing.T, path, typ string, der []byte) string {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func newTestPKI(t *testing.T, dir string) testPKI {
	t.Helper()
	key := func(name string) (*ecdsa.PrivateKey, string, string) {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		p8, _ := x509.MarshalPKCS8PrivateKey(k)
		pub, _ := x509.MarshalPKIXPublicKey(k.Public())
		return k, writePEM(t, filepath.Join(dir, name+".key"), "PRIVATE KEY", p8), writePEM(t, filepath.Join(dir, name+".pub"), "PUBLIC KEY", pub)
	}
	var p testPKI
	_, p.priv, p.pub = key("signer")
	_, _, p.otherPub = key("other")
	caKey, _, _ := key("ca")
	leafKey, leafPriv, _ := key("leaf")
	p.leafPriv = leafPriv
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "signer"},
		NotBefore: now.Add(-time.Minute), NotAfter: now.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caTmpl, leafKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	p.caPEM = writePEM(t, filepath.Join(dir, "ca.pem"), "CERTIFICATE", caDER)
	p.leaf = writePEM(t, filepath.Join(dir, "leaf.pem"), "CERTIFICATE", leafDER)
	return p
}

var githubEnv = map[string]string{
	"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/models",
	"GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567", "GITHUB_REF": "refs/heads/main",
	"GITHUB_WORKFLOW_REF": "acme/models/.github/workflows/release.yml@refs/heads/main", "GITHUB_RUN_ID": "4242",
	"GITHUB_RUN_ATTEMPT": "1", "GITHUB_EVENT_NAME": "push", "RUNNER_ENVIRONMENT": "github-hosted", "GITLAB_CI": "",
}

var gitlabEnv = map[string]string{
	"GITHUB_ACTIONS": "", "GITLAB_CI": "true", "CI_SERVER_URL": "https://gitlab.example.com", "CI_PROJECT_PATH": "acme/models",
	"CI_PROJECT_URL": "https://gitlab.example.com/acme/models", "CI_COMMIT_SHA": "fedcba9876543210fedcba9876543210fedcba98",
	"CI_COMMIT_REF_NAME": "main", "CI_CONFIG_PATH": ".gitlab-ci.yml", "CI_PIPELINE_SOURCE": "push", "CI_PIPELINE_ID": "1",
	"CI_JOB_ID": "2", "CI_JOB_URL": "https://gitlab.example.com/acme/models/-/jobs/2", "CI_RUNNER_ID": "3",
}

// payloadOf returns the statement inside a bundle, unverified.
func payloadOf(t *testing.T, bundlePath string) *intoto.Statement {
	t.Helper()
	var b struct {
		DsseEnvelope struct{ Payload []byte } `json:"dsseEnvelope"`
	}
	raw, _ := os.ReadFile(bundlePath)
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatal(err)
	}
	st, err := intoto.Parse(b.DsseEnvelope.Payload)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestAttestRoundTrips(t *testing.T) {
	dir := t.TempDir()
	pki := newTestPKI(t, dir)
	artifact := filepath.Join(dir, "model.bin")
	os.WriteFile(artifact, []byte("weights"), 0o644)
	bom := filepath.Join(dir, "bom.json")
	os.WriteFile(bom, []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[]}`), 0o644)
	for _, tc := range []struct {
		name   string
		env    map[string]string
		attest []string
		verify []string
		ptype  string
		want   string // in the statement's predicate
	}{
		{"bom_key", nil, []string{"bom", "--predicate", bom, "--subject", artifact, "--key", pki.priv},
			[]string{"--key", pki.pub}, predicateCycloneDX, `"bomFormat":"CycloneDX"`},
		{"bom_cert_chain", nil, []string{"bom", "--predicate", bom, "--subject", artifact, "--key", pki.leafPriv, "--cert-chain", pki.leaf},
			[]string{"--cert-chain", pki.caPEM}, predicateCycloneDX, `"specVersion":"1.6"`},
		{"bom_scanned", nil, []string{"bom", artifact, "--no-advisories", "--key", pki.priv},
			[]string{"--key", pki.pub}, predicateCycloneDX, `"bomFormat":"CycloneDX"`},
		{"scan_scanned", nil, []string{"scan", artifact, "--no-advisories", "--key", pki.priv},
			[]string{"--key", pki.pub}, predicateReport, `"schema":"chainvet/report/v1"`},
		{"provenance_github", githubEnv, []string{"provenance", "--subject", artifact, "--key", pki.priv},
			[]string{"--key", pki.pub}, "https://slsa.dev/provenance/v1", `"invocationId":"https://github.com/acme/models/actions/runs/4242/attempts/1"`},
		{"provenance_gitlab", gitlabEnv, []string{"provenance", "--subject", artifact, "--key", pki.priv},
			[]string{"--key", pki.pub}, "https://slsa.dev/provenance/v1", `"buildType":"https://chainvet.dev/buildtypes/gitlab-ci/v1"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			out := filepath.Join(t.TempDir(), "att.sigstore.json")
			if code, _, stderr := attestCLI(t, append(append([]string{"attest"}, tc.attest...), "--out", out)...); code != 0 {
				t.Fatalf("attest: exit %d: %s", code, stderr)
			}
			st := payloadOf(t, out)
			if st.PredicateType != tc.ptype || !strings.Contains(string(st.Predicate), tc.want) {
				t.Fatalf("statement: type %s, predicate %.300s; want %s with %s", st.PredicateType, st.Predicate, tc.ptype, tc.want)
			}
			if len(st.Subject) != 1 || st.Subject[0].Name != filepath.ToSlash(artifact) {
				t.Fatalf("subjects = %+v", st.Subject)
			}
			code, stdout, stderr := attestCLI(t, append(append([]string{"verify", "attestation", out}, tc.verify...),
				"--subject", artifact, "--predicate-type", tc.ptype)...)
			if code != 0 || !strings.Contains(stdout, "verified:") {
				t.Fatalf("verify: exit %d\n%s%s", code, stdout, stderr)
			}
		})
	}
}

func TestVerifyAttestationFailures(t *testing.T) {
	dir := t.TempDir()
	pki := newTestPKI(t, dir)
	artifact := filepath.Join(dir, "model.bin")
	os.WriteFile(artifact, []byte("weights"), 0o644)
	other := filepath.Join(dir, "other.bin")
	os.WriteFile(other, []byte("other weights"), 0o644)
	bom := filepath.Join(dir, "bom.json")
	os.WriteFile(bom, []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6"}`), 0o644)
	good := filepath.Join(dir, "good.json")
	if code, _, stderr := attestCLI(t, "attest", "bom", "--predicate", bom, "--subject", artifact, "--key", pki.priv, "--out", good); code != 0 {
		t.Fatal(stderr)
	}

	// A bundle whose statement was edited after signing: the subject now
	// names other.bin's digest.
	edited := filepath.Join(dir, "edited.json")
	{
		var m map[string]any
		raw, _ := os.ReadFile(good)
		json.Unmarshal(raw, &m)
		env := m["dsseEnvelope"].(map[string]any)
		payload, _ := base64.StdEncoding.DecodeString(env["payload"].(string))
		sub, _ := intoto.FileSubject(context.Background(), other, "")
		st, _ := intoto.Parse(payload)
		st.Subject = []intoto.Subject{sub}
		b, _ := st.Marshal()
		env["payload"] = base64.StdEncoding.EncodeToString(b)
		raw, _ = json.Marshal(m)
		os.WriteFile(edited, raw, 0o644)
	}
	changed := filepath.Join(dir, "changed.bin")
	os.WriteFile(changed, []byte("weights, retrained"), 0o644)

	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"statement_edited", []string{edited, "--key", pki.pub, "--subject", other}, 1, "not verified"},
		{"subject_digest_mismatch", []string{good, "--key", pki.pub, "--subject", other}, 1, "is not a subject"},
		{"wrong_predicate_type", []string{good, "--key", pki.pub, "--subject", artifact, "--predicate-type", predicateReport}, 1, "predicate type is https://cyclonedx.org/bom, want https://chainvet.dev/report/v1"},
		{"wrong_key", []string{good, "--key", pki.otherPub, "--subject", artifact}, 1, "not verified"},
		{"wrong_ca", []string{good, "--cert-chain", pki.caPEM, "--subject", artifact}, 1, "not verified"},
		{"no_signer", []string{good, "--subject", artifact}, 2, "exactly one of --key"},
		{"identity_without_root", []string{good, "--key", pki.pub, "--identity", "a@b.c"}, 2, "need --trusted-root"},
		{"missing_subject_file", []string{good, "--key", pki.pub, "--subject", filepath.Join(dir, "absent")}, 2, "no such file"},
		{"not_a_bundle", []string{bom, "--key", pki.pub}, 1, "not verified"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := attestCLI(t, append([]string{"verify", "attestation"}, tc.args...)...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d (want %d)\nstdout: %s\nstderr: %s\nwant %q", code, tc.code, stdout, stderr, tc.want)
			}
		})
	}
	// Without --subject the signature still verifies, with a warning.
	if code, _, stderr := attestCLI(t, "verify", "attestation", good, "--key", pki.pub); code != 0 || !strings.Contains(stderr, "no --subject") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
}

func TestAttestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	pki := newTestPKI(t, dir)
	artifact := filepath.Join(dir, "model.bin")
	os.WriteFile(artifact, []byte("weights"), 0o644)
	notBOM := filepath.Join(dir, "report.json")
	os.WriteFile(notBOM, []byte(`{"schema":"chainvet/report/v1"}`), 0o644)
	t.Setenv("GITHUB_ACTIONS", "")
	t.Setenv("GITLAB_CI", "")
	t.Setenv("SIGSTORE_ID_TOKEN", "")
	t.Setenv("ACTIONS_ID_TOKEN_REQUEST_URL", "")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"folder_only", []string{"bom", dir, "--key", pki.priv}, "no subject"},
		{"predicate_and_paths", []string{"bom", artifact, "--predicate", notBOM, "--key", pki.priv}, "not both"},
		{"predicate_wrong_kind", []string{"bom", "--predicate", notBOM, "--subject", artifact, "--key", pki.priv}, "not a CycloneDX JSON BOM"},
		{"report_wrong_kind", []string{"scan", "--predicate", filepath.Join(dir, "signer.pub"), "--subject", artifact, "--key", pki.priv}, "not a JSON object"},
		{"no_method", []string{"bom", artifact}, "no signing method"},
		{"two_methods", []string{"bom", artifact, "--key", pki.priv, "--sigstore"}, "--sigstore excludes --key"},
		{"sigstore_no_token", []string{"bom", artifact, "--sigstore"}, "no OIDC identity token"},
		{"provenance_outside_ci", []string{"provenance", "--subject", artifact, "--key", pki.priv}, "no GitHub Actions or GitLab CI"},
		{"provenance_no_subject", []string{"provenance", "--key", pki.priv}, "at least one --subject"},
		{"public_key_to_sign", []string{"bom", artifact, "--key", pki.pub}, "--key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := attestCLI(t, append([]string{"attest"}, tc.args...)...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", code, stderr, tc.want)
			}
		})
	}
}

func TestAttestStdout(t *testing.T) {
	dir := t.TempDir()
	pki := newTestPKI(t, dir)
	artifact := filepath.Join(dir, "model.bin")
	os.WriteFile(artifact, []byte("weights"), 0o644)
	code, stdout, stderr := attestCLI(t, "attest", "bom", artifact, "--no-advisories", "--key", pki.priv)
	if code != 0 {
		t.Fatal(stderr)
	}
	var b struct{ MediaType string }
	if err := json.Unmarshal([]byte(stdout), &b); err != nil || b.MediaType != "application/vnd.dev.sigstore.bundle.v0.3+json" {
		t.Fatalf("stdout is not a v0.3 bundle: %v %.200s", err, stdout)
	}
	if strings.Contains(stdout+stderr, "PRIVATE KEY") {
		t.Fatal("key material printed")
	}

}
