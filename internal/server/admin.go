package server

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/chainvet/chainvet/internal/server/store"
)

// The admin page (/ui/admin) shows an admin token what the API's admin
// routes list: the tokens, with a button to revoke each, and, to a token
// not limited to a project, the alert rules, the latest webhook
// deliveries and the state of the polled advisory feeds.

// maxUIDeliveries is the number of latest deliveries the admin page lists.
const maxUIDeliveries = 50

type adminBody struct {
	// Tokens are those the token may see, as GET /api/v1/tokens lists
	// them, with their state at Now.
	Tokens []adminToken
	// Fleet says that the token is not limited to a project; only then
	// are Rules, Deliveries and Feeds filled.
	Fleet      bool
	Rules      []adminRule
	Deliveries []store.Delivery
	Feeds      []feedStatus
	CSRF       string
}

// An adminToken is a listed token with its state.
type adminToken struct {
	tokenInfo
	// State is "active", "expired" or "revoked".
	State string
}

// An adminRule is an alert rule without its secret, and with only the
// host of its webhook: a webhook's path or query is often a secret too
// (a Slack webhook's is).
type adminRule struct {
	store.AlertRule
	Host string
}

func (s *Server) adminPage(w http.ResponseWriter, r *http.Request, t store.Token) error {
	if err := needAdmin(t); err != nil {
		return err
	}
	ctx := r.Context()
	now := s.opt.Now()
	ts, err := s.store.Tokens(ctx, t.Project)
	if err != nil {
		return err
	}
	b := adminBody{Fleet: t.Project == "", CSRF: csrfToken(t)}
	for _, x := range ts {
		b.Tokens = append(b.Tokens, adminToken{tokenInfo: infoOf(x), State: tokenState(x, now)})
	}
	if b.Fleet {
		rules, err := s.store.AlertRules(ctx)
		if err != nil {
			return err
		}
		for _, rule := range rules {
			rule.Secret = ""
			host := "(invalid URL)"
			if u, err := url.Parse(rule.URL); err == nil {
				host = u.Host
			}
			rule.URL = ""
			b.Rules = append(b.Rules, adminRule{AlertRule: rule, Host: host})
		}
		if b.Deliveries, err = s.store.Deliveries(ctx, store.DeliveryQuery{Limit: maxUIDeliveries}); err != nil {
			return err
		}
		if b.Feeds, err = s.feedStatuses(ctx, now); err != nil {
			return err
		}
	}
	return s.render(w, http.StatusOK, "admin", "Administration", &t, b)
}

// tokenState says whether t works at now.
func tokenState(t store.Token, now time.Time) string {
	switch {
	case !t.Revoked.IsZero():
		return "revoked"
	case !t.Expires.IsZero() && !now.Before(t.Expires):
		return "expired"
	}
	return "active"
}

// revokeTokenUI revokes a token, as DELETE /api/v1/tokens/{id} does, and
// goes back to the admin page.
func (s *Server) revokeTokenUI(w http.ResponseWriter, r *http.Request, t store.Token) error {
	if err := uiAction(w, r, t, needAdmin); err != nil {
		return err
	}
	if _, err := s.revoke(r.Context(), t, r.PathValue("id")); err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/ui/admin#token-%s", r.PathValue("id")), http.StatusSeeOther)
	return nil
}
