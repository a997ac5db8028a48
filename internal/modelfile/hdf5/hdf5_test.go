package hdf5

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func attributes(t testing.TB, b []byte, lim Limits) ([]Attribute, error) {
	t.Helper()
	return RootAttributes(context.Background(), bytes.NewReader(b), int64(len(b)), lim)
}

// common are the attributes gen.py gives every test file, as h5py reads
// them back.
var common = map[string]any{
	"model_config":  `{"class_name": "Sequential", "config": {"name": "s", "layers": []}}`,
	"keras_version": "2.13.1",
	"backend":       "tensorflow",
	"int":           int64(-5),
	"uint8":         int64(200),
	"big_endian":    []int64{1, 2, 3},
	"float":         1.5,
	"doubles":       []float64{0.25, -2},
	"names":         []string{"dense", "dense_1"},
	"vlen_names":    []string{"x", "yy"},
	"complex":       []byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0x40},
	"empty":         nil,
}

func TestRootAttributes(t *testing.T) {
	tests := []struct {
		file  string
		dense bool
		extra int // attributes beyond common
	}{
		{file: "v0.h5"},
		{file: "v0_vlen.h5"},
		{file: "v2.h5", dense: true},
		{file: "v3.h5", dense: true},
		{file: "v3_order.h5", dense: true},
		{file: "userblock512.h5"},
		{file: "userblock8192.h5"},
		{file: "dense.h5", dense: true, extra: 40},
	}
	for _, tc := range tests {
		t.Run(strings.TrimSuffix(tc.file, ".h5"), func(t *testing.T) {
			b := read(t, tc.file)
			attrs, err := attributes(t, b, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]any{}
			for _, a := range attrs {
				if _, ok := common[a.Name]; ok {
					got[a.Name] = a.Value
				}
				if a.Dense != tc.dense {
					t.Errorf("%s: dense %v, want %v", a.Name, a.Dense, tc.dense)
				}
				checkOffset(t, b, a)
			}
			if diff := cmp.Diff(common, got); diff != "" {
				t.Errorf("attributes (-want +got):\n%s", diff)
			}
			if len(attrs) != len(common)+tc.extra {
				t.Errorf("%d attributes, want %d", len(attrs), len(common)+tc.extra)
			}
		})
	}
}

// checkOffset checks that a string attribute's Offset points at its bytes.
func checkOffset(t *testing.T, b []byte, a Attribute) {
	t.Helper()
	s, ok := a.Value.(string)
	if !ok || s == "" {
		return
	}
	if a.Offset < 0 || a.Offset+int64(len(s)) > int64(len(b)) || string(b[a.Offset:a.Offset+int64(len(s))]) != s {
		t.Errorf("%s: offset %d does not hold its value", a.Name, a.Offset)
	}
}

// TestPrepended reads files with bytes put in front after writing: the
// superblock's base address still says 0, and the library reads addresses
// from where it finds the superblock.
func TestPrepended(t *testing.T) {
	for _, tc := range []struct {
		file string
		pad  int
	}{{"v0.h5", 512}, {"v3.h5", 1024}, {"dense.h5", 4096}} {
		b := append(make([]byte, tc.pad), read(t, tc.file)...)
		attrs, err := attributes(t, b, Limits{})
		if err != nil || len(attrs) < len(common) {
			t.Errorf("%s after %d bytes: %d attributes, %v", tc.file, tc.pad, len(attrs), err)
		}
		for _, a := range attrs {
			checkOffset(t, b, a)
		}
	}
}

// TestHugeObject reads a 70 KB attribute that a libver-latest file keeps
// as a huge object of its fractal heap.
func TestHugeObject(t *testing.T) {
	b := gunzip(t, "dense_huge.h5.gz")
	attrs, err := attributes(t, b, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var cfg string
	for _, a := range attrs {
		if a.Name == "model_config" {
			cfg, _ = a.Value.(string)
			checkOffset(t, b, a)
		}
	}
	if len(cfg) != 70002 || cfg[0] != '{' || cfg[len(cfg)-1] != '}' {
		t.Errorf("model_config of %d bytes; want the 70002 written", len(cfg))
	}
	if _, err := attributes(t, b, Limits{Value: 1 << 16}); !errors.Is(err, ErrLimit) {
		t.Errorf("a 70 KB attribute under a 64 KiB value limit: %v, want ErrLimit", err)
	}
}

func TestPlain(t *testing.T) {
	attrs, err := attributes(t, read(t, "plain.h5"), Limits{})
	if err != nil || len(attrs) != 0 {
		t.Errorf("plain file: %v, %v; want no attributes", attrs, err)
	}
}

func TestIs(t *testing.T) {
	sig := string(Signature)
	tests := []struct {
		name, head string
		want       bool
	}{
		{"at_zero", sig + "rest", true},
		{"at_512", strings.Repeat("u", 512) + sig, true},
		{"at_2048", strings.Repeat("u", 2048) + sig, true},
		{"at_700", strings.Repeat("u", 700) + sig, false},
		{"past_head", strings.Repeat("u", 512), false},
		{"partial", sig[:5], false},
		{"empty", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Is([]byte(tc.head)); got != tc.want {
				t.Errorf("Is = %v, want %v", got, tc.want)
			}
		})
	}
}

