// Package archive opens containers — zip, tar, gzip, bzip2, xz, lzma, zlib,
// 7z — member by member, tolerating and reporting the tricks that hide
// payloads from scanners.
//
// Detect names a container by its content, never by its name. Expand hands
// every member back to the pipeline through [inventory.Sink.Scan] and reports
// what a strict reader would reject — bad CRCs, names that differ between the
// directory and the local header, duplicates, data before the archive —
// instead of stopping there: the loaders these files target are lenient, so
// the scan is as lenient as they are and says what it tolerated. Every
// decoder is bounded by [Limits]; a limit reached is a scan/limit finding,
// and a member cut short is still handed over, never passed as clean.
//
// OpenZip is the zip reader on its own, for the model formats built on zip
// (PyTorch, NumPy .npz, Keras).
package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/rules"
)

// A Kind is a container format.
type Kind int

// The container formats Detect knows.
// (They are named Kind… because Zip is the zip reader's type.)
const (
	KindNone Kind = iota
	KindZip
	KindTar
	KindGzip
	KindBzip2
	KindXz
	KindLzma // the "lzma-alone" format of LZMA Utils and xz --format=lzma
	KindZlib // RFC 1950 streams, and joblib's older "ZF" files that wrap one
	KindSevenZip
)

var kindNames = [...]string{"none", "zip", "tar", "gzip", "bzip2", "xz", "lzma", "zlib", "7z"}

func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return "kind(" + strconv.Itoa(int(k)) + ")"
	}
	return kindNames[k]
}

// Limits bound the work Expand and OpenZip do on one file. A zero field
// takes its value from DefaultLimits.
type Limits struct {
	// Entries is the most members read from one archive.
	Entries int
	// Decompressed is the most bytes that one file on disk, with every
	// archive nested in it, may inflate to. Nested Expand and Zip.Open
	// calls share the budget through their context.
	Decompressed int64
	// Ratio is the largest decompressed:compressed ratio a member may reach
	// once it has inflated past ratioFloor bytes; past it the member is
	// treated as a decompression bomb.
	Ratio int64
	// MemBuffer is the largest member kept in memory; larger ones are
	// spooled to a temporary file, removed once the member is scanned.
	MemBuffer int64
	// Window is the largest dictionary or model memory a decoder (LZMA,
	// LZMA2, zstd, PPMd) may ask for. Decoders allocate it up front, so a
	// forged header could otherwise cost gigabytes before one byte is read.
	Window int64
}

// DefaultLimits are the limits used for zero fields of a Limits.
var DefaultLimits = Limits{
	Entries:      100_000,
	Decompressed: 8 << 30,
	Ratio:        1000,
	MemBuffer:    64 << 20,
	Window:       256 << 20, // xz -9 and 7-Zip -mx9 use 64 MiB
}

// ratioFloor is the output, in bytes, below which no member counts as a
// bomb: tiny members of zeros compress a thousandfold legitimately.
const ratioFloor = 1 << 20

// withDefaults fills zero (or nonsensical negative) fields.
func (l Limits) withDefaults() Limits {
	if l.Entries <= 0 {
		l.Entries = DefaultLimits.Entries
	}
	if l.Decompressed <= 0 {
		l.Decompressed = DefaultLimits.Decompressed
	}
	if l.Ratio <= 0 {
		l.Ratio = DefaultLimits.Ratio
	}
	if l.MemBuffer <= 0 {
		l.MemBuffer = DefaultLimits.MemBuffer
	}
	if l.Window <= 0 {
		l.Window = DefaultLimits.Window
	}
	return l
}

// ErrUnreadable says that a member's content could not be produced at all;
// the reason is already among the findings.
var ErrUnreadable = errors.New("archive: member cannot be read")

// The rule ids this package reports; see package rules for their meaning.
const (
	ruleCRC       = "archive/crc-mismatch"
	ruleEncrypted = "archive/encrypted"
	ruleName      = "archive/name-mismatch"
	ruleDuplicate = "archive/duplicate-name"
	ruleTraversal = "archive/path-traversal"
	ruleLink      = "archive/symlink"
	rulePrefix    = "archive/prefix-data"
	ruleMalformed = "archive/malformed"
	ruleLimit     = inventory.RuleScanLimit
)

