package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// modelCLI runs sign model, verify model and keygen under a root of their
// own (main wires them into the real one) and returns run's exit code.
func modelCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	root := &cobra.Command{Use: "chainvet", SilenceUsage: true, SilenceErrors: true}
	verify := &cobra.Command{Use: "verify"}
	verify.AddCommand(newVerifyModel(&out, &errb))
	root.AddCommand(newSign(&out, &errb), newKeygen(&out, &errb), verify)
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

func writeModel(t *testing.T, dir string, files map[string]string) string {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestKeygen(t *testing.T) {
	dir := t.TempDir()
	prefix := filepath.Join(dir, "k")
	t.Setenv(passwordEnv, "")
	// No passphrase and no terminal (go test's stdin is not one).
	if code, _, errs := modelCLI(t, "keygen", "--out", prefix); code != 2 || !strings.Contains(errs, "no passphrase") {
		t.Fatalf("keygen without passphrase: code %d, %s", code, errs)
	}
	t.Setenv(passwordEnv, "correct horse")
	code, out, errs := modelCLI(t, "keygen", "--out", prefix, "--type", "ecdsa-p384")
	if code != 0 {
		t.Fatalf("keygen: code %d: %s", code, errs)
	}
	key, _ := os.ReadFile(prefix + ".key")
	if !bytes.HasPrefix(key, []byte("-----BEGIN ENCRYPTED PRIVATE KEY-----")) || strings.Contains(out, "PRIVATE") {
		t.Errorf("key not encrypted, or printed: %q", out)
	}
	if fi, _ := os.Stat(prefix + ".key"); fi.Mode().Perm() != 0o600 {
		t.Errorf("key mode %v", fi.Mode())
	}
	if code, _, _ := modelCLI(t, "keygen", "--out", prefix); code != 2 {
		t.Error("keygen overwrote a key")
	}
	// The encrypted key signs; the public key verifies.
	model := writeModel(t, filepath.Join(dir, "m"), map[string]string{"w.bin": "weights"})
	if code, _, errs := modelCLI(t, "sign", "model", model, "--key", prefix+".key"); code != 0 {
		t.Fatalf("sign: %d %s", code, errs)
	}
	if code, _, errs := modelCLI(t, "verify", "model", model, "--key", prefix+".pub"); code != 0 {
		t.Fatalf("verify: %d %s", code, errs)
	}
	t.Setenv(passwordEnv, "wrong")
	if code, _, errs := modelCLI(t, "sign", "model", model, "--key", prefix+".key"); code != 2 || !strings.Contains(errs, "passphrase") {
		t.Errorf("wrong passphrase: %d %s", code, errs)
	}
}

func TestSignVerifyModel(t *testing.T) {
	dir := t.TempDir()
	p := newTestPKI(t, dir)
	files := map[string]string{"config.json": "{}", "weights/0.safetensors": "aaaa", "weights/1.safetensors": "bbbb", ".git/HEAD": "ref"}
	cases := []struct {
		name       string
		sign       []string
		verify     []string
		change     func(model string)
		wantCode   int
		wantStderr string
	}{
		{name: "key", sign: []string{"--key", p.priv}, verify: []string{"--key", p.pub}},
		{name: "key_shards_blake2b", sign: []string{"--key", p.priv, "--method", "shards", "--shard-size", "3", "--hash", "blake2b"}, verify: []string{"--key", p.pub}},
		{name: "certificate", sign: []string{"--key", p.leafPriv, "--cert-chain", p.leaf}, verify: []string{"--cert-chain", p.caPEM}},
		{name: "wrong_key", sign: []string{"--key", p.priv}, verify: []string{"--key", p.otherPub},
			wantCode: 1, wantStderr: "signed by another key"},
		{name: "untrusted_chain", sign: []string{"--key", p.leafPriv, "--cert-chain", p.leaf}, verify: []string{"--cert-chain", p.leaf + ".missing"},
			wantCode: 2, wantStderr: "cert-chain"},
		{name: "changed", sign: []string{"--key", p.priv}, verify: []string{"--key", p.pub},
			change:   func(m string) { os.WriteFile(filepath.Join(m, "weights", "1.safetensors"), []byte("evil"), 0o644) },
			wantCode: 1, wantStderr: "weights/1.safetensors: changed"},
		{name: "removed", sign: []string{"--key", p.priv}, verify: []string{"--key", p.pub},
			change:   func(m string) { os.Remove(filepath.Join(m, "config.json")) },
			wantCode: 1, wantStderr: "config.json: missing"},
		{name: "added", sign: []string{"--key", p.priv}, verify: []string{"--key", p.pub},
			change:   func(m string) { os.WriteFile(filepath.Join(m, "weights", "2.pkl"), []byte("x"), 0o644) },
			wantCode: 1, wantStderr: "weights/2.pkl: extra"},
		{name: "added_ignored_unsigned", sign: []string{"--key", p.priv}, verify: []string{"--key", p.pub, "--ignore-unsigned-files"},
			change: func(m string) { os.WriteFile(filepath.Join(m, "weights", "2.pkl"), []byte("x"), 0o644) }},
		{name: "no_signer", sign: []string{"--key", p.priv}, verify: nil, wantCode: 2, wantStderr: "exactly one"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			model := writeModel(t, filepath.Join(t.TempDir(), "model"), files)
			if code, _, errs := modelCLI(t, append([]string{"sign", "model", model}, c.sign...)...); code != 0 {
				t.Fatalf("sign: %d %s", code, errs)
			}
			if _, err := os.Stat(filepath.Join(model, "model.sig")); err != nil {
				t.Fatal(err)
			}
			if c.change != nil {
				c.change(model)
			}
			code, out, errs := modelCLI(t, append([]string{"verify", "model", model}, c.verify...)...)
			if code != c.wantCode || !strings.Contains(errs, c.wantStderr) {
				t.Fatalf("verify: code %d, want %d; stderr %q, want %q", code, c.wantCode, errs, c.wantStderr)
			}
			if code == 0 && !strings.HasPrefix(out, "verified: ") {
				t.Errorf("stdout %q", out)
			}
		})
	}
}

