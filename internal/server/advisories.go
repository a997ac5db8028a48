package server

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/chainvet/chainvet/internal/advisory/osv"
	advstore "github.com/chainvet/chainvet/internal/advisory/store"
	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/rules/advisories"
	"github.com/chainvet/chainvet/internal/server/store"
)

// Advisory imports.
const (
	// DefaultMaxAdvisories is the largest advisory upload accepted, in
	// bytes: OSV's largest export (npm) is a few hundred MiB.
	DefaultMaxAdvisories = 1 << 30
	// advisoryBatch is how many records one transaction stores before
	// they are matched against the fleet.
	advisoryBatch = 500
	// maxImportErrors is how many invalid members an answer names.
	maxImportErrors = 20
)

// importResult is the answer to an advisory upload.
type importResult struct {
	Records   int      `json:"records"`
	Added     int      `json:"added"`
	Unchanged int      `json:"unchanged"`
	Withdrawn int      `json:"withdrawn"`
	Invalid   int      `json:"invalid"`
	Errors    []string `json:"errors"`
	// Opened and Resolved count the findings the import opened and
	// resolved across the fleet.
	Opened   int `json:"opened"`
	Resolved int `json:"resolved"`
}

// zipMagic starts every zip archive.
var zipMagic = []byte("PK\x03\x04")

// postAdvisories imports an OSV all.zip or one OSV JSON record, then
// matches every record it added, changed or withdrew against the latest
// report of every deployment.
func (s *Server) postAdvisories(w http.ResponseWriter, r *http.Request, t store.Token) error {
	// Advisories are the whole fleet's: a project's admin may not change them.
	if t.Project != "" {
		return fmt.Errorf("%w: token %q is limited to project %s; importing advisories needs an unlimited admin token", errForbidden, t.Name, t.Project)
	}
	// Spooled to a file: a zip is read from its end, and an export is
	// too big to hold in memory.
	tmp, err := os.CreateTemp("", "chainvet-advisories-*")
	if err != nil {
		return fmt.Errorf("advisory upload: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	n, err := io.Copy(tmp, http.MaxBytesReader(w, r.Body, s.opt.MaxAdvisories))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return &httpError{http.StatusRequestEntityTooLarge, fmt.Sprintf("advisories larger than %d bytes", s.opt.MaxAdvisories)}
	}
	if err != nil {
		return badRequest("reading the advisories: %v", err)
	}
	res, err := s.importFile(r.Context(), tmp, n)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, res)
}

// importFile imports the n bytes of f, an OSV all.zip or one OSV JSON
// record, and matches what changed against the fleet.
func (s *Server) importFile(ctx context.Context, f *os.File, n int64) (importResult, error) {
	head := make([]byte, len(zipMagic))
	if _, err := f.ReadAt(head, 0); err != nil && !errors.Is(err, io.EOF) {
		return importResult{}, fmt.Errorf("advisory import: %w", err)
	}
	var (
		res importResult
		err error
	)
	if bytes.Equal(head, zipMagic) {
		res, err = s.importZip(ctx, f, n)
	} else {
		res, err = s.importRecord(ctx, f, n)
	}
	res.Errors = nonNil(res.Errors)
	return res, err
}

func (s *Server) importRecord(ctx context.Context, f *os.File, n int64) (importResult, error) {
	if n > osv.MaxRecordSize {
		return importResult{}, badRequest("an OSV record of %d bytes, over the %d byte limit", n, osv.MaxRecordSize)
	}
	raw := make([]byte, n)
	if _, err := f.ReadAt(raw, 0); err != nil && !errors.Is(err, io.EOF) {
		return importResult{}, fmt.Errorf("advisory upload: %w", err)
	}
	rec, err := osv.Parse(raw)
	if err != nil {
		return importResult{}, badRequest("not an OSV all.zip or JSON record: %v", err)
	}
	res := importResult{Records: 1}
	if err := s.importBatch(ctx, []*osv.Record{rec}, [][]byte{raw}, &res); err != nil {
		return importResult{}, err
	}
	return res, nil
}

