package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/chainvet/chainvet/internal/inventory"
)

// Alert formats: what a webhook receives.
const (
	FormatJSON  = "json"  // chainvet's alert document
	FormatSlack = "slack" // a Slack-compatible {"text", "blocks"} message
)

// Alert modes: when a webhook receives the findings a rule matches.
const (
	ModeImmediate = "immediate" // one delivery per matching run, at once
	ModeDigest    = "digest"    // one delivery per DigestMinutes at most
)

// Delivery statuses.
const (
	DeliveryPending   = "pending"   // waiting for its first or next attempt
	DeliveryDelivered = "delivered" // the receiver answered 2xx
	DeliveryFailed    = "failed"    // every attempt failed; no more are made
)

// An AlertRule sends the findings it matches, as they open, to a webhook.
// Rules are never edited: delete one and add another.
type AlertRule struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	// MinSeverity is the least severity of a finding it matches.
	MinSeverity inventory.Severity `json:"minSeverity"`
	// Tiers, when not empty, are the project criticality tiers it matches.
	Tiers []string `json:"tiers"`
	// Owner and Project, when not empty, are path.Match patterns one of
	// the project's owners and the project's name must match.
	Owner   string `json:"owner,omitempty"`
	Project string `json:"project,omitempty"`
	// URL is the webhook; Secret the HMAC-SHA256 key its deliveries are
	// signed with, stored as given since it is needed to sign.
	URL    string `json:"url"`
	Secret string `json:"-"`
	Format string `json:"format"`
	Mode   string `json:"mode"`
	// DigestMinutes is the period of a digest rule.
	DigestMinutes int       `json:"digestMinutes,omitempty"`
	Created       time.Time `json:"created"`
}

// Matches says whether a finding of a project with these owners and tier
// is one the rule sends.
func (r *AlertRule) Matches(f *Finding) bool {
	if f.Severity < r.MinSeverity {
		return false
	}
	if len(r.Tiers) > 0 && !contains(r.Tiers, f.Tier) {
		return false
	}
	if r.Project != "" {
		if ok, _ := path.Match(r.Project, f.Project); !ok {
			return false
		}
	}
	if r.Owner != "" {
		match := false
		for _, o := range f.Owners {
			if ok, _ := path.Match(r.Owner, o); ok {
				match = true
				break
			}
		}
		if !match {
			return false
		}
	}
	return true
}

func contains(l []string, s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}

// A Delivery is one message to a rule's webhook: the findings it carries,
// and how sending it went.
type Delivery struct {
	ID   int64 `json:"id"`
	Rule int64 `json:"rule"`
	// Findings are what it reports, as they were when they opened.
	Findings []Finding `json:"findings"`
	Created  time.Time `json:"created"`
	Status   string    `json:"status"`
	// Attempts counts the attempts begun, including one in progress.
	Attempts      int       `json:"attempts"`
	NextAttemptAt time.Time `json:"nextAttemptAt"`
	LastError     string    `json:"lastError,omitempty"`
	// Log lists the finished attempts, oldest first (Deliveries only).
	Log []Attempt `json:"log"`
	// Target is the rule to send it by (ClaimDeliveries only).
	Target *AlertRule `json:"-"`
}

// An Attempt is one try at sending a delivery.
type Attempt struct {
	Attempt int       `json:"attempt"`
	At      time.Time `json:"at"`
	// StatusCode is the receiver's answer, 0 when there was none.
	StatusCode int    `json:"statusCode"`
	Error      string `json:"error,omitempty"`
	// Status is the delivery's status after the attempt.
	Status string `json:"status"`
	// NextAttemptAt is when the next attempt is due, if one is.
	NextAttemptAt time.Time `json:"-"`
}

// A DeliveryQuery selects deliveries; empty fields select all.
type DeliveryQuery struct {
	Rule   int64
	Status string
	// Limit caps the answer; 0 means 100.
	Limit int
}

// maxLogged bounds the error text kept of an attempt.
const maxLogged = 512

