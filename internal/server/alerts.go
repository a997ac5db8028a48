package server

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/server/store"
)

// Webhook headers. SignatureHeader carries "sha256=" and the lower-case
// hex HMAC-SHA256 of the body keyed with the rule's secret;
// DeliveryHeader the delivery's id, the same on every attempt, for the
// receiver to drop a repeat.
const (
	SignatureHeader = "X-Chainvet-Signature"
	DeliveryHeader  = "X-Chainvet-Delivery"
)

// AlertSchema names the document of the json format.
const AlertSchema = "chainvet/alert/v1"

// SecretPrefix starts every webhook secret.
const SecretPrefix = "cvwh_"

// Limits of alert rules.
const (
	maxURL           = 2048
	maxDigestMinutes = 7 * 24 * 60
	// maxSlackBlocks keeps a Slack message within Slack's 50 blocks.
	maxSlackBlocks = 40
)

// Sign returns the X-Chainvet-Signature value of body under secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// alertRuleRequest is the body of POST /api/v1/alert-rules.
type alertRuleRequest struct {
	Name          string   `json:"name"`
	MinSeverity   string   `json:"minSeverity"`
	Tiers         []string `json:"tiers"`
	Owner         string   `json:"owner"`
	Project       string   `json:"project"`
	URL           string   `json:"url"`
	Format        string   `json:"format"`
	Mode          string   `json:"mode"`
	DigestMinutes int      `json:"digestMinutes"`
}

// alertRuleAnswer shows a new rule with its secret, the only time the
// secret is shown.
type alertRuleAnswer struct {
	store.AlertRule
	Secret string `json:"secret"`
}

// requireFleetAdmin refuses tokens limited to one project: alert rules
// and deliveries concern the whole fleet.
func requireFleetAdmin(t store.Token) error {
	if t.Project != "" {
		return fmt.Errorf("%w: token %q is limited to project %s; alert rules need a fleet-wide admin token", errForbidden, t.Name, t.Project)
	}
	return nil
}

func (s *Server) postAlertRule(w http.ResponseWriter, r *http.Request, t store.Token) error {
	if err := requireFleetAdmin(t); err != nil {
		return err
	}
	var req alertRuleRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxSmallBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return badRequest("alert rule: %v", err)
	}
	rule, err := checkAlertRule(req)
	if err != nil {
		return err
	}
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return fmt.Errorf("alert rule secret: %w", err)
	}
	rule.Secret = SecretPrefix + base64.RawURLEncoding.EncodeToString(b)
	rule.Created = s.opt.Now().UTC()
	if rule.ID, err = s.store.AddAlertRule(r.Context(), rule); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, alertRuleAnswer{AlertRule: rule, Secret: rule.Secret})
}

// checkAlertRule validates a request and fills in its defaults.
func checkAlertRule(req alertRuleRequest) (store.AlertRule, error) {
	r := store.AlertRule{Name: req.Name, Tiers: nonNil(req.Tiers), Owner: req.Owner, Project: req.Project,
		URL: req.URL, Format: req.Format, Mode: req.Mode, DigestMinutes: req.DigestMinutes}
	if r.Name == "" {
		return r, badRequest("alert rule: give a name")
	}
	fields := append([]string{r.Name, r.Owner, r.Project}, r.Tiers...)
	if len(r.Tiers) > 16 {
		return r, badRequest("alert rule: at most 16 tiers")
	}
	for _, v := range fields {
		if err := checkField("alert rule name, tier, owner or project", v); err != nil {
			return r, err
		}
	}
	for _, g := range []string{r.Owner, r.Project} {
		if _, err := path.Match(g, ""); err != nil {
			return r, badRequest("alert rule: pattern %q: %v", g, err)
		}
	}
	if req.MinSeverity != "" {
		sev, err := inventory.ParseSeverity(req.MinSeverity)
		if err != nil {
			return r, badRequest("alert rule: minSeverity: %v", err)
		}
		r.MinSeverity = sev
	}
	u, err := url.Parse(r.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || len(r.URL) > maxURL {
		return r, badRequest("alert rule: url: an http or https URL of at most %d bytes, without user information", maxURL)
	}
	if r.Format == "" {
		r.Format = store.FormatJSON
	}
	if r.Format != store.FormatJSON && r.Format != store.FormatSlack {
		return r, badRequest("alert rule: format %q: want json or slack", r.Format)
	}
	if r.Mode == "" {
		r.Mode = store.ModeImmediate
	}
	switch r.Mode {
	case store.ModeImmediate:
		if r.DigestMinutes != 0 {
			return r, badRequest("alert rule: digestMinutes is for mode digest")
		}
	case store.ModeDigest:
		if r.DigestMinutes < 1 || r.DigestMinutes > maxDigestMinutes {
			return r, badRequest("alert rule: digestMinutes: a number from 1 to %d", maxDigestMinutes)
		}
	default:
		return r, badRequest("alert rule: mode %q: want immediate or digest", r.Mode)
	}
	return r, nil
}

func (s *Server) listAlertRules(w http.ResponseWriter, r *http.Request, t store.Token) error {
	if err := requireFleetAdmin(t); err != nil {
		return err
	}
	rules, err := s.store.AlertRules(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"rules": nonNil(rules)})
}

