package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/chainvet/chainvet/internal/attest"
	"github.com/chainvet/chainvet/internal/attest/modelsig"
)

// defaultSignature is the signature file's name, as model_signing names it.
const defaultSignature = "model.sig"

// modelFlags are the flags sign model and verify model share.
type modelFlags struct {
	signature      string
	ignorePaths    []string
	ignoreGitPaths bool
}

func addModelFlags(c *cobra.Command, f *modelFlags) {
	fl := c.Flags()
	fl.StringVar(&f.signature, "signature", "", "signature file (default: DIR/model.sig, or model.sig beside a single-file model)")
	fl.StringArrayVar(&f.ignorePaths, "ignore-paths", nil, "leave out this file or directory of the model (repeatable; relative to the current directory)")
	fl.BoolVar(&f.ignoreGitPaths, "ignore-git-paths", true, "leave out .git, .gitattributes, .github and .gitignore")
}

// signaturePath is the --signature flag, or the default beside the model.
func (f *modelFlags) signaturePath(model string) string {
	if f.signature != "" {
		return f.signature
	}
	if fi, err := os.Stat(model); err == nil && !fi.IsDir() {
		return filepath.Join(filepath.Dir(model), defaultSignature)
	}
	return filepath.Join(model, defaultSignature)
}

// ignores returns the model-relative paths to leave out: --ignore-paths
// and the signature file, as model_signing resolves them (against the
// current directory, dropped when outside the model), and the git paths.
func (f *modelFlags) ignores(model string) []string {
	var out []string
	root, err := resolve(model)
	if err != nil {
		return nil
	}
	for _, p := range append(f.ignorePaths, f.signaturePath(model)) {
		abs, err := resolve(p)
		if err != nil {
			continue
		}
		rel, err := filepath.Rel(root, abs)
		if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			continue
		}
		out = append(out, filepath.ToSlash(rel))
	}
	if f.ignoreGitPaths {
		out = append(out, modelsig.DefaultIgnores()...)
	}
	return out
}

// resolve makes p absolute, resolving symbolic links as far as it exists.
func resolve(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		return r, nil
	}
	if r, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
		return filepath.Join(r, filepath.Base(abs)), nil
	}
	return abs, nil
}

type signModelFlags struct {
	sign          signFlags
	model         modelFlags
	method        string
	hashType      string
	shardSize     int64
	allowSymlinks bool
}

// newSign returns `chainvet sign`, whose one subcommand is `sign model`.
func newSign(stdout, stderr io.Writer) *cobra.Command {
	c := &cobra.Command{
		Use:   "sign",
		Short: "Sign a model in the OpenSSF model signing format",
		Args:  cobra.NoArgs,
	}
	c.AddCommand(newSignModel(stdout, stderr))
	return c
}

func newSignModel(stdout, stderr io.Writer) *cobra.Command {
	var f signModelFlags
	c := &cobra.Command{
		Use:   "model DIR",
		Short: "Sign every file of a model directory (or one model file)",
		Long: `sign model hashes every file of DIR and signs the list in the OpenSSF model
signing format (sigstore/model-transparency v1.0): a Sigstore bundle holding a
DSSE envelope over an in-toto statement with predicate
https://model_signing/signature/v1.0. The reference model_signing tool and
chainvet verify model both read it.

Methods: --key PRIVATE.pem (ECDSA P-256/P-384; Ed25519 verifies with chainvet
but not with model_signing), --key with --cert-chain CHAIN.pem (signing
certificate first), or --sigstore (keyless: Fulcio and Rekor, with an OIDC
token). An encrypted key's passphrase is read from $CHAINVET_KEY_PASSWORD.

Left out of the signature: .git, .gitattributes, .github, .gitignore, the
signature file and --ignore-paths; all are recorded in the statement.`,
		Example: `  chainvet sign model ./bert --key signing.key
  chainvet sign model ./bert --key signing.key --cert-chain chain.pem
  chainvet sign model ./bert.safetensors --key signing.key --signature bert.sig`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSignModel(cmd, args[0], &f, stdout, stderr)
		},
	}
	addSignFlags(c, &f.sign)
	addModelFlags(c, &f.model)
	fl := c.Flags()
	fl.StringVar(&f.method, "method", modelsig.MethodFiles, "serialization: files (a digest per file) or shards (a digest per --shard-size piece)")
	fl.StringVar(&f.hashType, "hash", modelsig.SHA256, "digest: sha256 or blake2b")
	fl.Int64Var(&f.shardSize, "shard-size", modelsig.DefaultShardSize, "shard size in bytes, for --method shards")
	fl.BoolVar(&f.allowSymlinks, "allow-symlinks", false, "hash what symbolic links to regular files point to (by default a link is an error)")
	return c
}

func runSignModel(cmd *cobra.Command, model string, f *signModelFlags, stdout, stderr io.Writer) error {
	ctx := cmd.Context()
	if _, err := os.Stat(model); err != nil {
		return hinted{err, "give the model directory or file to sign"}
	}
	s, err := signerFor(cmd, &f.sign)
	if err != nil {
		return err
	}
	opt := modelsig.Options{
		Method: f.method, HashType: f.hashType, AllowSymlinks: f.allowSymlinks,
		IgnorePaths: f.model.ignores(model),
	}
	if f.method == modelsig.MethodShards {
		opt.ShardSize = f.shardSize
	}
	b, m, err := modelsig.Sign(ctx, model, opt, s)
	if err != nil {
		if strings.Contains(err.Error(), "symbolic link") {
			return hinted{err, "remove the link, or pass --allow-symlinks to sign what it points to"}
		}
		return err
	}
	out := f.model.signaturePath(model)
	if err := os.WriteFile(out, b, 0o644); err != nil {
		return fmt.Errorf("writing the signature: %w", err)
	}
	fmt.Fprintf(stdout, "signed: %s: %d %s (%s), root sha256:%x -> %s\n",
		model, len(m.Resources), plural(len(m.Resources), "resource"), m.Serialization.HashType, m.RootDigest(), out)
	return nil
}

// signerFor returns the Signer the signing flags name: a key, a key and
// certificate chain, or Sigstore keyless (see signFlags.signer).
func signerFor(cmd *cobra.Command, f *signFlags) (attest.Signer, error) {
	s, err := f.signer(cmd.Context(), os.Getenv)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, errors.New("no signer")
	}
	return s, nil
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
