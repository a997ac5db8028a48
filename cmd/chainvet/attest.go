package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/chainvet/chainvet/internal/attest"
	"github.com/chainvet/chainvet/internal/attest/intoto"
	"github.com/chainvet/chainvet/internal/attest/keyless"
	"github.com/chainvet/chainvet/internal/attest/slsa"
	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/render"
)

// Predicate types chainvet attests.
const (
	predicateCycloneDX = "https://cyclonedx.org/bom"
	predicateReport    = "https://chainvet.dev/report/v1"
)

// passwordEnv names the variable holding the password of an encrypted
// private key; keys are never read from a flag, which would show in ps.
const passwordEnv = "CHAINVET_KEY_PASSWORD"

// maxPredicateFile bounds a --predicate file, as intoto.MaxSize bounds the
// statement it goes into.
const maxPredicateFile = intoto.MaxSize

// signFlags choose how a statement is signed.
type signFlags struct {
	key, certChain      string
	sigstore            bool
	oidcToken           string
	fulcioURL, rekorURL string
}

type attestFlags struct {
	sign      signFlags
	subjects  []string
	out       string
	predicate string
	pipe      pipelineFlags
}

func newAttest(stdout, stderr io.Writer) *cobra.Command {
	c := &cobra.Command{
		Use:   "attest",
		Short: "Sign an in-toto attestation: a CycloneDX BOM, a scan report or SLSA build provenance",
		Long: `attest wraps a document in an in-toto Statement v1 over named subjects
(each a file's name and SHA-256) and signs it into a Sigstore bundle (v0.3,
JSON, a DSSE envelope with payload type application/vnd.in-toto+json).

Predicate types:
  bom         https://cyclonedx.org/bom        the CycloneDX BOM chainvet bom writes
  scan        https://chainvet.dev/report/v1   the JSON report chainvet scan -o json writes
  provenance  https://slsa.dev/provenance/v1   SLSA v1 build provenance from the CI environment

Signing methods (exactly one):
  --key PRIVATE.pem                       a private key (password, if encrypted, in $` + passwordEnv + `)
  --key PRIVATE.pem --cert-chain CHAIN    a key and its certificate chain, leaf first
  --sigstore                              keyless: Fulcio certificate for an OIDC token, Rekor entry

Subjects are the files named with --subject; for bom and scan, every PATH
that is a regular file is a subject too. A folder is never a subject: name
the artifacts in it, so that what is attested is never a guess.`,
	}
	c.AddCommand(newAttestDoc("bom", stdout, stderr), newAttestDoc("scan", stdout, stderr), newAttestProvenance(stdout, stderr))
	return c
}

func addSignFlags(c *cobra.Command, s *signFlags) {
	fl := c.Flags()
	fl.StringVar(&s.key, "key", "", "sign with this PEM private key")
	fl.StringVar(&s.certChain, "cert-chain", "", "PEM certificate chain of --key, leaf first")
	fl.BoolVar(&s.sigstore, "sigstore", false, "sign keyless with Sigstore (Fulcio + Rekor)")
	fl.StringVar(&s.oidcToken, "oidc-token", "", "OIDC identity token for --sigstore (default: $SIGSTORE_ID_TOKEN, or GitHub Actions' token)")
	fl.StringVar(&s.fulcioURL, "fulcio-url", keyless.PublicFulcio, "Fulcio instance for --sigstore")
	fl.StringVar(&s.rekorURL, "rekor-url", keyless.PublicRekor, "Rekor instance for --sigstore")
}