func (s *Server) deleteAlertRule(w http.ResponseWriter, r *http.Request, t store.Token) error {
	if err := requireFleetAdmin(t); err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return badRequest("alert rule id: a positive number")
	}
	if err := s.store.DeleteAlertRule(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request, t store.Token) error {
	if err := requireFleetAdmin(t); err != nil {
		return err
	}
	v := r.URL.Query()
	q := store.DeliveryQuery{Status: v.Get("status")}
	switch q.Status {
	case "", store.DeliveryPending, store.DeliveryDelivered, store.DeliveryFailed:
	default:
		return badRequest("status: pending, delivered or failed")
	}
	if rule := v.Get("rule"); rule != "" {
		id, err := strconv.ParseInt(rule, 10, 64)
		if err != nil || id < 1 {
			return badRequest("rule: a positive number")
		}
		q.Rule = id
	}
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			return badRequest("limit: a number from 1 to 1000")
		}
		q.Limit = n
	}
	ds, err := s.store.Deliveries(r.Context(), q)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"deliveries": nonNil(ds)})
}

// AlertDocument is the body of a json-format delivery.
type AlertDocument struct {
	Schema   string `json:"schema"`
	Delivery int64  `json:"delivery"`
	Rule     struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	} `json:"rule"`
	Mode     string          `json:"mode"`
	Created  time.Time       `json:"created"`
	Findings []store.Finding `json:"findings"`
}

// slackMessage is the body of a slack-format delivery.
type slackMessage struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks"`
}

type slackBlock struct {
	Type string     `json:"type"`
	Text *slackText `json:"text,omitempty"`
}

type slackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// Payload renders a delivery for its rule's format. It depends on
// nothing but the delivery and rule, so every attempt sends the same
// bytes.
func Payload(d store.Delivery, r *store.AlertRule) ([]byte, error) {
	if r.Format == store.FormatSlack {
		return json.Marshal(slackPayload(d, r))
	}
	doc := AlertDocument{Schema: AlertSchema, Delivery: d.ID, Mode: r.Mode, Created: d.Created, Findings: nonNil(d.Findings)}
	doc.Rule.ID, doc.Rule.Name = r.ID, r.Name
	return json.Marshal(doc)
}

// slackEscaper escapes what Slack's mrkdwn reads as markup.
var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func slackPayload(d store.Delivery, r *store.AlertRule) slackMessage {
	worst := inventory.Info
	for _, f := range d.Findings {
		worst = max(worst, f.Severity)
	}
	summary := fmt.Sprintf("chainvet: %d new finding(s), worst %s (rule %s)", len(d.Findings), worst, r.Name)
	m := slackMessage{Text: slackEscaper.Replace(summary)}
	m.Blocks = append(m.Blocks, slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn", Text: "*" + slackEscaper.Replace(summary) + "*"}})
	for i, f := range d.Findings {
		if i == maxSlackBlocks {
			m.Blocks = append(m.Blocks, slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn",
				Text: fmt.Sprintf("…and %d more: GET /api/v1/deliveries?rule=%d", len(d.Findings)-i, r.ID)}})
			break
		}
		line := fmt.Sprintf("*%s* %s in %s/%s: %s %s\n%s", f.Severity, f.Advisory, f.Project, f.Env, f.Name, f.Version, f.Remediation)
		if len(f.Owners) > 0 {
			line += "\nowners: " + strings.Join(f.Owners, ", ")
		}
		m.Blocks = append(m.Blocks, slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn", Text: slackEscaper.Replace(line)}})
	}
	return m
}

// WorkerOptions configure a Worker. The zero value is usable.
type WorkerOptions struct {
	// Owner names this worker in delivery leases; empty means a random
	// name. Two workers must not share one.
	Owner string
	// Client sends the webhooks; nil means a client that follows no
	// redirects.
	Client *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Timeout bounds one attempt; 0 means 10 seconds.
	Timeout time.Duration
	// MaxAttempts is how many attempts a delivery gets before it is
	// failed; 0 means 8.
	MaxAttempts int
	// Backoff is the wait after the first failed attempt, doubled after
	// each next one up to MaxBackoff; 0 means 30 seconds and 1 hour.
	Backoff, MaxBackoff time.Duration
	// Poll is how often Run looks for due work; 0 means 5 seconds.
	Poll time.Duration
	// Batch is the most deliveries claimed at once; 0 means 16.
	Batch int
	// Log receives a line per failed attempt; nil discards them.
	Log *slog.Logger
}

