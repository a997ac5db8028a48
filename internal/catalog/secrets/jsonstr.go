package secrets

import (
	"bytes"
	"context"
	"encoding/json"
)

// escapedStrings calls fn with each string of a JSON document that is
// written with escapes (\u002d, \/), decoded, and the offset of its
// opening quote: a raw scan does not see a key whose bytes are escaped.
// It stops quietly at the first syntax error; what came before was seen.
func escapedStrings(ctx context.Context, src []byte, fn func(s string, off int)) {
	dec := json.NewDecoder(bytes.NewReader(src))
	for n := 0; ; n++ {
		if n&0xfff == 0 && ctx.Err() != nil {
			return
		}
		tok, err := dec.Token()
		if err != nil {
			return // io.EOF, or a syntax error
		}
		s, ok := tok.(string)
		if !ok {
			continue
		}
		end := int(dec.InputOffset()) // just past the closing quote
		start := openingQuote(src, end)
		if start < 0 || bytes.IndexByte(src[start:end], '\\') < 0 {
			continue
		}
		fn(s, start)
	}
}

// openingQuote finds the quote that opens the JSON string whose closing
// quote is at end-1: the nearest quote before it not escaped by an odd
// number of backslashes.
func openingQuote(src []byte, end int) int {
	for i := end - 2; i >= 0; i-- {
		if src[i] != '"' {
			continue
		}
		k := i
		for k > 0 && src[k-1] == '\\' {
			k--
		}
		if (i-k)%2 == 0 {
			return i
		}
	}
	return -1
}
