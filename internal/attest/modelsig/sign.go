package modelsig

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/chainvet/chainvet/internal/attest"
)

// Sign hashes the model at root and signs its statement with s, returning
// the bundle and the manifest signed.
func Sign(ctx context.Context, root string, opt Options, s attest.Signer) ([]byte, *Manifest, error) {
	m, err := Hash(ctx, root, opt)
	if err != nil {
		return nil, nil, err
	}
	st, err := m.Statement()
	if err != nil {
		return nil, nil, err
	}
	b, err := s.Sign(ctx, attest.InTotoPayloadType, st)
	if err != nil {
		return nil, nil, err
	}
	return b, m, nil
}

// CheckOptions say what verification leaves out, beyond the statement's
// own ignore_paths.
type CheckOptions struct {
	// IgnorePaths are more model-relative paths to leave out, such as the
	// signature file when it lies inside the model.
	IgnorePaths []string
	// IgnoreGitPaths leaves out DefaultIgnores, as the reference does
	// unless told otherwise.
	IgnoreGitPaths bool
	// IgnoreUnsigned hashes only the files the statement lists, so extra
	// files are not reported. Files are still found by walking the model:
	// a signed name can never lead outside it or through a symbolic link
	// the statement does not allow.
	IgnoreUnsigned bool
	// Workers is the number of files or shards hashed at once; 0 is one
	// per CPU.
	Workers int
}

// ErrMismatch is wrapped by the error Verify returns when the model
// differs from what was signed.
var ErrMismatch = errors.New("model does not match its signature")

// Verify checks the bundle's signature with vo, reads the signed manifest
// and hashes the model at root as it was hashed for signing. It returns the
// signed manifest and, if the model differs, the differences with an error
// wrapping ErrMismatch. A bad signature or statement wraps
// attest.ErrUnverified or ErrMalformed.
func Verify(ctx context.Context, root string, bundle []byte, vo attest.VerifyOptions, co CheckOptions) (*Manifest, []Diff, error) {
	typ, payload, err := attest.Verify(ctx, bundle, vo)
	if err != nil {
		return nil, nil, err
	}
	if typ != attest.InTotoPayloadType {
		return nil, nil, malformed("DSSE payload type %q, want %q", typ, attest.InTotoPayloadType)
	}
	want, err := ParseStatement(payload)
	if err != nil {
		return nil, nil, err
	}
	diffs, err := Check(ctx, root, want, co)
	return want, diffs, err
}

// Check hashes the model at root as want was made and compares the two.
func Check(ctx context.Context, root string, want *Manifest, co CheckOptions) ([]Diff, error) {
	s := want.Serialization
	opt := Options{
		Method: s.Method, HashType: s.HashType, ShardSize: s.ShardSize, AllowSymlinks: s.AllowSymlinks,
		Workers: co.Workers,
	}
	// The statement's ignore paths are honoured only inside the model
	// (withDefaults drops the rest), as the reference does.
	opt.IgnorePaths = append(opt.IgnorePaths, s.IgnorePaths...)
	opt.IgnorePaths = append(opt.IgnorePaths, co.IgnorePaths...)
	if co.IgnoreGitPaths {
		opt.IgnorePaths = append(opt.IgnorePaths, DefaultIgnores()...)
	}
	if co.IgnoreUnsigned {
		opt.only = make(map[string]bool, len(want.Resources))
		for _, r := range want.Resources {
			opt.only[r.Path] = true
		}
	}
	if fi, err := os.Stat(root); err == nil && !fi.IsDir() {
		opt.IgnorePaths = nil // a single file is never ignored
	}
	got, err := Hash(ctx, root, opt)
	if err != nil {
		return nil, err
	}
	diffs := Compare(want, got)
	if len(diffs) > 0 {
		return diffs, fmt.Errorf("%w: %s", ErrMismatch, summary(diffs))
	}
	return nil, nil
}

// summary says what differs, naming at most a few resources.
func summary(diffs []Diff) string {
	const show = 5
	var b strings.Builder
	for i, d := range diffs {
		if i == show {
			fmt.Fprintf(&b, "; and %d more", len(diffs)-show)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(d.String())
	}
	return b.String()
}
