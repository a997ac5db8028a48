package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"github.com/chainvet/chainvet/internal/advisory/osv"
)

// RematcherOptions configure a Rematcher. The zero value is usable.
type RematcherOptions struct {
	// Owner names this rematcher in leases; empty means a random name.
	Owner string
	// Now is the clock; nil means the server's.
	Now func() time.Time
	// Grace is how long work stays with the request that made it before
	// a rematcher takes it up; 0 means 2 minutes. The request matches
	// at once and is done long before, unless its server stopped.
	Grace time.Duration
	// Lease is how long a rematcher holds what it claimed; 0 means 15
	// minutes. Another takes it up once a lease ends unreleased.
	Lease time.Duration
	// Poll is how often Run looks for work; 0 means 30 seconds.
	Poll time.Duration
	// Batch is the most advisories, and the most deployments, claimed at
	// once; 0 means 64.
	Batch int
	// Log receives a line per piece of work that failed; nil discards them.
	Log *slog.Logger
}

// A Rematcher finishes matching that no request finished. The server
// matches an advisory against the fleet, and a push against the
// advisories, in the request that stores it; a server that stops between
// storing and matching leaves the work in the store (see
// store.MatchStore), and a rematcher on any replica completes it: it
// matches advisories never marked matched and deployments whose latest
// report was never matched, and resolves the open findings of advisories
// withdrawn meanwhile. Any number may share a store: each piece is
// leased to one.
type Rematcher struct {
	s   *Server
	opt RematcherOptions
}

// NewRematcher returns a rematcher working for s.
func NewRematcher(s *Server, opt RematcherOptions) (*Rematcher, error) {
	if opt.Owner == "" {
		b := make([]byte, 8)
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("rematcher: %w", err)
		}
		opt.Owner = "rematcher-" + hex.EncodeToString(b)
	}
	if opt.Now == nil {
		opt.Now = s.opt.Now
	}
	if opt.Grace <= 0 {
		opt.Grace = 2 * time.Minute
	}
	if opt.Lease <= 0 {
		opt.Lease = 15 * time.Minute
	}
	if opt.Poll <= 0 {
		opt.Poll = 30 * time.Second
	}
	if opt.Batch <= 0 {
		opt.Batch = 64
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	return &Rematcher{s: s, opt: opt}, nil
}

// Run looks for work every Poll until ctx ends.
func (m *Rematcher) Run(ctx context.Context) error {
	tick := time.NewTicker(m.opt.Poll)
	defer tick.Stop()
	for {
		// Batches follow each other while there is leased work (after an
		// upgrade that re-indexed old reports, say); orphans need no lease
		// and are resolved once each, so they do not keep the loop going.
		for {
			leased, _, err := m.tick(ctx)
			if err != nil && ctx.Err() == nil {
				m.opt.Log.Error("rematcher", "err", err)
			}
			if err != nil || leased == 0 {
				break
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// Tick claims one batch of work, does it, and returns how many pieces it
// claimed. A piece that cannot be done — a stored record or report that
// no longer parses — is logged and counted done, so that it does not
// come back forever; a failing database is an error.
func (m *Rematcher) Tick(ctx context.Context) (int, error) {
	_, n, err := m.tick(ctx)
	return n, err
}

// tick is Tick, saying also how many pieces it leased.
func (m *Rematcher) tick(ctx context.Context) (leased, total int, err error) {
	now := m.opt.Now().UTC()
	w, err := m.s.store.ClaimMatchWork(ctx, m.opt.Owner, now.Add(-m.opt.Grace), now, m.opt.Lease, m.opt.Batch)
	if err != nil {
		return 0, 0, err
	}
	for _, a := range w.Advisories {
		rec, err := osv.Parse(a.Raw)
		if err != nil {
			m.opt.Log.Error("rematcher: stored advisory does not parse", "advisory", a.ID, "err", err)
		} else if _, _, err := m.s.Rematch(ctx, rec); err != nil {
			return 0, 0, err
		}
		if err := m.s.store.MarkMatched(ctx, a.ID, a.Modified); err != nil {
			return 0, 0, err
		}
	}
	for _, d := range w.Deployments {
		if err := m.matchDeployment(ctx, d.Project, d.Env, d.ReportID); err != nil {
			return 0, 0, err
		}
	}
	for _, id := range w.Orphans {
		// Matched as withdrawn: every open finding of it resolves.
		if _, _, err := m.s.Rematch(ctx, &osv.Record{ID: id, Withdrawn: now}); err != nil {
			return 0, 0, err
		}
	}
	leased = len(w.Advisories) + len(w.Deployments)
	return leased, leased + len(w.Orphans), nil
}

func (m *Rematcher) matchDeployment(ctx context.Context, project, env string, id int64) error {
	body, err := m.s.store.ReportBody(ctx, id)
	if err != nil {
		return err
	}
	_, comps, err := parseUpload(body)
	if err != nil {
		m.opt.Log.Error("rematcher: stored report does not parse", "project", project, "env", env, "report", id, "err", err)
	} else if _, _, err := m.s.matchReport(ctx, project, env, id, comps); err != nil {
		return err
	}
	return m.s.store.MarkDeploymentMatched(ctx, project, env, id, m.opt.Owner)
}
