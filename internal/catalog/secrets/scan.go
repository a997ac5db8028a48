package secrets

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
)

// A match is one secret found in a text.
type match struct {
	start, end int // the secret's bytes in the text
	provider
	sev inventory.Severity
	// evidence names the secret without showing it: see redact.
	evidence string
	// fp is the secret's fingerprint, to know it again elsewhere.
	fp string
	// pair is the span of a second secret the match names (an AWS secret
	// key near its id), so that it is not reported again.
	pairStart, pairEnd int
}

// keyByte says whether c can be part of a key token: a match must not have
// one right before or after it, or it is part of a longer word.
func keyByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// bounded says whether text[start:end] stands alone: not inside a longer
// run of bytes that in(c) accepts.
func bounded(text []byte, start, end int, in func(byte) bool) bool {
	return (start == 0 || !in(text[start-1])) && (end == len(text) || !in(text[end]))
}

// matches collects what scanText finds, keeping the bytes of any secret
// to one match.
type matches []match

// full says whether ms holds maxMatches, the most one text reports: past
// that a text is a dump of keys, and checking each new match against all
// the others would take time quadratic in their number.
func (ms matches) full() bool { return len(ms) >= maxMatches }

func (ms matches) overlaps(start, end int) bool {
	for _, m := range ms {
		if start < m.end && m.start < end || start < m.pairEnd && m.pairStart < end {
			return true
		}
	}
	return false
}

// scanText finds the secrets in text, in order of their start. It never
// returns two matches over the same bytes, nor more than maxMatches.
func scanText(text []byte) []match {
	var ms matches
	for i := range shapes {
		sh := &shapes[i]
		if !bytes.Contains(text, []byte(sh.needle)) {
			continue
		}
		for _, loc := range sh.re.FindAllIndex(text, maxMatches) {
			if ms.full() {
				break
			}
			v := text[loc[0]:loc[1]]
			if !bounded(text, loc[0], loc[1], keyByte) || placeholder(v) ||
				entropy(v[len(sh.prefix):]) < sh.minEntropy || ms.overlaps(loc[0], loc[1]) {
				continue
			}
			ms = append(ms, match{start: loc[0], end: loc[1], provider: sh.provider, sev: sh.sev,
				evidence: sh.name + " " + redact(sh.prefix, v), fp: fingerprint(v)})
		}
	}
	pairAWS(text, ms)
	if bytes.Contains(text, []byte("PRIVATE KEY")) {
		ms = privateKeys(text, ms)
	}
	ms = assignments(text, ms)
	slices.SortFunc(ms, func(a, b match) int { return a.start - b.start })
	return ms
}

// pairAWS raises AWS access key ids to critical when a secret access key
// (40 bytes of base64, mixed case and digits) lies within awsPairDistance.
func pairAWS(text []byte, ms matches) {
	for i := range ms {
		m := &ms[i]
		if m.provider != aws || m.sev == inventory.Critical {
			continue
		}
		lo, hi := max(0, m.start-awsPairDistance), min(len(text), m.end+awsPairDistance)
		b64 := func(c byte) bool { return keyByte(c) && c != '_' && c != '-' || c == '/' || c == '+' }
		for _, loc := range awsSecretShape.FindAllIndex(text[lo:hi], -1) {
			s, e := lo+loc[0], lo+loc[1]
			v := text[s:e]
			if !bounded(text, s, e, b64) || !hasDigitAndLetter(v) ||
				bytes.Equal(bytes.ToLower(v), v) || bytes.Equal(bytes.ToUpper(v), v) ||
				placeholder(v) || entropy(v) < 4.0 || ms.overlaps(s, e) {
				continue
			}
			m.sev = inventory.Critical
			m.pairStart, m.pairEnd = s, e
			m.what = "access key id with its secret key"
			m.evidence += " with secret key " + redact("", v)
			break
		}
	}
}

