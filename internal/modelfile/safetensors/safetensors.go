// Package safetensors reads and checks the header of a safetensors file —
// the JSON table of tensor names, dtypes, shapes and byte ranges — without
// reading tensor data.
//
// A file is an 8-byte little-endian header length N, N bytes of JSON, then
// the data section. Read checks what the reference reader (huggingface's
// safetensors crate) refuses — a header past the end of the file, invalid
// UTF-8 or JSON, sizes that disagree with dtype and shape, ranges outside
// the data section — and what lenient readers let through: duplicate JSON
// keys, which parsers resolve differently, and bytes no tensor claims,
// between tensors or after the last one, where content hides. The first
// bytes of such a region are read to name what they hold; tensor bytes
// never are.
//
// Read reports each problem as a Problem and keeps going where it can; it
// stops at Limits and says so with a scan/limit Problem: a cut-short check
// is never clean.
package safetensors

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/chainvet/chainvet/internal/inventory"
)

// Rule ids of the problems Read reports, besides inventory.RuleScanLimit.
const (
	RuleMalformed    = "safetensors/malformed"
	RuleDuplicateKey = "safetensors/duplicate-key"
	RuleSizeMismatch = "safetensors/size-mismatch"
	RuleOutOfRange   = "safetensors/offset-out-of-range"
	RuleOverlap      = "safetensors/overlap"
	RuleHiddenData   = "safetensors/hidden-data"
)

// MaxHeader is the largest header the reference reader accepts (its
// MAX_HEADER_SIZE, 100 MB). A longer header is malformed, not a limit:
// no loader reads the file.
const MaxHeader = 100_000_000

// maxNesting is serde_json's default recursion limit, past which the
// reference reader refuses a header; deeper nesting is malformed.
const maxNesting = 128

// Retention bounds: what Header keeps for reporting. They bound the size of
// a report, not the check — every entry is still parsed.
const (
	keepMetadata    = 32  // __metadata__ entries kept, in file order
	keepValue       = 256 // bytes kept of one metadata key or value
	problemsPerRule = 16  // problems of one rule reported one by one; the rest are counted
	sniffBytes      = 512 // bytes read at the start of a region no tensor claims
)

// Limits bound the work and memory of one Read. A zero field takes its
// value from DefaultLimits.
type Limits struct {
	// Header bounds the JSON header, in bytes. Past MaxHeader a header is
	// malformed whatever this says.
	Header int64
	// Tensors bounds the tensor entries parsed: each costs some 100
	// bytes of memory.
	Tensors int
	// Dims bounds the dimensions of one shape.
	Dims int
}

// DefaultLimits accept every header the reference reader accepts, up to a
// quarter of a million tensors (the largest single files hold a few
// thousand) with shapes of up to 64 dimensions (real ones have at most 8).
var DefaultLimits = Limits{Header: MaxHeader, Tensors: 1 << 18, Dims: 64}

func (l Limits) orDefault() Limits {
	return Limits{
		Header:  cmp.Or(l.Header, DefaultLimits.Header),
		Tensors: cmp.Or(l.Tensors, DefaultLimits.Tensors),
		Dims:    cmp.Or(l.Dims, DefaultLimits.Dims),
	}
}

// A Problem is one thing wrong with a file.
type Problem struct {
	Rule     string
	Severity inventory.Severity
	Offset   int64 // byte offset in the file
	Evidence string
	Message  string
}

// A Tensor is one entry of the header.
type Tensor struct {
	Name  string
	DType string
	Shape []uint64
	// Begin and End are the data_offsets: the tensor's bytes relative to
	// the start of the data section.
	Begin, End uint64
	// Offset is where the entry's name starts in the file.
	Offset int64
}

// An Entry is one __metadata__ key and value, both cut to a bounded length.
type Entry struct {
	Key, Value string
}

