package archive

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// num7 writes v as a 7z number.
func num7(v uint64) []byte {
	for l := 0; l < 8; l++ {
		if v < 1<<(7*(l+1)) {
			b := []byte{byte(0xff<<(8-l)) | byte(v>>(8*l))}
			for i := range l {
				b = append(b, byte(v>>(8*i)))
			}
			return b
		}
	}
	b := []byte{0xff}
	return binary.LittleEndian.AppendUint64(b, v)
}

func TestNum7(t *testing.T) {
	for _, v := range []uint64{0, 1, 0x7f, 0x80, 0x3fff, 0x4000, 1 << 20, 4e9, 1<<56 - 1, 1 << 56, 1<<64 - 1} {
		p := &parser7{b: num7(v)}
		got, err := p.number()
		if err != nil || got != v || p.off != len(p.b) {
			t.Errorf("number(num7(%d)) = %d, %v after %d of %d bytes", v, got, err, p.off, len(p.b))
		}
	}
}

// build7z wraps a plain header and packed data in a signature header with
// correct CRCs, as a forger would.
func build7z(packed, header []byte) []byte {
	var sig [32]byte
	copy(sig[:], magic7z)
	sig[7] = 4
	binary.LittleEndian.PutUint64(sig[12:], uint64(len(packed)))
	binary.LittleEndian.PutUint64(sig[20:], uint64(len(header)))
	binary.LittleEndian.PutUint32(sig[28:], crc32.ChecksumIEEE(header))
	binary.LittleEndian.PutUint32(sig[8:], crc32.ChecksumIEEE(sig[12:32]))
	return append(append(sig[:], packed...), header...)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// oneFile7z is the header of one file, "a", stored in one folder of one
// coder with the given id and properties.
func oneFile7z(packed int, coder, props []byte, size uint64) []byte {
	flags := byte(len(coder))
	if props != nil {
		flags |= 0x20
	}
	coderRec := cat([]byte{flags}, coder)
	if props != nil {
		coderRec = cat(coderRec, num7(uint64(len(props))), props)
	}
	name := []byte{'a', 0, 0, 0}
	return cat(
		[]byte{k7Header, k7MainStreamsInfo},
		[]byte{k7PackInfo}, num7(0), num7(1), []byte{k7Size}, num7(uint64(packed)), []byte{k7End},
		[]byte{k7UnpackInfo, k7Folder}, num7(1), []byte{0}, num7(1), coderRec,
		[]byte{k7CodersUnpackSize}, num7(size), []byte{k7End},
		[]byte{k7End},
		[]byte{k7FilesInfo}, num7(1), []byte{k7Name}, num7(uint64(1+len(name))), []byte{0}, name,
		[]byte{k7End},
		[]byte{k7End},
	)
}

func TestForged7z(t *testing.T) {
	data := []byte("COPY-METHOD-MARKER")
	tests := []struct {
		name    string
		file    []byte
		members []string
		rules   []string
	}{
		{
			name:    "copy_method",
			file:    build7z(data, oneFile7z(len(data), []byte{0}, nil, uint64(len(data)))),
			members: []string{`x.7z!a 18 "COPY-METHOD-"`},
		},
		{
			// 4e9 files: the library would allocate a table of 4e9 headers.
			name:  "file_count",
			file:  build7z(nil, cat([]byte{k7Header, k7FilesInfo}, num7(4e9), []byte{k7End, k7End})),
			rules: []string{"scan/limit x.7z"},
		},
		{
			name:  "pack_stream_count",
			file:  build7z(nil, cat([]byte{k7Header, k7MainStreamsInfo, k7PackInfo}, num7(0), num7(4e9), []byte{k7End, k7End, k7End})),
			rules: []string{"scan/limit x.7z"},
		},
		{
			name:  "coder_properties",
			file:  build7z(data, oneFile7z(len(data), []byte{0}, make([]byte, 1000), uint64(len(data)))),
			rules: []string{"archive/malformed x.7z"},
		},
		{
			// LZMA2 property 40 asks for a 4 GiB dictionary.
			name:  "lzma2_window",
			file:  build7z(data, oneFile7z(len(data), []byte{0x21}, []byte{40}, uint64(len(data)))),
			rules: []string{"scan/limit x.7z!a"},
		},
		{
			name:  "ppmd_memory",
			file:  build7z(data, oneFile7z(len(data), []byte{3, 4, 1}, []byte{6, 0, 0, 0, 0xf0}, uint64(len(data)))),
			rules: []string{"scan/limit x.7z!a"},
		},
		{
			name:  "unknown_method",
			file:  build7z(data, oneFile7z(len(data), []byte{0x7f, 0x7f}, nil, uint64(len(data)))),
			rules: []string{"archive/malformed x.7z!a"},
		},
		{
			// A file with data and no folders: the library would index
			// past its tables.
			name: "no_folders",
			file: build7z(nil, cat([]byte{k7Header, k7FilesInfo}, num7(1),
				[]byte{k7Name}, num7(5), []byte{0, 'a', 0, 0, 0}, []byte{k7End, k7End})),
			rules: []string{"archive/malformed x.7z"},
		},
		{
			// 18 packed bytes declared, 4 before the header: the member
			// is cut short where the header begins.
			name:    "packed_into_header",
			file:    build7z(data[:4], oneFile7z(len(data), []byte{0}, nil, uint64(len(data)))),
			members: []string{`x.7z!a 4 "COPY"`},
			rules:   []string{"archive/malformed x.7z", "archive/malformed x.7z!a"},
		},
		{
			name: "header_crc",
			file: func() []byte {
				b := build7z(data, oneFile7z(len(data), []byte{0}, nil, 18))
				b[len(b)-3] ^= 1
				return b
			}(),
			rules: []string{"archive/malformed x.7z"},
		},
		{
			name:  "truncated",
			file:  build7z(data, oneFile7z(len(data), []byte{0}, nil, 18))[:40],
			rules: []string{"archive/malformed x.7z"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := memFile(t, "x.7z", tc.file, nil)
			if k := Detect(f); k != KindSevenZip {
				t.Fatalf("Detect = %v", k)
			}
			s := &fakeSink{}
			if err := Expand(context.Background(), f, KindSevenZip, Limits{}, s); err != nil {
				t.Fatal(err)
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
		})
	}
}

// TestWindowLimits checks that decoders are refused dictionaries past the
// window limit before they allocate them.
func TestWindowLimits(t *testing.T) {
	lzmaFile := bytes.Clone(mustRead(t, "payload.txt.lzma"))
	binary.LittleEndian.PutUint32(lzmaFile[1:], 0xffffffff)
	binary.LittleEndian.PutUint64(lzmaFile[5:], ^uint64(0))

	xzFile := bytes.Clone(mustRead(t, "payload.txt.xz"))
	hdr := xzFile[12 : 12+(int(xzFile[12])+1)*4]
	if hdr[1] != 0 || hdr[2] != 0x21 || hdr[3] != 1 {
		t.Fatalf("unexpected xz block header % x", hdr)
	}
	hdr[4] = 40
	binary.LittleEndian.PutUint32(hdr[len(hdr)-4:], crc32.ChecksumIEEE(hdr[:len(hdr)-4]))

	for _, tc := range []struct {
		name string
		data []byte
		k    Kind
		want []string
	}{
		{"x.lzma", lzmaFile, KindLzma, []string{"scan/limit x.lzma"}},
		{"x.xz", xzFile, KindXz, []string{"scan/limit x.xz!x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := memFile(t, tc.name, tc.data, nil)
			if k := Detect(f); k != tc.k {
				t.Fatalf("Detect = %v, want %v", k, tc.k)
			}
			s := &fakeSink{}
			if err := Expand(context.Background(), f, tc.k, Limits{Window: 1 << 20}, s); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, s.rules()); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}
