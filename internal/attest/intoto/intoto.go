// Package intoto builds, parses and checks in-toto Statement v1 documents:
// the layer of an attestation that binds a typed predicate to the digests
// of the artifacts it is about.
//
// A Statement is a JSON object with four fields: "_type" (always
// [StatementType]), "subject" (a non-empty list of resource descriptors,
// each with a digest), "predicateType" (a URI) and "predicate" (a JSON
// object whose schema the predicate type names). It travels as the payload
// of a DSSE envelope with payload type [PayloadType].
//
// Parse is strict, because a statement is read after its signature checks
// and before policy is applied to it: a second parser that read the same
// bytes differently would see a different statement. It refuses duplicate
// object keys anywhere, unknown top-level fields, nesting deeper than
// [MaxDepth], documents over [MaxSize] and more than [MaxSubjects] subjects.
// Subjects are matched purely by digest, as the specification says; names
// only make messages clearer.
package intoto

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// StatementType is the "_type" of every in-toto Statement v1.
const StatementType = "https://in-toto.io/Statement/v1"

// PayloadType is the DSSE payload type of a JSON in-toto statement.
const PayloadType = "application/vnd.in-toto+json"

// Limits on a statement read from outside. A CycloneDX BOM of a large
// monorepo is a few MiB; 64 MiB leaves ample room while keeping a hostile
// bundle from using unbounded memory.
const (
	MaxSize     = 64 << 20 // bytes of statement JSON
	MaxDepth    = 128      // nested arrays and objects
	MaxSubjects = 100_000  // entries in "subject"
)

// Errors Parse and Match wrap; test for them with errors.Is.
var (
	ErrMalformed = errors.New("intoto: malformed statement")
	ErrMismatch  = errors.New("intoto: subject mismatch")
)

// Subject is a resource descriptor naming one artifact the statement is
// about. Digest maps an algorithm name ("sha256") to a lower-case hex value.
type Subject struct {
	Name             string            `json:"name,omitempty"`
	URI              string            `json:"uri,omitempty"`
	Digest           map[string]string `json:"digest"`
	Content          []byte            `json:"content,omitempty"`
	DownloadLocation string            `json:"downloadLocation,omitempty"`
	MediaType        string            `json:"mediaType,omitempty"`
	Annotations      json.RawMessage   `json:"annotations,omitempty"`
}

// Field names exactly as the specification spells them. encoding/json
// matches keys without regard to case, so Parse checks them itself: "_TYPE"
// must not stand in for "_type".
var (
	statementKeys = map[string]bool{"_type": true, "subject": true, "predicateType": true, "predicate": true}
	subjectKeys   = map[string]bool{"name": true, "uri": true, "digest": true, "content": true,
		"downloadLocation": true, "mediaType": true, "annotations": true}
)

// Statement is an in-toto Statement v1.
type Statement struct {
	Type          string          `json:"_type"`
	Subject       []Subject       `json:"subject"`
	PredicateType string          `json:"predicateType"`
	Predicate     json.RawMessage `json:"predicate,omitempty"`
}

