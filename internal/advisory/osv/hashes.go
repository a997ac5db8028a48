package osv

import (
	"encoding/json"
	"strings"
)

// MaxFileHashes bounds the file digests read from one record.
const MaxFileHashes = 4096

// A FileHash is the digest of one distribution file (a wheel, an sdist, an
// npm tarball) that a record reports: the file itself is malicious,
// whatever name or version it is published under.
type FileHash struct {
	Algorithm string // "sha256" or "sha512"
	Value     string // lower-case hex
}

// FileHashes returns the file digests a record gives. OSV has no field for
// them, so feeds put them in database_specific or ecosystem_specific; these
// are read, at the top level, in each affected entry, and under "iocs":
//
//	"hashes" or "file_hashes": a list whose items are "sha256:<hex>",
//	  "<hex>" (64 digits for SHA-256, 128 for SHA-512), or objects with
//	  "sha256" / "sha512" members;
//	"sha256" or "sha512": one hex string or a list of them.
//
// Anything else (MD5, SHA-1, fuzzy hashes) is ignored: too weak to name a
// file. The malicious-packages "malicious-packages-origins" sha256 is the
// digest of a source report, not of a package file, and is never read.
func (r *Record) FileHashes() []FileHash {
	var out []FileHash
	seen := map[FileHash]bool{}
	add := func(alg, v string) {
		v = strings.ToLower(strings.TrimSpace(v))
		if alg == "" {
			if a, rest, ok := strings.Cut(v, ":"); ok {
				alg, v = a, rest
			} else if len(v) == 64 {
				alg = "sha256"
			} else if len(v) == 128 {
				alg = "sha512"
			}
		}
		want := map[string]int{"sha256": 64, "sha512": 128}[alg]
		if want == 0 || len(v) != want || !hexDigits(v) || len(out) >= MaxFileHashes {
			return
		}
		h := FileHash{alg, v}
		if !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	blobs := []json.RawMessage{r.DatabaseSpecific}
	for _, a := range r.Affected {
		blobs = append(blobs, a.DatabaseSpecific, a.EcosystemSpecific)
	}
	for _, b := range blobs {
		var m map[string]json.RawMessage
		if len(b) == 0 || json.Unmarshal(b, &m) != nil {
			continue
		}
		readHashes(m, add)
		var iocs map[string]json.RawMessage
		if json.Unmarshal(m["iocs"], &iocs) == nil {
			readHashes(iocs, add)
		}
	}
	return out
}

// readHashes reads the hash members of one object.
func readHashes(m map[string]json.RawMessage, add func(alg, v string)) {
	for _, key := range []string{"hashes", "file_hashes"} {
		var items []json.RawMessage
		if json.Unmarshal(m[key], &items) != nil {
			continue
		}
		for _, it := range items {
			var s string
			if json.Unmarshal(it, &s) == nil {
				add("", s)
				continue
			}
			var obj map[string]json.RawMessage
			if json.Unmarshal(it, &obj) == nil {
				readAlgs(obj, add)
			}
		}
	}
	readAlgs(m, add)
}

// readAlgs reads "sha256" and "sha512" members: a string or a list.
func readAlgs(m map[string]json.RawMessage, add func(alg, v string)) {
	for _, alg := range []string{"sha256", "sha512"} {
		raw, ok := m[alg]
		if !ok {
			continue
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			add(alg, s)
			continue
		}
		var list []string
		if json.Unmarshal(raw, &list) == nil {
			for _, s := range list {
				add(alg, s)
			}
		}
	}
}

func hexDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
