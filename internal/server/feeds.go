package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/chainvet/chainvet/internal/advisory/osv"
	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/rules/advisories"
	"github.com/chainvet/chainvet/internal/server/store"
)

// Model advisories are OSV records of the
// ecosystem "HuggingFace": a package is a Hugging Face repository id
// ("org/name"), its versions the 40-hex commits of the affected
// revisions, and the files it reports are named by the hash fields of
// malicious-package reports. A model component (pkg:huggingface/org/name@commit)
// matches when its commit is listed; any component matches when one of
// its file digests is.

// isModelAdvisory says whether rec affects a Hugging Face repository.
func isModelAdvisory(rec *osv.Record) bool {
	for _, af := range rec.Affected {
		if af.Package.Ecosystem == store.EcosystemHuggingFace {
			return true
		}
	}
	return false
}

// matchModels matches a model advisory against components: a
// pkg:huggingface component at a listed revision, or any component with a
// listed file digest. Findings are package/malicious for a MAL- record
// and package/vulnerable otherwise.
func matchModels(rec *osv.Record, comps []inventory.Component) []inventory.Finding {
	if !isModelAdvisory(rec) {
		return nil
	}
	hashes := rec.FileHashes()
	var out []inventory.Finding
	for i := range comps {
		c := &comps[i]
		var why string
		repo := store.NormalizeName(store.EcosystemHuggingFace, store.HuggingFaceRepo(c.PURL))
		if rev := store.HuggingFaceRevision(c.PURL); repo != "" && rev != "" {
			for _, af := range rec.Affected {
				if af.Package.Ecosystem != store.EcosystemHuggingFace || store.NormalizeName(af.Package.Ecosystem, af.Package.Name) != repo {
					continue
				}
				if slices.ContainsFunc(af.Versions, func(v string) bool { return strings.EqualFold(strings.TrimSpace(v), rev) }) {
					why = fmt.Sprintf("%s %s@%s", store.EcosystemHuggingFace, repo, rev)
					break
				}
			}
		}
		if why == "" {
		digests:
			for _, d := range c.Digests {
				for _, h := range hashes {
					if h.Algorithm == d.Algorithm && h.Value == strings.ToLower(d.Value) {
						why = h.Algorithm + ":" + h.Value
						if len(c.Locations) > 0 {
							why += " (" + c.Locations[0].Path + ")"
						}
						break digests
					}
				}
			}
		}
		if why == "" {
			continue
		}
		f := inventory.Finding{Component: c.ID, Evidence: why + ": " + strings.Join(rec.Group(), ", ")}
		if len(c.Locations) > 0 {
			f.Path = c.Locations[0].Path
		}
		name := c.Name
		if repo != "" {
			name = repo
		}
		if rec.Malicious() {
			f.Rule, f.Severity = advisories.RuleMalicious, inventory.Critical
			f.Message = fmt.Sprintf("model %s is reported as malicious (%s)", name, rec.ID)
			f.Remediation = "Delete the model's files from every cache and image, treat the machines that loaded them as compromised and rotate their credentials."
		} else {
			f.Rule, f.Severity = advisories.RuleVulnerable, inventory.High
			f.Message = fmt.Sprintf("model %s is at a revision affected by %s", name, rec.ID)
			f.Remediation = fmt.Sprintf("Pin %s to a revision the advisory does not list (revision=<commit> in from_pretrained or the Hub download) and delete the cached affected snapshot.", name)
		}
		if rec.Summary != "" {
			f.Message += ": " + rec.Summary
		}
		out = append(out, f)
	}
	return out
}

// FeedOptions configure a FeedPoller.
type FeedOptions struct {
	// URLs are the feeds polled: each an OSV all.zip or one OSV JSON
	// record, over http or https.
	URLs []string
	// Every is the time between two polls of a feed; 0 means an hour.
	Every time.Duration
	// Lease is how long a replica holds a feed while it downloads and
	// imports it; 0 means 30 minutes. Another replica polls the feed
	// once a lease ends unreleased (its holder stopped).
	Lease time.Duration
	// Check is how often Run looks for due feeds; 0 means a minute, or
	// Every if shorter.
	Check time.Duration
	// Owner names this poller in leases; empty means a random name.
	Owner string
	// Client fetches the feeds; nil means a client whose requests time
	// out after Lease.
	Client *http.Client
	// Log receives a line per poll; nil discards them.
	Log *slog.Logger
}