func (s *sqlStore) AddAlertRule(ctx context.Context, r AlertRule) (int64, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, s.q(`INSERT INTO alert_rules (name, min_severity, tiers, owner_glob, project_glob, url, secret, format, mode, digest_minutes, digest_due, created)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		r.Name, int(r.MinSeverity), jsonList(r.Tiers), r.Owner, r.Project, r.URL, r.Secret, r.Format, r.Mode,
		r.DigestMinutes, r.Created.Add(time.Duration(r.DigestMinutes)*time.Minute).UnixMicro(), r.Created.UnixMicro()).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: add alert rule %s: %w", r.Name, err)
	}
	return id, nil
}

const ruleColumns = `id, name, min_severity, tiers, owner_glob, project_glob, url, secret, format, mode, digest_minutes, created`

// rowScanner is what *sql.Row and *sql.Rows share.
type rowScanner interface{ Scan(dest ...any) error }

func scanRule(sc rowScanner) (AlertRule, error) {
	var r AlertRule
	var sev int
	var tiers string
	var created int64
	if err := sc.Scan(&r.ID, &r.Name, &sev, &tiers, &r.Owner, &r.Project, &r.URL, &r.Secret, &r.Format, &r.Mode, &r.DigestMinutes, &created); err != nil {
		return AlertRule{}, err
	}
	r.MinSeverity, r.Tiers, r.Created = inventory.Severity(sev), parseList(tiers), time.UnixMicro(created).UTC()
	return r, nil
}

func (s *sqlStore) AlertRules(ctx context.Context) ([]AlertRule, error) {
	return s.alertRules(ctx, s.db)
}

// querier is what *sql.DB and *sql.Tx share for reading.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func (s *sqlStore) alertRules(ctx context.Context, q querier) ([]AlertRule, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+ruleColumns+` FROM alert_rules ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: alert rules: %w", err)
	}
	defer rows.Close()
	var out []AlertRule
	for rows.Next() {
		r, err := scanRule(rows)
		if err != nil {
			return nil, fmt.Errorf("store: alert rules: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: alert rules: %w", err)
	}
	return out, nil
}

func (s *sqlStore) DeleteAlertRule(ctx context.Context, id int64) error {
	res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM alert_rules WHERE id = ?`), id)
	if err != nil {
		return fmt.Errorf("store: delete alert rule %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		if err != nil {
			return fmt.Errorf("store: delete alert rule %d: %w", id, err)
		}
		return fmt.Errorf("alert rule %d: %w", id, ErrNotFound)
	}
	return nil
}

// enqueueAlerts queues, in the transaction that opened them, the opened
// findings each rule matches: a delivery per immediate rule, and pending
// items the next digest of each digest rule gathers.
func (s *sqlStore) enqueueAlerts(ctx context.Context, tx *sql.Tx, opened []Finding, now time.Time) error {
	if len(opened) == 0 {
		return nil
	}
	rules, err := s.alertRules(ctx, tx)
	if err != nil || len(rules) == 0 {
		return err
	}
	meta := map[string]Project{}
	for i := range opened {
		f := &opened[i]
		p, ok := meta[f.Project]
		if !ok {
			var owners string
			if err := tx.QueryRowContext(ctx, s.q(`SELECT owners, tier FROM projects WHERE name = ?`), f.Project).Scan(&owners, &p.Tier); err != nil {
				return fmt.Errorf("alerts: project %s: %w", f.Project, err)
			}
			p.Owners = parseList(owners)
			meta[f.Project] = p
		}
		f.Owners, f.Tier = p.Owners, p.Tier
	}
	at := now.UnixMicro()
	for i := range rules {
		r := &rules[i]
		var match []Finding
		for j := range opened {
			if r.Matches(&opened[j]) {
				match = append(match, opened[j])
			}
		}
		if len(match) == 0 {
			continue
		}
		if r.Mode == ModeDigest {
			for _, f := range match {
				b, err := json.Marshal(f)
				if err != nil {
					return fmt.Errorf("alerts: %w", err)
				}
				if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO alert_pending (rule_id, finding, created) VALUES (?, ?, ?)`), r.ID, string(b), at); err != nil {
					return fmt.Errorf("alerts: rule %d: %w", r.ID, err)
				}
			}
			continue
		}
		if err := s.insertDelivery(ctx, tx, r.ID, match, at); err != nil {
			return err
		}
	}
	return nil
}