func (s *Server) importZip(ctx context.Context, f *os.File, n int64) (importResult, error) {
	zr, err := zip.NewReader(f, n)
	if err != nil {
		return importResult{}, badRequest("advisory archive: %v", err)
	}
	if len(zr.File) > advstore.MaxEntries {
		return importResult{}, badRequest("advisory archive: %d members, over the limit of %d", len(zr.File), advstore.MaxEntries)
	}
	var (
		res  importResult
		recs []*osv.Record
		raws [][]byte
	)
	for _, zf := range zr.File {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if zf.FileInfo().IsDir() || path.Ext(zf.Name) != ".json" {
			continue
		}
		res.Records++
		rec, raw, err := osv.ReadMember(zf)
		if err != nil {
			res.Invalid++
			if len(res.Errors) < maxImportErrors {
				res.Errors = append(res.Errors, zf.Name+": "+err.Error())
			}
			continue
		}
		recs, raws = append(recs, rec), append(raws, raw)
		if len(recs) == advisoryBatch {
			if err := s.importBatch(ctx, recs, raws, &res); err != nil {
				return res, err
			}
			recs, raws = nil, nil
		}
	}
	if err := s.importBatch(ctx, recs, raws, &res); err != nil {
		return res, err
	}
	return res, nil
}

// importBatch stores records in one transaction, then matches those it
// changed against the fleet.
func (s *Server) importBatch(ctx context.Context, recs []*osv.Record, raws [][]byte, res *importResult) error {
	if len(recs) == 0 {
		return nil
	}
	advs := make([]store.Advisory, len(recs))
	byID := make(map[string]*osv.Record, len(recs))
	for i, rec := range recs {
		advs[i] = toAdvisory(rec, raws[i])
		byID[rec.ID] = rec
	}
	changed, pending, err := s.store.PutAdvisories(ctx, advs, s.opt.Now().UTC())
	if err != nil {
		return err
	}
	res.Unchanged += len(recs) - len(changed)
	match := map[string]bool{}
	for _, id := range pending {
		match[id] = true
	}
	for _, id := range changed {
		match[id] = true
		if byID[id].Withdrawn.IsZero() {
			res.Added++
		} else {
			res.Withdrawn++
		}
	}
	// A withdrawn record resolves its findings even when no copy was
	// stored: the removal may have committed before a server stopped.
	// The records matched are marked so together, once all are.
	var done []store.Advisory
	for _, rec := range recs {
		if !match[rec.ID] && rec.Withdrawn.IsZero() {
			continue
		}
		opened, resolved, err := s.Rematch(ctx, rec)
		if err != nil {
			return err
		}
		res.Opened += opened
		res.Resolved += resolved
		if rec.Withdrawn.IsZero() {
			done = append(done, store.Advisory{ID: rec.ID, Modified: rec.Modified})
		}
	}
	return s.store.MarkAllMatched(ctx, done)
}

// toAdvisory indexes a record for the store.
func toAdvisory(rec *osv.Record, raw []byte) store.Advisory {
	a := store.Advisory{ID: rec.ID, Modified: rec.Modified, Withdrawn: !rec.Withdrawn.IsZero(), Raw: raw}
	seen := map[store.PackageRef]bool{}
	for _, af := range rec.Affected {
		p := store.PackageRef{Ecosystem: af.Package.Ecosystem, Name: store.NormalizeName(af.Package.Ecosystem, af.Package.Name)}
		if p.Ecosystem != "" && p.Name != "" && !seen[p] {
			seen[p] = true
			a.Packages = append(a.Packages, p)
		}
	}
	if rec.Malicious() || isModelAdvisory(rec) {
		for _, h := range rec.FileHashes() {
			a.Digests = append(a.Digests, h.Algorithm+":"+h.Value)
		}
	}
	return a
}