// privateKeys adds the private keys in text that have a body: a header
// alone (a parser's constant, a docs line) is not a key.
func privateKeys(text []byte, ms matches) matches {
	for _, loc := range privateKeyBegin.FindAllIndex(text, maxMatches) {
		if ms.full() {
			break
		}
		label := string(text[loc[0]+len("-----BEGIN ") : loc[1]-len("-----")])
		body, end := keyBody(text[loc[1]:])
		if len(body) < minKeyBody || entropy(body) < 4.5 || placeholder(body) || ms.overlaps(loc[0], loc[1]+end) {
			continue
		}
		p := provider{name: "private key", what: label, rule: RulePrivateKey}
		sev := inventory.Critical
		if strings.Contains(label, "ENCRYPTED") || bytes.Contains(text[loc[1]:loc[1]+end], []byte("4,ENCRYPTED")) {
			// A passphrase still stands between the finder and the key.
			sev, p.what = inventory.High, label+" (encrypted)"
		}
		ms = append(ms, match{start: loc[0], end: loc[1] + end, provider: p, sev: sev,
			evidence: fmt.Sprintf("-----BEGIN %s----- …(body %d bytes, %s)", label, len(body), fingerprint(body)),
			fp:       fingerprint(body)})
	}
	return ms
}

// pemHeader matches a header line inside a PEM or armored block
// ("Proc-Type: 4,ENCRYPTED", "DEK-Info: ...", "Version: ...").
var pemHeader = regexp.MustCompile(`^[A-Za-z][A-Za-z-]{1,20}: `)

// keyBody reads the base64 body of a private key from the text after its
// BEGIN line, up to the END line or maxKeyBody. It steps over what
// surrounds a key written into a string literal — whitespace, quotes,
// escaped newlines (\n), concatenation — and over header lines. It
// returns the body and how many bytes of after it read.
func keyBody(after []byte) (body []byte, end int) {
	n := min(len(after), maxKeyBody)
	lineStart := true
	for i := 0; i < n; i++ {
		if lineStart && pemHeader.Match(after[i:n]) {
			// Skip to the end of the line, real or escaped.
			j := i
			for j < n && after[j] != '\n' && !(after[j] == '\\' && j+1 < n && after[j+1] == 'n') {
				j++
			}
			i = j - 1
			continue
		}
		lineStart = false
		switch c := after[i]; {
		case c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '/' || c == '+' || c == '=':
			body = append(body, c)
		case c == '\\' && i+1 < n && (after[i+1] == 'n' || after[i+1] == 'r'):
			i++
			lineStart = after[i] == 'n'
		case c == '\n':
			lineStart = true
		case c == ' ' || c == '\t' || c == '\r' || c == '"' || c == '\'' || c == ',':
		case c == '-' && bytes.HasPrefix(after[i:], []byte("-----END")):
			if e := bytes.Index(after[i+5:min(len(after), i+200)], []byte("-----")); e >= 0 {
				return body, i + 5 + e + 5
			}
			return body, i
		default:
			return body, i
		}
	}
	return body, n
}

// nameByte says whether c can be part of a variable or key name.
func nameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
}

// names finds the names in text that hold key, token or secret, in any
// case, and are followed by an assignment: their spans, each once.
func names(text []byte) [][2]int {
	if !containsFold(text) {
		return nil
	}
	lower := asciiLower(text)
	var spans [][2]int
	for k, w := range assignmentWords {
		for i := 0; ; {
			j := bytes.Index(lower[i:], w)
			if j < 0 {
				break
			}
			s, e := i+j, i+j+len(w)
			for s > 0 && nameByte(text[s-1]) {
				s--
			}
			for e < len(text) && nameByte(text[e]) {
				e++
			}
			i = e
			if !assigns(text, e) || containsAnyWord(lower[s:e], assignmentWords[:k]) {
				continue // not assigned, or found already by an earlier word
			}
			spans = append(spans, [2]int{s, e})
		}
	}
	return spans
}

