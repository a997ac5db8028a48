// Package pkgcode finds code that runs when a package is installed or
// imported: Python build hooks (setup.py, hatch_build.py, in-tree
// backends), npm lifecycle scripts, .pth startup lines, and native
// binaries shipped inside packages that claim to be pure Python.
//
// Nothing is executed: Python is tokenized by pysource, package.json is
// decoded as data and its scripts matched as text.
package pkgcode

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
)

// MaxFileBytes bounds the build scripts, package.json and .pth files read:
// real ones are a few KB; the biggest setup.py files seen are ~200 KB.
const MaxFileBytes = 2 << 20

// Rule ids.
const (
	RuleInstallScript = "package/install-script"
	RuleDecodeExec    = "package/install-decode-exec"
	RuleCredentials   = "package/install-credentials"
	RulePthExec       = "package/pth-exec"
	RuleNativeInPure  = "package/native-in-pure"
	RuleMalformed     = "package/malformed"
)

// Pkgcode is the cataloger. The zero value is ready to use.
type Pkgcode struct{}

// Name implements inventory.Cataloger.
func (Pkgcode) Name() string { return "packages/install-code" }

// What kind of file a wanted file is.
type kind int

const (
	kNone kind = iota
	kPyHook
	kPyproject
	kPackageJSON
	kPth
	kNative
)

func classify(f *inventory.File) kind {
	switch {
	case f.Name == "setup.py" || f.Name == "hatch_build.py":
		if isText(f.Head) {
			return kPyHook
		}
	case f.Name == "pyproject.toml":
		if isText(f.Head) {
			return kPyproject
		}
	case f.Name == "package.json":
		if h := bytes.TrimLeft(f.Head, " \t\r\n\xef\xbb\xbf"); len(h) > 0 && h[0] == '{' {
			return kPackageJSON
		}
	case strings.HasSuffix(f.Name, ".pth"):
		// PyTorch checkpoints share the suffix; they are zips or pickles,
		// binary from the first bytes.
		if isText(f.Head) {
			return kPth
		}
	}
	if nativeMagic(f.Head) != "" && pureWheel(f.Path) != "" {
		return kNative
	}
	return kNone
}

// Wants implements inventory.Cataloger.
func (Pkgcode) Wants(f *inventory.File) bool { return classify(f) != kNone }

// Catalog implements inventory.Cataloger.
func (Pkgcode) Catalog(ctx context.Context, f *inventory.File, s inventory.Sink) error {
	k := classify(f)
	if k == kNative {
		native(f, s)
		return nil
	}
	if f.Size > MaxFileBytes {
		s.Finding(inventory.Finding{
			Rule: inventory.RuleScanLimit, Severity: inventory.High, Component: f.Component, Path: f.Path,
			Evidence:    fmt.Sprintf("%d bytes > %d", f.Size, MaxFileBytes),
			Message:     "the file is too large to check for install-time code: it is not known to be clean",
			Remediation: "review it by hand",
		})
		return nil
	}
	data := f.Head
	if !f.Whole() {
		data = make([]byte, f.Size)
		if _, err := f.ReadAt(data, 0); err != nil && err != io.EOF {
			return fmt.Errorf("reading %s: %w", f.Path, err)
		}
	}
	j := &judge{s: s, path: f.Path, comp: f.Component}
	switch k {
	case kPyHook:
		return j.python(ctx, data, 0)
	case kPyproject:
		j.pyproject(data)
		return j.inTreeBackend(ctx, data)
	case kPackageJSON:
		j.packageJSON(data)
	case kPth:
		return j.pth(ctx, data)
	}
	return nil
}

// judge reports findings about one file.
type judge struct {
	s    inventory.Sink
	path string
	comp string
}

func (j *judge) add(rule string, sev inventory.Severity, line int, evidence, message, fix string) {
	j.s.Finding(inventory.Finding{
		Rule: rule, Severity: sev, Component: j.comp, Path: j.path, Line: line,
		Evidence: evidence, Message: message, Remediation: fix,
	})
}

// isText reports whether b looks like source text: no NUL byte.
func isText(b []byte) bool { return len(b) > 0 && bytes.IndexByte(b, 0) < 0 }

// lineOf returns the 1-based line of offset off in b.
func lineOf(b []byte, off int) int {
	if off < 0 || off > len(b) {
		return 0
	}
	return bytes.Count(b[:off], []byte{'\n'}) + 1
}

// clip cuts evidence to n bytes.
func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// pyproject flags in-tree build backends and custom hatch hooks: code of
// the package itself that runs at build time. Low: a reviewer should
// read it, and it is checked when named hatch_build.py.
func (j *judge) pyproject(data []byte) {
	for _, key := range []string{"backend-path", "[tool.hatch.build.hooks.custom]"} {
		if i := bytes.Index(data, []byte(key)); i >= 0 {
			j.add(RuleInstallScript, inventory.Low, lineOf(data, i), key,
				"the project builds with code of its own: it runs when the package is installed from source",
				"read the in-tree backend or hook before building the package")
		}
	}
}