// Rematch matches one advisory, just stored, changed or withdrawn,
// against the latest report of every deployment, and records the
// findings: new matches open findings, and findings of the advisory that
// no longer match are resolved. Components are found by ecosystem and
// normalized name, and, for a malicious-package report, by the file
// digests it names; the version matcher of package vetting decides.
func (s *Server) Rematch(ctx context.Context, rec *osv.Record) (opened, resolved int, err error) {
	now := s.opt.Now().UTC()
	var found []store.Finding
	if rec.Withdrawn.IsZero() {
		var queries []store.ComponentQuery
		for _, p := range toAdvisory(rec, nil).Packages {
			queries = append(queries, store.ComponentQuery{Ecosystem: p.Ecosystem, Package: p.Name})
		}
		for _, d := range toAdvisory(rec, nil).Digests {
			queries = append(queries, store.ComponentQuery{Digest: d})
		}
		byReport := map[int64][]store.Match{}
		seen := map[string]bool{}
		for _, q := range queries {
			q.Limit = math.MaxInt32
			ms, err := s.store.FindComponents(ctx, q)
			if err != nil {
				return 0, 0, fmt.Errorf("rematch %s: %w", rec.ID, err)
			}
			for _, m := range ms {
				k := strconv.FormatInt(m.ReportID, 10) + " " + componentKey(m.Kind, m.Name, m.CVersion, m.PURL) + " " + m.Path
				if !seen[k] {
					seen[k] = true
					byReport[m.ReportID] = append(byReport[m.ReportID], m)
				}
			}
		}
		for _, ms := range byReport {
			cs := make([]inventory.Component, len(ms))
			for i, m := range ms {
				cs[i] = matchInput(m.Kind, m.Name, m.CVersion, m.PURL, m.Digests, m.Path)
			}
			fs, err := matchRecord(ctx, rec, cs, ms[0].Project, ms[0].Env, ms[0].ReportID)
			if err != nil {
				return 0, 0, err
			}
			found = append(found, fs...)
		}
	}
	return s.store.SyncFindings(ctx, store.FindingScope{Advisory: rec.ID}, found, now)
}

// matchReport matches a deployment's report against every stored
// advisory and records the findings, resolving those it no longer has.
func (s *Server) matchReport(ctx context.Context, project, env string, reportID int64, comps []inventory.Component) (opened, resolved int, err error) {
	now := s.opt.Now().UTC()
	type cand struct {
		rec   *osv.Record
		comps []inventory.Component
	}
	cands := map[string]*cand{}
	var order []string
	add := func(raws [][]byte, c inventory.Component) error {
		for _, raw := range raws {
			rec, err := osv.Parse(raw)
			if err != nil {
				return fmt.Errorf("match report %d: stored advisory: %w", reportID, err)
			}
			cd := cands[rec.ID]
			if cd == nil {
				cd = &cand{rec: rec}
				cands[rec.ID] = cd
				order = append(order, rec.ID)
			}
			if n := len(cd.comps); n == 0 || cd.comps[n-1].ID != c.ID || !sameLocation(cd.comps[n-1], c) {
				cd.comps = append(cd.comps, c)
			}
		}
		return nil
	}
	for i, orig := range comps {
		if i%256 == 0 && ctx.Err() != nil {
			return 0, 0, ctx.Err()
		}
		var ds []string
		for _, d := range orig.Digests {
			ds = append(ds, d.Algorithm+":"+d.Value)
		}
		c := matchInput(string(orig.Kind), orig.Name, orig.Version, orig.PURL, ds, firstPath(orig))
		if eco, name := store.PackageKey(c.PURL, c.Name); eco != "" {
			raws, err := s.store.AdvisoriesFor(ctx, eco, name)
			if err != nil {
				return 0, 0, err
			}
			if err := add(raws, c); err != nil {
				return 0, 0, err
			}
		}
		for _, d := range c.Digests {
			if d.Algorithm != "sha256" && d.Algorithm != "sha512" {
				continue
			}
			raws, err := s.store.AdvisoriesByDigest(ctx, d.Algorithm+":"+d.Value)
			if err != nil {
				return 0, 0, err
			}
			if err := add(raws, c); err != nil {
				return 0, 0, err
			}
		}
	}
	var found []store.Finding
	for _, id := range order {
		fs, err := matchRecord(ctx, cands[id].rec, cands[id].comps, project, env, reportID)
		if err != nil {
			return 0, 0, err
		}
		found = append(found, fs...)
	}
	return s.store.SyncFindings(ctx, store.FindingScope{Project: project, Env: env, ReportID: reportID}, found, now)
}