// A Header is what Read found.
type Header struct {
	// Len is the JSON header's length as the file states it.
	Len uint64
	// DataOffset is where the data section starts: 8 + Len.
	DataOffset int64
	// Tensors are the entries parsed, in file order.
	Tensors []Tensor
	// Metadata holds the first __metadata__ entries, in file order;
	// MetadataCount counts them all.
	Metadata      []Entry
	MetadataCount int
	// Parameters is the number of elements of every tensor whose dtype
	// is known and whose shape does not overflow, saturating at MaxUint64.
	Parameters uint64
	// Complete reports whether the whole header was parsed and every
	// tensor entry in it was usable: only then do Tensors cover what the
	// header describes, and bytes they leave unclaimed are looked for.
	Complete bool
	Problems []Problem

	reported map[string]int
}

// DTypes returns the dtypes of the tensors, sorted, each once.
func (h *Header) DTypes() []string {
	var ds []string
	for _, t := range h.Tensors {
		ds = append(ds, t.DType)
	}
	slices.Sort(ds)
	return slices.Compact(ds)
}

// add records p, up to problemsPerRule of each rule; Read sums up the rest.
func (h *Header) add(p Problem) {
	if h.reported == nil {
		h.reported = map[string]int{}
	}
	h.reported[p.Rule]++
	if h.reported[p.Rule] <= problemsPerRule {
		h.Problems = append(h.Problems, p)
	}
}

// summarise adds, for each rule with more problems than were listed, one
// problem that counts the rest.
func (h *Header) summarise() {
	for _, p := range h.Problems {
		if n := h.reported[p.Rule]; n > problemsPerRule {
			p.Evidence = fmt.Sprintf("%d more problems like the above", n-problemsPerRule)
			p.Message = "further problems of this kind were counted, not listed"
			h.Problems = append(h.Problems, p)
			h.reported[p.Rule] = 0
		}
	}
}

// dtypeBits is the width of each dtype the reference reader knows, in bits.
var dtypeBits = map[string]uint64{
	"BOOL": 8, "U8": 8, "I8": 8,
	"F4": 4, "F6_E2M3": 6, "F6_E3M2": 6,
	"F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8, "F8_E4M3FNUZ": 8, "F8_E5M2FNUZ": 8,
	"I16": 16, "U16": 16, "F16": 16, "BF16": 16,
	"I32": 32, "U32": 32, "F32": 32,
	"I64": 64, "U64": 64, "F64": 64, "C64": 64,
}

// DTypeBits returns the width of a dtype in bits, and false for a dtype the
// format does not define.
func DTypeBits(dtype string) (uint64, bool) {
	b, ok := dtypeBits[dtype]
	return b, ok
}

// Is reports whether head, the first bytes of a file, starts like a
// safetensors file: a header length that is not absurd, then a JSON object.
func Is(head []byte) bool {
	if len(head) < 10 {
		return false
	}
	n := binary.LittleEndian.Uint64(head)
	return n >= 2 && n <= MaxHeader && head[8] == '{'
}

