package pickle

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

const (
	// windowSize is how much of the stream is held at once: large enough
	// that reads are few and sequential, small enough that scanning a
	// multi-gigabyte checkpoint holds no more than this.
	windowSize = 256 << 10
	// lookahead is how many bytes the main loop keeps in the window ahead
	// of each opcode: more than the longest fixed-size opcode (FRAME, 9
	// bytes), so those are decoded without bounds juggling.
	lookahead = 16
)

// pos is the offset of the next byte to read.
func (m *machine) pos() int64 { return m.bufOff + int64(m.i) }

// fill moves the unread bytes of the window to its front and reads as many
// more as fit. It reports false if r failed.
func (m *machine) fill() bool {
	n := copy(m.buf[:cap(m.buf)], m.buf[m.i:])
	m.bufOff += int64(m.i)
	m.i = 0
	want := int64(cap(m.buf) - n)
	if rest := m.size - (m.bufOff + int64(n)); rest < want {
		want = rest
	}
	m.buf = m.buf[:n]
	if want <= 0 {
		return true
	}
	got, err := m.r.ReadAt(m.buf[n:n+int(want)], m.bufOff+int64(n))
	if int64(got) < want {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		m.fail(fmt.Errorf("pickle: reading at %d: %w", m.bufOff+int64(n), err))
		return false
	}
	m.buf = m.buf[:n+got]
	return true
}

// need makes sure n bytes are in the window at the read position. It
// reports false, after recording why, when the data ends sooner.
func (m *machine) need(n int) bool {
	if len(m.buf)-m.i >= n {
		return true
	}
	if m.pos()+int64(n) > m.size {
		m.truncated(fmt.Sprintf("needs %d bytes, %d left", n, m.size-m.pos()))
		return false
	}
	if n > cap(m.buf) {
		// Only fixed-size arguments and short payloads come through need.
		m.brk(fmt.Sprintf("argument of %d bytes is too long", n))
		return false
	}
	return m.fill()
}

// skip moves the read position n bytes on without reading them.
func (m *machine) skip(n int64) bool {
	pos := m.pos()
	if n < 0 || n > m.size-pos {
		m.truncated(fmt.Sprintf("payload of %d bytes, %d left", n, m.size-pos))
		return false
	}
	if n <= int64(len(m.buf)-m.i) {
		m.i += int(n)
	} else {
		m.bufOff = pos + n
		m.buf = m.buf[:0]
		m.i = 0
	}
	m.skipped += n
	return true
}

// line reads through the next "\n" and returns the line without it: all of
// it, or its first keep bytes if it is longer, and its full length. The
// returned bytes are valid until the next read; lineLast holds the line's
// last byte.
func (m *machine) line(keep int) ([]byte, int64, bool) {
	chunk := m.buf[m.i:]
	if j := bytes.IndexByte(chunk, '\n'); j >= 0 && j <= keep {
		m.i += j + 1
		m.lineLast = 0
		if j > 0 {
			m.lineLast = chunk[j-1]
		}
		return chunk[:j], int64(j), true
	}
	m.lineLast = 0
	m.lineBuf = m.lineBuf[:0]
	var n int64
	for {
		chunk := m.buf[m.i:]
		j := bytes.IndexByte(chunk, '\n')
		end := len(chunk)
		if j >= 0 {
			end = j
		}
		if room := keep - len(m.lineBuf); room > 0 {
			m.lineBuf = append(m.lineBuf, chunk[:min(room, end)]...)
		}
		n += int64(end)
		if end > 0 {
			m.lineLast = chunk[end-1]
		}
		if j >= 0 {
			m.i += j + 1
			return m.lineBuf, n, true
		}
		m.i = len(m.buf)
		if n > m.lim.Bytes {
			m.limit("bytes")
			return nil, n, false
		}
		if m.pos() >= m.size {
			m.truncated("line ends without a newline")
			return nil, n, false
		}
		if !m.fill() {
			return nil, n, false
		}
	}
}

// at returns n bytes of the stream from off, from the window if it holds
// them. The bytes are valid until the next read.
func (m *machine) at(off int64, n int) ([]byte, bool) {
	if off >= m.bufOff && off+int64(n) <= m.bufOff+int64(len(m.buf)) {
		s := int(off - m.bufOff)
		return m.buf[s : s+n], true
	}
	if cap(m.scratch) < n {
		m.scratch = make([]byte, n)
	}
	b := m.scratch[:n]
	got, err := m.r.ReadAt(b, off)
	if got < n {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		m.fail(fmt.Errorf("pickle: reading at %d: %w", off, err))
		return nil, false
	}
	return b, true
}
