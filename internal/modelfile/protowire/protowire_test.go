package protowire

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func decode(t testing.TB, b []byte, lim Limits) ([]Field, error) {
	t.Helper()
	m := NewDecoder(context.Background(), bytes.NewReader(b), int64(len(b)), lim).Root()
	var out []Field
	for {
		f, err := m.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, f)
	}
}

func TestNext(t *testing.T) {
	b := []byte{
		0x08, 0x96, 0x01, // 1: varint 150
		0x12, 0x03, 'a', 'b', 'c', // 2: bytes "abc"
		0x19, 1, 0, 0, 0, 0, 0, 0, 0x80, // 3: fixed64
		0x25, 0xff, 0, 0, 0, // 4: fixed32 255
		0xa0, 0x1f, 0x01, // 500: varint 1 (two-byte tag)
	}
	got, err := decode(t, b, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Field{
		{Num: 1, Type: Varint, Offset: 0, Value: 150},
		{Num: 2, Type: Bytes, Offset: 3, Start: 5, Len: 3},
		{Num: 3, Type: Fixed64, Offset: 8, Value: 1<<63 | 1},
		{Num: 4, Type: Fixed32, Offset: 17, Value: 255},
		{Num: 500, Type: Varint, Offset: 22, Value: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		lim  Limits
		want error
		off  int64
	}{
		{"field_zero", []byte{0x00, 0x01}, Limits{}, ErrMalformed, 0},
		{"group", []byte{0x0b}, Limits{}, ErrMalformed, 0},
		{"wire_type_7", []byte{0x0f}, Limits{}, ErrMalformed, 0},
		{"varint_too_long", append([]byte{0x08}, bytes.Repeat([]byte{0xff}, 11)...), Limits{}, ErrMalformed, 1},
		{"varint_overflow", append(append([]byte{0x08}, bytes.Repeat([]byte{0xff}, 9)...), 0x02), Limits{}, ErrMalformed, 1},
		{"varint_cut", []byte{0x08, 0x80}, Limits{}, ErrMalformed, 1},
		{"length_past_end", []byte{0x12, 0x05, 'a'}, Limits{}, ErrMalformed, 0},
		{"length_huge", []byte{0x12, 0xff, 0xff, 0xff, 0xff, 0x0f}, Limits{}, ErrMalformed, 0},
		{"fixed_cut", []byte{0x19, 1, 2}, Limits{}, ErrMalformed, 1},
		{"fields", []byte{0x08, 1, 0x08, 2, 0x08, 3}, Limits{Fields: 2}, ErrLimit, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decode(t, tc.b, tc.lim)
			var pe *Error
			if !errors.Is(err, tc.want) || !errors.As(err, &pe) || pe.Offset != tc.off {
				t.Errorf("err = %v, want %v at offset %d", err, tc.want, tc.off)
			}
		})
	}
}

func TestSubDepth(t *testing.T) {
	// Three messages nested in field 1, innermost a varint.
	b := []byte{0x0a, 0x06, 0x0a, 0x04, 0x0a, 0x02, 0x08, 0x01}
	walk := func(lim Limits) error {
		m := NewDecoder(context.Background(), bytes.NewReader(b), int64(len(b)), lim).Root()
		for {
			f, err := m.Next()
			if err != nil {
				return err
			}
			if f.Type != Bytes {
				return nil
			}
			if m, err = m.Sub(f); err != nil {
				return err
			}
		}
	}
	if err := walk(Limits{Depth: 3}); err != nil {
		t.Errorf("depth 3: %v", err)
	}
	if err := walk(Limits{Depth: 2}); !errors.Is(err, ErrLimit) {
		t.Errorf("depth 2: err = %v, want ErrLimit", err)
	}
}

func TestStringAndVarints(t *testing.T) {
	b := []byte{
		0x0a, 0x05, 'h', 'e', 'l', 'l', 'o',
		0x10, 0x07, // 2: unpacked 7
		0x12, 0x03, 0x01, 0x96, 0x01, // 2: packed 1, 150
	}
	m := NewDecoder(context.Background(), bytes.NewReader(b), int64(len(b)), Limits{}).Root()
	f, _ := m.Next()
	s, cut, err := m.String(f, 3)
	if s != "hel" || !cut || err != nil {
		t.Errorf("String = %q, %v, %v", s, cut, err)
	}
	if _, err := m.Bytes(f, 4); !errors.Is(err, ErrLimit) {
		t.Errorf("Bytes over max: err = %v", err)
	}
	var vals []uint64
	for range 2 {
		f, _ := m.Next()
		if vals, err = m.Varints(vals, f, 8); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff([]uint64{7, 1, 150}, vals); diff != "" {
		t.Errorf("varints (-want +got):\n%s", diff)
	}
	if _, err := m.Varints(nil, Field{Num: 2, Type: Bytes, Start: 11, Len: 3}, 1); !errors.Is(err, ErrLimit) {
		t.Errorf("Varints over max: err = %v", err)
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.ReaderAt
	n int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n += int64(n)
	return n, err
}

// TestSkipUnread checks that a skipped payload is not read.
func TestSkipUnread(t *testing.T) {
	const payload = 1 << 20
	b := append([]byte{0x0a, 0x80, 0x80, 0x40}, make([]byte, payload)...)
	b = append(b, 0x10, 0x01)
	c := &countingReader{r: bytes.NewReader(b)}
	m := NewDecoder(context.Background(), c, int64(len(b)), Limits{}).Root()
	for {
		_, err := m.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if c.n > 2*chunk {
		t.Errorf("read %d bytes of %d to skip a payload", c.n, len(b))
	}
}

func FuzzNext(f *testing.F) {
	f.Add([]byte{0x08, 0x96, 0x01, 0x12, 0x03, 'a', 'b', 'c'})
	f.Add([]byte{0x0a, 0x06, 0x0a, 0x04, 0x0a, 0x02, 0x08, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		var walk func(m *Message) error
		walk = func(m *Message) error {
			for {
				f, err := m.Next()
				if err == io.EOF {
					return nil
				}
				if err != nil {
					return err
				}
				if f.Type == Bytes {
					if f.Start < m.start || f.Start+f.Len > m.end {
						t.Fatalf("field %+v outside its message [%d,%d)", f, m.start, m.end)
					}
					if sub, err := m.Sub(f); err == nil {
						walk(sub) // a payload that is not a message is fine
					}
				}
			}
		}
		err := walk(NewDecoder(context.Background(), bytes.NewReader(b), int64(len(b)), Limits{Depth: 8, Fields: 1 << 12}).Root())
		if err != nil && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrLimit) {
			t.Fatalf("unexpected error %v", err)
		}
	})
}
