package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chainvet/chainvet/internal/advisory/osv"
	"github.com/chainvet/chainvet/internal/diff"
	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/server/store"
)

// Incidents.
//
// An incident is opened from an advisory or from a component query (a
// purl, a name and version, a file digest, or a service endpoint). Its page is computed when
// asked for, from the store as it is then: the deployments whose latest
// report is affected, most critical first; for each, the last known-good
// release (the newest earlier report of that deployment that is not
// affected) or else the advisory's fixed versions; the freeze list; the
// credentials the affected runtimes hold (the credential-env and env
// properties of their service and plugin components); and the checklist.
//
// Time to detect is from the advisory's publication (its import when it
// gives no date) to its first finding in the fleet. Time to contain is
// from opening to closing, or, for an incident still open, from the
// first finding to the moment the last of the advisory's findings was
// resolved, once none is open. MTTC is the mean time to contain of the
// incidents that have one.
//
// A project-limited token sees the incidents that touched its project
// when they were opened, and, in them, only its project's deployments;
// counts of findings in other projects are left out. Opening an incident
// looks at the whole fleet, so it needs an unlimited admin token; a
// project-limited admin may tick steps of, and close, the incidents it
// sees.

// incidentStore is what the incident routes need of the store.
func (s *Server) incidentStore() (store.Incidents, error) {
	is, ok := s.store.(store.Incidents)
	if !ok {
		return nil, &httpError{http.StatusNotImplemented, "this store keeps no incidents"}
	}
	return is, nil
}

// incidentRequest is the body of POST /api/v1/incidents: a title and
// exactly one of an advisory id, a purl (without a version, optionally
// with a version range), a name (with a version, or none for every
// version), a digest or a service endpoint (a host or a URL).
type incidentRequest struct {
	Title    string `json:"title"`
	Advisory string `json:"advisory"`
	PURL     string `json:"purl"`
	Range    string `json:"range"`
	Name     string `json:"name"`
	Version  string `json:"version"`
	Digest   string `json:"digest"`
	Endpoint string `json:"endpoint"`
}

// maxIncidentScan caps the components (over a deployment's whole history)
// one incident page looks at.
const maxIncidentScan = store.DefaultLimit

// An incidentPage is the answer of GET /api/v1/incidents/{id}.
type incidentPage struct {
	store.Incident
	// TimeToDetect and TimeToContain are in seconds; absent while
	// unknown.
	TimeToDetect  *float64 `json:"timeToDetectSeconds,omitempty"`
	TimeToContain *float64 `json:"timeToContainSeconds,omitempty"`
	// Deployments are those affected, most critical first.
	Deployments []affectedDeployment `json:"deployments"`
	// Freeze lists the affected project/env pairs: stop deploying them
	// until pinned back.
	Freeze []string `json:"freeze"`
	// Credentials are the env var names the affected runtimes read.
	Credentials []credential `json:"credentials"`
	// Fixed are the versions the advisory says fix it.
	Fixed []string `json:"fixed"`
	// Truncated says that the affected components exceeded the scan cap.
	Truncated bool `json:"truncated"`
	// SkippedVersions counts, for a query with a version range, the
	// distinct versions of the package in the fleet's history that do not
	// parse: whether they are affected is unknown.
	SkippedVersions int `json:"skippedVersions,omitempty"`
}

// An affectedDeployment is one environment of a project whose latest
// report is affected.
type affectedDeployment struct {
	Project  string   `json:"project"`
	Env      string   `json:"env"`
	Release  string   `json:"release"`
	ReportID int64    `json:"report"`
	Owners   []string `json:"owners"`
	Tier     string   `json:"tier,omitempty"`
	// Components are the affected components, as name@version and path.
	Components []string `json:"components"`
	// LastKnownGood is the newest earlier report not affected; nil when
	// there is none.
	LastKnownGood *knownGood `json:"lastKnownGood,omitempty"`
	// PinTo says what to go back to.
	PinTo string `json:"pinTo"`
}

// knownGood is a report of a deployment that is not affected.
type knownGood struct {
	Release  string    `json:"release"`
	ReportID int64     `json:"report"`
	Received time.Time `json:"received"`
	// Components are the same packages as found in it, when present.
	Components []string `json:"components"`
}

