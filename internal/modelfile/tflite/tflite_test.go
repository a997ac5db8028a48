package tflite

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const fixtures = "../../../testdata/tensorflow"

func parse(t testing.TB, b []byte, lim Limits) (*Model, error) {
	t.Helper()
	return Parse(context.Background(), bytes.NewReader(b), int64(len(b)), lim)
}

func read(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures, p))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParse(t *testing.T) {
	tests := []struct {
		file string
		want []OperatorCode
	}{
		{"benign/model.tflite", []OperatorCode{{Builtin: 9, Version: 1}, {Builtin: 0, Version: 1}}},
		{"benign/detection.tflite", []OperatorCode{{Builtin: 3, Version: 1}, {Builtin: CustomCode, Custom: "TFLite_Detection_PostProcess", Version: 1}}},
		{"malicious/custom_op.tflite", []OperatorCode{{Builtin: 0, Version: 1}, {Builtin: CustomCode, Custom: "EvilNativeKernel", Version: 1}}},
	}
	for _, tc := range tests {
		t.Run(filepath.Base(tc.file), func(t *testing.T) {
			m, err := parse(t, read(t, tc.file), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			for i := range m.Operators {
				m.Operators[i].Offset = 0
			}
			if diff := cmp.Diff(tc.want, m.Operators); diff != "" {
				t.Errorf("operators (-want +got):\n%s", diff)
			}
			if m.Version != 3 || m.Description != "MLIR Converted." || m.Tensors != 2 || m.Parameters != 16 || m.Subgraphs != 1 {
				t.Errorf("model %+v", m)
			}
		})
	}
}

func TestMalformed(t *testing.T) {
	good := read(t, "benign/model.tflite")
	cut := func(n int) []byte { return good[:n] }
	badRoot := bytes.Clone(good)
	binary.LittleEndian.PutUint32(badRoot, uint32(len(good)+100))
	badID := bytes.Clone(good)
	copy(badID[4:], "XXXX")
	tests := []struct {
		name string
		b    []byte
		lim  Limits
		want error
	}{
		{"empty", nil, Limits{}, ErrMalformed},
		{"cut", cut(40), Limits{}, ErrMalformed},
		{"bad_root", badRoot, Limits{}, ErrMalformed},
		{"bad_identifier", badID, Limits{}, ErrMalformed},
		{"operator_limit", good, Limits{OperatorCodes: 1}, ErrLimit},
		{"tensor_limit", good, Limits{Tensors: 1}, ErrLimit},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := parse(t, tc.b, tc.lim); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
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

// TestBufferUnread appends 4 MiB after a model, as weights sit at the end
// of real ones, and checks that only the header pages are read.
func TestBufferUnread(t *testing.T) {
	b := append(read(t, "benign/model.tflite"), make([]byte, 4<<20)...)
	c := &countingReader{r: bytes.NewReader(b)}
	if _, err := Parse(context.Background(), c, int64(len(b)), Limits{}); err != nil {
		t.Fatal(err)
	}
	if c.n > 16<<10 {
		t.Errorf("read %d of %d bytes", c.n, len(b))
	}
}

func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join(fixtures, "*", "*.tflite"))
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parse(t, b, Limits{OperatorCodes: 256, Tensors: 1024})
		if m == nil {
			t.Fatal("nil model")
		}
		if err != nil && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrLimit) {
			t.Fatalf("unexpected error %v", err)
		}
	})
}