// A FeedPoller polls advisory feeds and imports those that changed
// through the same path as an upload: stored, then matched at once
// against every deployment. Any number of pollers, in one process or
// several, may share a store: each poll of a feed is leased to one.
type FeedPoller struct {
	s   *Server
	fs  store.FeedStore
	opt FeedOptions
}

// NewFeedPoller returns a poller importing into s.
func NewFeedPoller(s *Server, opt FeedOptions) (*FeedPoller, error) {
	fs, ok := s.store.(store.FeedStore)
	if !ok {
		return nil, errors.New("advisory feeds: the store keeps no feed state")
	}
	for _, u := range opt.URLs {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return nil, fmt.Errorf("advisory feed %q: want an http or https URL", u)
		}
	}
	if opt.Every <= 0 {
		opt.Every = time.Hour
	}
	if opt.Lease <= 0 {
		opt.Lease = 30 * time.Minute
	}
	if opt.Check <= 0 {
		opt.Check = min(time.Minute, opt.Every)
	}
	if opt.Owner == "" {
		b := make([]byte, 8)
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("advisory feeds: %w", err)
		}
		opt.Owner = "poller-" + hex.EncodeToString(b)
	}
	if opt.Client == nil {
		opt.Client = &http.Client{Timeout: opt.Lease}
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	return &FeedPoller{s: s, fs: fs, opt: opt}, nil
}