// A credential is one env var name and the deployments whose runtimes
// read it.
type credential struct {
	Name        string   `json:"name"`
	Deployments []string `json:"deployments"`
}

func (s *Server) postIncident(w http.ResponseWriter, r *http.Request, t store.Token) error {
	if t.Project != "" {
		return fmt.Errorf("%w: token %q is limited to project %s; opening an incident needs an unlimited admin token", errForbidden, t.Name, t.Project)
	}
	is, err := s.incidentStore()
	if err != nil {
		return err
	}
	var req incidentRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxSmallBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return badRequest("incident request: %v", err)
	}
	ctx := r.Context()
	in, err := req.incident(t, s.opt.Now())
	if err != nil {
		return err
	}
	page, err := s.openIncident(ctx, is, in)
	if err != nil {
		return err
	}
	in.ID = page.ID
	stored, err := is.Incident(ctx, in.ID)
	if err != nil {
		return err
	}
	page.Incident = stored
	if err := s.times(ctx, &page); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, page)
}

// incident is the incident req asks to open, opened by t at now.
func (req incidentRequest) incident(t store.Token, now time.Time) (store.Incident, error) {
	for _, f := range []string{req.Title, req.Advisory, req.PURL, req.Range, req.Name, req.Version, req.Digest, req.Endpoint} {
		if err := checkField("incident request field", f); err != nil {
			return store.Incident{}, err
		}
	}
	in := store.Incident{Title: req.Title, OpenedBy: t.Name, Opened: now.UTC()}
	n := 0
	for _, f := range []string{req.Advisory, req.PURL, req.Name, req.Digest, req.Endpoint} {
		if f != "" {
			n++
		}
	}
	if n != 1 || (req.Version != "" && req.Name == "") {
		return in, badRequest("give exactly one of advisory, purl (with an optional range), name (with an optional version), digest or endpoint")
	}
	q := store.ComponentQuery{PURL: req.PURL, Range: req.Range, Name: req.Name, Version: req.Version, Digest: req.Digest, Endpoint: req.Endpoint}
	if err := checkEndpoint(q); err != nil {
		return in, err
	}
	if req.Range != "" {
		if err := checkRange(req.PURL, req.Range); err != nil {
			return in, err
		}
	}
	if req.Advisory != "" {
		in.Advisory = req.Advisory
	} else {
		in.Query = &q
	}
	if in.Title == "" {
		in.Title = incidentSubject(in)
	}
	return in, nil
}

// openIncident stores in with the projects it affects now, looking at
// the whole fleet, and returns its page as computed before it was
// stored, with its id. The caller checks that the token may open it.
func (s *Server) openIncident(ctx context.Context, is store.Incidents, in store.Incident) (incidentPage, error) {
	page, err := s.incidentPage(ctx, in, store.Token{})
	if err != nil {
		return page, err
	}
	for _, d := range page.Deployments {
		in.Projects = append(in.Projects, d.Project)
	}
	if page.ID, err = is.OpenIncident(ctx, in); err != nil {
		return page, err
	}
	return page, nil
}

// incidentSubject names what an incident is about.
func incidentSubject(in store.Incident) string {
	if in.Advisory != "" {
		return in.Advisory
	}
	q := in.Query
	switch {
	case q == nil:
		return ""
	case q.PURL != "" && q.Range != "":
		return q.PURL + " " + q.Range
	case q.PURL != "":
		return q.PURL
	case q.Digest != "":
		return q.Digest
	case q.Endpoint != "":
		return q.Endpoint
	case q.Version != "":
		return q.Name + "@" + q.Version
	}
	return q.Name
}

// incidentsAnswer is the answer of GET /api/v1/incidents.
type incidentsAnswer struct {
	Incidents []incidentPage `json:"incidents"`
}

