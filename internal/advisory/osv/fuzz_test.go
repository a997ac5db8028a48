package osv

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that no record makes Parse, Rank, the range
// conversion or FileHashes panic, and that FileHashes stays in bounds.
func FuzzParse(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join(fixtures, "*.json"))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"id":"X","modified":"2024-01-01T00:00:00Z","severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Parse(data)
		if err != nil {
			return
		}
		r.Rank()
		for _, a := range r.Affected {
			a.VersionRanges()
		}
		hs := r.FileHashes()
		if len(hs) > MaxFileHashes {
			t.Fatalf("%d file hashes, over the limit", len(hs))
		}
		for _, h := range hs {
			if want := map[string]int{"sha256": 64, "sha512": 128}[h.Algorithm]; len(h.Value) != want {
				t.Fatalf("file hash %+v", h)
			}
		}
	})
}

// FuzzCVSS3Score checks that any vector scores within 0..10 or errors.
func FuzzCVSS3Score(f *testing.F) {
	f.Add("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
	f.Add("CVSS:3.0/AV:L/AC:H/PR:H/UI:R/S:C/C:L/I:N/A:L")
	f.Fuzz(func(t *testing.T, v string) {
		s, err := CVSS3Score(v)
		if err == nil && (s < 0 || s > 10) {
			t.Fatalf("CVSS3Score(%q) = %v", v, s)
		}
	})
}

// FuzzReadMember checks that no archive makes reading its members panic
// or yield an oversized record. Seeds are zips of the fixtures.
func FuzzReadMember(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join(fixtures, "*.json"))
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		w, _ := zw.Create(filepath.Base(p))
		w.Write(data)
	}
	zw.Close()
	f.Add(buf.Bytes())
	f.Add([]byte("PK\x05\x06" + string(make([]byte, 18))))
	f.Fuzz(func(t *testing.T, data []byte) {
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		for _, zf := range zr.File {
			rec, raw, err := ReadMember(zf)
			if err != nil {
				continue
			}
			if rec.ID == "" || len(raw) > MaxRecordSize {
				t.Fatalf("member %s: accepted id %q with %d bytes", zf.Name, rec.ID, len(raw))
			}
		}
	})
}
