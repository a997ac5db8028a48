package archive

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/rules"
	"github.com/google/go-cmp/cmp"
)

// fakeSink records what Expand reports. With recurse, it expands members
// that are containers themselves, as the pipeline would.
type fakeSink struct {
	lim      Limits
	recurse  bool
	members  []string // "path size head"
	findings []inventory.Finding
}

func (s *fakeSink) Component(inventory.Component) {}
func (s *fakeSink) Finding(f inventory.Finding)   { s.findings = append(s.findings, f) }

func (s *fakeSink) Scan(ctx context.Context, m *inventory.File) {
	head := m.Head[:min(len(m.Head), 12)]
	s.members = append(s.members, fmt.Sprintf("%s %d %q", m.Path, m.Size, head))
	if s.recurse && m.Depth < 4 {
		if k := Detect(m); k != KindNone {
			if err := Expand(ctx, m, k, s.lim, s); err != nil {
				s.members = append(s.members, "error: "+err.Error())
			}
		}
	}
}

// rules lists the findings as "rule path", sorted.
func (s *fakeSink) rules() []string {
	var out []string
	for _, f := range s.findings {
		out = append(out, f.Rule+" "+f.Path)
	}
	slices.Sort(out)
	return out
}

func openFixture(t testing.TB, name string, read *atomic.Int64) *inventory.File {
	t.Helper()
	osf, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { osf.Close() })
	fi, err := osf.Stat()
	if err != nil {
		t.Fatal(err)
	}
	f, err := inventory.NewFile(name, osf, fi.Size(), read)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func memFile(t testing.TB, name string, b []byte, read *atomic.Int64) *inventory.File {
	t.Helper()
	f, err := inventory.NewFile(name, bytes.NewReader(b), int64(len(b)), read)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

const pickleHead = `\x80\x02}q\x00X\x06\x00\x00\x00ma`

func TestExpand(t *testing.T) {
	tests := []struct {
		file    string
		lim     Limits
		members []string
		rules   []string
	}{
		{
			file: "plain.zip",
			members: []string{
				`plain.zip!model/data.pkl 22 "` + pickleHead + `"`,
				`plain.zip!model/weights.bin 56 "WEIGHTS-MARK"`,
			},
		},
		{
			file:    "badcrc.zip",
			members: []string{`badcrc.zip!data.pkl 22 "` + pickleHead + `"`},
			rules:   []string{"archive/crc-mismatch badcrc.zip!data.pkl"},
		},
		{
			file:    "badcrc_deflate.zip",
			members: []string{`badcrc_deflate.zip!data.pkl 88 "` + pickleHead + `"`},
			rules:   []string{"archive/crc-mismatch badcrc_deflate.zip!data.pkl"},
		},
		{
			file: "encrypted.zip",
			members: []string{
				`encrypted.zip!flag1.txt 21 "ENCRYPTED-FL"`,
				`encrypted.zip!flag20.txt 19 "PATCHED-FLAG"`,
				`encrypted.zip!flag40.txt 18 "STRONG-FLAG-"`,
				`encrypted.zip!real.bin 81 "\a\n\r\x10\x13\x16\x19\x1c\x1f\"%("`,
			},
			rules: []string{
				"archive/encrypted encrypted.zip!flag1.txt",
				"archive/encrypted encrypted.zip!flag20.txt",
				"archive/encrypted encrypted.zip!flag40.txt",
				"archive/encrypted encrypted.zip!real.bin",
			},
		},
		{
			file:    "encrypted_deflate.zip",
			members: []string{`encrypted_deflate.zip!cipher.bin 0 ""`},
			rules: []string{
				"archive/encrypted encrypted_deflate.zip!cipher.bin",
				"archive/malformed encrypted_deflate.zip!cipher.bin",
			},
		},
		{
			file: "namemismatch.zip",
			members: []string{
				`namemismatch.zip!archive/data.pkl 22 "` + pickleHead + `"`,
				`namemismatch.zip!archive/version 2 "3\n"`,
			},
			rules: []string{"archive/name-mismatch namemismatch.zip!archive/data.pkl"},
		},
		{
			file: "duplicate.zip",
			members: []string{
				`duplicate.zip!data.pkl 10 "FIRST-COPY"`,
				`duplicate.zip!data.pkl#2 11 "SECOND-COPY"`,
			},
			rules: []string{"archive/duplicate-name duplicate.zip!data.pkl#2"},
		},
		{
			file: "traversal.zip",
			members: []string{
				`traversal.zip!../../evil.pkl 6 "DOTDOT"`,
				`traversal.zip!/etc/cron.d/x 8 "ABSOLUTE"`,
				`traversal.zip!..\..\win.txt 9 "BACKSLASH"`,
				`traversal.zip!C:/drive.txt 5 "DRIVE"`,
				`traversal.zip!ok/fine.txt 4 "FINE"`,
			},
			rules: []string{
				"archive/path-traversal traversal.zip!../../evil.pkl",
				`archive/path-traversal traversal.zip!..\..\win.txt`,
				"archive/path-traversal traversal.zip!/etc/cron.d/x",
				"archive/path-traversal traversal.zip!C:/drive.txt",
			},
		},
		{
			file:    "symlink.zip",
			members: []string{`symlink.zip!file.txt 7 "REGULAR"`},
			rules:   []string{"archive/symlink symlink.zip!link"},
		},
		{
			file:    "polyglot.zip",
			members: []string{`polyglot.zip!archive/data.pkl 22 "` + pickleHead + `"`},
			rules:   []string{"archive/prefix-data polyglot.zip"},
		},
		{
			file:    "prefix.zip",
			members: []string{`prefix.zip!archive/data.pkl 22 "` + pickleHead + `"`},
			rules:   []string{"archive/prefix-data prefix.zip"},
		},
		{
			file:    "zip64.zip",
			members: []string{`zip64.zip!big.txt 20 "zip64 member"`},
		},
		{
			file: "truncated_cd.zip",
			members: []string{
				`truncated_cd.zip!one.txt 10 "ONE-MARKER"`,
				`truncated_cd.zip!two.txt 10 "TWO-MARKER"`,
				`truncated_cd.zip!three.txt 12 "THREE-MARKER"`,
			},
			rules: []string{
				"archive/malformed truncated_cd.zip",
				"archive/malformed truncated_cd.zip",
			},
		},
		{
			file: "hidden.zip",
			members: []string{
				`hidden.zip!one.txt 10 "ONE-MARKER"`,
				`hidden.zip!two.txt 10 "TWO-MARKER"`,
				`hidden.zip!hidden.txt 13 "HIDDEN-MARKE"`,
			},
			rules: []string{
				"archive/malformed hidden.zip",
				"archive/malformed hidden.zip!hidden.txt",
			},
		},
		{file: "empty.zip"},
		{
			file:    "bomb.zip",
			lim:     Limits{Ratio: 10},
			members: []string{`bomb.zip!zeros.bin 1048576 "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"`},
			rules:   []string{"scan/limit bomb.zip!zeros.bin"},
		},
		{
			file:    "bomb.zip",
			lim:     Limits{Decompressed: 3 << 20},
			members: []string{`bomb.zip!zeros.bin 3145728 "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"`},
			rules:   []string{"scan/limit bomb.zip!zeros.bin"},
		},
		{
			file: "links.tar",
			members: []string{
				`links.tar!ok.txt 9 "OK-MARKER"`,
				`links.tar!../evil.txt 13 "DOTDOT-MARKE"`,
				`links.tar!/abs.txt 15 "ABSOLUTE-MAR"`,
				`links.tar!ok.txt#2 8 "OK-AGAIN"`,
			},
			rules: []string{
				"archive/duplicate-name links.tar!ok.txt#2",
				"archive/path-traversal links.tar!../evil.txt",
				"archive/path-traversal links.tar!/abs.txt",
				"archive/symlink links.tar!hard",
				"archive/symlink links.tar!lnk",
			},
		},
		{
			file: "truncated.tar",
			members: []string{
				`truncated.tar!model/data.pkl 22 "` + pickleHead + `"`,
				`truncated.tar!model/big.bin 3000 "BBBBBBBBBBBB"`,
			},
			rules: []string{"archive/malformed truncated.tar!model/big.bin"},
		},
		{
			file:    "v7.tar",
			members: []string{`v7.tar!model/data.pkl 22 "` + pickleHead + `"`},
		},
		{
			file: "data.tar.gz",
			members: []string{
				`data.tar.gz!data.tar 20480 "model/data.p"`,
				`data.tar.gz!data.tar!model/data.pkl 22 "` + pickleHead + `"`,
				`data.tar.gz!data.tar!model/big.bin 10000 "BBBBBBBBBBBB"`,
			},
		},
		{file: "named.gz", members: []string{`named.gz!payload.txt 440 "STREAM-PAYLO"`}},
		{file: "payload.txt.gz", members: []string{`payload.txt.gz!payload.txt 440 "STREAM-PAYLO"`}},
		{file: "multi.gz", members: []string{`multi.gz!multi 27 "FIRST-MEMBER"`}},
		{
			file:    "truncated.gz",
			members: []string{`truncated.gz!truncated 4148 "TRUNCATED-GZ"`},
			rules:   []string{"archive/malformed truncated.gz!truncated"},
		},
		{
			file:    "badcrc.gz",
			members: []string{`badcrc.gz!badcrc 440 "STREAM-PAYLO"`},
			rules:   []string{"archive/crc-mismatch badcrc.gz!badcrc"},
		},
		{file: "payload.txt.bz2", members: []string{`payload.txt.bz2!payload.txt 440 "STREAM-PAYLO"`}},
		{file: "payload.txt.xz", members: []string{`payload.txt.xz!payload.txt 440 "STREAM-PAYLO"`}},
		{
			file:    "badcheck.xz",
			members: []string{`badcheck.xz!badcheck 440 "STREAM-PAYLO"`},
			rules:   []string{"archive/crc-mismatch badcheck.xz!badcheck"},
		},
		{file: "multi.xz", members: []string{`multi.xz!multi 28 "XZ-STREAM-ON"`}},
		{file: "payload.txt.lzma", members: []string{`payload.txt.lzma!payload.txt 440 "STREAM-PAYLO"`}},
		{file: "payload.z", members: []string{`payload.z!payload 440 "STREAM-PAYLO"`}},
		{file: "blob.bin", members: []string{`blob.bin!data 22 "` + pickleHead + `"`}},
		{
			file:    "trailing.zlib",
			members: []string{`trailing.zlib!trailing 440 "STREAM-PAYLO"`},
			rules:   []string{"archive/malformed trailing.zlib"},
		},
		{file: "model.joblib", members: []string{`model.joblib!data 40 "\x80\x04\x95\x1d\x00\x00\x00\x00\x00\x00\x00}"`}},
		{file: "legacy_zf.pkl", members: []string{`legacy_zf.pkl!data 36 "\x80\x02}q\x00X\x06\x00\x00\x00ma"`}},
		{
			file: "lzma.7z",
			members: []string{
				`lzma.7z!seven/a.txt 150 "SEVEN-A-MARK"`,
				`lzma.7z!seven/b.pkl 22 "` + pickleHead + `"`,
			},
		},
		{
			file: "lzma2.7z",
			members: []string{
				`lzma2.7z!seven/a.txt 150 "SEVEN-A-MARK"`,
				`lzma2.7z!seven/b.pkl 22 "` + pickleHead + `"`,
			},
		},
		{file: "plainheader.7z", members: []string{`plainheader.7z!seven/a.txt 150 "SEVEN-A-MARK"`}},
		{file: "encrypted.7z", rules: []string{"archive/encrypted encrypted.7z!seven/a.txt"}},
		{file: "encryptedheader.7z", rules: []string{"archive/encrypted encryptedheader.7z"}},
		{
			file: "zip.7z",
			members: []string{
				`zip.7z!inner.zip 152 "PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00"`,
				`zip.7z!inner.zip!archive/data.pkl 22 "` + pickleHead + `"`,
			},
		},
		{
			file: "nested.7z",
			members: []string{
				`nested.7z!bundle.tar.gz 194 "\x1f\x8b\b\x00\x00\x00\x00\x00\x02\x03\xed\xcd"`,
				`nested.7z!bundle.tar.gz!bundle.tar 10240 "inner.zip\x00\x00\x00"`,
				`nested.7z!bundle.tar.gz!bundle.tar!inner.zip 152 "PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00"`,
				`nested.7z!bundle.tar.gz!bundle.tar!inner.zip!archive/data.pkl 22 "` + pickleHead + `"`,
			},
		},
		{
			file:    "symlink.7z",
			members: []string{`symlink.7z!seven/a.txt 150 "SEVEN-A-MARK"`},
			rules:   []string{"archive/symlink symlink.7z!seven/link"},
		},
	}
	for _, tc := range tests {
		name := strings.ReplaceAll(tc.file, ".", "_")
		if tc.lim != (Limits{}) {
			name += "_limited"
		}
		t.Run(name, func(t *testing.T) {
			f := openFixture(t, tc.file, nil)
			k := Detect(f)
			if k == KindNone {
				t.Fatalf("Detect(%s) = none", tc.file)
			}
			s := &fakeSink{lim: tc.lim, recurse: true}
			if err := Expand(context.Background(), f, k, tc.lim, s); err != nil {
				t.Fatalf("Expand: %v", err)
			}
			if diff := cmp.Diff(tc.members, s.members); diff != "" {
				t.Errorf("members (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.rules, s.rules()); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
				for _, f := range s.findings {
					t.Logf("%s %s: %s", f.Rule, f.Path, f.Evidence)
				}
			}
			for _, fd := range s.findings {
				r, ok := rules.Lookup(fd.Rule)
				if !ok || fd.Severity != r.Severity || fd.Message == "" || fd.Evidence == "" || fd.Remediation == "" {
					t.Errorf("finding %+v: unknown rule, wrong severity or missing text", fd)
				}
			}
		})
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		file string
		want []Kind
	}{
		{"plain.zip", []Kind{KindZip}},
		{"polyglot.zip", []Kind{KindZip}},
		{"zip64.zip", []Kind{KindZip}},
		{"truncated_cd.zip", []Kind{KindZip}},
		{"empty.zip", []Kind{KindZip}},
		{"links.tar", []Kind{KindTar}},
		{"v7.tar", []Kind{KindTar}},
		{"data.tar.gz", []Kind{KindGzip}},
		{"payload.txt.bz2", []Kind{KindBzip2}},
		{"payload.txt.xz", []Kind{KindXz}},
		{"payload.txt.lzma", []Kind{KindLzma}},
		{"payload.z", []Kind{KindZlib}},
		{"blob.bin", []Kind{KindZlib}},
		{"model.joblib", []Kind{KindZlib}},
		{"legacy_zf.pkl", []Kind{KindZlib}},
		{"lzma.7z", []Kind{KindSevenZip}},
		{"gen.py", nil},
	}
	for _, tc := range tests {
		t.Run(strings.ReplaceAll(tc.file, ".", "_"), func(t *testing.T) {
			f := openFixture(t, tc.file, nil)
			if diff := cmp.Diff(tc.want, Kinds(f)); diff != "" {
				t.Errorf("Kinds (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDetectContent checks that names do not decide, and that weak
// signatures need their corroboration.
func TestDetectContent(t *testing.T) {
	zlibText := mustRead(t, "payload.z") // a zlib header, and text inside
	gzipZip := append(mustRead(t, "payload.txt.gz"), mustRead(t, "plain.zip")...)
	tests := []struct {
		name string // case name and file name
		data []byte
		want []Kind
	}{
		{"payload.txt", zlibText, nil},            // nothing corroborates the zlib header
		{"payload.z", zlibText, []Kind{KindZlib}}, // the name does
		{"data.zip", []byte("not a zip at all"), nil},
		{"zeros.tar", make([]byte, 1024), nil}, // a block of zeros is no tar header
		{"x.pkl", gzipZip, []Kind{KindGzip, KindZip}},
	}
	for _, tc := range tests {
		t.Run(strings.ReplaceAll(tc.name, ".", "_"), func(t *testing.T) {
			f := memFile(t, tc.name, tc.data, nil)
			if diff := cmp.Diff(tc.want, Kinds(f)); diff != "" {
				t.Errorf("Kinds (-want +got):\n%s", diff)
			}
		})
	}
}

func mustRead(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestKindString(t *testing.T) {
	var got []string
	for k := KindNone; k <= KindSevenZip+1; k++ {
		got = append(got, k.String())
	}
	want := []string{"none", "zip", "tar", "gzip", "bzip2", "xz", "lzma", "zlib", "7z", "kind(9)"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
