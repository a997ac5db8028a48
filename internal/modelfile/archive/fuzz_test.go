package archive

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chainvet/chainvet/internal/rules"
)

// fuzzLimits keep each fuzz input cheap, and memory small.
var fuzzLimits = Limits{Entries: 200, Decompressed: 8 << 20, MemBuffer: 1 << 20, Window: 8 << 20}

// addSeeds adds every fixture to the corpus.
func addSeeds(f *testing.F) [][]byte {
	paths, err := filepath.Glob("testdata/*")
	if err != nil {
		f.Fatal(err)
	}
	var seeds [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		seeds = append(seeds, b)
	}
	return seeds
}

// checkFindings holds the findings to the contract: known rules, their
// severities, paths within the file.
func checkFindings(t *testing.T, s *fakeSink, path string) {
	for _, fd := range s.findings {
		r, ok := rules.Lookup(fd.Rule)
		if !ok || fd.Severity != r.Severity {
			t.Errorf("finding with unknown rule or wrong severity: %+v", fd)
		}
		if !strings.HasPrefix(fd.Path, path) || fd.Message == "" || fd.Evidence == "" {
			t.Errorf("finding without path, message or evidence: %+v", fd)
		}
	}
}

func FuzzExpand(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		file := memFile(t, "fuzz.bin", b, nil)
		for _, k := range Kinds(file) {
			s := &fakeSink{lim: fuzzLimits, recurse: true}
			if err := Expand(context.Background(), file, k, fuzzLimits, s); err != nil {
				t.Fatalf("Expand as %v: %v", k, err)
			}
			checkFindings(t, s, "fuzz.bin")
			switch k {
			case KindGzip, KindBzip2, KindXz, KindLzma, KindZlib:
				// A stream is one member, or a finding says why not.
				if len(s.members) == 0 && len(s.findings) == 0 {
					t.Errorf("%v stream yielded neither a member nor a finding", k)
				}
			}
		}
	})
}

func FuzzOpenZip(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		file := memFile(t, "fuzz.zip", b, nil)
		ctx := context.Background()
		z, err := OpenZip(ctx, file, fuzzLimits)
		if err != nil {
			t.Fatalf("OpenZip: %v", err)
		}
		if z.Start < 0 || z.Start > file.Size {
			t.Errorf("Start %d outside the file of %d bytes", z.Start, file.Size)
		}
		members := map[string]bool{}
		for _, e := range z.Entries {
			if members[e.Member] {
				t.Errorf("member name %q given twice", e.Member)
			}
			members[e.Member] = true
			if e.DataOffset != -1 && (e.DataOffset < 0 || e.DataOffset > file.Size+localLen+2*65535) {
				t.Errorf("entry %q: data offset %d", e.Name, e.DataOffset)
			}
			ra, n, release, err := z.Open(ctx, e)
			if err != nil {
				if !errors.Is(err, ErrUnreadable) {
					t.Fatalf("Open(%q): %v", e.Name, err)
				}
				continue
			}
			if n < 0 {
				t.Errorf("Open(%q): size %d", e.Name, n)
			}
			io.Copy(io.Discard, io.NewSectionReader(ra, 0, n))
			release()
		}
		s := &fakeSink{}
		z.Report(s)
		checkFindings(t, s, "fuzz.zip")
	})
}

// Fuzz7zHeader fuzzes 7z headers past their CRCs, which mutation alone
// never gets right: the input is packed data and a header, wrapped in a
// signature header with correct CRCs. The first two bytes say where the
// header starts. Seeds are the 7z fixtures, split so.
func Fuzz7zHeader(f *testing.F) {
	for _, b := range addSeeds(f) {
		if len(b) < 32 || string(b[:6]) != string(magic7z) {
			continue
		}
		next, size := le64(b[12:]), le64(b[20:])
		if next > 1<<16 || 32+next+size > uint64(len(b)) {
			continue
		}
		in := []byte{byte(next), byte(next >> 8)}
		f.Add(append(in, b[32:32+next+size]...))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 2 {
			return
		}
		split := min(int(le16(b)), len(b)-2)
		file := memFile(t, "fuzz.7z", build7z(b[2:2+split], b[2+split:]), nil)
		s := &fakeSink{lim: fuzzLimits, recurse: true}
		if err := Expand(context.Background(), file, KindSevenZip, fuzzLimits, s); err != nil {
			t.Fatalf("Expand: %v", err)
		}
		checkFindings(t, s, "fuzz.7z")
	})
}
