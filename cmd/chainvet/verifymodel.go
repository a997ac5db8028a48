package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/chainvet/chainvet/internal/attest"
	"github.com/chainvet/chainvet/internal/attest/modelsig"
)

type verifyModelFlags struct {
	trust          verifyAttestationFlags // --key, --cert-chain, --trusted-root, --identity, --issuer
	model          modelFlags
	ignoreUnsigned bool
}

// newVerifyModel returns `chainvet verify model`.
func newVerifyModel(stdout, stderr io.Writer) *cobra.Command {
	var f verifyModelFlags
	c := &cobra.Command{
		Use:   "model DIR",
		Short: "Verify a model against its OpenSSF model signature",
		Long: `verify model checks DIR's signature (default DIR/model.sig) — made by
chainvet sign model or by the OpenSSF model_signing tool, v0.2 to v1.1 — and
that every file matches it: none changed, missing or added.

Trust exactly one signer: --key PUBLIC.pem, --cert-chain CA.pem (the signing
certificate must chain to it and allow digital signatures or code signing), or
--trusted-root trusted_root.json with --identity and --issuer for Sigstore
keyless signatures (verified offline: the certificate, its transparency log
entry and timestamps are all checked against that root).

Exit status: 0 verified, 1 not verified (the reason is printed: which check, or
which file), 2 usage or input error.`,
		Example: `  chainvet verify model ./bert --key signing.pub
  chainvet verify model ./bert --cert-chain ca.pem --ignore-paths bert/README.md
  chainvet verify model ./bert --trusted-root trusted_root.json \
      --identity ci@example.com --issuer https://accounts.google.com`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerifyModel(cmd, args[0], &f, stdout, stderr)
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.trust.key, "key", "", "trust this PEM public key")
	fl.StringVar(&f.trust.certChain, "cert-chain", "", "trust signing certificates that chain to these PEM certificates")
	fl.StringVar(&f.trust.trustedRoot, "trusted-root", "", "Sigstore trusted_root.json, for keyless signatures")
	fl.StringVar(&f.trust.identity, "identity", "", "with --trusted-root: the exact signer identity (e-mail or URI)")
	fl.StringVar(&f.trust.issuer, "issuer", "", "with --trusted-root: the exact OIDC issuer")
	addModelFlags(c, &f.model)
	fl.BoolVar(&f.ignoreUnsigned, "ignore-unsigned-files", false, "do not report files the signature does not list")
	return c
}

func runVerifyModel(cmd *cobra.Command, model string, f *verifyModelFlags, stdout, stderr io.Writer) error {
	ctx := cmd.Context()
	opts, err := f.trust.options()
	if err != nil {
		return err
	}
	if _, err := os.Stat(model); err != nil {
		return hinted{err, "give the model directory or file to verify"}
	}
	sigPath := f.model.signaturePath(model)
	bundle, err := readBounded(sigPath, attest.MaxBundleSize)
	if err != nil {
		return hinted{err, "give the signature with --signature FILE"}
	}
	fail := func(format string, args ...any) error {
		fmt.Fprintf(stderr, "chainvet: not verified: %s: %s\n", model, fmt.Sprintf(format, args...))
		return errFailOn
	}
	m, diffs, err := modelsig.Verify(ctx, model, bundle, opts, modelsig.CheckOptions{
		IgnorePaths:    f.model.ignores(model),
		IgnoreGitPaths: f.model.ignoreGitPaths,
		IgnoreUnsigned: f.ignoreUnsigned,
	})
	switch {
	case errors.Is(err, attest.ErrUnverified), errors.Is(err, modelsig.ErrMalformed):
		return fail("%s: %v", sigPath, err)
	case errors.Is(err, modelsig.ErrMismatch):
		for _, d := range diffs {
			fmt.Fprintf(stderr, "chainvet: not verified: %s: %s\n", model, d)
		}
		if hasExtra(diffs) && !f.ignoreUnsigned {
			fmt.Fprintln(stderr, "chainvet: fix: if the extra files are not part of the model, pass --ignore-paths for each, or --ignore-unsigned-files")
		}
		return errFailOn
	case err != nil:
		return err
	}
	fmt.Fprintf(stdout, "verified: %s: %d %s (%s, %s) signed as %q, root sha256:%x\n",
		model, len(m.Resources), plural(len(m.Resources), "resource"), m.Serialization.Method, m.Serialization.HashType, m.Model, m.RootDigest())
	return nil
}

func hasExtra(ds []modelsig.Diff) bool {
	for _, d := range ds {
		if d.Kind == modelsig.Extra {
			return true
		}
	}
	return false
}