// signer returns the Signer the flags name.
func (s *signFlags) signer(ctx context.Context, getenv func(string) string) (attest.Signer, error) {
	switch {
	case s.sigstore && (s.key != "" || s.certChain != ""):
		return nil, hinted{errors.New("--sigstore excludes --key and --cert-chain"), "choose one signing method"}
	case s.sigstore:
		tok, err := keyless.IDToken(ctx, s.oidcToken, getenv, nil)
		if err != nil {
			return nil, hinted{err, "pass --oidc-token, or set SIGSTORE_ID_TOKEN"}
		}
		return keyless.New(keyless.Options{FulcioURL: s.fulcioURL, RekorURL: s.rekorURL, IDToken: tok})
	case s.key == "":
		return nil, hinted{errors.New("no signing method"), "pass --key PRIVATE.pem (with --cert-chain for the certificate method), or --sigstore"}
	}
	priv, err := os.ReadFile(s.key)
	if err != nil {
		return nil, hinted{err, "check the --key path"}
	}
	pw := []byte(getenv(passwordEnv))
	if s.certChain == "" {
		sg, err := attest.NewKeySigner(priv, pw)
		if err != nil {
			return nil, hinted{fmt.Errorf("--key: %w", err), "give a PEM private key; set " + passwordEnv + " if it is encrypted"}
		}
		return sg, nil
	}
	chain, err := os.ReadFile(s.certChain)
	if err != nil {
		return nil, hinted{err, "check the --cert-chain path"}
	}
	sg, err := attest.NewCertSigner(priv, chain, pw)
	if err != nil {
		return nil, hinted{fmt.Errorf("--cert-chain: %w", err), "give the PEM chain of --key, leaf certificate first"}
	}
	return sg, nil
}

func addAttestFlags(c *cobra.Command, f *attestFlags) {
	addSignFlags(c, &f.sign)
	fl := c.Flags()
	fl.StringArrayVar(&f.subjects, "subject", nil, "a file the attestation is about (repeatable)")
	fl.StringVar(&f.out, "out", "", "write the bundle to this file instead of standard output")
}

// newAttestDoc is attest bom and attest scan: the predicate is a document
// chainvet renders from PATHs, or an existing one given with --predicate.
func newAttestDoc(kind string, stdout, stderr io.Writer) *cobra.Command {
	var f attestFlags
	what, format, ptype := "a CycloneDX BOM", "cyclonedx-json", predicateCycloneDX
	if kind == "scan" {
		what, format, ptype = "a chainvet scan report", "json", predicateReport
	}
	c := &cobra.Command{
		Use:   kind + " [PATH...]",
		Short: "Attest " + what + " (predicate " + ptype + ")",
		Long: kind + ` runs the pipeline over every PATH, as chainvet ` + kind + ` does, and signs
the resulting document as the predicate of an in-toto statement; or signs
the document given with --predicate. Subjects are --subject files and
the PATHs that are regular files.`,
		Example: `  chainvet attest ` + kind + ` model.safetensors --key cosign.key --out ` + kind + `.sigstore.json
  chainvet attest ` + kind + ` --predicate ` + kind + `.json --subject dist/app.whl --sigstore`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAttestDoc(cmd, args, &f, kind, format, ptype, stdout, stderr)
		},
	}
	addAttestFlags(c, &f)
	c.Flags().StringVar(&f.predicate, "predicate", "", "attest this existing "+kind+" JSON file instead of scanning")
	addPipelineFlags(c.Flags(), &f.pipe, kind == "bom")
	return c
}

func runAttestDoc(cmd *cobra.Command, args []string, f *attestFlags, kind, format, ptype string, stdout, stderr io.Writer) error {
	ctx := cmd.Context()
	if (f.predicate == "") == (len(args) == 0) {
		return hinted{fmt.Errorf("attest %s needs PATHs to scan or --predicate FILE, not both", kind),
			"chainvet attest " + kind + " ./model.safetensors --key cosign.key"}
	}
	paths := append([]string(nil), f.subjects...)
	for _, a := range args {
		fi, err := os.Stat(a)
		if err != nil {
			return hinted{err, "check that every PATH exists"}
		}
		if fi.Mode().IsRegular() {
			paths = append(paths, a)
		}
	}
	if len(paths) == 0 {
		return hinted{errors.New("no subject: the attestation must name the files it is about"),
			"add --subject FILE for each artifact (a folder is never a subject)"}
	}
	sg, err := f.sign.signer(ctx, os.Getenv)
	if err != nil {
		return err
	}
	var pred []byte
	if f.predicate != "" {
		if pred, err = readBounded(f.predicate, maxPredicateFile); err != nil {
			return hinted{err, "check the --predicate path"}
		}
		if err := checkPredicate(kind, pred); err != nil {
			return hinted{fmt.Errorf("--predicate %s: %w", f.predicate, err), "give the JSON that chainvet " + kind + " writes"}
		}
	} else {
		rep, err := f.pipe.run(cmd, args, stderr)
		if err != nil {
			return err
		}
		r, err := render.New(format, render.Options{})
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := r.Render(&buf, rep); err != nil {
			return err
		}
		pred = buf.Bytes()
	}
	subs, err := intoto.FileSubjects(ctx, dedupe(paths))
	if err != nil {
		return hinted{err, "every --subject must be a readable regular file"}
	}
	return signStatement(ctx, sg, ptype, pred, subs, f.out, stdout)
}

