package modelsig

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrMalformed is wrapped by every error about a statement that is signed
// but not a valid model manifest.
var ErrMalformed = errors.New("modelsig: malformed statement")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

type jsonSubject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

type jsonResource struct {
	Name      string `json:"name"`
	Algorithm string `json:"algorithm"`
	Digest    string `json:"digest"`
}

type jsonStatement struct {
	Type          string          `json:"_type"`
	Subject       []jsonSubject   `json:"subject"`
	PredicateType string          `json:"predicateType"`
	Predicate     json.RawMessage `json:"predicate"`
}

type jsonPredicate struct {
	Serialization Serialization  `json:"serialization"`
	Resources     []jsonResource `json:"resources"`
}

// Statement encodes the manifest as the in-toto statement the reference
// signs: one subject named after the model with the root digest, and the
// serialization and resources in the predicate.
func (m *Manifest) Statement() ([]byte, error) {
	if len(m.Resources) == 0 {
		return nil, errors.New("modelsig: the model has no files to sign")
	}
	p := jsonPredicate{Serialization: m.Serialization, Resources: make([]jsonResource, len(m.Resources))}
	for i, r := range m.Resources {
		p.Resources[i] = jsonResource{Name: r.Name, Algorithm: r.Algorithm, Digest: hex.EncodeToString(r.Digest)}
	}
	pred, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("modelsig: encoding predicate: %w", err)
	}
	st := jsonStatement{
		Type:          StatementType,
		Subject:       []jsonSubject{{Name: m.Model, Digest: map[string]string{"sha256": hex.EncodeToString(m.RootDigest())}}},
		PredicateType: PredicateType,
		Predicate:     pred,
	}
	out, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("modelsig: encoding statement: %w", err)
	}
	return out, nil
}

// ParseStatement reads a signed statement back into a manifest: the v1.0
// predicate, or the v0.2 one (a subject per file). It refuses what the
// reference would misread: resource names that are absolute, hold "..",
// or are not in clean form; duplicates; an empty list; digests of the wrong
// length; a root digest that does not match the resources.
func ParseStatement(payload []byte) (*Manifest, error) {
	var st jsonStatement
	if err := strictDecode(payload, &st); err != nil {
		return nil, malformed("%v", err)
	}
	if st.Type != StatementType {
		return nil, malformed("statement type %q, want %q", st.Type, StatementType)
	}
	switch st.PredicateType {
	case PredicateType:
		return parseV1(&st)
	case predicateTypeV02:
		return parseV02(&st)
	}
	return nil, malformed("predicate type %q, want %q", st.PredicateType, PredicateType)
}

// strictDecode decodes one JSON value with numbers kept exact.
func strictDecode(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("data after the JSON value")
	}
	return nil
}

func parseV1(st *jsonStatement) (*Manifest, error) {
	if len(st.Subject) != 1 {
		return nil, malformed("%d subjects, want 1", len(st.Subject))
	}
	root, err := hexDigest(st.Subject[0].Digest["sha256"], 32)
	if err != nil {
		return nil, malformed("subject digest: %v", err)
	}
	var raw struct {
		Serialization struct {
			Method        string      `json:"method"`
			HashType      string      `json:"hash_type"`
			ShardSize     json.Number `json:"shard_size"`
			AllowSymlinks *bool       `json:"allow_symlinks"`
			IgnorePaths   []string    `json:"ignore_paths"`
		} `json:"serialization"`
		Resources []jsonResource `json:"resources"`
	}
	if err := strictDecode(st.Predicate, &raw); err != nil {
		return nil, malformed("predicate: %v", err)
	}
	s := raw.Serialization
	m := &Manifest{Model: st.Subject[0].Name, Serialization: Serialization{
		Method: s.Method, HashType: s.HashType, IgnorePaths: s.IgnorePaths,
	}}
	if s.AllowSymlinks == nil {
		return nil, malformed("serialization has no allow_symlinks")
	}
	m.Serialization.AllowSymlinks = *s.AllowSymlinks
	if s.HashType != SHA256 && s.HashType != BLAKE2b {
		return nil, malformed("unsupported hash type %q", s.HashType)
	}
	switch s.Method {
	case MethodFiles:
	case MethodShards:
		f, err := strconv.ParseFloat(string(s.ShardSize), 64)
		if err != nil || f < 1 || f > 1<<53 || f != float64(int64(f)) {
			return nil, malformed("shard size %q is not a positive integer", s.ShardSize)
		}
		m.Serialization.ShardSize = int64(f)
	default:
		return nil, malformed("unknown serialization method %q", s.Method)
	}
	if err := m.addResources(raw.Resources); err != nil {
		return nil, err
	}
	if got := m.RootDigest(); !bytes.Equal(got, root) {
		return nil, malformed("root digest %x does not match the resources (they hash to %x)", root, got)
	}
	return m, nil
}

