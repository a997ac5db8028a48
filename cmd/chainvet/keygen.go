package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/chainvet/chainvet/internal/attest"
)

type keygenFlags struct {
	out, typ string
}

// newKeygen returns `chainvet keygen`.
func newKeygen(stdout, stderr io.Writer) *cobra.Command {
	var f keygenFlags
	c := &cobra.Command{
		Use:   "keygen",
		Short: "Write a signing keypair: PREFIX.key (encrypted) and PREFIX.pub",
		Long: `keygen writes a new keypair for chainvet sign and attest: PREFIX.pub, the
public key (PKIX PEM), and PREFIX.key, the private key as PKCS#8 PEM encrypted
with a passphrase (PBES2: PBKDF2-HMAC-SHA256, AES-256-CBC; openssl reads it).

The passphrase comes from $CHAINVET_KEY_PASSWORD, or is asked for on the
terminal; without either, keygen fails. Existing files are never overwritten.
The key itself is never printed.`,
		Example: `  chainvet keygen --out release --type ecdsa-p384
  CHAINVET_KEY_PASSWORD=… chainvet keygen`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runKeygen(&f, os.Getenv, stdout, stderr)
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.out, "out", "chainvet", "write PREFIX.key and PREFIX.pub")
	fl.StringVar(&f.typ, "type", "ecdsa-p256", "key type: ecdsa-p256, ecdsa-p384 or ed25519 (ed25519 signatures verify with chainvet, not with model_signing)")
	return c
}

func runKeygen(f *keygenFlags, getenv func(string) string, stdout, stderr io.Writer) error {
	privPath, pubPath := f.out+".key", f.out+".pub"
	for _, p := range []string{privPath, pubPath} {
		if _, err := os.Lstat(p); err == nil {
			return hinted{fmt.Errorf("%s exists", p), "choose another --out PREFIX, or move the old key away"}
		}
	}
	pw, err := passphrase(getenv, stderr)
	if err != nil {
		return err
	}
	key, err := attest.GenerateKey(f.typ)
	if err != nil {
		return hinted{err, "--type is one of ecdsa-p256, ecdsa-p384, ed25519"}
	}
	priv, err := attest.MarshalPrivateKey(key, pw, attest.KeyIterations)
	if err != nil {
		return err
	}
	pub, err := attest.MarshalPublicKey(key.Public())
	if err != nil {
		return err
	}
	if err := writeNew(privPath, priv, 0o600); err != nil {
		return err
	}
	if err := writeNew(pubPath, pub, 0o644); err != nil {
		os.Remove(privPath)
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (private, encrypted) and %s (public)\n", privPath, pubPath)
	return nil
}

// passphrase reads the key passphrase from the environment or, on a
// terminal, asks for it twice.
func passphrase(getenv func(string) string, stderr io.Writer) ([]byte, error) {
	if pw := getenv(passwordEnv); pw != "" {
		return []byte(pw), nil
	}
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return nil, hinted{errors.New("no passphrase for the private key"), "set " + passwordEnv + ", or run keygen on a terminal"}
	}
	fmt.Fprint(stderr, "Passphrase for the new key: ")
	a, err := term.ReadPassword(fd)
	fmt.Fprintln(stderr)
	if err != nil {
		return nil, fmt.Errorf("reading the passphrase: %w", err)
	}
	fmt.Fprint(stderr, "Again: ")
	b, err := term.ReadPassword(fd)
	fmt.Fprintln(stderr)
	if err != nil {
		return nil, fmt.Errorf("reading the passphrase: %w", err)
	}
	if !bytes.Equal(a, b) {
		return nil, errors.New("the passphrases differ")
	}
	if len(a) == 0 {
		return nil, errors.New("empty passphrase")
	}
	return a, nil
}

// writeNew writes a file that must not exist yet.
func writeNew(p string, b []byte, perm os.FileMode) error {
	fh, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := fh.Write(b); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}
