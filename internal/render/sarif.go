package render

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/rules"
)

// What SARIF names the format and chainvet.
const (
	sarifSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
	sarifVersion = "2.1.0"
	toolName     = "chainvet"
	toolURI      = "https://github.com/chainvet/chainvet"
	// srcRoot is the base of relative paths: GitHub code scanning
	// resolves it to the root of the checkout.
	srcRoot = "%SRCROOT%"
)

// securitySeverity is the score GitHub code scanning turns into an alert's
// severity (over 9.0 critical, 7.0 to 8.9 high, 4.0 to 6.9 medium, 0.1 to 3.9
// low, 0 none), one for each chainvet severity.
var securitySeverity = [...]string{
	inventory.Info:     "0.0",
	inventory.Low:      "2.0",
	inventory.Medium:   "5.5",
	inventory.High:     "8.0",
	inventory.Critical: "9.5",
}

// sarifFormat writes SARIF 2.1.0 in the subset GitHub code scanning takes:
// one run, a rule descriptor for each rule that has findings, and a result
// for each finding, located in the file on disk it is in.
type sarifFormat struct {
	opt Options
}

func (*sarifFormat) Name() string { return "sarif" }

func (s *sarifFormat) Render(w io.Writer, r *inventory.Report) error {
	if r == nil {
		return errNilReport
	}
	version := s.opt.Version
	if version == "" {
		version = r.Tool.Version
	}
	driver := sarifDriver{
		Name:           toolName,
		InformationURI: toolURI,
		Version:        version,
		Rules:          []sarifRule{},
	}
	if v, ok := semver(version); ok {
		driver.SemanticVersion = v
	}

	// Suppressed findings are results too, marked as such, so that code
	// scanning closes their alerts as dismissed rather than fixed.
	all := r.Findings
	if len(r.Suppressed) > 0 {
		all = make([]inventory.Finding, 0, len(r.Findings)+len(r.Suppressed))
		all = append(all, r.Findings...)
		for i := range r.Suppressed {
			all = append(all, r.Suppressed[i].Finding)
		}
	}

	// One descriptor per rule id, in id order; results point at them by index.
	worst := make(map[string]inventory.Severity)
	for _, f := range all {
		sev := clamp(f.Severity)
		if old, ok := worst[f.Rule]; !ok || sev > old {
			worst[f.Rule] = sev
		}
	}
	ids := make([]string, 0, len(worst))
	for id := range worst {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	index := make(map[string]int, len(ids))
	for i, id := range ids {
		index[id] = i
		driver.Rules = append(driver.Rules, descriptor(id, worst[id], all))
	}

	log := sarifLog{
		Schema:  sarifSchema,
		Version: sarifVersion,
		Runs: []sarifRun{{
			Tool:        sarifTool{Driver: driver},
			Invocations: []sarifInvocation{{ExecutionSuccessful: true}},
			Results:     []sarifResult{},
		}},
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(&log); err != nil {
		return fmt.Errorf("sarif: %w", err)
	}
	// Results are streamed into the empty list the log ends with, one at
	// a time, so that a large report is not held twice more in memory
	// (as the encoder's output and again indented). The bytes are those
	// of encoding the whole log at once.
	head := bytes.Clone(buf.Bytes())
	at := bytes.LastIndex(head, []byte("[]"))
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.Write(head[:at+1])
	enc.SetIndent(resultIndent, "  ")
	for i := range all {
		res := result(&all[i], index[all[i].Rule])
		if j := i - len(r.Findings); j >= 0 {
			res.Suppressions = []sarifSuppression{suppression(&r.Suppressed[j])}
		}
		buf.Reset()
		if err := enc.Encode(&res); err != nil {
			return fmt.Errorf("sarif: %w", err)
		}
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n" + resultIndent)
		bw.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	}
	if len(all) > 0 {
		bw.WriteString("\n" + resultIndent[:len(resultIndent)-2])
	}
	bw.Write(head[at+1:])
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("sarif: %w", err)
	}
	return nil
}

// resultIndent is the indent of a result in the log: runs[0].results[i]
// is four levels deep.
const resultIndent = "        "

// descriptor describes rule id. Its security severity is the worst among
// this report's findings of the rule, not the rule's usual severity: GitHub
// rates an alert by its rule alone, and some findings are raised by their
// evidence (a malformed pickle with a call before the break is high).
func descriptor(id string, worst inventory.Severity, fs []inventory.Finding) sarifRule {
	rule, known := rules.Lookup(id)
	if !known {
		rule = rules.Rule{
			ID:       id,
			Severity: worst,
			Summary:  fmt.Sprintf("Finding of rule %s, which this version of chainvet does not describe.", id),
			Help:     "Read the finding's message and evidence.",
		}
		for i := range fs {
			if fs[i].Rule == id && fs[i].Remediation != "" {
				rule.Help = fs[i].Remediation
				break
			}
		}
	}
	sev := max(clamp(rule.Severity), worst)
	tags := []string{"security", "supply-chain"}
	if group, _, ok := strings.Cut(id, "/"); ok && group != "" {
		tags = append(tags, group)
	}
	return sarifRule{
		ID:                   id,
		Name:                 camelCase(id),
		ShortDescription:     sarifText{Text: rule.Summary},
		FullDescription:      sarifText{Text: rule.Summary + " " + rule.Help},
		Help:                 sarifHelp{Text: rule.Help, Markdown: helpMarkdown(id, rule)},
		DefaultConfiguration: sarifConfig{Level: level(clamp(rule.Severity))},
		Properties: sarifRuleProps{
			Tags:             tags,
			SecuritySeverity: securitySeverity[sev],
			// Findings come from parsing the file's structure, not from
			// guessing at names; "high" claims no more than that.
			Precision: "high",
		},
	}
}

// helpMarkdown is a rule's help for code scanning's rule page. The text is
// escaped: an unknown rule's help is a finding's remediation, which may
// quote names from the files scanned.
func helpMarkdown(id string, rule rules.Rule) string {
	return "**" + markdown(rule.Summary) + "**\n\n" + markdown(rule.Help) + "\n\nchainvet rule " + markdown(id) + "."
}

// markdown escapes every ASCII punctuation character, which CommonMark
// allows, so that text reads as itself and not as links, emphasis or HTML.
func markdown(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if strings.IndexByte("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", c) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}

func result(f *inventory.Finding, ruleIndex int) sarifResult {
	res := sarifResult{
		RuleID:              f.Rule,
		RuleIndex:           ruleIndex,
		Level:               level(clamp(f.Severity)),
		Message:             sarifText{Text: message(f)},
		PartialFingerprints: sarifFingerprints{ChainvetV1: fingerprint(f)},
		Properties:          sarifResultProps{Severity: clamp(f.Severity).String()},
	}
	uri, base := artifactURI(f.Path)
	if uri == "" {
		// A finding about no file has no location: SARIF allows that,
		// and a made-up one would send readers to the wrong place.
		return res
	}
	loc := sarifLocation{PhysicalLocation: &sarifPhysical{
		ArtifactLocation: sarifArtifact{URI: uri, URIBaseID: base},
		// GitHub requires startLine even of binary files; line 1 is
		// the honest answer when the place is an offset or is inside
		// an archive member, where lines of the outer file mean nothing.
		Region: sarifRegion{StartLine: 1},
	}}
	switch {
	case member(f.Path):
		loc.LogicalLocations = []sarifLogical{{FullyQualifiedName: f.Path, Kind: "module"}}
	case f.Cell > 0:
		// Lines of a notebook's cells are not lines of its JSON file:
		// the cell is a logical location and the message says where.
		loc.LogicalLocations = []sarifLogical{{FullyQualifiedName: fmt.Sprintf("%s#cell-%d", f.Path, f.Cell), Kind: "module"}}
	default:
		if f.Line > 0 {
			loc.PhysicalLocation.Region.StartLine = f.Line
			if f.Column > 0 {
				loc.PhysicalLocation.Region.StartColumn = f.Column
			}
		}
		if f.Offset != nil && *f.Offset >= 0 {
			loc.PhysicalLocation.Region.ByteOffset = f.Offset
		}
	}
	res.Locations = []sarifLocation{loc}
	return res
}

// suppression describes why a suppressed finding was accepted: kind
// inSource for a comment in the file, external for an ignore-file entry.
func suppression(s *inventory.Suppressed) sarifSuppression {
	kind := "external"
	if s.Kind == inventory.SuppressInline {
		kind = "inSource"
	}
	return sarifSuppression{Kind: kind, Status: "accepted", Justification: printable(s.Reason)}
}

// message is the result's text: the finding's message, its evidence, and
// for an archive member the place within the archive, which the location
// (a file on disk) cannot hold. Control and invisible characters are
// escaped as in the table: SARIF is read in terminals too, and a reviewer
// must see evidence as it is stored, not as bidirectional overrides show it.
func message(f *inventory.Finding) string {
	var b strings.Builder
	b.WriteString(printable(f.Message))
	if b.Len() == 0 {
		if rule, ok := rules.Lookup(f.Rule); ok {
			b.WriteString(rule.Summary)
		} else {
			b.WriteString(printable(f.Rule))
		}
	}
	if b.Len() == 0 {
		b.WriteString("chainvet finding")
	}
	if f.Evidence != "" {
		b.WriteString("\nEvidence: ")
		b.WriteString(printable(f.Evidence))
	}
	if f.Cell > 0 {
		fmt.Fprintf(&b, "\nNotebook cell %d", f.Cell)
		if f.Line > 0 {
			fmt.Fprintf(&b, ", line %d", f.Line)
			if f.Column > 0 {
				fmt.Fprintf(&b, ", column %d", f.Column)
			}
		}
	}
	if member(f.Path) {
		b.WriteString("\nArchive member: ")
		b.WriteString(printable(f.Path))
		switch {
		case f.Line > 0:
			fmt.Fprintf(&b, ", line %d", f.Line)
		case f.Offset != nil && *f.Offset >= 0:
			fmt.Fprintf(&b, ", offset %#x", *f.Offset)
		}
	}
	return b.String()
}

// member reports whether p names a member of an archive (outer.zip!inner).
func member(p string) bool { return strings.Contains(p, "!") }

// fingerprint identifies a finding across runs: hex SHA-256 over the rule
// id, the path and the evidence, each preceded by its length in bytes as a
// big-endian uint64 so that no two triples hash the same input. Line and
// offset are left out so that an alert survives edits above it.
func fingerprint(f *inventory.Finding) string {
	h := sha256.New()
	var n [8]byte
	for _, s := range [...]string{f.Rule, f.Path, f.Evidence} {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		io.WriteString(h, s)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// artifactURI is the URI of the file on disk p is in (p up to its first
// "!"), with forward slashes. Relative paths stay relative to srcRoot, which
// code scanning resolves against the checkout; absolute paths become file
// URIs. It returns "" for an empty path.
func artifactURI(p string) (uri, base string) {
	file, _, _ := strings.Cut(p, "!")
	if file == "" {
		return "", ""
	}
	file = path.Clean(filepath.ToSlash(file))
	drive := len(file) >= 3 && file[1] == ':' && file[2] == '/' &&
		('a' <= file[0]|0x20 && file[0]|0x20 <= 'z')
	if drive {
		file = "/" + file
	}
	if strings.HasPrefix(file, "/") {
		u := url.URL{Scheme: "file", Path: file}
		return u.String(), ""
	}
	// url.URL escapes what a path may not hold (space, %, #, ?), and
	// prefixes "./" when a colon in the first segment would read as a scheme.
	u := url.URL{Path: file}
	return u.String(), srcRoot
}

// level maps a severity to a SARIF level: code scanning fails checks on errors.
func level(s inventory.Severity) string {
	switch {
	case s >= inventory.High:
		return "error"
	case s == inventory.Medium:
		return "warning"
	}
	return "note"
}

// clamp brings a severity out of range into it, up rather than down for
// values above Critical, so that a bad value is never shown as harmless.
func clamp(s inventory.Severity) inventory.Severity {
	return min(max(s, inventory.Info), inventory.Critical)
}

// camelCase turns a rule id such as "pickle/dangerous-call" into the
// descriptor name "PickleDangerousCall".
func camelCase(id string) string {
	var b strings.Builder
	up := true
	for _, r := range id {
		switch {
		case 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9':
			if up && 'a' <= r && r <= 'z' {
				r -= 'a' - 'A'
			}
			b.WriteRune(r)
			up = false
		default:
			up = true
		}
	}
	return b.String()
}

// semver returns v without a leading "v" if it is a Semantic Versioning 2.0
// version (MAJOR.MINOR.PATCH, optional -prerelease and +build), as SARIF's
// semanticVersion must be.
func semver(v string) (string, bool) {
	v = strings.TrimPrefix(v, "v")
	rest, build, hasBuild := strings.Cut(v, "+")
	core, pre, hasPre := strings.Cut(rest, "-")
	nums := strings.Split(core, ".")
	if len(nums) != 3 {
		return "", false
	}
	for _, n := range nums {
		if !numeric(n) {
			return "", false
		}
	}
	if hasPre && !identifiers(pre, true) || hasBuild && !identifiers(build, false) {
		return "", false
	}
	return v, true
}

// numeric reports whether s is a number without leading zeros.
func numeric(s string) bool {
	if s == "" || len(s) > 1 && s[0] == '0' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// identifiers reports whether s is dot-separated non-empty runs of
// [0-9A-Za-z-]; in a prerelease, all-digit identifiers must be numeric.
func identifiers(s string, pre bool) bool {
	for _, id := range strings.Split(s, ".") {
		if id == "" {
			return false
		}
		digits := true
		for i := 0; i < len(id); i++ {
			c := id[i]
			switch {
			case '0' <= c && c <= '9':
			case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-':
				digits = false
			default:
				return false
			}
		}
		if pre && digits && !numeric(id) {
			return false
		}
	}
	return true
}

// The SARIF objects chainvet writes, with only the properties it uses.

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations"`
	// Results stays the last field: Render streams results into the
	// empty list that ends the encoded log.
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name            string      `json:"name"`
	InformationURI  string      `json:"informationUri"`
	Version         string      `json:"version,omitempty"`
	SemanticVersion string      `json:"semanticVersion,omitempty"`
	Rules           []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name"`
	ShortDescription     sarifText      `json:"shortDescription"`
	FullDescription      sarifText      `json:"fullDescription"`
	Help                 sarifHelp      `json:"help"`
	DefaultConfiguration sarifConfig    `json:"defaultConfiguration"`
	Properties           sarifRuleProps `json:"properties"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifHelp struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifRuleProps struct {
	Tags             []string `json:"tags"`
	SecuritySeverity string   `json:"security-severity"`
	Precision        string   `json:"precision"`
}

type sarifInvocation struct {
	ExecutionSuccessful bool `json:"executionSuccessful"`
}

type sarifResult struct {
	RuleID              string             `json:"ruleId"`
	RuleIndex           int                `json:"ruleIndex"`
	Level               string             `json:"level"`
	Message             sarifText          `json:"message"`
	Locations           []sarifLocation    `json:"locations,omitempty"`
	PartialFingerprints sarifFingerprints  `json:"partialFingerprints"`
	Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
	Properties          sarifResultProps   `json:"properties"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Status        string `json:"status"`
	Justification string `json:"justification,omitempty"`
}

// sarifFingerprints names chainvet's partial fingerprint. The version
// suffix changes if the fingerprint's inputs ever do, so that code scanning
// sees new alerts rather than wrongly matched old ones.
type sarifFingerprints struct {
	ChainvetV1 string `json:"chainvet/v1"`
}

type sarifResultProps struct {
	Severity string `json:"severity"`
}

type sarifLocation struct {
	PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           sarifRegion   `json:"region"`
}

type sarifArtifact struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type sarifRegion struct {
	StartLine   int    `json:"startLine"`
	StartColumn int    `json:"startColumn,omitempty"`
	ByteOffset  *int64 `json:"byteOffset,omitempty"`
}

type sarifLogical struct {
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}