func sameLocation(a, b inventory.Component) bool {
	return len(a.Locations) == len(b.Locations) && (len(a.Locations) == 0 || a.Locations[0].Path == b.Locations[0].Path)
}

// componentKey names a component in findings: its purl, or
// kind:name@version for one without.
func componentKey(kind, name, version, purl string) string {
	if purl != "" {
		return purl
	}
	return kind + ":" + name + "@" + version
}

// matchInput is the component the matcher sees, built from what the store
// keeps — the same whether a report or an advisory is new, so that the two
// directions agree. A component with a version counts as pinned: catalogers
// leave the version of an unpinned requirement empty.
func matchInput(kind, name, ver, purl string, digests []string, path string) inventory.Component {
	typ, _ := store.PURLType(purl)
	c := inventory.Component{ID: componentKey(kind, name, ver, purl), Kind: inventory.Kind(kind), Name: name, Version: ver, PURL: purl,
		Properties: map[string]string{"ecosystem": typ, "pinned": strconv.FormatBool(ver != "")}}
	for _, d := range digests {
		if alg, v, ok := strings.Cut(d, ":"); ok {
			c.Digests = append(c.Digests, inventory.Digest{Algorithm: alg, Value: v})
		}
	}
	if path != "" {
		c.Locations = []inventory.Location{{Path: path}}
	}
	return c
}

// oneRecord is a Lookuper holding one advisory, so that the matcher
// reports each advisory on its own: findings are kept per advisory.
type oneRecord struct{ rec *osv.Record }

func (o oneRecord) Lookup(_ context.Context, eco, name string) ([]*osv.Record, error) {
	want := advstore.NormalizeName(eco, name)
	for _, af := range o.rec.Affected {
		if af.Package.Ecosystem == eco && advstore.NormalizeName(eco, af.Package.Name) == want {
			return []*osv.Record{o.rec}, nil
		}
	}
	return nil, nil
}

func (o oneRecord) LookupHash(_ context.Context, alg, value string) ([]*osv.Record, error) {
	for _, h := range o.rec.FileHashes() {
		if h.Algorithm == alg && h.Value == strings.ToLower(value) {
			return []*osv.Record{o.rec}, nil
		}
	}
	return nil, nil
}

// matchRecord runs the package-vetting matcher for one advisory over the
// components of one report, keeping package/vulnerable and
// package/malicious findings.
func matchRecord(ctx context.Context, rec *osv.Record, comps []inventory.Component, project, env string, reportID int64) ([]store.Finding, error) {
	fs, err := advisories.Analyzer{Store: oneRecord{rec}}.Analyze(ctx, &inventory.Report{Components: comps})
	if err != nil {
		return nil, fmt.Errorf("match %s: %w", rec.ID, err)
	}
	byID := make(map[string]inventory.Component, len(comps))
	for _, c := range comps {
		byID[c.ID] = c
	}
	fs = append(fs, matchModels(rec, comps)...)
	var out []store.Finding
	seen := map[string]bool{}
	for _, f := range fs {
		if f.Rule != advisories.RuleVulnerable && f.Rule != advisories.RuleMalicious {
			continue
		}
		if seen[f.Component+" "+f.Rule] {
			continue // the same component found at two paths
		}
		seen[f.Component+" "+f.Rule] = true
		c := byID[f.Component]
		out = append(out, store.Finding{Project: project, Env: env, ReportID: reportID, Component: f.Component,
			Name: c.Name, Version: c.Version, Advisory: rec.ID, Aliases: nonNil(rec.Aliases), Severity: f.Severity,
			Rule: f.Rule, Evidence: f.Evidence, Message: f.Message, Remediation: f.Remediation})
	}
	return out, nil
}