// asciiLower lowers ASCII letters only, so that offsets in the copy are
// offsets in text (bytes.ToLower rewrites invalid UTF-8 and changes them).
func asciiLower(text []byte) []byte {
	b := make([]byte, len(text))
	for i, c := range text {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	return b
}

func containsAnyWord(b []byte, words [][]byte) bool {
	for _, w := range words {
		if bytes.Contains(b, w) {
			return true
		}
	}
	return false
}

// assigns is the cheap test of assignedValue: whether an assignment
// operator follows the name that ends at i.
func assigns(text []byte, i int) bool {
	if i < len(text) && (text[i] == '"' || text[i] == '\'' || text[i] == ']') {
		i++
	}
	i = skipBlanks(text, i, min(len(text), i+maxAssigned))
	return i < len(text) && (text[i] == '=' || text[i] == ':')
}

// containsFold is a cheap first test for names: whether text holds key,
// token or secret in one of the usual casings.
func containsFold(text []byte) bool {
	for _, n := range assignmentNeedles {
		if bytes.Contains(text, n) {
			return true
		}
	}
	return false
}

// assignmentNeedles are the casings containsFold looks for.
var assignmentNeedles = [][]byte{
	[]byte("key"), []byte("KEY"), []byte("Key"), []byte("token"), []byte("TOKEN"), []byte("Token"),
	[]byte("secret"), []byte("SECRET"), []byte("Secret"),
}

// assignments adds the keys known by the name they are assigned to, then
// generic high-entropy values of names that hold key, token or secret.
func assignments(text []byte, ms matches) matches {
	// Whether each fileWord is in text, looked up once, when first needed.
	words := map[string]bool{}
	has := func(w string) bool {
		in, ok := words[w]
		if !ok {
			in = bytes.Contains(text, []byte(w))
			words[w] = in
		}
		return in
	}
	for _, sp := range names(text) {
		if ms.full() {
			break
		}
		nameStart, nameEnd := sp[0], sp[1]
		quote, vs, ve, ok := assignedValue(text, nameEnd)
		if !ok {
			continue
		}
		v := text[vs:ve]
		if ms.overlaps(nameStart, ve) {
			continue
		}
		name := text[nameStart:nameEnd]
		if m, ok := keyedMatch(text, nameStart, name, v, has); ok {
			m.start, m.end = vs, ve
			ms = append(ms, m)
			continue
		}
		if genericName(name) && genericValue(v, quote != 0) && !shapePrefix(v) {
			ms = append(ms, match{start: vs, end: ve, sev: inventory.High,
				provider: provider{"", "credential", RuleGeneric, ""},
				evidence: showName(name) + " = " + redact("", v), fp: fingerprint(v)})
		}
	}
	return ms
}

// valueByte says whether c can be part of an assigned key's value.
func valueByte(c byte) bool {
	return keyByte(c) || c == '+' || c == '/' || c == '=' || c == '.' || c == '~'
}

// assignedValue reads what follows a credential's name that ends at i,
// when a value is assigned to it: NAME=v, name: "v", "name": "v",
// name := `v`, name => 'v', key="v", "Bearer v". It returns the quote
// around the value (0 for none) and the value's span. A value is 8 to
// maxValue bytes; a quoted one must be the whole string, an unquoted one
// must end the expression (not os.environ[...], get_key(), a.b).
func assignedValue(text []byte, i int) (quote byte, vs, ve int, ok bool) {
	end := min(len(text), i+maxAssigned)
	if i < end && (text[i] == '"' || text[i] == '\'' || text[i] == ']') {
		i++
	}
	i = skipBlanks(text, i, end)
	switch {
	case i+1 < end && (text[i] == ':' && text[i+1] == '=' || text[i] == '=' && text[i+1] == '>'):
		i += 2
	case i < end && (text[i] == '=' || text[i] == ':'):
		i++
	default:
		return 0, 0, 0, false
	}
	i = skipBlanks(text, i, end)
	if i < end && (text[i] == '"' || text[i] == '\'' || text[i] == '`') {
		quote = text[i]
		i++
	}
	if i+7 <= end && bytes.EqualFold(text[i:i+6], []byte("bearer")) && (text[i+6] == ' ' || text[i+6] == '\t') {
		i = skipBlanks(text, i+6, end)
	}
	vs = i
	for i < end && i-vs < maxValue && valueByte(text[i]) {
		i++
	}
	ve = i
	if ve-vs < 8 {
		return 0, 0, 0, false
	}
	if quote != 0 {
		ok = ve < len(text) && text[ve] == quote
	} else {
		ok = ve == len(text) || bytes.IndexByte([]byte(" \t\r\n,;})#"), text[ve]) >= 0
	}
	return quote, vs, ve, ok
}

func skipBlanks(text []byte, i, end int) int {
	for i < end && (text[i] == ' ' || text[i] == '\t') {
		i++
	}
	return i
}

// shapePrefix says whether v starts as a key of known shape does: the
// shape's checks, which v failed, stand over the generic ones. The bare
// "sk-" is not such a start: other providers' keys (DeepSeek, DashScope)
// begin with it too.
func shapePrefix(v []byte) bool {
	for i := range shapes {
		if p := shapes[i].prefix; p != "sk-" && bytes.HasPrefix(v, []byte(p)) {
			return true
		}
	}
	return false
}

// keyedMatch checks v against the keyed formats whose words the name, or
// failing that the text before it, holds. has says whether a word is in
// text.
func keyedMatch(text []byte, nameStart int, name, v []byte, has func(string) bool) (match, bool) {
	if !keyedLen[len(v)] {
		return match{}, false
	}
	lname := bytes.ToLower(name)
	before := bytes.ToLower(text[max(0, nameStart-160):nameStart])
	for _, in := range [][]byte{lname, before} {
		named := false
		for i := range keyedFormats {
			k := &keyedFormats[i]
			if !containsAny(in, k.names) || k.fileWord != "" && !has(k.fileWord) {
				continue
			}
			named = true
			if !k.value.Match(v) || placeholder(v) || entropy(v) < k.minEntropy {
				continue
			}
			return match{provider: k.provider, sev: k.sev,
				evidence: k.name + " " + showName(name) + " = " + redact("", v), fp: fingerprint(v)}, true
		}
		if named {
			break // the name says whose it is; the text before does not overrule it
		}
	}
	return match{}, false
}

func containsAny(b []byte, words []string) bool {
	for _, w := range words {
		if bytes.Contains(b, []byte(w)) {
			return true
		}
	}
	return false
}

// genericName says whether a name is one a credential is stored in:
// *SECRET*, *TOKEN*, *_KEY, *ApiKey, key; not a tokenizer, a count, a
// public key or the name of a key.
func genericName(name []byte) bool {
	l := string(bytes.ToLower(bytes.Trim(name, ".-_")))
	if containsAny([]byte(l), genericNotSecret) {
		return false
	}
	switch {
	case bytes.Contains([]byte(l), []byte("secret")), bytes.Contains([]byte(l), []byte("token")):
		return true
	case l == "key", len(l) > 3 && l[len(l)-3:] == "key" && (l[len(l)-4] == '_' || l[len(l)-4] == '-' || l[len(l)-4] == '.'):
		return true
	case len(l) > 6 && l[len(l)-6:] == "apikey":
		return true
	}
	// camelCase: authKey, accessKey.
	n := len(name)
	return n > 3 && string(name[n-3:]) == "Key" && name[n-4] >= 'a' && name[n-4] <= 'z'
}

// genericValue says whether a value assigned to a credential's name looks
// like a live one: long, mixed letters and digits, high entropy, not a
// placeholder or words. Unquoted values must not hold a dot: in code they
// are attribute chains (settings.api_key), not keys.
func genericValue(v []byte, quoted bool) bool {
	if b, ok := bytes.CutPrefix(v, []byte("Bearer ")); ok {
		v = b
	}
	return len(v) >= genericMinLen && len(v) <= genericMaxLen &&
		(quoted || !bytes.ContainsRune(v, '.')) &&
		hasDigitAndLetter(v) && !wordy(v) && !placeholder(v) && entropy(v) >= genericMinEntropy
}

// showName is a variable name as evidence shows it, at most 40 bytes.
func showName(name []byte) string {
	if len(name) > 40 {
		return "…" + string(name[len(name)-39:])
	}
	return string(name)
}
