package server

import (
	"cmp"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chainvet/chainvet/internal/diff"
	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/server/store"
)

// The web UI is a few server-rendered pages under /ui/, behind the same
// tokens as the API. A person signs in by pasting a token into a form;
// the token itself is then kept in a cookie (HttpOnly, SameSite=Strict,
// Secure over TLS) and checked against the store on every request, as a
// bearer token is. Keeping the token, not a session, in the cookie keeps
// the server stateless: any replica answers any page, and revoking the
// token ends the session. The API never reads the cookie, so no page of
// another site can make a browser call the API with it.
//
// Forms that change something post a CSRF token derived from the
// session's token (see csrfToken), and every POST must also pass the
// standard library's cross-origin check (Sec-Fetch-Site and Origin).
// Pages carry a Content-Security-Policy that allows no script at all.

// UI limits: what one page shows at most, so that a page of a large
// fleet stays small enough to render.
const (
	// maxUIFindings is the number of open findings a page lists.
	maxUIFindings = 500
	// maxUIComponents is the number of components listed per deployment.
	maxUIComponents = 2000
	// maxUIChanges is the number of changes a report diff lists.
	maxUIChanges = 2000
	// maxUIIncidents is the number of incidents the overview lists.
	maxUIIncidents = 50
	// trendDays is the span of the overview's findings chart.
	trendDays = 30
	// maxUIMetricIncidents is the number of latest incidents the
	// overview's MTTC and MTTD are computed over.
	maxUIMetricIncidents = 1000
	// mttcBars is the number of latest contained incidents the MTTC
	// trend draws.
	mttcBars = 30
	// sessionAge is how long a sign-in lasts.
	sessionAge = 12 * time.Hour
)

// sessionCookie holds a signed-in browser's token.
const sessionCookie = "chainvet_session"

// uiCSP lets a page load only its own stylesheet: no script, no frame,
// no form posting elsewhere.
const uiCSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

//go:embed templates/*.html static/*
var uiFiles embed.FS

// uiPages are the templates, each page parsed with the layout.
var uiPages = func() map[string]*template.Template {
	funcs := template.FuncMap{
		"sev":      func(s inventory.Severity) string { return s.String() },
		"when":     func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
		"path":     url.PathEscape,
		"query":    url.QueryEscape,
		"digest":   shortDigest,
		"previous": previousReport,
		"dur":      duration,
	}
	pages := map[string]*template.Template{}
	for _, name := range []string{"login", "overview", "project", "diff", "advisory", "incident", "search", "admin", "error"} {
		pages[name] = template.Must(template.New("layout.html").Funcs(funcs).
			ParseFS(uiFiles, "templates/layout.html", "templates/"+name+".html"))
	}
	return pages
}()

// registerUI adds the UI's routes to mux.
func (s *Server) registerUI(mux *http.ServeMux) {
	static, err := fs.Sub(uiFiles, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files := http.StripPrefix("/ui/static/", http.FileServerFS(static))
	cop := http.NewCrossOriginProtection()
	page := func(h func(s *Server, w http.ResponseWriter, r *http.Request, t store.Token) error) http.Handler {
		return cop.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			uiHeaders(w)
			t, err := s.uiSession(r)
			if errors.Is(err, errUnauthenticated) {
				clearSession(w, r)
				http.Redirect(w, r, "/ui/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			if err == nil {
				err = h(s, w, r, t)
			}
			if err != nil {
				s.failPage(w, r, err)
			}
		}))
	}
	mux.Handle("GET /ui/static/", files)
	mux.Handle("GET /ui/login", cop.Handler(http.HandlerFunc(s.loginForm)))
	mux.Handle("POST /ui/login", cop.Handler(http.HandlerFunc(s.login)))
	mux.Handle("POST /ui/logout", page((*Server).logout))
	mux.Handle("GET /ui/{$}", page((*Server).overviewPage))
	mux.Handle("GET /ui/projects/{project}", page((*Server).projectUIPage))
	mux.Handle("GET /ui/projects/{project}/diff", page((*Server).diffPage))
	mux.Handle("GET /ui/advisories/{id}", page((*Server).advisoryUIPage))
	mux.Handle("GET /ui/incidents/{id}", page((*Server).incidentUIPage))
	mux.Handle("POST /ui/advisories/{id}/incident", page((*Server).openIncidentUI))
	mux.Handle("POST /ui/incidents/{id}/steps/{step}", page((*Server).stepUI))
	mux.Handle("POST /ui/incidents/{id}/close", page((*Server).closeIncidentUI))
	mux.Handle("GET /ui/search", page((*Server).searchPage))
	mux.Handle("POST /ui/search/incident", page((*Server).openSearchIncidentUI))
	mux.Handle("GET /ui/admin", page((*Server).adminPage))
	mux.Handle("POST /ui/admin/tokens/{id}/revoke", page((*Server).revokeTokenUI))
}

func uiHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", uiCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

// uiSession returns the token of the request's session cookie; it needs
// at least read scope.
func (s *Server) uiSession(r *http.Request) (store.Token, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || !strings.HasPrefix(c.Value, TokenPrefix) {
		return store.Token{}, errUnauthenticated
	}
	t, err := s.store.Token(r.Context(), HashToken(c.Value))
	if errors.Is(err, store.ErrNotFound) {
		return store.Token{}, errUnauthenticated
	}
	if err != nil {
		return store.Token{}, err
	}
	if err := checkLive(t, s.opt.Now()); err != nil {
		return store.Token{}, err
	}
	if rank(t.Scope) < rank(store.ScopeRead) {
		return store.Token{}, fmt.Errorf("%w: token %q cannot read", errForbidden, t.Name)
	}
	return t, nil
}

// csrfToken is the CSRF token of a session: a hash of its token under a
// fixed label. Only the holder of the token can compute it, and it never
// reveals the token, so it needs no server-side state.
func csrfToken(t store.Token) string {
	h := sha256.Sum256([]byte("chainvet ui csrf\x00" + t.Hash))
	return hex.EncodeToString(h[:])
}

func checkCSRF(r *http.Request, t store.Token) error {
	if subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(csrfToken(t))) != 1 {
		return fmt.Errorf("%w: missing or wrong CSRF token; reload the page", errForbidden)
	}
	return nil
}

func setSession(w http.ResponseWriter, r *http.Request, secret string) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: secret, Path: "/ui/",
		MaxAge: int(sessionAge / time.Second), HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
}

func clearSession(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/ui/",
		MaxAge: -1, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
}

// safeNext keeps a post-login redirect on this site's UI.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/ui/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/ui/"
	}
	return next
}

// pageData is what every template gets.
type pageData struct {
	Title string
	// Token is the signed-in token; empty on the login page.
	Token *store.Token
	CSRF  string
	Body  any
}

func (s *Server) render(w http.ResponseWriter, status int, name, title string, t *store.Token, body any) error {
	d := pageData{Title: title, Token: t, Body: body}
	if t != nil {
		d.CSRF = csrfToken(*t)
	}
	var b strings.Builder
	if err := uiPages[name].Execute(&b, d); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, err := w.Write([]byte(b.String()))
	return err
}