// checkPredicate makes sure an existing document is the kind it is
// attested as: a signature over the wrong document is worse than none.
func checkPredicate(kind string, b []byte) error {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("not a JSON object: %w", err)
	}
	switch kind {
	case "bom":
		var format string
		json.Unmarshal(doc["bomFormat"], &format)
		if format != "CycloneDX" {
			return errors.New(`not a CycloneDX JSON BOM (no "bomFormat": "CycloneDX")`)
		}
	case "scan":
		var schema string
		json.Unmarshal(doc["schema"], &schema)
		if schema != inventory.Schema {
			return fmt.Errorf("not a chainvet JSON report (schema is not %q)", inventory.Schema)
		}
	}
	return nil
}

func newAttestProvenance(stdout, stderr io.Writer) *cobra.Command {
	var f attestFlags
	c := &cobra.Command{
		Use:   "provenance --subject FILE...",
		Short: "Attest SLSA v1 build provenance from the GitHub Actions or GitLab CI environment",
		Long: `provenance reads the CI job's environment (GITHUB_* on GitHub Actions,
CI_* on GitLab CI) into a SLSA v1 provenance predicate — source repository
and commit, ref, workflow or pipeline file, run and runner — over the
--subject files the job built, and signs it. Outside CI it fails: a
provenance without a build platform would attest nothing.`,
		Example: `  chainvet attest provenance --subject dist/model.safetensors --sigstore --out provenance.sigstore.json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if len(f.subjects) == 0 {
				return hinted{errors.New("provenance needs at least one --subject"), "name each file the build produced with --subject"}
			}
			p, err := slsa.FromEnv(os.Getenv)
			if err != nil {
				return hinted{err, "run it inside a GitHub Actions or GitLab CI job"}
			}
			pred, err := p.Marshal()
			if err != nil {
				return err
			}
			subs, err := intoto.FileSubjects(ctx, dedupe(f.subjects))
			if err != nil {
				return hinted{err, "every --subject must be a readable regular file"}
			}
			sg, err := f.sign.signer(ctx, os.Getenv)
			if err != nil {
				return err
			}
			return signStatement(ctx, sg, slsa.PredicateType, pred, subs, f.out, stdout)
		},
	}
	addAttestFlags(c, &f)
	return c
}

// signStatement builds the statement, signs it and writes the bundle.
func signStatement(ctx context.Context, sg attest.Signer, ptype string, pred []byte, subs []intoto.Subject, out string, stdout io.Writer) error {
	st, err := intoto.New(ptype, pred, subs)
	if err != nil {
		return err
	}
	payload, err := st.Marshal()
	if err != nil {
		return err
	}
	bundle, err := sg.Sign(ctx, intoto.PayloadType, payload)
	if err != nil {
		return fmt.Errorf("signing: %w", err)
	}
	if !bytes.HasSuffix(bundle, []byte("\n")) {
		bundle = append(bundle, '\n')
	}
	if out == "" {
		_, err = stdout.Write(bundle)
		return err
	}
	if err := os.WriteFile(out, bundle, 0o644); err != nil {
		return hinted{err, "choose a writable path for --out"}
	}
	return nil
}

// readBounded reads a file of at most max bytes.
func readBounded(path string, max int64) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, max)
	}
	return b, nil
}

// dedupe drops repeated paths, keeping the first.
func dedupe(paths []string) []string {
	seen := map[string]bool{}
	out := paths[:0:0]
	for _, p := range paths {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}