func (s *sqlStore) insertDelivery(ctx context.Context, tx *sql.Tx, rule int64, fs []Finding, at int64) error {
	b, err := json.Marshal(fs)
	if err != nil {
		return fmt.Errorf("alerts: %w", err)
	}
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO deliveries (rule_id, payload, created, status, next_attempt_at) VALUES (?, ?, ?, ?, ?)`),
		rule, string(b), at, DeliveryPending, at); err != nil {
		return fmt.Errorf("alerts: rule %d: %w", rule, err)
	}
	return nil
}

func (s *sqlStore) FlushDigests(ctx context.Context, now time.Time) (int, error) {
	at := now.UnixMicro()
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT id, digest_minutes, digest_due FROM alert_rules WHERE mode = ? AND digest_due <= ?
AND EXISTS (SELECT 1 FROM alert_pending p WHERE p.rule_id = alert_rules.id) ORDER BY id`), ModeDigest, at)
	if err != nil {
		return 0, fmt.Errorf("store: flush digests: %w", err)
	}
	type due struct{ id, minutes, due int64 }
	var dues []due
	for rows.Next() {
		var d due
		if err := rows.Scan(&d.id, &d.minutes, &d.due); err != nil {
			rows.Close()
			return 0, fmt.Errorf("store: flush digests: %w", err)
		}
		dues = append(dues, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("store: flush digests: %w", err)
	}
	n := 0
	for _, d := range dues {
		ok, err := s.flushDigest(ctx, d.id, d.due, at+d.minutes*int64(time.Minute/time.Microsecond), at)
		if err != nil {
			return n, fmt.Errorf("store: flush digest of rule %d: %w", d.id, err)
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// flushDigest turns a digest rule's pending items into one delivery, if
// its digest is still due at was: of replicas flushing at once, the one
// that moves digest_due on does it.
func (s *sqlStore) flushDigest(ctx context.Context, rule, was, next, at int64) (bool, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, s.q(`UPDATE alert_rules SET digest_due = ? WHERE id = ? AND digest_due = ?`), next, rule, was)
	if err != nil {
		return false, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	rows, err := tx.QueryContext(ctx, s.q(`SELECT id, finding FROM alert_pending WHERE rule_id = ? ORDER BY id`), rule)
	if err != nil {
		return false, err
	}
	var (
		fs   []Finding
		last int64
	)
	for rows.Next() {
		var raw string
		if err := rows.Scan(&last, &raw); err != nil {
			rows.Close()
			return false, err
		}
		var f Finding
		if err := json.Unmarshal([]byte(raw), &f); err != nil {
			rows.Close()
			return false, err
		}
		fs = append(fs, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, err
	}
	if len(fs) == 0 {
		return false, tx.Commit()
	}
	if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM alert_pending WHERE rule_id = ? AND id <= ?`), rule, last); err != nil {
		return false, err
	}
	if err := s.insertDelivery(ctx, tx, rule, fs, at); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

func (s *sqlStore) ClaimDeliveries(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]Delivery, error) {
	at := now.UnixMicro()
	lock := ""
	if s.d.numbered {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	// The lease is the claim: a delivery is sent only by the worker
	// whose lease is current, and attempts count from the claim, so a
	// worker that dies sending still uses one up.
	rows, err := s.db.QueryContext(ctx, s.q(`UPDATE deliveries SET lease_owner = ?, lease_until = ?, attempts = attempts + 1
WHERE id IN (SELECT id FROM deliveries WHERE status = ? AND next_attempt_at <= ? AND lease_until <= ? ORDER BY next_attempt_at, id LIMIT ?`+lock+`)
AND status = ? AND lease_until <= ? RETURNING id`),
		owner, now.Add(lease).UnixMicro(), DeliveryPending, at, at, limit, DeliveryPending, at)
	if err != nil {
		return nil, fmt.Errorf("store: claim deliveries: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: claim deliveries: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: claim deliveries: %w", err)
	}
	out := make([]Delivery, 0, len(ids))
	for _, id := range ids {
		d, err := s.delivery(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("store: claim deliveries: %w", err)
		}
		row := s.db.QueryRowContext(ctx, s.q(`SELECT `+ruleColumns+` FROM alert_rules WHERE id = ?`), d.Rule)
		r, err := scanRule(row)
		if errors.Is(err, sql.ErrNoRows) {
			continue // deleted since, with its deliveries
		}
		if err != nil {
			return nil, fmt.Errorf("store: claim deliveries: %w", err)
		}
		d.Target = &r
		out = append(out, d)
	}
	return out, nil
}

const deliveryColumns = `id, rule_id, payload, created, status, attempts, next_attempt_at, last_error`

func scanDelivery(sc rowScanner) (Delivery, error) {
	var d Delivery
	var payload string
	var created, next int64
	if err := sc.Scan(&d.ID, &d.Rule, &payload, &created, &d.Status, &d.Attempts, &next, &d.LastError); err != nil {
		return Delivery{}, err
	}
	if err := json.Unmarshal([]byte(payload), &d.Findings); err != nil {
		return Delivery{}, fmt.Errorf("delivery %d: payload: %w", d.ID, err)
	}
	d.Created, d.NextAttemptAt = time.UnixMicro(created).UTC(), time.UnixMicro(next).UTC()
	d.Log = []Attempt{}
	return d, nil
}

func (s *sqlStore) delivery(ctx context.Context, id int64) (Delivery, error) {
	return scanDelivery(s.db.QueryRowContext(ctx, s.q(`SELECT `+deliveryColumns+` FROM deliveries WHERE id = ?`), id))
}

func (s *sqlStore) FinishAttempt(ctx context.Context, id int64, owner string, a Attempt) (bool, error) {
	if len(a.Error) > maxLogged {
		a.Error = a.Error[:maxLogged]
	}
	a.Error = strings.ToValidUTF8(strings.ReplaceAll(a.Error, "\x00", ""), "?")
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("store: delivery %d: %w", id, err)
	}
	defer tx.Rollback()
	next := a.NextAttemptAt.UnixMicro()
	if a.Status != DeliveryPending {
		next = a.At.UnixMicro()
	}
	// Only the lease holder records the attempt it made.
	res, err := tx.ExecContext(ctx, s.q(`UPDATE deliveries SET status = ?, next_attempt_at = ?, last_error = ?, lease_owner = '', lease_until = 0
WHERE id = ? AND lease_owner = ? AND attempts = ? AND status = ?`), a.Status, next, a.Error, id, owner, a.Attempt, DeliveryPending)
	if err != nil {
		return false, fmt.Errorf("store: delivery %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO delivery_attempts (delivery_id, attempt, at, status_code, error, status) VALUES (?, ?, ?, ?, ?, ?)`),
		id, a.Attempt, a.At.UnixMicro(), a.StatusCode, a.Error, a.Status); err != nil {
		return false, fmt.Errorf("store: delivery %d: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("store: delivery %d: %w", id, err)
	}
	return true, nil
}

func (s *sqlStore) Deliveries(ctx context.Context, q DeliveryQuery) ([]Delivery, error) {
	where, args := []string{"1 = 1"}, []any{}
	if q.Rule != 0 {
		where, args = append(where, "rule_id = ?"), append(args, q.Rule)
	}
	if q.Status != "" {
		where, args = append(where, "status = ?"), append(args, q.Status)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+deliveryColumns+` FROM deliveries WHERE `+strings.Join(where, " AND ")+` ORDER BY id DESC LIMIT ?`), args...)
	if err != nil {
		return nil, fmt.Errorf("store: deliveries: %w", err)
	}
	var out []Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: deliveries: %w", err)
		}
		out = append(out, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: deliveries: %w", err)
	}
	for i := range out {
		ar, err := s.db.QueryContext(ctx, s.q(`SELECT attempt, at, status_code, error, status FROM delivery_attempts WHERE delivery_id = ? ORDER BY attempt`), out[i].ID)
		if err != nil {
			return nil, fmt.Errorf("store: deliveries: %w", err)
		}
		for ar.Next() {
			var a Attempt
			var at int64
			if err := ar.Scan(&a.Attempt, &at, &a.StatusCode, &a.Error, &a.Status); err != nil {
				ar.Close()
				return nil, fmt.Errorf("store: deliveries: %w", err)
			}
			a.At = time.UnixMicro(at).UTC()
			out[i].Log = append(out[i].Log, a)
		}
		ar.Close()
		if err := ar.Err(); err != nil {
			return nil, fmt.Errorf("store: deliveries: %w", err)
		}
	}
	return out, nil
}