// Read reads the header of the safetensors file r, which holds size bytes,
// and checks it against the file. It returns an error only when r fails;
// everything wrong with the file is a Problem in the Header.
func Read(ctx context.Context, r io.ReaderAt, size int64, lim Limits) (*Header, error) {
	lim = lim.orDefault()
	h := &Header{}
	defer h.summarise()
	var word [8]byte
	if size < 8 {
		h.malformed(0, fmt.Sprintf("file is %d bytes, too short for the 8-byte header length", size),
			"the file is too short to be a safetensors file")
		return h, nil
	}
	if got, err := r.ReadAt(word[:], 0); got < len(word) {
		return h, fmt.Errorf("safetensors: reading header length: %w", cmp.Or(err, io.ErrUnexpectedEOF))
	}
	n := binary.LittleEndian.Uint64(word[:])
	h.Len = n
	switch {
	case n > uint64(size-8):
		h.malformed(0, fmt.Sprintf("header length %d runs past the end of the file (%d bytes)", n, size),
			"the header length is larger than the file: the file is truncated or not a safetensors file")
		return h, nil
	case n > MaxHeader:
		h.malformed(0, fmt.Sprintf("header length %d exceeds the reference reader's limit of %d", n, MaxHeader),
			"loaders refuse a header this large")
		return h, nil
	case int64(n) > lim.Header:
		h.add(Problem{Rule: inventory.RuleScanLimit, Severity: inventory.High, Offset: 0,
			Evidence: fmt.Sprintf("header length %d > limit %d", n, lim.Header),
			Message:  "the header is larger than the limit: it was not checked"})
		return h, nil
	case n < 2:
		h.malformed(0, fmt.Sprintf("header length %d is too short for a JSON object", n),
			"the header cannot hold a JSON object")
		return h, nil
	}
	h.DataOffset = 8 + int64(n)

	src := &utf8Reader{r: io.NewSectionReader(r, 8, int64(n)), bad: -1}
	w := &walker{ctx: ctx, dec: json.NewDecoder(src), src: src, h: h, lim: lim}
	w.dec.UseNumber()
	w.header()
	if src.err != nil {
		return h, fmt.Errorf("safetensors: reading header: %w", src.err)
	}
	if err := ctx.Err(); err != nil {
		return h, err
	}
	if src.bad >= 0 {
		h.malformed(8+src.bad, fmt.Sprintf("invalid UTF-8 at header byte %d", src.bad),
			"the header is not valid UTF-8, which the reference reader refuses")
		h.Complete = false
	}
	if err := check(r, size, h); err != nil {
		return h, err
	}
	return h, nil
}

func (h *Header) malformed(off int64, evidence, message string) {
	h.add(Problem{Rule: RuleMalformed, Severity: inventory.Medium, Offset: off, Evidence: evidence, Message: message})
}

// check compares the tensors with their dtypes, shapes and the data
// section, and looks for bytes no tensor claims.
func check(r io.ReaderAt, size int64, h *Header) error {
	dataLen := uint64(size - h.DataOffset)
	for _, t := range h.Tensors {
		h.checkTensor(t, dataLen)
	}
	if !h.Complete {
		// Tensors that were never parsed would show as gaps.
		return nil
	}
	type span struct {
		begin, end uint64
		name       string
	}
	var spans []span
	for _, t := range h.Tensors {
		if t.Begin < t.End && t.Begin < dataLen {
			spans = append(spans, span{t.Begin, min(t.End, dataLen), t.Name})
		}
	}
	slices.SortFunc(spans, func(a, b span) int {
		return cmp.Or(cmp.Compare(a.begin, b.begin), cmp.Compare(a.end, b.end))
	})
	var cursor uint64
	last := ""
	for _, s := range spans {
		switch {
		case s.begin < cursor:
			h.add(Problem{Rule: RuleOverlap, Severity: inventory.Medium, Offset: h.DataOffset + int64(s.begin),
				Evidence: fmt.Sprintf("tensor %q [%d, %d) overlaps tensor %q, which ends at %d", s.name, s.begin, s.end, last, cursor),
				Message:  "two tensors share bytes: writing one changes the other, and readers that expect contiguous tensors refuse the file"})
		case s.begin > cursor:
			if err := h.gap(r, cursor, s.begin, fmt.Sprintf("between %s and tensor %q", describeEnd(last), s.name)); err != nil {
				return err
			}
		}
		if s.end > cursor {
			cursor, last = s.end, s.name
		}
	}
	if cursor < dataLen {
		return h.gap(r, cursor, dataLen, "after "+describeEnd(last))
	}
	return nil
}

func describeEnd(name string) string {
	if name == "" {
		return "the header"
	}
	return fmt.Sprintf("tensor %q", name)
}

