package server

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/chainvet/chainvet/internal/server/store"
)

// The search page answers "who runs X?" in the UI, as GET
// /api/v1/components does, from one box: a purl ("pkg:pypi/torch", any
// version, or "pkg:pypi/torch@2.5.1"), a file digest ("sha256:<hex>"),
// a service endpoint (an http(s) URL, or "host:" and a host, such as
// "host:api.openai.com"), or a component name with an optional version
// ("torch@2.5.1"), and, with a purl without a version, a version range in
// the ecosystem's syntax. An admin of the whole fleet may open an incident from the
// query, as POST /api/v1/incidents does.

// maxUIMatches is the number of matches the search page lists.
const maxUIMatches = 1000

// parseSearch reads the search box and the range into what an incident
// request would hold. An empty box is an empty request.
func parseSearch(box, rng string) incidentRequest {
	box, rng = strings.TrimSpace(box), strings.TrimSpace(rng)
	var req incidentRequest
	switch lower := strings.ToLower(box); {
	case box == "":
	case strings.HasPrefix(lower, "pkg:"):
		req.PURL = box
	case strings.HasPrefix(lower, "sha256:"), strings.HasPrefix(lower, "sha512:"):
		req.Digest = lower // the store keeps digests in lower case
	case strings.HasPrefix(lower, "http://"), strings.HasPrefix(lower, "https://"):
		req.Endpoint = box
	case strings.HasPrefix(lower, "host:"):
		req.Endpoint = strings.TrimSpace(box[len("host:"):])
	default:
		// The last '@' not at the start: "@scope/pkg@1.0" is a scoped
		// npm name and a version, "@scope/pkg" a name alone.
		if i := strings.LastIndex(box, "@"); i > 0 {
			req.Name, req.Version = box[:i], box[i+1:]
		} else {
			req.Name = box
		}
	}
	req.Range = rng
	return req
}

// query is the component query of a search request, limited to t's
// project, and checked as the API checks one.
func (req incidentRequest) query(t store.Token) (store.ComponentQuery, error) {
	q := store.ComponentQuery{PURL: req.PURL, Range: req.Range, Name: req.Name, Version: req.Version,
		Digest: req.Digest, Endpoint: req.Endpoint, Project: t.Project, Limit: maxUIMatches + 1}
	for _, f := range []string{q.PURL, q.Range, q.Name, q.Version, q.Digest, q.Endpoint} {
		if err := checkField("search", f); err != nil {
			return q, err
		}
	}
	if err := checkEndpoint(q); err != nil {
		return q, err
	}
	if q.Range != "" {
		if err := checkRange(q.PURL, q.Range); err != nil {
			return q, err
		}
	}
	if q.Name == "" && q.Version != "" {
		return q, badRequest("search: a name before the @")
	}
	return q, nil
}

type searchBody struct {
	// Box and Range are the form's fields, as given.
	Box, Range string
	// Asked says that a query was given, so that an empty answer means
	// that no deployment runs it.
	Asked     bool
	Error     string
	Matches   []store.Match
	Truncated bool
	// Skipped counts the versions of the package that do not parse.
	Skipped int
	// Endpoint says that the query is by endpoint: the matches show the
	// URL each component calls.
	Endpoint bool
	// CSRF is set when the token may open an incident from the query.
	CSRF string
}

// searchPage answers GET /ui/search: the form, and the matches of the
// query it was sent with.
func (s *Server) searchPage(w http.ResponseWriter, r *http.Request, t store.Token) error {
	v := r.URL.Query()
	b := searchBody{Box: v.Get("q"), Range: v.Get("range")}
	req := parseSearch(b.Box, b.Range)
	if req == (incidentRequest{}) {
		return s.render(w, http.StatusOK, "search", "Who runs it?", &t, b)
	}
	b.Asked, b.Endpoint = true, req.Endpoint != ""
	status := http.StatusOK
	q, err := req.query(t)
	if err == nil {
		var ms []store.Match
		if ms, b.Skipped, err = s.find(r.Context(), q); err == nil {
			b.Matches = ms[:min(len(ms), maxUIMatches)]
			b.Truncated = len(ms) > maxUIMatches
		}
	}
	var he *httpError
	switch {
	case errors.As(err, &he) && he.status == http.StatusBadRequest:
		// Shown with the form, to correct.
		b.Error, status = he.msg, he.status
	case err != nil:
		return err
	}
	if _, ok := s.store.(store.Incidents); ok && b.Error == "" && canOpenIncident(t) == nil {
		b.CSRF = csrfToken(t)
	}
	return s.render(w, status, "search", "Who runs it?", &t, b)
}

// openSearchIncidentUI opens an incident from the search form's query,
// as POST /api/v1/incidents does, titled by the form's title or the
// query, and answers with a redirect to it.
func (s *Server) openSearchIncidentUI(w http.ResponseWriter, r *http.Request, t store.Token) error {
	if err := uiAction(w, r, t, canOpenIncident); err != nil {
		return err
	}
	is, err := s.incidentStore()
	if err != nil {
		return err
	}
	req := parseSearch(r.PostFormValue("q"), r.PostFormValue("range"))
	if req == (incidentRequest{}) {
		return badRequest("search: give a purl, a digest, an endpoint or a name")
	}
	req.Title = strings.TrimSpace(r.PostFormValue("title"))
	in, err := req.incident(t, s.opt.Now())
	if err != nil {
		return err
	}
	in.Title = cmp.Or(in.Title, incidentSubject(in))
	page, err := s.openIncident(r.Context(), is, in)
	if err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/ui/incidents/%d", page.ID), http.StatusSeeOther)
	return nil
}