// TestVerifyModelInterop verifies the reference's signatures through the
// command line, as its own test scripts do.
func TestVerifyModelInterop(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "interop", "model-signing")
	if _, err := os.Stat(filepath.Join(dir, "keys")); err != nil {
		t.Skipf("interop vectors absent (%v)", err)
	}
	keys := filepath.Join(dir, "keys")
	sigstore := []string{"--trusted-root", filepath.Join(dir, "trusted-root-public-good.json"),
		"--identity", "stefanb@us.ibm.com", "--issuer", "https://sigstore.verify.ibm.com/oauth2"}
	cases := []struct {
		vector, model string
		trust         []string
	}{
		{"v1.1.0-elliptic-key", "", []string{"--key", filepath.Join(keys, "signing-key-pub.pem")}},
		{"v1.0.0-elliptic-key", "signme-1", []string{"--key", filepath.Join(keys, "signing-key-pub.pem")}},
		{"v1.1.0-certificate", "", []string{"--cert-chain", filepath.Join(keys, "ca-cert.pem")}},
		{"v0.2.0-certificate", "", []string{"--cert-chain", filepath.Join(keys, "ca-cert.pem")}},
		{"v1.1.0-sigstore", "", sigstore},
		{"v1.0.1-sigstore", "", sigstore},
	}
	for _, c := range cases {
		t.Run(c.vector, func(t *testing.T) {
			v := filepath.Join(dir, c.vector)
			args := append([]string{"verify", "model", filepath.Join(v, c.model), "--signature", filepath.Join(v, "model.sig"),
				"--ignore-paths", filepath.Join(v, "ignore-me")}, c.trust...)
			if code, out, errs := modelCLI(t, args...); code != 0 {
				t.Fatalf("code %d: %s%s", code, out, errs)
			}
			// The wrong identity is refused.
			if c.trust[0] == "--trusted-root" {
				bad := append(args[:len(args)-4:len(args)-4], "--identity", "mallory@example.com", "--issuer", "https://sigstore.verify.ibm.com/oauth2")
				if code, _, errs := modelCLI(t, bad...); code != 1 {
					t.Errorf("identity mismatch: code %d: %s", code, errs)
				}
			}
		})
	}
}