// New returns a statement over subjects whose predicate is the JSON object
// predicate, of type predicateType. It checks the result as Parse would.
func New(predicateType string, predicate []byte, subjects []Subject) (*Statement, error) {
	s := &Statement{
		Type:          StatementType,
		Subject:       subjects,
		PredicateType: predicateType,
		Predicate:     json.RawMessage(bytes.TrimSpace(predicate)),
	}
	if len(predicate) > 0 {
		if err := checkJSON(s.Predicate); err != nil {
			return nil, fmt.Errorf("predicate: %w", err)
		}
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// Marshal returns the statement as compact JSON, the bytes to sign.
func (s *Statement) Marshal() ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return nil, fmt.Errorf("intoto: encoding statement: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Validate reports the first way s breaks the Statement v1 rules.
func (s *Statement) Validate() error {
	if s.Type != StatementType {
		return fmt.Errorf("%w: _type is %q, want %q", ErrMalformed, s.Type, StatementType)
	}
	if s.PredicateType == "" || !strings.Contains(s.PredicateType, ":") {
		return fmt.Errorf("%w: predicateType %q is not a URI", ErrMalformed, s.PredicateType)
	}
	if len(s.Subject) == 0 {
		return fmt.Errorf("%w: no subject", ErrMalformed)
	}
	if len(s.Subject) > MaxSubjects {
		return fmt.Errorf("%w: %d subjects, more than %d", ErrMalformed, len(s.Subject), MaxSubjects)
	}
	for i, sub := range s.Subject {
		if len(sub.Digest) == 0 {
			return fmt.Errorf("%w: subject %d (%q) has no digest", ErrMalformed, i, sub.Name)
		}
		for alg, v := range sub.Digest {
			if alg == "" || v == "" {
				return fmt.Errorf("%w: subject %d (%q) has an empty digest entry", ErrMalformed, i, sub.Name)
			}
			if hexDigest[alg] {
				if _, err := hex.DecodeString(v); err != nil || strings.ToLower(v) != v {
					return fmt.Errorf("%w: subject %d (%q): %s digest %q is not lower-case hex", ErrMalformed, i, sub.Name, alg, v)
				}
			}
		}
	}
	if len(s.Predicate) > 0 && s.Predicate[0] != '{' {
		return fmt.Errorf("%w: predicate is not a JSON object", ErrMalformed)
	}
	return nil
}

// hexDigest are the digest algorithms whose values must be hex.
var hexDigest = map[string]bool{"sha256": true, "sha384": true, "sha512": true, "sha1": true, "sha224": true, "gitCommit": true}

// Parse reads and checks a statement. It never returns a statement that
// fails Validate.
func Parse(b []byte) (*Statement, error) {
	if len(b) > MaxSize {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrMalformed, len(b), MaxSize)
	}
	if err := checkJSON(b); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var s Statement
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if err := exactKeys(b); err != nil {
		return nil, err
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// exactKeys refuses keys that match a field only when case is ignored.
func exactKeys(b []byte) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	for k := range top {
		if !statementKeys[k] {
			return fmt.Errorf("%w: unknown field %q", ErrMalformed, k)
		}
	}
	raw, ok := top["subject"]
	if !ok {
		return nil // Validate says what is missing
	}
	var subs []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &subs); err != nil {
		return fmt.Errorf("%w: subject: %v", ErrMalformed, err)
	}
	for i, sub := range subs {
		for k := range sub {
			if !subjectKeys[k] {
				return fmt.Errorf("%w: subject %d: unknown field %q", ErrMalformed, i, k)
			}
		}
	}
	return nil
}

// checkJSON accepts exactly one JSON value with no duplicate object keys
// and at most MaxDepth levels of nesting.
func checkJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	type frame struct {
		keys   map[string]bool
		object bool
		key    bool // the next token in an object is a key
	}
	var stack []frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		var top *frame
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			if len(stack) > 0 && stack[len(stack)-1].object {
				stack[len(stack)-1].key = true
			}
			continue
		}
		if top != nil && top.object && top.key {
			k := tok.(string) // the decoder only yields strings as keys
			if top.keys[k] {
				return fmt.Errorf("%w: duplicate key %q", ErrMalformed, k)
			}
			top.keys[k] = true
			top.key = false
			continue
		}
		switch tok {
		case json.Delim('{'):
			if len(stack) >= MaxDepth {
				return fmt.Errorf("%w: nested deeper than %d", ErrMalformed, MaxDepth)
			}
			stack = append(stack, frame{keys: map[string]bool{}, object: true, key: true})
		case json.Delim('['):
			if len(stack) >= MaxDepth {
				return fmt.Errorf("%w: nested deeper than %d", ErrMalformed, MaxDepth)
			}
			stack = append(stack, frame{})
		default:
			if top != nil && top.object {
				top.key = true
			}
		}
	}
	if len(stack) != 0 {
		return fmt.Errorf("%w: unterminated JSON", ErrMalformed)
	}
	return nil
}

// FileSubject hashes the file at path with SHA-256 and returns it as a
// subject named name (path in slash form when name is empty).
func FileSubject(ctx context.Context, path, name string) (Subject, error) {
	sum, err := sha256File(ctx, path)
	if err != nil {
		return Subject{}, err
	}
	if name == "" {
		name = filepath.ToSlash(filepath.Clean(path))
	}
	return Subject{Name: name, Digest: map[string]string{"sha256": sum}}, nil
}

// FileSubjects returns one subject per path, in the order given, named by
// the path in slash form. A path that is a folder is refused: name its
// files instead, so that what is attested is never ambiguous.
func FileSubjects(ctx context.Context, paths []string) ([]Subject, error) {
	out := make([]Subject, 0, len(paths))
	for _, p := range paths {
		s, err := FileSubject(ctx, p, "")
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func sha256File(ctx context.Context, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("subject: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("subject: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("subject: %s is not a regular file", path)
	}
	h := sha256.New()
	buf := make([]byte, 1<<20)
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		n, err := f.Read(buf)
		h.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", fmt.Errorf("subject: reading %s: %w", path, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Match checks that every file in want is a subject of s, by its SHA-256
// digest. The error names each file that is not, and the digest attested
// under the same name when there is one.
func (s *Statement) Match(want []Subject) error {
	bySum := map[string]bool{}
	byName := map[string]string{}
	for _, sub := range s.Subject {
		if d := sub.Digest["sha256"]; d != "" {
			bySum[d] = true
			if sub.Name != "" {
				byName[sub.Name] = d
			}
		}
	}
	var problems []string
	for _, w := range want {
		d := w.Digest["sha256"]
		if bySum[d] {
			continue
		}
		if got, ok := byName[w.Name]; ok {
			problems = append(problems, fmt.Sprintf("%s: sha256 %s, attested %s", w.Name, d, got))
			continue
		}
		problems = append(problems, fmt.Sprintf("%s (sha256 %s) is not a subject", w.Name, d))
	}
	if len(problems) == 0 {
		return nil
	}
	sort.Strings(problems)
	return fmt.Errorf("%w: %s", ErrMismatch, strings.Join(problems, "; "))
}
