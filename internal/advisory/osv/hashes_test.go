package osv

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFileHashes(t *testing.T) {
	a := strings.Repeat("ab", 32)
	b := strings.Repeat("cd", 32)
	c := strings.Repeat("ef", 64)
	origin := strings.Repeat("12", 32)
	for _, tc := range []struct {
		name string
		json string
		want []FileHash
	}{
		{"none", `{"id":"MAL-1","modified":"2024-01-01T00:00:00Z"}`, nil},
		{"origins_never_read",
			`{"id":"MAL-1","modified":"2024-01-01T00:00:00Z","database_specific":{"malicious-packages-origins":[{"source":"x","sha256":"` + origin + `"}]}}`,
			nil},
		{"top_level_list_of_strings",
			`{"id":"MAL-1","modified":"2024-01-01T00:00:00Z","database_specific":{"hashes":["sha256:` + strings.ToUpper(a) + `","` + c + `","md5:00"]}}`,
			[]FileHash{{"sha256", a}, {"sha512", c}}},
		{"affected_objects_and_dedup",
			`{"id":"MAL-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"PyPI","name":"x"},
			  "database_specific":{"file_hashes":[{"filename":"x-1.0.tar.gz","sha256":"` + a + `"},{"sha256":"` + a + `"}]},
			  "ecosystem_specific":{"sha256":["` + b + `"]}}]}`,
			[]FileHash{{"sha256", a}, {"sha256", b}}},
		{"iocs",
			`{"id":"MAL-1","modified":"2024-01-01T00:00:00Z","database_specific":{"iocs":{"hashes":["` + b + `"],"domains":["evil.example"]}}}`,
			[]FileHash{{"sha256", b}}},
		{"malformed_ignored",
			`{"id":"MAL-1","modified":"2024-01-01T00:00:00Z","database_specific":{"hashes":"` + a + `","sha256":["zz` + a[2:] + `", 7]}}`,
			nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Parse([]byte(tc.json))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, r.FileHashes()); diff != "" {
				t.Errorf("FileHashes (-want +got):\n%s", diff)
			}
		})
	}
}
