package secrets

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
)

// entropy is the Shannon entropy of b in bits per byte: about 5.95 for
// random base62, 4 for random hex, under 3 for words and placeholders.
func entropy(b []byte) float64 {
	if len(b) == 0 {
		return 0
	}
	var counts [256]int
	for _, c := range b {
		counts[c]++
	}
	n := float64(len(b))
	h := 0.0
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

// placeholderWords are what documentation and templates put where a key
// goes. Matched case-insensitively anywhere in a candidate; random keys of
// the lengths detected contain one by chance about once in 10⁴.
var placeholderWords = [][]byte{
	[]byte("example"), []byte("xxxx"), []byte("your_"), []byte("your-"), []byte("yourkey"),
	[]byte("yourtoken"), []byte("placeholder"), []byte("changeme"), []byte("change_me"),
	[]byte("dummy"), []byte("fake"), []byte("sample"), []byte("redacted"), []byte("replace"), []byte("insert"), []byte("****"),
	[]byte("..."), []byte("…"), []byte("<"), []byte(">"), []byte("${"), []byte("{{"),
	[]byte("$("), []byte("%("), []byte("0000000"), []byte("here"),
}

// placeholder says whether a candidate secret is a stand-in: it holds a
// placeholder word, a run of six equal bytes, or six bytes counting up or
// down ("abcdef", "123456"), none of which a random key has.
func placeholder(v []byte) bool {
	low := bytes.ToLower(v)
	for _, w := range placeholderWords {
		if bytes.Contains(low, w) {
			return true
		}
	}
	same, up, down := 1, 1, 1
	for i := 1; i < len(low); i++ {
		same, up, down = step(same, low[i] == low[i-1]), step(up, low[i] == low[i-1]+1), step(down, low[i]+1 == low[i-1])
		if same >= 6 || up >= 6 || down >= 6 {
			return true
		}
	}
	return false
}

func step(n int, cont bool) int {
	if cont {
		return n + 1
	}
	return 1
}

// wordy says whether v reads as words rather than a key: every run of
// letters and digits between separators is all lower-case letters or all
// upper-case letters (my_secret_name, DEFAULT-TOKEN, settings.key).
// Random keys mix case and digits within a run.
func wordy(v []byte) bool {
	lower, upper := false, false
	for _, c := range v {
		switch {
		case c >= 'a' && c <= 'z':
			lower = true
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= '0' && c <= '9':
			return false
		default: // a separator ends a run
			if lower && upper {
				return false
			}
			lower, upper = false, false
		}
	}
	return !(lower && upper)
}

// hasDigitAndLetter says whether v has both an ASCII digit and a letter.
func hasDigitAndLetter(v []byte) bool {
	digit, letter := false, false
	for _, c := range v {
		switch {
		case c >= '0' && c <= '9':
			digit = true
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
			letter = true
		}
	}
	return digit && letter
}

// fingerprint names a secret without revealing it: the first 32 bits of
// its SHA-256, enough to find it in a key inventory, far too few to help
// guess a high-entropy key.
func fingerprint(v []byte) string {
	sum := sha256.Sum256(v)
	return "sha256:" + hex.EncodeToString(sum[:4])
}

// redact is how a secret appears in a finding: the constant prefix of its
// provider's format (never a byte of the random part), its length and its
// fingerprint.
func redact(prefix string, v []byte) string {
	return fmt.Sprintf("%s…(len %d, %s)", prefix, len(v), fingerprint(v))
}