func (s *Server) listIncidents(w http.ResponseWriter, r *http.Request, t store.Token) error {
	is, err := s.incidentStore()
	if err != nil {
		return err
	}
	q := store.IncidentQuery{Project: t.Project}
	switch st := r.URL.Query().Get("status"); st {
	case "", store.StatusAll, store.StatusOpen:
		q.Status = st
	case "closed":
		q.Status = store.StatusResolved
	default:
		return badRequest("status: open, closed or all")
	}
	limit, err := limitParam(r.URL.Query().Get("limit"))
	if err != nil {
		return err
	}
	q.Limit = limit
	l, err := is.ListIncidents(r.Context(), q)
	if err != nil {
		return err
	}
	ans := incidentsAnswer{Incidents: []incidentPage{}}
	for _, in := range l {
		p := incidentPage{Incident: in, Deployments: []affectedDeployment{}, Freeze: []string{}, Credentials: []credential{}, Fixed: []string{}}
		if err := s.times(r.Context(), &p); err != nil {
			return err
		}
		redact(&p, t)
		ans.Incidents = append(ans.Incidents, p)
	}
	return writeJSON(w, http.StatusOK, ans)
}

// visibleIncident reads an incident the token may see.
func (s *Server) visibleIncident(ctx context.Context, id string, t store.Token) (store.Incidents, store.Incident, error) {
	is, err := s.incidentStore()
	if err != nil {
		return nil, store.Incident{}, err
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n < 1 {
		return nil, store.Incident{}, badRequest("incident id %q: a positive number", id)
	}
	in, err := is.Incident(ctx, n)
	if err != nil {
		return nil, store.Incident{}, err
	}
	if t.Project != "" && !slices.Contains(in.Projects, t.Project) {
		// Not found rather than forbidden: whether it exists is another
		// project's business.
		return nil, store.Incident{}, fmt.Errorf("incident %d: %w", n, store.ErrNotFound)
	}
	return is, in, nil
}

func (s *Server) getIncident(w http.ResponseWriter, r *http.Request, t store.Token) error {
	_, in, err := s.visibleIncident(r.Context(), r.PathValue("id"), t)
	if err != nil {
		return err
	}
	page, err := s.incidentPage(r.Context(), in, t)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, page)
}

func (s *Server) postIncidentStep(w http.ResponseWriter, r *http.Request, t store.Token) error {
	is, in, err := s.visibleIncident(r.Context(), r.PathValue("id"), t)
	if err != nil {
		return err
	}
	err = is.CompleteStep(r.Context(), in.ID, r.PathValue("step"), t.Name, s.opt.Now().UTC())
	if errors.Is(err, store.ErrClosed) {
		return &httpError{http.StatusConflict, fmt.Sprintf("incident %d is closed", in.ID)}
	}
	if err != nil {
		return err
	}
	return s.answerIncident(w, r, is, in.ID, t)
}

func (s *Server) closeIncident(w http.ResponseWriter, r *http.Request, t store.Token) error {
	is, in, err := s.visibleIncident(r.Context(), r.PathValue("id"), t)
	if err != nil {
		return err
	}
	if err := is.CloseIncident(r.Context(), in.ID, s.opt.Now().UTC()); err != nil {
		return err
	}
	return s.answerIncident(w, r, is, in.ID, t)
}

// answerIncident answers a change with the incident as stored, without
// recomputing its deployments.
func (s *Server) answerIncident(w http.ResponseWriter, r *http.Request, is store.Incidents, id int64, t store.Token) error {
	in, err := is.Incident(r.Context(), id)
	if err != nil {
		return err
	}
	p := incidentPage{Incident: in, Deployments: []affectedDeployment{}, Freeze: []string{}, Credentials: []credential{}, Fixed: []string{}}
	if err := s.times(r.Context(), &p); err != nil {
		return err
	}
	redact(&p, t)
	return writeJSON(w, http.StatusOK, p)
}