// checkTensor checks one tensor's dtype, shape and range, and adds its
// elements to the parameter count.
func (h *Header) checkTensor(t Tensor, dataLen uint64) {
	off := t.Offset
	bits, known := dtypeBits[t.DType]
	if !known {
		h.malformed(off, fmt.Sprintf("tensor %q: unknown dtype %q", t.Name, t.DType),
			"the dtype is not one the format defines: readers refuse the file or misread it")
	}
	elements, ok := uint64(1), true
	for _, d := range t.Shape {
		if d != 0 && elements > ^uint64(0)/d {
			ok = false
			break
		}
		elements *= d
	}
	if !ok {
		h.malformed(off, fmt.Sprintf("tensor %q: shape %v overflows", t.Name, t.Shape),
			"the element count overflows: the reference reader refuses the file")
	}
	if known && ok {
		if elements > ^uint64(0)/bits {
			h.malformed(off, fmt.Sprintf("tensor %q: %s × %v overflows", t.Name, t.DType, t.Shape),
				"the byte size overflows: the reference reader refuses the file")
		} else if nbits := elements * bits; nbits%8 != 0 {
			h.malformed(off, fmt.Sprintf("tensor %q: %s × %v is %d bits, not whole bytes", t.Name, t.DType, t.Shape, nbits),
				"a sub-byte tensor must fill whole bytes: the reference reader refuses the file")
		} else if t.Begin <= t.End && t.End-t.Begin != nbits/8 {
			h.add(Problem{Rule: RuleSizeMismatch, Severity: inventory.Medium, Offset: off,
				Evidence: fmt.Sprintf("tensor %q: %s × %v = %d bytes, but data_offsets [%d, %d] span %d",
					t.Name, t.DType, t.Shape, nbits/8, t.Begin, t.End, t.End-t.Begin),
				Message: "the byte range disagrees with dtype and shape: readers either refuse the file or read other bytes than the header describes"})
		}
		h.Parameters = satAdd(h.Parameters, elements)
	}
	if t.Begin > t.End {
		h.add(Problem{Rule: RuleOutOfRange, Severity: inventory.Medium, Offset: off,
			Evidence: fmt.Sprintf("tensor %q: data_offsets [%d, %d] end before they begin", t.Name, t.Begin, t.End),
			Message:  "the tensor's byte range is reversed"})
		return
	}
	if t.End > dataLen {
		h.add(Problem{Rule: RuleOutOfRange, Severity: inventory.Medium, Offset: off,
			Evidence: fmt.Sprintf("tensor %q: data_offsets [%d, %d] run past the data section (%d bytes)", t.Name, t.Begin, t.End, dataLen),
			Message:  "the tensor's bytes lie outside the data section: the file is truncated, or the header lies"})
	}
}

func satAdd(a, b uint64) uint64 {
	if a > ^uint64(0)-b {
		return ^uint64(0)
	}
	return a + b
}

// gap reports bytes [from, to) of the data section that no tensor claims,
// naming what they look like from their first bytes.
func (h *Header) gap(r io.ReaderAt, from, to uint64, where string) error {
	off := h.DataOffset + int64(from)
	head := make([]byte, min(to-from, sniffBytes))
	if _, err := r.ReadAt(head, off); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("safetensors: reading bytes at %d: %w", off, err)
	}
	kind := Payload(head)
	sev, msg := inventory.Medium, "bytes that no tensor claims: the format has no place for them, and the reference reader refuses the file"
	if kind != "" {
		sev, msg = inventory.High, "bytes that no tensor claims hold what looks like "+kind+": content hidden where the format has no place for it"
	}
	h.add(Problem{Rule: RuleHiddenData, Severity: sev, Offset: off,
		Evidence: fmt.Sprintf("%d bytes at file offset %d %s%s: %s", to-from, off, where, kindNote(kind), quoteHead(head)),
		Message:  msg})
	return nil
}

func kindNote(kind string) string {
	if kind == "" {
		return ""
	}
	return " (" + kind + ")"
}

// quoteHead shows the first bytes of a region, bounded.
func quoteHead(b []byte) string {
	const show = 24
	if len(b) > show {
		return strconv.QuoteToASCII(string(b[:show])) + "…"
	}
	return strconv.QuoteToASCII(string(b))
}
