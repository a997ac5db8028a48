package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/chainvet/chainvet/internal/attest"
	"github.com/chainvet/chainvet/internal/attest/intoto"
	"github.com/chainvet/chainvet/internal/attest/modelsig"
	"github.com/chainvet/chainvet/internal/policy"
)

// maxAttestedFiles bounds the files of a folder checked against an
// attestation's subjects.
const maxAttestedFiles = 100_000

// signatureChecker verifies for the gate the model signatures and
// attestations a policy requires, with internal/attest. Where they are:
//
//   - a model signature: model.sig in the model folder, or beside a
//     single-file model (as chainvet sign model writes it);
//   - an attestation of a file or folder P: P.sigstore.json, else
//     P.intoto.json (chainvet attest --out P.sigstore.json). A file must be
//     a subject by its SHA-256; for a folder, every file in it must be.
type signatureChecker struct{}

// Check implements policy.SignatureChecker.
func (signatureChecker) Check(ctx context.Context, p string, req policy.Requirement) policy.Verdict {
	opts, signer, err := trustOf(req)
	if err != nil {
		return policy.Verdict{Detail: err.Error()}
	}
	fi, err := os.Stat(p)
	if err != nil {
		return policy.Verdict{Detail: err.Error()}
	}
	if req.PredicateType == "" {
		return checkModelSignature(ctx, p, fi.IsDir(), opts, signer)
	}
	return checkAttestation(ctx, p, fi.IsDir(), req.PredicateType, opts, signer)
}

// trustOf turns a policy requirement into verification options.
func trustOf(req policy.Requirement) (attest.VerifyOptions, string, error) {
	var opts attest.VerifyOptions
	read := func(what, p string) ([]byte, error) {
		b, err := readBounded(p, attest.MaxBundleSize)
		if err != nil {
			return nil, fmt.Errorf("the policy's %s: %w", what, err)
		}
		return b, nil
	}
	var err error
	switch {
	case req.Key != "":
		opts.PublicKey, err = read("key", req.Key)
		return opts, "the key " + req.Key, err
	case req.Certificate != "":
		opts.CertChain, err = read("certificate", req.Certificate)
		return opts, "the certificate chain " + req.Certificate, err
	case req.Identity != "" && req.Issuer != "" && req.TrustedRoot != "":
		root, err := read("trusted root", req.TrustedRoot)
		opts.Sigstore = &attest.SigstorePolicy{TrustedRoot: root, Identity: req.Identity, Issuer: req.Issuer}
		return opts, fmt.Sprintf("%s (issuer %s)", req.Identity, req.Issuer), err
	}
	return opts, "", errors.New("the policy names no key, certificate, or identity with issuer and trusted root")
}

func checkModelSignature(ctx context.Context, p string, dir bool, opts attest.VerifyOptions, signer string) policy.Verdict {
	sig := filepath.Join(filepath.Dir(p), "model.sig")
	if dir {
		sig = filepath.Join(p, "model.sig")
	}
	bundle, err := readBounded(sig, attest.MaxBundleSize)
	if err != nil {
		return policy.Verdict{Detail: fmt.Sprintf("no signature: %v (sign it with chainvet sign model)", err)}
	}
	// The signature inside the folder is never part of what it signs.
	co := modelsig.CheckOptions{IgnoreGitPaths: true}
	if dir {
		co.IgnorePaths = []string{"model.sig"}
	}
	m, _, err := modelsig.Verify(ctx, p, bundle, opts, co)
	if err != nil {
		return policy.Verdict{Detail: fmt.Sprintf("%s: %v", sig, err)}
	}
	return policy.Verdict{Verified: true, Signer: signer,
		Detail: fmt.Sprintf("%s: %d resources, root sha256:%x", sig, len(m.Resources), m.RootDigest())}
}

func checkAttestation(ctx context.Context, p string, dir bool, predicateType string, opts attest.VerifyOptions, signer string) policy.Verdict {
	var bundle []byte
	var where string
	for _, cand := range []string{p + ".sigstore.json", p + ".intoto.json"} {
		b, err := readBounded(cand, attest.MaxBundleSize)
		if err == nil {
			bundle, where = b, cand
			break
		}
	}
	if bundle == nil {
		return policy.Verdict{Detail: fmt.Sprintf("no attestation at %s.sigstore.json or .intoto.json (make one with chainvet attest --out)", p)}
	}
	typ, payload, err := attest.Verify(ctx, bundle, opts)
	if err != nil {
		return policy.Verdict{Detail: fmt.Sprintf("%s: %v", where, err)}
	}
	if typ != attest.InTotoPayloadType {
		return policy.Verdict{Detail: fmt.Sprintf("%s: payload type %q is not an in-toto statement", where, typ)}
	}
	st, err := intoto.Parse(payload)
	if err != nil {
		return policy.Verdict{Detail: fmt.Sprintf("%s: %v", where, err)}
	}
	if st.PredicateType != predicateType {
		return policy.Verdict{Detail: fmt.Sprintf("%s: predicate type %s, the policy wants %s", where, st.PredicateType, predicateType)}
	}
	files := []string{p}
	if dir {
		if files, err = regularFiles(p); err != nil {
			return policy.Verdict{Detail: fmt.Sprintf("%s: %v", p, err)}
		}
	}
	want, err := intoto.FileSubjects(ctx, files)
	if err != nil {
		return policy.Verdict{Detail: err.Error()}
	}
	if err := st.Match(want); err != nil {
		return policy.Verdict{Detail: fmt.Sprintf("%s: %v", where, err)}
	}
	return policy.Verdict{Verified: true, Signer: signer,
		Detail: fmt.Sprintf("%s: %s over %d file(s)", where, predicateType, len(files))}
}

// regularFiles lists the regular files under dir, refusing more than
// maxAttestedFiles.
func regularFiles(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			if len(out) == maxAttestedFiles {
				return fmt.Errorf("more than %d files", maxAttestedFiles)
			}
			out = append(out, p)
		}
		return nil
	})
	return out, err
}