// failPage answers with an error page, as fail does with JSON.
func (s *Server) failPage(w http.ResponseWriter, r *http.Request, err error) {
	var he *httpError
	status, msg := http.StatusInternalServerError, "internal error"
	switch {
	case errors.As(err, &he):
		status, msg = he.status, he.msg
	case errors.Is(err, errForbidden):
		status, msg = http.StatusForbidden, err.Error()
	case errors.Is(err, store.ErrNotFound):
		status, msg = http.StatusNotFound, "not found"
	}
	if status == http.StatusInternalServerError {
		s.opt.Log.Error("page failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if rerr := s.render(w, status, "error", http.StatusText(status), nil, msg); rerr != nil {
		s.opt.Log.Error("page failed", "path", r.URL.Path, "err", rerr)
	}
}

type loginBody struct {
	Next, Error string
}

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	uiHeaders(w)
	if err := s.render(w, http.StatusOK, "login", "Sign in", nil, loginBody{Next: safeNext(r.URL.Query().Get("next"))}); err != nil {
		s.opt.Log.Error("page failed", "path", r.URL.Path, "err", err)
	}
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	uiHeaders(w)
	r.Body = http.MaxBytesReader(w, r.Body, maxSmallBody)
	secret := strings.TrimSpace(r.PostFormValue("token"))
	next := safeNext(r.PostFormValue("next"))
	t, err := store.Token{}, errUnauthenticated
	if strings.HasPrefix(secret, TokenPrefix) {
		t, err = s.store.Token(r.Context(), HashToken(secret))
		if err == nil {
			err = checkLive(t, s.opt.Now())
		}
	}
	var ended *endedError
	switch {
	case err == nil && rank(t.Scope) >= rank(store.ScopeRead):
		setSession(w, r, secret)
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	case errors.As(err, &ended):
		err = s.render(w, http.StatusUnauthorized, "login", "Sign in", nil, loginBody{Next: next, Error: ended.msg + "."})
	case err == nil, errors.Is(err, store.ErrNotFound), errors.Is(err, errUnauthenticated):
		err = s.render(w, http.StatusUnauthorized, "login", "Sign in", nil, loginBody{Next: next, Error: "Unknown token."})
	default:
		s.failPage(w, r, err)
		return
	}
	if err != nil {
		s.opt.Log.Error("page failed", "path", r.URL.Path, "err", err)
	}
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, t store.Token) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxSmallBody)
	if err := checkCSRF(r, t); err != nil {
		return err
	}
	clearSession(w, r)
	http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
	return nil
}

// A count is one row of a tally.
type count struct {
	Key string
	N   int
}