// finding makes a finding about f, at path p (f.Path or a member's path),
// with the rule's usual severity. off < 0 means no offset.
func finding(f *inventory.File, rule, p string, off int64, evidence, message, remediation string) inventory.Finding {
	r, _ := rules.Lookup(rule)
	fd := inventory.Finding{
		Rule: rule, Severity: r.Severity, Component: f.Component, Path: p,
		Evidence: evidence, Message: message, Remediation: remediation,
	}
	if off >= 0 {
		fd.Offset = inventory.At(off)
	}
	return fd
}

// memberPath is the display path of member name of f.
func memberPath(f *inventory.File, name string) string { return f.Path + "!" + name }

// Expand opens f as a container of kind k, reports anomalies as findings to
// s and hands every member to s.Scan; directories are skipped, links are
// reported and not followed. Malformed input yields an archive/malformed
// finding and the members read before the break; a limit yields scan/limit.
// The error is only for I/O errors and ctx.
func Expand(ctx context.Context, f *inventory.File, k Kind, lim Limits, s inventory.Sink) error {
	lim = lim.withDefaults()
	ctx, b := withBudget(ctx, lim)
	x := &expander{ctx: ctx, f: f, lim: lim, s: s, b: b, names: newNamer()}
	var err error
	switch k {
	case KindZip:
		err = x.zip()
	case KindTar:
		err = x.tar()
	case KindGzip, KindBzip2, KindXz, KindLzma, KindZlib:
		err = x.stream(k)
	case KindSevenZip:
		err = x.sevenZip()
	default:
		return fmt.Errorf("%s: %v is not a container kind", f.Path, k)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", f.Path, err)
	}
	return nil
}

// expander holds the state of one Expand call.
type expander struct {
	ctx   context.Context
	f     *inventory.File
	lim   Limits
	s     inventory.Sink
	b     *budget
	names *namer
}

func (x *expander) report(rule, p string, off int64, evidence, message, remediation string) {
	x.s.Finding(finding(x.f, rule, p, off, evidence, message, remediation))
}

// A namer gives members distinct names: a name itself the first time,
// then name#2, name#3… for later copies, skipping names the archive uses
// itself.
type namer struct {
	count map[string]int  // copies of each name so far
	used  map[string]bool // names given out
}

func newNamer() *namer { return &namer{count: map[string]int{}, used: map[string]bool{}} }

// unique returns the name to hand the member over as, and which copy of
// name it is.
func (n *namer) unique(name string) (string, int) {
	n.count[name]++
	c := n.count[name]
	if !n.used[name] {
		n.used[name] = true
		return name, c
	}
	for i := max(c, 2); ; i++ {
		alt := name + "#" + strconv.Itoa(i)
		if !n.used[alt] {
			n.used[alt] = true
			return alt, c
		}
	}
}

// hand makes a member file of ra and hands it to the sink.
func (x *expander) hand(name string, ra io.ReaderAt, size int64) error {
	m, err := x.f.Member(name, ra, size)
	if err != nil {
		return err
	}
	x.s.Scan(x.ctx, m)
	return nil
}

// entryLimit reports that an archive holds more members than the limit.
func (x *expander) entryLimit(kind string) {
	x.report(ruleLimit, x.f.Path, -1,
		fmt.Sprintf("%s archive has more than %d members", kind, x.lim.Entries),
		"the archive has more members than the limit: the rest were not scanned",
		"unpack it and scan the contents, or raise the archive entry limit if the archive is legitimate")
}

// spoolFindings reports what went wrong while a member was decompressed:
// a limit that cut it short, or a decoder error that ended it early. It
// reports whether anything was reported.
func (x *expander) spoolFindings(p string, sp *spooled, what string) bool {
	return reportSpool(x.s.Finding, x.f, p, sp, what)
}

func reportSpool(add func(inventory.Finding), f *inventory.File, p string, sp *spooled, what string) bool {
	bad := false
	if sp.cut != "" {
		add(finding(f, ruleLimit, p, -1, sp.cut,
			"decompression stopped at a limit (a likely decompression bomb): only the first "+strconv.FormatInt(sp.size, 10)+" bytes were scanned",
			"reject the file unless its size is expected; raise the decompression limits to scan it whole"))
		bad = true
	}
	if sp.err != nil {
		add(finding(f, ruleMalformed, p, -1,
			fmt.Sprintf("%s: %v after %d bytes", what, sp.err, sp.size),
			"the compressed data is damaged or truncated: the bytes before the break were scanned",
			"obtain an intact copy; a loader may still run what precedes the break"))
		bad = true
	}
	return bad
}
