package archive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sync"
	"sync/atomic"
)

// chunk is how many bytes are decompressed between checks of the context
// and the limits.
const chunk = 64 << 10

// A budget is what is left of Limits.Decompressed for one file on disk and
// every archive nested in it.
type budget struct {
	limit int64
	left  atomic.Int64
}

type budgetKey struct{}

// withBudget returns the budget ctx carries, or a new one for lim carried by
// the returned context: the first Expand on a file on disk starts the count,
// and the Expand calls on its nested members, which get ctx through the
// pipeline, draw on it.
func withBudget(ctx context.Context, lim Limits) (context.Context, *budget) {
	if b, ok := ctx.Value(budgetKey{}).(*budget); ok {
		return ctx, b
	}
	b := &budget{limit: lim.Decompressed}
	b.left.Store(lim.Decompressed)
	return context.WithValue(ctx, budgetKey{}, b), b
}

// take claims up to n bytes and returns how many it got.
func (b *budget) take(n int64) int64 {
	for {
		left := b.left.Load()
		got := min(n, left)
		if got <= 0 {
			return 0
		}
		if b.left.CompareAndSwap(left, left-got) {
			return got
		}
	}
}

// A spooled member: its bytes in memory or in a temporary file.
type spooled struct {
	ra   io.ReaderAt
	size int64
	crc  uint32 // CRC-32 (IEEE) of the bytes
	// cut is the evidence of the limit that stopped the copy, if one did.
	cut string
	// err is the decoder error that ended the data early; nil at a clean end.
	err  error
	file *os.File
}

// release removes the temporary file, if there is one.
func (sp *spooled) release() {
	if sp.file != nil {
		name := sp.file.Name()
		sp.file.Close()
		os.Remove(name)
		sp.file = nil
	}
	sp.ra = nil
}

// fill copies r, a decoder, into memory or a temporary file, until r ends,
// fails, or a limit is reached: the budget, or lim.Ratio against packed (the
// member's compressed size; 0 if unknown). The decoder's error is kept in
// the result, not returned: it means malformed data. The error is for
// context and temporary-file errors only.
func fill(ctx context.Context, r io.Reader, packed int64, lim Limits, b *budget) (*spooled, error) {
	sp := &spooled{}
	var buf []byte
	scratch := make([]byte, chunk)
	h := crc32.NewIEEE()
	for {
		if err := ctx.Err(); err != nil {
			sp.release()
			return nil, err
		}
		n, rerr := readChunk(r, scratch)
		if n > 0 {
			data := scratch[:n]
			if packed > 0 && sp.size+int64(n) > ratioFloor && (sp.size+int64(n))/lim.Ratio > packed {
				sp.cut = fmt.Sprintf("member inflates past %d:1 (%d compressed bytes, over %d decompressed)", lim.Ratio, packed, sp.size+int64(n))
				data = nil
			} else if got := b.take(int64(n)); got < int64(n) {
				sp.cut = fmt.Sprintf("decompressed total reached the limit of %d bytes", b.limit)
				data = data[:got]
			}
			h.Write(data)
			if sp.file == nil && sp.size+int64(len(data)) > lim.MemBuffer {
				f, err := os.CreateTemp("", "chainvet-member-*")
				if err != nil {
					return nil, fmt.Errorf("spooling member: %w", err)
				}
				sp.file = f
				if _, err := f.Write(buf); err != nil {
					sp.release()
					return nil, fmt.Errorf("spooling member: %w", err)
				}
				buf = nil
			}
			if sp.file != nil {
				if _, err := sp.file.Write(data); err != nil {
					sp.release()
					return nil, fmt.Errorf("spooling member: %w", err)
				}
			} else {
				buf = append(buf, data...)
			}
			sp.size += int64(len(data))
			if sp.cut != "" {
				break
			}
		}
		if rerr != nil {
			if !errors.Is(rerr, io.EOF) {
				sp.err = rerr
			}
			break
		}
	}
	if le := (*limitError)(nil); errors.As(sp.err, &le) {
		sp.err, sp.cut = nil, le.Error()
	}
	sp.crc = h.Sum32()
	if sp.file != nil {
		sp.ra = sp.file
	} else {
		sp.ra = bytes.NewReader(buf)
	}
	return sp, nil
}

// readChunk fills p from r unless r ends or fails first. Unlike
// io.ReadFull it returns r's own error: io.EOF is a clean end, and a
// decoder's io.ErrUnexpectedEOF stays a truncation.
func readChunk(r io.Reader, p []byte) (int, error) {
	n, stalls := 0, 0
	for n < len(p) {
		k, err := r.Read(p[n:])
		n += k
		if err != nil {
			return n, err
		}
		if k == 0 {
			if stalls++; stalls > maxStalls {
				return n, io.ErrNoProgress
			}
		}
	}
	return n, nil
}

// maxStalls is how many empty reads in a row a decoder may return before
// it counts as stuck; io.Reader allows a few, a loop forever is a bug.
const maxStalls = 100

// crcReader is a member's stored bytes that checks their CRC-32 when they
// have been read from the start to the end, in any number of reads that do
// not leave a hole: stored members are not read twice to be checked, so a
// member nobody reads whole (tensor data) is not checked at all.
type crcReader struct {
	r    io.ReaderAt
	size int64
	want uint32
	// bad is called once, with the CRC found, if it differs from want.
	bad func(got uint32)

	mu   sync.Mutex
	next int64 // bytes [0, next) have been hashed
	crc  uint32
}

func (c *crcReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.mu.Lock()
	defer c.mu.Unlock()
	if end := off + int64(n); off <= c.next && end > c.next && c.next < c.size {
		c.crc = crc32.Update(c.crc, crc32.IEEETable, p[c.next-off:n])
		c.next = end
		if c.next >= c.size && c.crc != c.want {
			c.bad(c.crc)
		}
	}
	return n, err
}
