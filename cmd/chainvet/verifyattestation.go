package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/chainvet/chainvet/internal/attest"
	"github.com/chainvet/chainvet/internal/attest/intoto"
	"github.com/chainvet/chainvet/internal/attest/slsa"
)

type verifyAttestationFlags struct {
	key, certChain, trustedRoot string
	identity, issuer            string
	subjects                    []string
	predicateType               string
}

func newVerifyAttestation(stdout, stderr io.Writer) *cobra.Command {
	var f verifyAttestationFlags
	c := &cobra.Command{
		Use:   "attestation BUNDLE",
		Short: "Verify a signed in-toto attestation: signature, signer, subjects and predicate type",
		Long: `attestation checks, in order, that BUNDLE is a Sigstore bundle whose DSSE
signature verifies for the trusted signer, that its payload is an in-toto
Statement v1, that its predicate type is --predicate-type (when given), and
that every --subject file's SHA-256 is one of its subjects. The first
failure is printed and the exit code is 1; a usage or input error exits 2.

Trusted signer (exactly one):
  --key PUBLIC.pem                                  a public key
  --cert-chain CHAIN.pem                            certificates trusted as anchors
  --trusted-root ROOT.json --identity ID --issuer URL
                                                    Sigstore keyless, offline: the
                                                    trusted root names the Fulcio CA,
                                                    Rekor and CT logs (for the public
                                                    good instance, sigstore's TUF
                                                    target trusted_root.json)`,
		Example: `  chainvet verify attestation bom.sigstore.json --key cosign.pub --subject model.safetensors \
      --predicate-type https://cyclonedx.org/bom
  chainvet verify attestation provenance.sigstore.json --trusted-root trusted_root.json \
      --identity https://github.com/acme/models/.github/workflows/release.yml@refs/heads/main \
      --issuer https://token.actions.githubusercontent.com --subject dist/model.safetensors`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return hinted{errors.New("verify attestation takes one BUNDLE"), "chainvet verify attestation bom.sigstore.json --key cosign.pub"}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerifyAttestation(cmd, args[0], &f, stdout, stderr)
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.key, "key", "", "trust this PEM public key")
	fl.StringVar(&f.certChain, "cert-chain", "", "trust signing certificates that chain to these PEM certificates")
	fl.StringVar(&f.trustedRoot, "trusted-root", "", "Sigstore trusted_root.json for keyless bundles")
	fl.StringVar(&f.identity, "identity", "", "with --trusted-root: the exact certificate identity (e-mail or URI)")
	fl.StringVar(&f.issuer, "issuer", "", "with --trusted-root: the exact OIDC issuer")
	fl.StringArrayVar(&f.subjects, "subject", nil, "a file that must be a subject of the attestation (repeatable)")
	fl.StringVar(&f.predicateType, "predicate-type", "", "the predicate type the attestation must have")
	return c
}

func (f *verifyAttestationFlags) options() (attest.VerifyOptions, error) {
	var opts attest.VerifyOptions
	n := 0
	for _, s := range []string{f.key, f.certChain, f.trustedRoot} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return opts, hinted{errors.New("give exactly one of --key, --cert-chain and --trusted-root"), "name the signer you trust"}
	}
	if (f.identity != "" || f.issuer != "") && f.trustedRoot == "" {
		return opts, hinted{errors.New("--identity and --issuer need --trusted-root"), "add --trusted-root trusted_root.json"}
	}
	read := func(flag, path string) ([]byte, error) {
		b, err := readBounded(path, attest.MaxBundleSize)
		if err != nil {
			return nil, hinted{fmt.Errorf("--%s: %w", flag, err), "check the --" + flag + " path"}
		}
		return b, nil
	}
	var err error
	switch {
	case f.key != "":
		opts.PublicKey, err = read("key", f.key)
	case f.certChain != "":
		opts.CertChain, err = read("cert-chain", f.certChain)
	default:
		if f.identity == "" || f.issuer == "" {
			return opts, hinted{errors.New("--trusted-root needs --identity and --issuer"), "say who must have signed: --identity ID --issuer URL"}
		}
		var root []byte
		root, err = read("trusted-root", f.trustedRoot)
		opts.Sigstore = &attest.SigstorePolicy{TrustedRoot: root, Identity: f.identity, Issuer: f.issuer}
	}
	return opts, err
}

func runVerifyAttestation(cmd *cobra.Command, path string, f *verifyAttestationFlags, stdout, stderr io.Writer) error {
	ctx := cmd.Context()
	opts, err := f.options()
	if err != nil {
		return err
	}
	bundle, err := readBounded(path, attest.MaxBundleSize)
	if err != nil {
		return hinted{err, "check the BUNDLE path"}
	}
	// Hash the files first: an unreadable --subject is a usage error (2),
	// not a failed verification (1).
	want, err := intoto.FileSubjects(ctx, dedupe(f.subjects))
	if err != nil {
		return hinted{err, "every --subject must be a readable regular file"}
	}
	fail := func(format string, args ...any) error {
		fmt.Fprintf(stderr, "chainvet: not verified: %s: %s\n", path, fmt.Sprintf(format, args...))
		return errFailOn
	}
	ptype, payload, err := attest.Verify(ctx, bundle, opts)
	if errors.Is(err, attest.ErrUnverified) {
		return fail("%v", err)
	}
	if err != nil {
		return err
	}
	if ptype != intoto.PayloadType {
		return fail("payload type is %q, not an in-toto statement (%s)", ptype, intoto.PayloadType)
	}
	st, err := intoto.Parse(payload)
	if err != nil {
		return fail("%v", err)
	}
	if f.predicateType != "" && st.PredicateType != f.predicateType {
		return fail("predicate type is %s, want %s", st.PredicateType, f.predicateType)
	}
	if st.PredicateType == slsa.PredicateType {
		if _, err := slsa.Parse(st.Predicate); err != nil {
			return fail("%v", err)
		}
	}
	if err := st.Match(want); err != nil {
		return fail("%v", err)
	}
	fmt.Fprintf(stdout, "verified: %s: predicate %s, %d subject(s)", path, st.PredicateType, len(st.Subject))
	if len(want) > 0 {
		fmt.Fprintf(stdout, ", %d file(s) matched", len(want))
	}
	fmt.Fprintln(stdout)
	if len(want) == 0 {
		fmt.Fprintln(stderr, "chainvet: warning: no --subject given: the signature is good, but which files it covers was not checked")
	}
	return nil
}