// A Worker sends the queued deliveries of a store. Any number of workers,
// in one process or several, may share a store: each delivery is leased
// to one of them at a time.
type Worker struct {
	st  store.Store
	opt WorkerOptions
}

// NewWorker returns a worker on st.
func NewWorker(st store.Store, opt WorkerOptions) (*Worker, error) {
	if opt.Owner == "" {
		b := make([]byte, 8)
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("alert worker: %w", err)
		}
		opt.Owner = "worker-" + hex.EncodeToString(b)
	}
	if opt.Client == nil {
		opt.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 10 * time.Second
	}
	if opt.MaxAttempts <= 0 {
		opt.MaxAttempts = 8
	}
	if opt.Backoff <= 0 {
		opt.Backoff = 30 * time.Second
	}
	if opt.MaxBackoff <= 0 {
		opt.MaxBackoff = time.Hour
	}
	if opt.Poll <= 0 {
		opt.Poll = 5 * time.Second
	}
	if opt.Batch <= 0 {
		opt.Batch = 16
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	return &Worker{st: st, opt: opt}, nil
}

// Run sends deliveries as they fall due until ctx ends.
func (w *Worker) Run(ctx context.Context) error {
	tick := time.NewTicker(w.opt.Poll)
	defer tick.Stop()
	for {
		if _, err := w.Tick(ctx); err != nil && ctx.Err() == nil {
			w.opt.Log.Error("alert worker", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// Tick flushes the digests that are due, then claims and sends the
// deliveries due now, once each, and returns how many it attempted.
func (w *Worker) Tick(ctx context.Context) (int, error) {
	if _, err := w.st.FlushDigests(ctx, w.opt.Now()); err != nil {
		return 0, err
	}
	// The lease outlives the attempt, so no other worker claims a
	// delivery while this one may still be sending it.
	ds, err := w.st.ClaimDeliveries(ctx, w.opt.Owner, w.opt.Now(), 2*w.opt.Timeout+time.Minute, w.opt.Batch)
	if err != nil {
		return 0, err
	}
	for _, d := range ds {
		if err := w.attempt(ctx, d); err != nil {
			return 0, err
		}
	}
	return len(ds), nil
}

// attempt sends a claimed delivery once and records how it went.
func (w *Worker) attempt(ctx context.Context, d store.Delivery) error {
	code, sendErr := w.send(ctx, d)
	a := store.Attempt{Attempt: d.Attempts, At: w.opt.Now().UTC(), StatusCode: code, Status: store.DeliveryDelivered}
	switch {
	case sendErr == nil:
	case d.Attempts >= w.opt.MaxAttempts:
		a.Status, a.Error = store.DeliveryFailed, sendErr.Error()
	default:
		a.Status, a.Error = store.DeliveryPending, sendErr.Error()
		a.NextAttemptAt = a.At.Add(w.backoff(d.Attempts))
	}
	if sendErr != nil {
		w.opt.Log.Warn("webhook attempt failed", "delivery", d.ID, "rule", d.Rule, "attempt", d.Attempts, "err", sendErr)
	}
	if _, err := w.st.FinishAttempt(ctx, d.ID, w.opt.Owner, a); err != nil {
		return fmt.Errorf("alert worker: delivery %d: %w", d.ID, err)
	}
	return nil
}

// backoff is the wait after the n-th failed attempt: Backoff doubled n-1
// times, at most MaxBackoff, less up to half of it at random so that
// receivers coming back are not hit by every sender at once.
func (w *Worker) backoff(n int) time.Duration {
	d := w.opt.Backoff
	for i := 1; i < n && d < w.opt.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, w.opt.MaxBackoff)
	return d - time.Duration(mrand.Int64N(int64(d)/2+1))
}

// send POSTs a delivery and returns the receiver's status code.
func (w *Worker) send(ctx context.Context, d store.Delivery) (int, error) {
	body, err := Payload(d, d.Target)
	if err != nil {
		return 0, fmt.Errorf("payload: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, w.opt.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.Target.URL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "chainvet-webhook")
	req.Header.Set(SignatureHeader, Sign(d.Target.Secret, body))
	req.Header.Set(DeliveryHeader, strconv.FormatInt(d.ID, 10))
	resp, err := w.opt.Client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is in the log already
		}
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("receiver answered %s", resp.Status)
	}
	return resp.StatusCode, nil
}