func (s *Server) exportIncident(w http.ResponseWriter, r *http.Request, t store.Token) error {
	_, in, err := s.visibleIncident(r.Context(), r.PathValue("id"), t)
	if err != nil {
		return err
	}
	page, err := s.incidentPage(r.Context(), in, t)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="incident-%d.md"`, in.ID))
	_, err = w.Write(page.Markdown())
	return err
}

// redact hides from a project-limited token what other projects hold.
func redact(p *incidentPage, t store.Token) {
	if t.Project == "" {
		return
	}
	p.Projects = []string{t.Project}
	p.Detection.Open, p.Detection.Total = 0, 0
}

// times computes time to detect and time to contain.
func (s *Server) times(ctx context.Context, p *incidentPage) error {
	p.TimeToDetect, p.TimeToContain = nil, nil
	if p.Advisory != "" && p.Detection.FirstFinding != nil {
		start, err := s.detectStart(ctx, p.Advisory)
		if err != nil {
			return err
		}
		if !start.IsZero() {
			p.TimeToDetect = seconds(p.Detection.FirstFinding.Sub(start))
		}
	}
	switch d := p.Detection; {
	case p.Closed != nil:
		p.TimeToContain = seconds(p.Closed.Sub(p.Opened))
	case d.Total > 0 && d.Open == 0 && d.FirstFinding != nil && d.LastResolved != nil:
		p.TimeToContain = seconds(d.LastResolved.Sub(*d.FirstFinding))
	}
	return nil
}

// detectStart is when detecting an advisory could begin: its publication,
// or its import when it gives no date. It is zero for an advisory no
// longer stored.
func (s *Server) detectStart(ctx context.Context, id string) (time.Time, error) {
	a, err := s.store.Advisory(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	if rec, err := osv.Parse(a.Raw); err == nil && !rec.Published.IsZero() {
		return rec.Published, nil
	}
	return a.Imported, nil
}

// seconds is d in seconds, never negative: clocks of replicas and feeds
// disagree a little.
func seconds(d time.Duration) *float64 {
	v := max(d, 0).Seconds()
	return &v
}

// incidentPage computes what an incident affects now, as t may see it.
func (s *Server) incidentPage(ctx context.Context, in store.Incident, t store.Token) (incidentPage, error) {
	p := incidentPage{Incident: in, Deployments: []affectedDeployment{}, Freeze: []string{}, Credentials: []credential{}, Fixed: []string{}}
	var queries []store.ComponentQuery
	var rec *osv.Record
	if in.Advisory != "" {
		a, err := s.store.Advisory(ctx, in.Advisory)
		if err != nil {
			return p, err
		}
		if rec, err = osv.Parse(a.Raw); err != nil {
			return p, fmt.Errorf("incident: stored advisory %s: %w", in.Advisory, err)
		}
		p.Fixed = fixedVersions(rec)
		adv := toAdvisory(rec, nil)
		for _, pk := range adv.Packages {
			queries = append(queries, store.ComponentQuery{Ecosystem: pk.Ecosystem, Package: pk.Name})
		}
		for _, d := range adv.Digests {
			queries = append(queries, store.ComponentQuery{Digest: d})
		}
	} else if in.Query != nil {
		queries = append(queries, *in.Query)
	}

	// hist holds, by report, every component of interest in every
	// stored report: the history says which releases were good.
	hist := map[int64][]store.Match{}
	seen := map[string]bool{}
	for _, q := range queries {
		q.History, q.Project, q.Limit = true, t.Project, maxIncidentScan+1
		ms, skipped, err := s.find(ctx, q)
		if err != nil {
			return p, err
		}
		p.SkippedVersions += skipped
		if len(ms) > maxIncidentScan {
			ms, p.Truncated = ms[:maxIncidentScan], true
		}
		for _, m := range ms {
			k := strconv.FormatInt(m.ReportID, 10) + " " + componentKey(m.Kind, m.Name, m.CVersion, m.PURL) + " " + m.Path
			if !seen[k] {
				seen[k] = true
				hist[m.ReportID] = append(hist[m.ReportID], m)
			}
		}
	}
	// affected lists, by report, the affected components: those the
	// advisory's matcher reports, or every match of a query.
	affected := map[int64][]string{}
	projects := map[string]store.Match{}
	for id, ms := range hist {
		projects[ms[0].Project] = ms[0]
		if rec == nil {
			for _, m := range ms {
				affected[id] = append(affected[id], matchLabel(m))
			}
			continue
		}
		cs := make([]inventory.Component, len(ms))
		byKey := map[string]store.Match{}
		for i, m := range ms {
			cs[i] = matchInput(m.Kind, m.Name, m.CVersion, m.PURL, m.Digests, m.Path)
			byKey[cs[i].ID] = m
		}
		fs, err := matchRecord(ctx, rec, cs, ms[0].Project, ms[0].Env, id)
		if err != nil {
			return p, err
		}
		for _, f := range fs {
			affected[id] = append(affected[id], matchLabel(byKey[f.Component]))
		}
	}

	creds := map[string][]string{}
	for _, name := range sortedKeys(projects) {
		deps, err := s.store.Deployments(ctx, name)
		if err != nil {
			return p, err
		}
		var reports []store.ReportInfo // fetched once a project has an affected deployment
		for _, dep := range deps {
			labels := affected[dep.ID]
			if len(labels) == 0 {
				continue
			}
			slices.Sort(labels)
			m := projects[name]
			ad := affectedDeployment{Project: name, Env: dep.Env, Release: dep.Version, ReportID: dep.ID,
				Owners: nonNil(m.Owners), Tier: m.Tier, Components: slices.Compact(labels)}
			if reports == nil {
				if reports, err = s.store.Reports(ctx, name, maxHistory); err != nil {
					return p, err
				}
			}
			for _, r := range reports { // newest first
				earlier := r.Received.Before(dep.Received) || (r.Received.Equal(dep.Received) && r.ID < dep.ID)
				if r.Env != dep.Env || !earlier || len(affected[r.ID]) > 0 {
					continue
				}
				kg := &knownGood{Release: r.Version, ReportID: r.ID, Received: r.Received, Components: []string{}}
				for _, hm := range hist[r.ID] {
					kg.Components = append(kg.Components, matchLabel(hm))
				}
				slices.Sort(kg.Components)
				ad.LastKnownGood = kg
				break
			}
			ad.PinTo = pinTo(ad.LastKnownGood, p.Fixed)
			p.Deployments = append(p.Deployments, ad)
			if err := s.credentials(ctx, dep.ID, name+"/"+dep.Env, creds); err != nil {
				return p, err
			}
		}
	}
	slices.SortStableFunc(p.Deployments, func(a, b affectedDeployment) int {
		if c := tierRank(a.Tier) - tierRank(b.Tier); c != 0 {
			return c
		}
		return strings.Compare(a.Project+"\x00"+a.Env, b.Project+"\x00"+b.Env)
	})
	for _, d := range p.Deployments {
		p.Freeze = append(p.Freeze, d.Project+"/"+d.Env)
	}
	for _, name := range sortedKeys(creds) {
		p.Credentials = append(p.Credentials, credential{Name: name, Deployments: creds[name]})
	}
	if err := s.times(ctx, &p); err != nil {
		return p, err
	}
	redact(&p, t)
	return p, nil
}

// credentialKeys are the component properties that name the environment
// variables a runtime reads secrets from, comma-separated: credential-env
// of AI services called from code, env of MCP servers and other plugins.
var credentialKeys = []string{"credential-env", "env"}

// credentials adds to creds the env var names the service and plugin
// components of a report read, with the deployment they run in.
func (s *Server) credentials(ctx context.Context, reportID int64, deployment string, creds map[string][]string) error {
	body, err := s.store.ReportBody(ctx, reportID)
	if err != nil {
		return err
	}
	cs, err := diff.Parse(body)
	if err != nil {
		// Parsed at upload: this is a stored body another version
		// cannot read. Say so rather than list no credentials.
		return fmt.Errorf("incident: report %d: %w", reportID, err)
	}
	for _, c := range cs {
		if c.Kind != inventory.KindService && c.Kind != inventory.KindPlugin {
			continue
		}
		for _, k := range credentialKeys {
			for name := range strings.SplitSeq(c.Properties[k], ",") {
				name = strings.TrimSpace(name)
				if name == "" || slices.Contains(creds[name], deployment) {
					continue
				}
				creds[name] = append(creds[name], deployment)
			}
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// matchLabel names a component in a match: name@version and its path.
func matchLabel(m store.Match) string {
	l := m.Name
	if m.CVersion != "" {
		l += "@" + m.CVersion
	}
	if m.Path != "" {
		l += " (" + m.Path + ")"
	}
	return l
}

// fixedVersions lists the versions an advisory says fix it, in order.
func fixedVersions(rec *osv.Record) []string {
	out := []string{}
	for _, af := range rec.Affected {
		for _, rg := range af.Ranges {
			for _, e := range rg.Events {
				if e.Fixed != "" && rg.Type != "GIT" && !slices.Contains(out, af.Package.Name+"@"+e.Fixed) {
					out = append(out, af.Package.Name+"@"+e.Fixed)
				}
			}
		}
	}
	return out
}

// pinTo says what an affected deployment should go back to.
func pinTo(kg *knownGood, fixed []string) string {
	switch {
	case kg != nil && kg.Release != "":
		return fmt.Sprintf("redeploy release %s (report %d)", kg.Release, kg.ReportID)
	case kg != nil:
		return fmt.Sprintf("redeploy what report %d describes", kg.ReportID)
	case len(fixed) > 0:
		return "upgrade to " + strings.Join(fixed, " or ")
	}
	return "no known-good release and no fix: remove the component"
}

// tierRank orders criticality tiers, most critical first: "critical",
// then tiers by number ("1" before "2"), then high, medium, low, other
// words, and no tier last.
func tierRank(tier string) int {
	if n, err := strconv.Atoi(tier); err == nil && n >= 0 && n < 1000 {
		return 10 + n
	}
	switch strings.ToLower(tier) {
	case "critical":
		return 0
	case "high":
		return 1010
	case "medium":
		return 1020
	case "low":
		return 1030
	case "":
		return 2000
	}
	return 1500
}

// metricsAnswer is the answer of GET /api/v1/metrics.
type metricsAnswer struct {
	OpenIncidents   int `json:"openIncidents"`
	ClosedIncidents int `json:"closedIncidents"`
	// MTTC and MTTD are means, in seconds, over the incidents that have
	// a time to contain and a time to detect; absent when none has.
	MTTC      *float64 `json:"mttcSeconds,omitempty"`
	MTTD      *float64 `json:"mttdSeconds,omitempty"`
	Contained int      `json:"contained"`
	// Findings counts open findings by severity.
	Findings map[string]int `json:"findings"`
}

func (s *Server) getMetrics(w http.ResponseWriter, r *http.Request, t store.Token) error {
	is, err := s.incidentStore()
	if err != nil {
		return err
	}
	ctx := r.Context()
	l, err := is.ListIncidents(ctx, store.IncidentQuery{Project: t.Project})
	if err != nil {
		return err
	}
	var ans metricsAnswer
	var ttc, ttd []float64
	for _, in := range l {
		if in.Closed == nil {
			ans.OpenIncidents++
		} else {
			ans.ClosedIncidents++
		}
		p := incidentPage{Incident: in}
		if err := s.times(ctx, &p); err != nil {
			return err
		}
		if p.TimeToContain != nil {
			ttc = append(ttc, *p.TimeToContain)
		}
		if p.TimeToDetect != nil {
			ttd = append(ttd, *p.TimeToDetect)
		}
	}
	ans.MTTC, ans.MTTD, ans.Contained = mean(ttc), mean(ttd), len(ttc)
	counts, err := is.FindingCounts(ctx, t.Project)
	if err != nil {
		return err
	}
	ans.Findings = map[string]int{}
	for sev := inventory.Info; sev <= inventory.Critical; sev++ {
		ans.Findings[sev.String()] = counts[sev]
	}
	return writeJSON(w, http.StatusOK, ans)
}

func mean(l []float64) *float64 {
	if len(l) == 0 {
		return nil
	}
	var sum float64
	for _, v := range l {
		sum += v
	}
	m := sum / float64(len(l))
	return &m
}

// mdEscaper makes text from reports inert in Markdown: a component name
// must not become a link, an image, HTML or a table cell boundary.
var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", `*`, `\*`, `_`, `\_`, `[`, `\[`, `]`, `\]`, `(`, `\(`, `)`, `\)`,
	`<`, `&lt;`, `>`, `&gt;`, `&`, `&amp;`, `|`, `\|`, `#`, `\#`, `!`, `\!`, "\n", " ", "\r", " ")

func md(s string) string { return mdEscaper.Replace(s) }

func mdList(l []string) string {
	out := make([]string, len(l))
	for i, v := range l {
		out[i] = md(v)
	}
	return strings.Join(out, ", ")
}

func mdTime(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return t.UTC().Format(time.RFC3339)
}

func mdDuration(sec *float64) string {
	if sec == nil {
		return "—"
	}
	return (time.Duration(*sec) * time.Second).String()
}

// Markdown renders the incident as a Markdown report for a ticket or a
// post-mortem.
func (p *incidentPage) Markdown() []byte {
	var b strings.Builder
	status := "open"
	if p.Closed != nil {
		status = "closed"
	}
	fmt.Fprintf(&b, "# Incident %d: %s\n\n", p.ID, md(p.Title))
	fmt.Fprintf(&b, "- Status: %s\n", status)
	if p.Advisory != "" {
		fmt.Fprintf(&b, "- Advisory: %s\n", md(p.Advisory))
	} else {
		fmt.Fprintf(&b, "- Query: %s\n", md(incidentSubject(p.Incident)))
	}
	fmt.Fprintf(&b, "- Opened: %s by %s\n", mdTime(&p.Opened), md(p.OpenedBy))
	fmt.Fprintf(&b, "- Closed: %s\n", mdTime(p.Closed))
	fmt.Fprintf(&b, "- First finding: %s\n", mdTime(p.Detection.FirstFinding))
	fmt.Fprintf(&b, "- Time to detect: %s\n", mdDuration(p.TimeToDetect))
	fmt.Fprintf(&b, "- Time to contain: %s\n", mdDuration(p.TimeToContain))
	if len(p.Fixed) > 0 {
		fmt.Fprintf(&b, "- Fixed in: %s\n", mdList(p.Fixed))
	}
	b.WriteString("\n## Affected deployments\n\n")
	if len(p.Deployments) == 0 {
		b.WriteString("None.\n")
	} else {
		b.WriteString("| Project | Env | Release | Tier | Owners | Components | Pin back to |\n|---|---|---|---|---|---|---|\n")
		for _, d := range p.Deployments {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", md(d.Project), md(d.Env), md(d.Release), md(d.Tier),
				mdList(d.Owners), mdList(d.Components), md(d.PinTo))
		}
	}
	if p.Truncated {
		b.WriteString("\nMore components matched than one page scans: the list may be incomplete.\n")
	}
	b.WriteString("\n## Freeze\n\n")
	for _, f := range p.Freeze {
		fmt.Fprintf(&b, "- %s\n", md(f))
	}
	if len(p.Freeze) == 0 {
		b.WriteString("Nothing to freeze.\n")
	}
	b.WriteString("\n## Credentials to rotate\n\n")
	for _, c := range p.Credentials {
		fmt.Fprintf(&b, "- %s: %s\n", md(c.Name), mdList(c.Deployments))
	}
	if len(p.Credentials) == 0 {
		b.WriteString("None referenced by the affected services and plugins.\n")
	}
	b.WriteString("\n## Checklist\n\n")
	for _, st := range p.Steps {
		if st.Done != nil {
			fmt.Fprintf(&b, "- [x] %s — %s by %s\n", md(st.Name), mdTime(st.Done), md(st.By))
		} else {
			fmt.Fprintf(&b, "- [ ] %s\n", md(st.Name))
		}
	}
	return []byte(b.String())
}

// A containment is one incident's times, for the MTTC trend.
type containment struct {
	ID int64
	// At is when it was contained: its closing, or, for one still open,
	// the resolution of its advisory's last finding; zero when it is
	// not contained.
	At time.Time
	// TimeToContain and TimeToDetect are in seconds; nil while unknown.
	TimeToContain, TimeToDetect *float64
}

// containments computes, as GET /api/v1/metrics does, the times of each
// of l.
func (s *Server) containments(ctx context.Context, l []store.Incident) ([]containment, error) {
	out := make([]containment, 0, len(l))
	for _, in := range l {
		p := incidentPage{Incident: in}
		if err := s.times(ctx, &p); err != nil {
			return nil, err
		}
		c := containment{ID: in.ID, TimeToContain: p.TimeToContain, TimeToDetect: p.TimeToDetect}
		switch {
		case in.Closed != nil:
			c.At = *in.Closed
		case p.TimeToContain != nil:
			c.At = *in.Detection.LastResolved
		}
		out = append(out, c)
	}
	return out, nil
}