// Run polls the feeds as they fall due until ctx ends.
func (p *FeedPoller) Run(ctx context.Context) error {
	tick := time.NewTicker(p.opt.Check)
	defer tick.Stop()
	for {
		p.PollDue(ctx)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// PollDue polls each feed that is due and not leased to another poller,
// and returns how many it imported.
func (p *FeedPoller) PollDue(ctx context.Context) int {
	n := 0
	for _, u := range p.opt.URLs {
		if ctx.Err() != nil {
			break
		}
		imported, err := p.poll(ctx, u)
		if err != nil {
			p.opt.Log.Warn("advisory feed", "url", u, "err", err)
		}
		if imported {
			n++
		}
	}
	return n
}

// poll polls one feed if this poller wins its lease.
func (p *FeedPoller) poll(ctx context.Context, feed string) (imported bool, err error) {
	now := p.s.opt.Now().UTC()
	f, ok, err := p.fs.ClaimFeed(ctx, feed, p.opt.Owner, now, p.opt.Lease)
	if err != nil || !ok {
		return false, err
	}
	res, etag, lastMod, perr := p.fetch(ctx, f)
	f.Polled = now
	switch {
	case perr != nil:
		f.LastResult = "failed: " + perr.Error()
	case res == nil:
		f.LastResult = "not modified"
	default:
		// Validators are kept only once the archive is imported, so
		// that a failed import is downloaded again.
		f.ETag, f.LastModified = etag, lastMod
		f.LastResult = fmt.Sprintf("imported %d records: %d added, %d unchanged, %d withdrawn, %d invalid; %d findings opened, %d resolved",
			res.Records, res.Added, res.Unchanged, res.Withdrawn, res.Invalid, res.Opened, res.Resolved)
		imported = true
	}
	p.opt.Log.Info("advisory feed", "url", feed, "result", f.LastResult)
	// The context may have ended: record the poll all the same.
	done, err := p.fs.FinishFeed(context.WithoutCancel(ctx), p.opt.Owner, f, now.Add(p.opt.Every))
	if err != nil {
		return imported, err
	}
	if !done {
		p.opt.Log.Warn("advisory feed: lease lost before the poll ended", "url", feed)
	}
	return imported, perr
}

// fetch downloads the feed if it changed since the validators of f and
// imports it; a nil result means it did not change.
func (p *FeedPoller) fetch(ctx context.Context, f store.AdvisoryFeed) (res *importResult, etag, lastMod string, err error) {
	ctx, cancel := context.WithTimeout(ctx, p.opt.Lease)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.URL, nil)
	if err != nil {
		return nil, "", "", err
	}
	if f.ETag != "" {
		req.Header.Set("If-None-Match", f.ETag)
	}
	if f.LastModified != "" {
		req.Header.Set("If-Modified-Since", f.LastModified)
	}
	resp, err := p.opt.Client.Do(req)
	if err != nil {
		return nil, "", "", err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNotModified:
		return nil, "", "", nil
	case http.StatusOK:
	default:
		return nil, "", "", fmt.Errorf("HTTP %s", resp.Status)
	}
	tmp, err := os.CreateTemp("", "chainvet-feed-*")
	if err != nil {
		return nil, "", "", err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	// One byte more than allowed tells an oversized feed.
	n, err := io.Copy(tmp, io.LimitReader(resp.Body, p.s.opt.MaxAdvisories+1))
	if err != nil {
		return nil, "", "", fmt.Errorf("download: %w", err)
	}
	if n > p.s.opt.MaxAdvisories {
		return nil, "", "", fmt.Errorf("larger than %d bytes", p.s.opt.MaxAdvisories)
	}
	r, err := p.s.importFile(ctx, tmp, n)
	if err != nil {
		var he *httpError
		if errors.As(err, &he) {
			return nil, "", "", errors.New(he.msg)
		}
		return nil, "", "", err
	}
	return &r, resp.Header.Get("ETag"), resp.Header.Get("Last-Modified"), nil
}

// feedStatus is one polled feed as GET /api/v1/feeds shows it.
type feedStatus struct {
	// URL is the feed's, with any user, password and query values
	// replaced by "xxxxx": they may be credentials or signatures.
	URL          string `json:"url"`
	ETag         string `json:"etag"`
	LastModified string `json:"lastModified"`
	LastResult   string `json:"lastResult"`
	// Polled is when the last poll began; absent before the first ends.
	Polled time.Time `json:"polled,omitzero"`
	// NextPoll is when the feed is next due; absent when due at once.
	NextPoll time.Time `json:"nextPoll,omitzero"`
	// Leased says whether a replica holds the feed's lease now, that is,
	// is polling it; LeaseOwner and LeaseUntil say which and until when.
	Leased     bool      `json:"leased"`
	LeaseOwner string    `json:"leaseOwner,omitempty"`
	LeaseUntil time.Time `json:"leaseUntil,omitzero"`
}

// feedStatuses reads the state of the polled feeds at now.
func (s *Server) feedStatuses(ctx context.Context, now time.Time) ([]feedStatus, error) {
	feeds, err := s.store.AdvisoryFeeds(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]feedStatus, len(feeds))
	for i, f := range feeds {
		out[i] = feedStatus{URL: redactURL(f.URL), ETag: f.ETag, LastModified: f.LastModified, LastResult: f.LastResult,
			Polled: f.Polled, NextPoll: f.NextPoll}
		if f.LeaseUntil.After(now) {
			out[i].Leased, out[i].LeaseOwner, out[i].LeaseUntil = true, f.LeaseOwner, f.LeaseUntil
		}
	}
	return out, nil
}

// listFeeds shows the polled feeds to an admin token not limited to a
// project: the feeds serve the whole fleet.
func (s *Server) listFeeds(w http.ResponseWriter, r *http.Request, t store.Token) error {
	if t.Project != "" {
		return fmt.Errorf("%w: token %q is limited to project %s; feed status needs a fleet-wide admin token", errForbidden, t.Name, t.Project)
	}
	feeds, err := s.feedStatuses(r.Context(), s.opt.Now())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"feeds": feeds})
}

// redactURL hides what in a URL may be a secret: the user and password,
// and the value of each query parameter. What cannot be parsed is shown
// as a placeholder.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	if u.User != nil {
		u.User = url.User("xxxxx")
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			q[k] = []string{"xxxxx"}
		}
		u.RawQuery = q.Encode()
	}
	u.Fragment, u.RawFragment = "", ""
	return u.String()
}