// tally counts keys, most frequent first, then by key.
func tally(keys []string) []count {
	m := map[string]int{}
	for _, k := range keys {
		m[k]++
	}
	out := make([]count, 0, len(m))
	for k, n := range m {
		out = append(out, count{k, n})
	}
	slices.SortFunc(out, func(a, b count) int {
		if a.N != b.N {
			return b.N - a.N
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out
}

type overviewBody struct {
	Projects   int
	Open       int
	BySeverity []count
	ByRule     []count
	ByKind     []count
	Findings   []store.Finding
	Truncated  bool
	Chart      chart
	// Incidents are the latest incidents the token sees; nil when the
	// store keeps none.
	Incidents []store.Incident
	// Metrics are the incidents' MTTC and MTTD; nil when the store
	// keeps no incidents.
	Metrics *uiMetrics
}

// uiMetrics are the overview's incident numbers: mean times over the
// latest maxUIMetricIncidents incidents the token sees, as GET
// /api/v1/metrics computes them, and the MTTC trend.
type uiMetrics struct {
	Open, Closed int
	// MTTC and MTTD are in seconds; nil when no incident has one.
	MTTC, MTTD *float64
	// Contained counts the incidents with a time to contain.
	Contained int
	// Partial says that more incidents exist than the Counted ones.
	Partial bool
	Counted int
	Trend   barChart
}

func (s *Server) overviewPage(w http.ResponseWriter, r *http.Request, t store.Token) error {
	ctx := r.Context()
	ps, err := s.store.Projects(ctx)
	if err != nil {
		return err
	}
	var b overviewBody
	for _, p := range ps {
		if allowProject(t, p.Name) == nil {
			b.Projects++
		}
	}
	// All findings, open and resolved, for the chart; the store caps them.
	all, err := s.store.Findings(ctx, store.FindingQuery{Project: t.Project, Status: store.StatusAll})
	if err != nil {
		return err
	}
	var sevs, rules, kinds []string
	for _, f := range all {
		if f.ResolvedAt != nil {
			continue
		}
		b.Open++
		sevs = append(sevs, f.Severity.String())
		rules = append(rules, f.Rule)
		kinds = append(kinds, componentKind(f.Component))
		if len(b.Findings) < maxUIFindings {
			b.Findings = append(b.Findings, f)
		} else {
			b.Truncated = true
		}
	}
	b.BySeverity = bySeverity(all)
	b.ByRule, b.ByKind = tally(rules), tally(kinds)
	b.Chart = openChart(all, s.opt.Now(), trendDays)
	if is, ok := s.store.(store.Incidents); ok {
		l, err := is.ListIncidents(ctx, store.IncidentQuery{Project: t.Project, Limit: maxUIMetricIncidents + 1})
		if err != nil {
			return err
		}
		m := &uiMetrics{Partial: len(l) > maxUIMetricIncidents}
		l = l[:min(len(l), maxUIMetricIncidents)]
		m.Counted = len(l)
		b.Incidents = l[:min(len(l), maxUIIncidents)]
		cs, err := s.containments(ctx, l)
		if err != nil {
			return err
		}
		var ttc, ttd []float64
		for i, c := range cs {
			if l[i].Closed == nil {
				m.Open++
			} else {
				m.Closed++
			}
			if c.TimeToContain != nil {
				ttc = append(ttc, *c.TimeToContain)
			}
			if c.TimeToDetect != nil {
				ttd = append(ttd, *c.TimeToDetect)
			}
		}
		m.MTTC, m.MTTD, m.Contained = mean(ttc), mean(ttd), len(ttc)
		m.Trend = mttcChart(cs, mttcBars)
		b.Metrics = m
	}
	return s.render(w, http.StatusOK, "overview", "Fleet overview", &t, b)
}

// bySeverity counts open findings per severity, most severe first, with
// every severity listed.
func bySeverity(fs []store.Finding) []count {
	var n [inventory.Critical + 1]int
	for _, f := range fs {
		if f.ResolvedAt == nil && f.Severity >= inventory.Info && f.Severity <= inventory.Critical {
			n[f.Severity]++
		}
	}
	var out []count
	for s := inventory.Critical; s >= inventory.Info; s-- {
		out = append(out, count{s.String(), n[s]})
	}
	return out
}

// componentKind is the kind of a finding's component: the purl type, or
// the kind before "kind:name@version".
func componentKind(c string) string {
	if typ, ok := store.PURLType(c); ok {
		return typ
	}
	if k, _, ok := strings.Cut(c, ":"); ok && k != "" {
		return k
	}
	return "other"
}

// A chart is an inline SVG line chart, drawn here so the page needs no
// script.
type chart struct {
	Width, Height int
	// Points is the polyline's points attribute.
	Points string
	Max    int
	From   string
	To     string
	// Last is the last day's value.
	Last int
}

// openChart plots the number of findings open at the end of each of the
// last days days.
func openChart(fs []store.Finding, now time.Time, days int) chart {
	c := chart{Width: 600, Height: 120}
	end := now.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	vals := make([]int, days)
	for i := range vals {
		at := end.Add(time.Duration(i-days+1) * 24 * time.Hour)
		for _, f := range fs {
			if f.FirstSeen.Before(at) && (f.ResolvedAt == nil || !f.ResolvedAt.Before(at)) {
				vals[i]++
			}
		}
		c.Max = max(c.Max, vals[i])
	}
	scale := max(c.Max, 1)
	var pts []string
	for i, v := range vals {
		x := i * c.Width / max(days-1, 1)
		y := c.Height - v*(c.Height-10)/scale
		pts = append(pts, strconv.Itoa(x)+","+strconv.Itoa(y))
	}
	c.Points = strings.Join(pts, " ")
	c.From = end.Add(-time.Duration(days) * 24 * time.Hour).Format("2006-01-02")
	c.To = end.Add(-24 * time.Hour).Format("2006-01-02")
	c.Last = vals[days-1]
	return c
}

// A barChart is an inline SVG bar chart, one bar per value.
type barChart struct {
	Width, Height int
	Bars          []bar
	// Max is the largest value, in seconds.
	Max float64
}

// A bar is one incident's time to contain.
type bar struct {
	X, Y, W, H int
	ID         int64
	At         time.Time
	Seconds    float64
}

// mttcChart draws the time to contain of the last n contained incidents,
// in the order they were contained: a line of bars that shrinks as
// containment gets faster.
func mttcChart(cs []containment, n int) barChart {
	c := barChart{Width: 600, Height: 120}
	var done []containment
	for _, x := range cs {
		if x.TimeToContain != nil {
			done = append(done, x)
		}
	}
	slices.SortStableFunc(done, func(a, b containment) int {
		if d := a.At.Compare(b.At); d != 0 {
			return d
		}
		return int(a.ID - b.ID)
	})
	done = done[max(len(done)-n, 0):]
	if len(done) == 0 {
		return c
	}
	for _, x := range done {
		c.Max = max(c.Max, *x.TimeToContain)
	}
	slot := min(c.Width/len(done), 40) // a few incidents stay thin bars
	for i, x := range done {
		h := 1 // a zero time still shows
		if c.Max > 0 {
			h = max(int(*x.TimeToContain/c.Max*float64(c.Height-10)), 1)
		}
		c.Bars = append(c.Bars, bar{X: i * slot, Y: c.Height - h, W: max(slot*3/4, 1), H: h,
			ID: x.ID, At: x.At, Seconds: *x.TimeToContain})
	}
	return c
}

// duration shows a time in seconds as days, hours, minutes and seconds,
// at most the two largest units; "none yet" for nil.
func duration(v any) string {
	var sec float64
	switch v := v.(type) {
	case *float64:
		if v == nil {
			return "none yet"
		}
		sec = *v
	case float64:
		sec = v
	default:
		return fmt.Sprint(v)
	}
	d := int64(max(sec, 0) + 0.5)
	units := []struct {
		n    int64
		name string
	}{{86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}}
	var parts []string
	for _, u := range units {
		if q := d / u.n; q > 0 && len(parts) < 2 {
			parts = append(parts, strconv.FormatInt(q, 10)+u.name)
			d -= q * u.n
		} else if len(parts) > 0 {
			break
		}
	}
	if len(parts) == 0 {
		return "0s"
	}
	return strings.Join(parts, " ")
}

// A deployment is the latest report of one environment, with its
// components.
type deployment struct {
	store.ReportInfo
	Components []inventory.Component
	// More counts the components not listed; Error says why none are.
	More  int
	Error string
}

type projectBody struct {
	store.Project
	Deployments []deployment
	History     []store.ReportInfo
	Findings    []store.Finding
	Truncated   bool
}

func (s *Server) projectUIPage(w http.ResponseWriter, r *http.Request, t store.Token) error {
	name := r.PathValue("project")
	if err := allowProject(t, name); err != nil {
		return err
	}
	ctx := r.Context()
	p, err := s.store.Project(ctx, name)
	if err != nil {
		return err
	}
	b := projectBody{Project: p}
	deps, err := s.store.Deployments(ctx, name)
	if err != nil {
		return err
	}
	for _, d := range deps {
		dep := deployment{ReportInfo: d}
		cs, err := s.components(r, d.ID)
		switch {
		case err != nil:
			dep.Error = err.Error()
		case len(cs) > maxUIComponents:
			dep.Components, dep.More = cs[:maxUIComponents], len(cs)-maxUIComponents
		default:
			dep.Components = cs
		}
		b.Deployments = append(b.Deployments, dep)
	}
	if b.History, err = s.store.Reports(ctx, name, maxHistory); err != nil {
		return err
	}
	fs, err := s.store.Findings(ctx, store.FindingQuery{Project: name, Limit: maxUIFindings + 1})
	if err != nil {
		return err
	}
	b.Findings = fs
	if len(fs) > maxUIFindings {
		b.Findings, b.Truncated = fs[:maxUIFindings], true
	}
	return s.render(w, http.StatusOK, "project", "Project "+name, &t, b)
}

// components reads a stored report's components. The body was parsed
// when it was accepted; a failure now is the store's, shown as such.
func (s *Server) components(r *http.Request, id int64) ([]inventory.Component, error) {
	body, err := s.store.ReportBody(r.Context(), id)
	if err != nil {
		return nil, err
	}
	cs, err := diff.Parse(body)
	if err != nil {
		return nil, fmt.Errorf("report %d: %w", id, err)
	}
	slices.SortFunc(cs, func(a, b inventory.Component) int {
		return strings.Compare(string(a.Kind)+"\x00"+a.Name+"\x00"+a.Version, string(b.Kind)+"\x00"+b.Name+"\x00"+b.Version)
	})
	return cs, nil
}

type diffBody struct {
	Project  string
	Old, New store.ReportInfo
	Result   *diff.Result
	More     int
}

// diffPage compares the components of two of a project's reports, old
// and new by id; both must be among the project's listed history.
func (s *Server) diffPage(w http.ResponseWriter, r *http.Request, t store.Token) error {
	name := r.PathValue("project")
	if err := allowProject(t, name); err != nil {
		return err
	}
	ctx := r.Context()
	hist, err := s.store.Reports(ctx, name, maxHistory)
	if err != nil {
		return err
	}
	pick := func(param string) (store.ReportInfo, error) {
		id, err := strconv.ParseInt(r.URL.Query().Get(param), 10, 64)
		if err != nil {
			return store.ReportInfo{}, badRequest("%s: a report id", param)
		}
		i := slices.IndexFunc(hist, func(ri store.ReportInfo) bool { return ri.ID == id })
		if i < 0 {
			return store.ReportInfo{}, fmt.Errorf("report %d of project %s: %w", id, name, store.ErrNotFound)
		}
		return hist[i], nil
	}
	b := diffBody{Project: name}
	if b.Old, err = pick("old"); err != nil {
		return err
	}
	if b.New, err = pick("new"); err != nil {
		return err
	}
	oldCs, err := s.components(r, b.Old.ID)
	if err != nil {
		return err
	}
	newCs, err := s.components(r, b.New.ID)
	if err != nil {
		return err
	}
	b.Result = diff.Compare(reportLabel(b.Old), oldCs, reportLabel(b.New), newCs)
	if n := len(b.Result.Changes); n > maxUIChanges {
		b.Result.Changes, b.More = b.Result.Changes[:maxUIChanges], n-maxUIChanges
	}
	return s.render(w, http.StatusOK, "diff", "Diff of "+name, &t, b)
}

func reportLabel(ri store.ReportInfo) string {
	return fmt.Sprintf("#%d %s %s", ri.ID, ri.Env, ri.Version)
}

// osvSummary is the part of an OSV record the advisory page shows.
type osvSummary struct {
	Summary  string   `json:"summary"`
	Details  string   `json:"details"`
	Aliases  []string `json:"aliases"`
	Affected []struct {
		Package struct {
			Ecosystem string `json:"ecosystem"`
			Name      string `json:"name"`
		} `json:"package"`
	} `json:"affected"`
}

type advisoryBody struct {
	store.Advisory
	OSV       osvSummary
	Affected  []store.Finding
	Truncated bool
	// CSRF is set when the token may open an incident from the page.
	CSRF string
}

func (s *Server) advisoryUIPage(w http.ResponseWriter, r *http.Request, t store.Token) error {
	id := r.PathValue("id")
	if err := checkField("advisory id", id); err != nil {
		return err
	}
	ctx := r.Context()
	a, err := s.store.Advisory(ctx, id)
	if err != nil {
		return err
	}
	b := advisoryBody{Advisory: a}
	// The record was validated on import; a summary that does not parse
	// leaves the fields empty and the page still lists the fleet.
	_ = json.Unmarshal(a.Raw, &b.OSV)
	fs, err := s.store.Findings(ctx, store.FindingQuery{Advisory: id, Project: t.Project, Limit: maxUIFindings + 1})
	if err != nil {
		return err
	}
	b.Affected = fs
	if len(fs) > maxUIFindings {
		b.Affected, b.Truncated = fs[:maxUIFindings], true
	}
	if _, ok := s.store.(store.Incidents); ok && canOpenIncident(t) == nil {
		b.CSRF = csrfToken(t)
	}
	return s.render(w, http.StatusOK, "advisory", "Advisory "+a.ID, &t, b)
}

// incidentUIPage shows an incident: what it is about, the projects it
// touched, its checklist with the time each step was done, and what the
// advisory's findings say about detection. A project-limited token sees
// only the incidents that touched its project.
func (s *Server) incidentUIPage(w http.ResponseWriter, r *http.Request, t store.Token) error {
	is, ok := s.store.(store.Incidents)
	if !ok {
		return &httpError{http.StatusNotImplemented, "this store keeps no incidents"}
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return badRequest("incident id: a number")
	}
	in, err := is.Incident(r.Context(), id)
	if err != nil {
		return err
	}
	if t.Project != "" && !slices.Contains(in.Projects, t.Project) {
		// As if it did not exist: its title may name other projects.
		return fmt.Errorf("incident %d: %w", id, store.ErrNotFound)
	}
	cs, err := s.containments(r.Context(), []store.Incident{in})
	if err != nil {
		return err
	}
	b := incidentBody{Incident: in, Times: cs[0]}
	if rank(t.Scope) >= rank(store.ScopeAdmin) {
		b.CSRF = csrfToken(t)
	}
	return s.render(w, http.StatusOK, "incident", fmt.Sprintf("Incident %d", in.ID), &t, b)
}

type incidentBody struct {
	store.Incident
	Times containment
	// CSRF is set when the token may tick steps and close the incident.
	CSRF string
}

// The UI's incident actions make the same store calls, with the same
// checks, as the API's: an admin token, unlimited to open an incident
// (it looks at the whole fleet); one limited to a project may tick the
// steps of, and close, the incidents it sees. Each also needs the
// session's CSRF token, and answers with a redirect to the incident.

// canOpenIncident says whether t may open an incident.
func canOpenIncident(t store.Token) error {
	if err := needAdmin(t); err != nil {
		return err
	}
	if t.Project != "" {
		return fmt.Errorf("%w: token %q is limited to project %s; opening an incident needs an unlimited admin token", errForbidden, t.Name, t.Project)
	}
	return nil
}

func needAdmin(t store.Token) error {
	if rank(t.Scope) < rank(store.ScopeAdmin) {
		return fmt.Errorf("%w: this needs an admin token, %q is %s", errForbidden, t.Name, t.Scope)
	}
	return nil
}

// uiAction checks a form post: its size, the CSRF token and the scope.
func uiAction(w http.ResponseWriter, r *http.Request, t store.Token, allow func(store.Token) error) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxSmallBody)
	if err := checkCSRF(r, t); err != nil {
		return err
	}
	return allow(t)
}

// openIncidentUI opens an incident about an advisory, as POST
// /api/v1/incidents does, titled by the form's title or the advisory.
func (s *Server) openIncidentUI(w http.ResponseWriter, r *http.Request, t store.Token) error {
	if err := uiAction(w, r, t, canOpenIncident); err != nil {
		return err
	}
	is, err := s.incidentStore()
	if err != nil {
		return err
	}
	id, title := r.PathValue("id"), strings.TrimSpace(r.PostFormValue("title"))
	if err := checkField("advisory id", id); err != nil {
		return err
	}
	if err := checkField("title", title); err != nil {
		return err
	}
	ctx := r.Context()
	if _, err := s.store.Advisory(ctx, id); err != nil {
		return err
	}
	in := store.Incident{Title: cmp.Or(title, id), Advisory: id, OpenedBy: t.Name, Opened: s.opt.Now().UTC()}
	page, err := s.openIncident(ctx, is, in)
	if err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/ui/incidents/%d", page.ID), http.StatusSeeOther)
	return nil
}

// stepUI ticks a step of an incident's checklist.
func (s *Server) stepUI(w http.ResponseWriter, r *http.Request, t store.Token) error {
	if err := uiAction(w, r, t, needAdmin); err != nil {
		return err
	}
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
	http.Redirect(w, r, fmt.Sprintf("/ui/incidents/%d", in.ID), http.StatusSeeOther)
	return nil
}

// closeIncidentUI closes an incident.
func (s *Server) closeIncidentUI(w http.ResponseWriter, r *http.Request, t store.Token) error {
	if err := uiAction(w, r, t, needAdmin); err != nil {
		return err
	}
	is, in, err := s.visibleIncident(r.Context(), r.PathValue("id"), t)
	if err != nil {
		return err
	}
	if err := is.CloseIncident(r.Context(), in.ID, s.opt.Now().UTC()); err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/ui/incidents/%d", in.ID), http.StatusSeeOther)
	return nil
}

// shortDigest shortens "sha256:<hex>" for display.
func shortDigest(d string) string {
	if alg, hex, ok := strings.Cut(d, ":"); ok && len(hex) > 12 {
		return alg + ":" + hex[:12] + "…"
	}
	return d
}

// previousReport is the report before h[i] in a newest-first history: the
// next older one of the same environment, else the next older one; nil
// for the oldest.
func previousReport(h []store.ReportInfo, i int) *store.ReportInfo {
	for j := i + 1; j < len(h); j++ {
		if h[j].Env == h[i].Env {
			return &h[j]
		}
	}
	if i+1 < len(h) {
		return &h[i+1]
	}
	return nil
}