// patch returns a copy of b with p written at off.
func patch(b []byte, off int, p []byte) []byte {
	c := bytes.Clone(b)
	copy(c[off:], p)
	return c
}

func TestMalformed(t *testing.T) {
	v0 := read(t, "v0.h5")
	v3 := read(t, "v3.h5")
	dense := read(t, "dense.h5")
	u64 := func(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }
	tests := []struct {
		name string
		data []byte
		lim  Limits
		want error
	}{
		{"not_hdf5", []byte("just some bytes, no signature"), Limits{}, ErrNotHDF5},
		{"superblock_version", patch(v0, 8, []byte{9}), Limits{}, ErrUnsupported},
		{"offset_size", patch(v0, 13, []byte{3}), Limits{}, ErrMalformed},
		{"root_outside", patch(v0, 0x40, u64(1<<40)), Limits{}, ErrMalformed},
		{"v3_checksum", patch(v3, 20, []byte{0x55}), Limits{}, ErrMalformed},
		{"ohdr_checksum", patch(v3, 0x40, []byte{0x55, 0x55}), Limits{}, ErrMalformed},
		{"object_header_version", patch(v0, 0x60, []byte{7}), Limits{}, ErrMalformed},
		// The first chunk's continuation points back at itself.
		{"continuation_loop", patch(patch(v0, 0x78, u64(0x70)), 0x80, u64(0x18)), Limits{}, ErrMalformed},
		{"continuation_elsewhere", patch(v0, 0x78, u64(0x58)), Limits{}, ErrMalformed},
		{"attribute_limit", v0, Limits{Attributes: 2}, ErrLimit},
		{"byte_limit", v0, Limits{Bytes: 600}, ErrLimit},
		{"block_limit", dense, Limits{Blocks: 2}, ErrLimit},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			attrs, err := attributes(t, tc.data, tc.lim)
			if tc.want == nil {
				// Any of the sentinel errors, never a pass.
				if err == nil || !(errors.Is(err, ErrMalformed) || errors.Is(err, ErrLimit) || errors.Is(err, ErrUnsupported)) {
					t.Fatalf("RootAttributes = %d attributes, %v; want a malformed or limit error", len(attrs), err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("RootAttributes = %d attributes, %v; want %v", len(attrs), err, tc.want)
			}
			if tc.name == "attribute_limit" && len(attrs) != 2 {
				t.Errorf("%d attributes kept before the limit, want 2", len(attrs))
			}
		})
	}
}

// TestTruncated cuts each fixture at many lengths: every cut that removes
// a structure the root group needs is an error; none panics.
func TestTruncated(t *testing.T) {
	for _, name := range []string{"v0.h5", "v3.h5", "dense.h5", "userblock512.h5"} {
		b := read(t, name)
		full, err := attributes(t, b, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; n < len(b); n += 7 {
			attrs, err := attributes(t, b[:n], Limits{})
			if err == nil && len(attrs) != len(full) {
				t.Fatalf("%s cut to %d bytes: %d of %d attributes and no error", name, n, len(attrs), len(full))
			}
			if err != nil && !errors.Is(err, ErrMalformed) {
				t.Fatalf("%s cut to %d bytes: %v", name, n, err)
			}
		}
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.ReaderAt
	n atomic.Int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n.Add(int64(n))
	return n, err
}

// gunzip reads a gzipped fixture.
func gunzip(t testing.TB, name string) []byte {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(read(t, name)))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(gz)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// bigFile unpacks big_dataset.h5.gz: 16 MiB of tensor data after the root
// group's attributes.
func bigFile(t testing.TB) *os.File {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "big.h5"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if _, err := f.Write(gunzip(t, "big_dataset.h5.gz")); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestDataUnread(t *testing.T) {
	f := bigFile(t)
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	c := &countingReader{r: f}
	attrs, err := RootAttributes(context.Background(), c, fi.Size(), Limits{})
	if err != nil || len(attrs) != len(common) {
		t.Fatalf("RootAttributes = %d attributes, %v", len(attrs), err)
	}
	if fi.Size() < 16<<20 || c.n.Load() > 16<<10 {
		t.Errorf("read %d of %d bytes; want the root group only", c.n.Load(), fi.Size())
	}
}

func BenchmarkRootAttributes(b *testing.B) {
	f := bigFile(b)
	fi, err := f.Stat()
	if err != nil {
		b.Fatal(err)
	}
	c := &countingReader{r: f}
	for b.Loop() {
		if _, err := RootAttributes(context.Background(), c, fi.Size(), Limits{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(c.n.Load())/float64(b.N), "bytes-read/op")
	b.ReportMetric(float64(fi.Size()), "file-bytes")
}