// findingsAnswer is the answer of GET /api/v1/findings.
type findingsAnswer struct {
	Findings  []store.Finding `json:"findings"`
	Truncated bool            `json:"truncated"`
}

func (s *Server) listFindings(w http.ResponseWriter, r *http.Request, t store.Token) error {
	v := r.URL.Query()
	q := store.FindingQuery{Project: v.Get("project"), Advisory: v.Get("advisory"), Status: v.Get("status")}
	for _, f := range []string{q.Project, q.Advisory} {
		if err := checkField("query", f); err != nil {
			return err
		}
	}
	switch q.Status {
	case "", store.StatusOpen, store.StatusResolved, store.StatusAll:
	default:
		return badRequest("status: open, resolved or all")
	}
	if sv := v.Get("severity"); sv != "" {
		sev, err := inventory.ParseSeverity(sv)
		if err != nil {
			return badRequest("severity: %v", err)
		}
		q.MinSeverity = sev
	}
	if t.Project != "" {
		if q.Project != "" && q.Project != t.Project {
			return allowProject(t, q.Project)
		}
		q.Project = t.Project
	}
	limit, err := limitParam(v.Get("limit"))
	if err != nil {
		return err
	}
	q.Limit = limit + 1
	fs, err := s.store.Findings(r.Context(), q)
	if err != nil {
		return err
	}
	ans := findingsAnswer{Findings: nonNil(fs)}
	if len(fs) > limit {
		ans.Findings, ans.Truncated = fs[:limit], true
	}
	return writeJSON(w, http.StatusOK, ans)
}

func limitParam(l string) (int, error) {
	if l == "" {
		return store.DefaultLimit, nil
	}
	n, err := strconv.Atoi(l)
	if err != nil || n < 1 || n > store.DefaultLimit {
		return 0, badRequest("limit: a number from 1 to %d", store.DefaultLimit)
	}
	return n, nil
}

// advisoryPage is the answer of GET /api/v1/advisories/{id}: the record
// and the deployments it affects.
type advisoryPage struct {
	ID       string          `json:"id"`
	Modified time.Time       `json:"modified"`
	Imported time.Time       `json:"imported"`
	Record   json.RawMessage `json:"record"`
	// Affected are the open findings of the advisory, with the owners of
	// their projects, most severe first.
	Affected  []store.Finding `json:"affected"`
	Truncated bool            `json:"truncated"`
}

func (s *Server) getAdvisory(w http.ResponseWriter, r *http.Request, t store.Token) error {
	id := r.PathValue("id")
	if err := checkField("advisory id", id); err != nil {
		return err
	}
	ctx := r.Context()
	a, err := s.store.Advisory(ctx, id)
	if err != nil {
		return err
	}
	fs, err := s.store.Findings(ctx, store.FindingQuery{Advisory: id, Project: t.Project, Limit: store.DefaultLimit + 1})
	if err != nil {
		return err
	}
	page := advisoryPage{ID: a.ID, Modified: a.Modified, Imported: a.Imported, Record: a.Raw, Affected: nonNil(fs)}
	if len(fs) > store.DefaultLimit {
		page.Affected, page.Truncated = fs[:store.DefaultLimit], true
	}
	return writeJSON(w, http.StatusOK, page)
}
