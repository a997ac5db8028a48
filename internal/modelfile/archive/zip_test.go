package archive

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/google/go-cmp/cmp"
)

// entrySummary is what TestOpenZip compares of an Entry.
type entrySummary struct {
	Name, LocalName, Member string
	Method                  uint16
	CompressedSize, Size    int64
	HeaderOffset            int64
	DataOffset              int64
	Symlink                 bool
}

func summarize(z *Zip) []entrySummary {
	var out []entrySummary
	for _, e := range z.Entries {
		out = append(out, entrySummary{e.Name, e.LocalName, e.Member, e.Method, e.CompressedSize, e.Size,
			e.HeaderOffset, e.DataOffset, e.Mode&fs.ModeSymlink != 0})
	}
	return out
}

func TestOpenZip(t *testing.T) {
	tests := []struct {
		file    string
		start   int64
		entries []entrySummary
		rules   []string
	}{
		{
			file:  "polyglot.zip",
			start: 22,
			entries: []entrySummary{
				// The directory says offset 0; the 22-byte prefix shifts it.
				{"archive/data.pkl", "archive/data.pkl", "archive/data.pkl", 0, 22, 22, 22, 22 + 30 + 16, false},
			},
			rules: []string{"archive/prefix-data"},
		},
		{
			file:  "prefix.zip",
			start: 22,
			entries: []entrySummary{
				{"archive/data.pkl", "archive/data.pkl", "archive/data.pkl", 0, 22, 22, 22, 22 + 30 + 16, false},
			},
			rules: []string{"archive/prefix-data"},
		},
		{
			file: "zip64.zip",
			entries: []entrySummary{
				{"big.txt", "big.txt", "big.txt", 0, 20, 20, 0, 30 + 7 + 20, false},
			},
		},
		{
			file: "namemismatch.zip",
			entries: []entrySummary{
				{"archive/data.pkl", "archive/evil.pkl", "archive/data.pkl", 0, 22, 22, 0, 46, false},
				{"archive/version", "archive/version", "archive/version", 0, 2, 2, 68, 113, false},
			},
			rules: []string{"archive/name-mismatch"},
		},
		{
			file: "symlink.zip",
			entries: []entrySummary{
				{"link", "link", "link", 0, 11, 11, 0, 34, true},
				{"file.txt", "file.txt", "file.txt", 0, 7, 7, 45, 83, false},
			},
		},
		{
			file: "duplicate.zip",
			entries: []entrySummary{
				{"data.pkl", "data.pkl", "data.pkl", 0, 10, 10, 0, 38, false},
				{"data.pkl", "data.pkl", "data.pkl#2", 0, 11, 11, 48, 86, false},
			},
			rules: []string{"archive/duplicate-name"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			f := openFixture(t, tc.file, nil)
			z, err := OpenZip(context.Background(), f, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if z.Start != tc.start {
				t.Errorf("Start = %d, want %d", z.Start, tc.start)
			}
			if diff := cmp.Diff(tc.entries, summarize(z)); diff != "" {
				t.Errorf("entries (-want +got):\n%s", diff)
			}
			var got []string
			for _, fd := range z.Findings {
				got = append(got, fd.Rule)
			}
			if diff := cmp.Diff(tc.rules, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	z, err := OpenZip(context.Background(), openFixture(t, "duplicate.zip", nil), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range z.Lookup("data.pkl") {
		got = append(got, e.Member)
	}
	if diff := cmp.Diff([]string{"data.pkl", "data.pkl#2"}, got); diff != "" {
		t.Errorf("Lookup (-want +got):\n%s", diff)
	}
	if es := z.Lookup("missing"); es != nil {
		t.Errorf("Lookup(missing) = %v", es)
	}
}

// storedZip builds a zip of stored members with Go's writer.
func storedZip(t testing.TB, members map[string][]byte, order []string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for _, name := range order {
		fw, err := w.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(members[name])
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// headSink records members without reading their data (beyond the head
// and tail every File reads).
type headSink struct {
	fakeSink
	headTail int64
}

func (s *headSink) Scan(ctx context.Context, m *inventory.File) {
	s.headTail += int64(len(m.Head) + len(m.Tail))
	s.members = append(s.members, m.Path)
}

// TestStoredNotRead checks that a stored member is handed over without
// being read: what is read besides the heads and tails of the files is
// headers, and does not grow with the member.
func TestStoredNotRead(t *testing.T) {
	var got []int64
	for _, size := range []int{8 << 20, 16 << 20} {
		names := []string{"archive/data.pkl", "archive/data/0"}
		b := storedZip(t, map[string][]byte{names[0]: []byte(pickleHead), names[1]: make([]byte, size)}, names)
		var read atomic.Int64
		f := memFile(t, "model.pt", b, &read)
		base := read.Load()
		s := &headSink{}
		if err := Expand(context.Background(), f, KindZip, Limits{}, s); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"model.pt!archive/data.pkl", "model.pt!archive/data/0"}, s.members); diff != "" {
			t.Errorf("members (-want +got):\n%s", diff)
		}
		got = append(got, read.Load()-base-s.headTail)
	}
	const headers = 1024 // bytes: directory, local headers and descriptors of two members
	if got[0] != got[1] || got[0] > headers {
		t.Errorf("read %d and %d bytes beyond the heads and tails for members of 8 and 16 MiB, want the same, at most %d", got[0], got[1], headers)
	}
}

// TestStoredCRC checks that a stored member read whole has its CRC checked
// lazily, and that a member read in part is not.
func TestStoredCRC(t *testing.T) {
	data := bytes.Repeat([]byte("stored payload "), 1000)
	b := storedZip(t, map[string][]byte{"m": data}, []string{"m"})
	// Corrupt one byte of the member's content: the CRC no longer matches.
	i := bytes.Index(b, []byte("stored payload"))
	b[i+5000] ^= 1
	for _, whole := range []bool{false, true} {
		t.Run(fmt.Sprintf("whole=%v", whole), func(t *testing.T) {
			z, err := OpenZip(context.Background(), memFile(t, "x.zip", b, nil), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			ra, n, release, err := z.Open(context.Background(), z.Entries[0])
			if err != nil {
				t.Fatal(err)
			}
			defer release()
			buf := make([]byte, 4096)
			end := int64(8192)
			if whole {
				end = n
			}
			for off := int64(0); off < end; off += int64(len(buf)) {
				// Overlapping reads, as a head read then a scan from 0 do.
				ra.ReadAt(buf[:min(int64(len(buf)), n-off)], max(0, off-100))
				ra.ReadAt(buf[:min(int64(len(buf)), n-off)], off)
			}
			var rules []string
			for _, fd := range z.Findings {
				rules = append(rules, fd.Rule)
			}
			var want []string
			if whole {
				want = []string{"archive/crc-mismatch"}
			}
			if diff := cmp.Diff(want, rules); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

// TestOpenConcurrent opens every member from several goroutines at once.
func TestOpenConcurrent(t *testing.T) {
	for _, file := range []string{"plain.zip", "badcrc.zip", "badcrc_deflate.zip", "encrypted.zip"} {
		z, err := OpenZip(context.Background(), openFixture(t, file, nil), Limits{})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 4 {
			for _, e := range z.Entries {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ra, n, release, err := z.Open(context.Background(), e)
					if err != nil {
						if !errors.Is(err, ErrUnreadable) {
							t.Error(err)
						}
						return
					}
					defer release()
					io.Copy(io.Discard, io.NewSectionReader(ra, 0, n))
					z.Report(&fakeSink{})
				}()
			}
		}
		wg.Wait()
	}
}

// TestSpill checks that members larger than MemBuffer go to a temporary
// file, that their content is intact, and that the file is removed.
func TestSpill(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	data := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	fw, _ := w.Create("big.txt") // deflated
	fw.Write(data)
	w.Close()
	f := memFile(t, "x.zip", b.Bytes(), nil)
	z, err := OpenZip(context.Background(), f, Limits{MemBuffer: 1000})
	if err != nil {
		t.Fatal(err)
	}
	ra, n, release, err := z.Open(context.Background(), z.Entries[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ra.(*os.File); !ok {
		t.Errorf("member of %d bytes with MemBuffer 1000 is a %T, want a temporary file", n, ra)
	}
	got, err := io.ReadAll(io.NewSectionReader(ra, 0, n))
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("spooled content differs (err %v)", err)
	}
	if ents, _ := os.ReadDir(tmp); len(ents) != 1 {
		t.Errorf("temporary folder holds %d files during use, want 1", len(ents))
	}
	release()
	if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
		t.Errorf("temporary folder holds %d files after release, want 0", len(ents))
	}
	if len(z.Findings) != 0 {
		t.Errorf("findings: %v", z.Findings)
	}
}

func TestEntryLimit(t *testing.T) {
	names := []string{"a", "b", "c", "d"}
	m := map[string][]byte{}
	for _, n := range names {
		m[n] = []byte(n)
	}
	f := memFile(t, "x.zip", storedZip(t, m, names), nil)
	s := &fakeSink{}
	if err := Expand(context.Background(), f, KindZip, Limits{Entries: 2}, s); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{`x.zip!a 1 "a"`, `x.zip!b 1 "b"`}, s.members); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"scan/limit x.zip"}, s.rules()); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

func TestCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, file := range []string{"plain.zip", "links.tar", "payload.txt.gz", "lzma2.7z"} {
		f := openFixture(t, file, nil)
		if err := Expand(ctx, f, Detect(f), Limits{}, &fakeSink{}); !errors.Is(err, context.Canceled) {
			t.Errorf("%s: Expand with a canceled context = %v, want context.Canceled", file, err)
		}
	}
}

// TestBudgetShared checks that nested archives draw on one budget: two
// bombs of 3 MiB each, in one tar, under a 4 MiB limit.
func TestBudgetShared(t *testing.T) {
	bomb := mustRead(t, "bomb.zip")
	var tb bytes.Buffer
	tw := newTar(t, &tb)
	tw("one.zip", bomb)
	tw("two.zip", bomb)
	f := memFile(t, "x.tar", tb.Bytes(), nil)
	lim := Limits{Decompressed: 4 << 20}
	s := &fakeSink{lim: lim, recurse: true}
	if err := Expand(context.Background(), f, KindTar, lim, s); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`x.tar!one.zip 65348 "PK\x03\x04\x14\x00\x00\x00\b\x00\x00\x00"`,
		`x.tar!one.zip!zeros.bin 4194304 "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"`,
		`x.tar!two.zip 65348 "PK\x03\x04\x14\x00\x00\x00\b\x00\x00\x00"`,
		`x.tar!two.zip!zeros.bin 0 ""`,
	}
	if diff := cmp.Diff(want, s.members); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"scan/limit x.tar!one.zip!zeros.bin", "scan/limit x.tar!two.zip!zeros.bin"}, s.rules()); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

func BenchmarkOpenZip(b *testing.B) {
	m := map[string][]byte{}
	var names []string
	for i := range 1000 {
		n := fmt.Sprintf("archive/data/%d", i)
		names = append(names, n)
		m[n] = []byte("tensor bytes")
	}
	data := storedZip(b, m, names)
	f := memFile(b, "model.pt", data, nil)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		z, err := OpenZip(context.Background(), f, Limits{})
		if err != nil || len(z.Entries) != 1000 || len(z.Findings) != 0 {
			b.Fatalf("OpenZip: %v, %d entries, %v", err, len(z.Entries), z.Findings)
		}
	}
}

// newTar returns a function adding members to a tar in b; the tar is
// complete once the test's cleanup runs, so callers close it themselves by
// reading b after their last add (archive/tar's end blocks are optional).
func newTar(t testing.TB, b *bytes.Buffer) func(name string, data []byte) {
	tw := tar.NewWriter(b)
	return func(name string, data []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(data)
		tw.Flush()
	}
}

// TestStreamedNoDirectory reads a zip written by a streaming writer (sizes
// in data descriptors after deflated data) whose directory is cut off: the
// members are found by their local headers and the ends of their deflate
// streams.
func TestStreamedNoDirectory(t *testing.T) {
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for _, name := range []string{"one.txt", "two.txt"} {
		fw, err := w.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(bytes.Repeat([]byte(strings.ToUpper(name)), 100))
	}
	w.Close()
	data := b.Bytes()
	data = data[:bytes.Index(data, []byte(sigCentral))]
	f := memFile(t, "cut.zip", data, nil)
	if k := Detect(f); k != KindZip {
		t.Fatalf("Detect = %v", k)
	}
	s := &fakeSink{}
	if err := Expand(context.Background(), f, KindZip, Limits{}, s); err != nil {
		t.Fatal(err)
	}
	want := []string{`cut.zip!one.txt 700 "ONE.TXTONE.T"`, `cut.zip!two.txt 700 "TWO.TXTTWO.T"`}
	if diff := cmp.Diff(want, s.members); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"archive/malformed cut.zip"}, s.rules()); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

func TestNamer(t *testing.T) {
	n := newNamer()
	var got []string
	for _, name := range []string{"x#2", "x", "x", "x", "y", "x#2"} {
		u, c := n.unique(name)
		got = append(got, fmt.Sprintf("%s:%d", u, c))
	}
	want := []string{"x#2:1", "x:1", "x#3:2", "x#4:3", "y:1", "x#2#2:2"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
