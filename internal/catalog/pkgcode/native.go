package pkgcode

import (
	"bytes"
	"encoding/binary"
	"path"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
)

// nativeMagic names the executable format b starts with, or "".
func nativeMagic(b []byte) string {
	if len(b) < 8 {
		return ""
	}
	switch {
	case bytes.HasPrefix(b, []byte("\x7fELF")):
		return "ELF"
	case bytes.HasPrefix(b, []byte{0xfe, 0xed, 0xfa, 0xce}), bytes.HasPrefix(b, []byte{0xfe, 0xed, 0xfa, 0xcf}),
		bytes.HasPrefix(b, []byte{0xce, 0xfa, 0xed, 0xfe}), bytes.HasPrefix(b, []byte{0xcf, 0xfa, 0xed, 0xfe}):
		return "Mach-O"
	case bytes.HasPrefix(b, []byte{0xca, 0xfe, 0xba, 0xbe}):
		// Java classes share the magic; their next word is a version
		// of 45 or more, a fat Mach-O's is a small count of slices.
		if binary.BigEndian.Uint32(b[4:8]) < 20 {
			return "Mach-O universal"
		}
	case bytes.HasPrefix(b, []byte("MZ")) && len(b) >= 0x40:
		off := int(binary.LittleEndian.Uint32(b[0x3c:0x40]))
		if off >= 0x40 && off+4 <= len(b) && bytes.Equal(b[off:off+4], []byte("PE\x00\x00")) {
			return "PE"
		}
	}
	return ""
}

// pureWheel returns the name of the innermost wheel p is a member of when
// the wheel's tags say pure Python (ABI "none", platform "any"), else "".
// pip installs such a wheel on any platform, so a native binary in it is
// either dead weight or something meant to be loaded by hand.
func pureWheel(p string) string {
	i := strings.LastIndex(p, ".whl!")
	if i < 0 {
		return ""
	}
	whl := p[:i+4]
	whl = whl[strings.LastIndexByte(whl, '!')+1:]
	whl = path.Base(strings.ReplaceAll(whl, "\\", "/"))
	tags := strings.Split(strings.TrimSuffix(whl, ".whl"), "-")
	if len(tags) < 5 {
		return ""
	}
	if tags[len(tags)-2] == "none" && tags[len(tags)-1] == "any" {
		return whl
	}
	return ""
}

func native(f *inventory.File, s inventory.Sink) {
	kind, whl := nativeMagic(f.Head), pureWheel(f.Path)
	s.Finding(inventory.Finding{
		Rule: RuleNativeInPure, Severity: inventory.High, Component: f.Component, Path: f.Path,
		Offset:      inventory.At(0),
		Evidence:    kind + " binary in " + whl,
		Message:     "a wheel tagged pure Python (none-any) carries a native binary: no installer builds or needs it, so it is loaded by hand, if at all",
		Remediation: "find what loads the binary (ctypes, subprocess) before installing; prefer a platform wheel built from reviewed source",
	})
}