func parseV02(st *jsonStatement) (*Manifest, error) {
	m := &Manifest{Model: v02ModelName, Serialization: Serialization{Method: MethodFiles, HashType: SHA256}}
	rs := make([]jsonResource, len(st.Subject))
	for i, s := range st.Subject {
		rs[i] = jsonResource{Name: s.Name, Algorithm: SHA256, Digest: s.Digest["sha256"]}
	}
	return m, m.addResources(rs)
}

// addResources checks and adds resources, and sorts them.
func (m *Manifest) addResources(rs []jsonResource) error {
	if len(rs) == 0 {
		return malformed("the manifest lists no files")
	}
	if len(rs) > MaxResources {
		return malformed("%d resources, more than %d", len(rs), MaxResources)
	}
	algo := m.Serialization.algorithm()
	seen := make(map[string]bool, len(rs))
	for _, jr := range rs {
		r := Resource{Name: jr.Name, Algorithm: jr.Algorithm}
		if jr.Algorithm != algo {
			return malformed("resource %q: algorithm %q, the serialization says %q", jr.Name, jr.Algorithm, algo)
		}
		var err error
		if r.Digest, err = hexDigest(jr.Digest, digestSize(m.Serialization.HashType)); err != nil {
			return malformed("resource %q: %v", jr.Name, err)
		}
		if err := m.parseName(&r, len(rs)); err != nil {
			return malformed("resource %q: %v", jr.Name, err)
		}
		if seen[r.Name] {
			return malformed("resource %q is listed twice", r.Name)
		}
		seen[r.Name] = true
		m.Resources = append(m.Resources, r)
	}
	sortResources(m.Resources)
	return nil
}

// parseName checks a resource name and fills in its path and offsets.
func (m *Manifest) parseName(r *Resource, n int) error {
	p := r.Name
	if m.Serialization.Method == MethodShards {
		parts := strings.Split(r.Name, ":")
		if len(parts) != 3 {
			return errors.New(`a shard name is "path:start:end"`)
		}
		p = parts[0]
		var err1, err2 error
		r.Start, err1 = strconv.ParseInt(parts[1], 10, 64)
		r.End, err2 = strconv.ParseInt(parts[2], 10, 64)
		if err1 != nil || err2 != nil || strconv.FormatInt(r.Start, 10) != parts[1] || strconv.FormatInt(r.End, 10) != parts[2] {
			return errors.New("shard offsets are not decimal integers")
		}
		if r.Start < 0 || r.End <= r.Start || r.End-r.Start > m.Serialization.ShardSize || r.Start%m.Serialization.ShardSize != 0 {
			return fmt.Errorf("shard [%d, %d) does not fit shard size %d", r.Start, r.End, m.Serialization.ShardSize)
		}
	}
	r.Path = p
	if p == "." && n == 1 {
		return nil // a single-file model
	}
	if strings.ContainsRune(p, 0) {
		return errors.New("NUL in name")
	}
	if c, ok := cleanRel(p); !ok || c != p || strings.Contains(p, `\`) {
		return errors.New("not a clean relative path inside the model")
	}
	return nil
}

// hexDigest decodes a lower- or upper-case hex digest of n bytes.
func hexDigest(s string, n int) ([]byte, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != n {
		return nil, fmt.Errorf("digest %.80q is not %d bytes of hex", s, n)
	}
	return b, nil
}
