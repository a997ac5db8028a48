package storetest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/chainvet/chainvet/internal/server/store"
)

// hexHash is a token hash of 64 hex digits starting with prefix.
func hexHash(prefix string) string {
	return prefix + strings.Repeat("0", 64-len(prefix))
}

// testTokenLifecycle checks token IDs, expiry, listing and revocation,
// and that a second store on the same database (another replica) sees a
// revocation at once.
func testTokenLifecycle(t *testing.T, s, replica store.Store) {
	ctx := context.Background()
	ci := store.Token{Hash: hexHash("c1"), Name: "ci", Scope: store.ScopePush, Project: "web", Created: t0, Expires: t0.Add(720 * time.Hour)}
	admin := store.Token{Hash: hexHash("a1"), Name: "admin", Scope: store.ScopeAdmin, Created: t0.Add(time.Second)}
	reader := store.Token{Hash: hexHash("b1"), Name: "reader", Scope: store.ScopeRead, Project: "api", Created: t0.Add(2 * time.Second)}
	for _, tok := range []store.Token{ci, admin, reader} {
		if err := s.AddToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.Token(ctx, ci.Hash); err != nil || !got.Expires.Equal(ci.Expires) {
		t.Errorf("Token(ci) = %+v, %v; want expiry %v", got, err, ci.Expires)
	}
	// Another hash with the same first 16 digits would share ci's ID.
	twin := store.Token{Hash: ci.Hash[:store.TokenIDLen] + strings.Repeat("f", 64-store.TokenIDLen), Name: "twin", Scope: store.ScopeRead, Created: t0}
	if err := s.AddToken(ctx, twin); err == nil {
		t.Error("a token whose ID another has was stored")
	}
	if ci.ID() != hexHash("c1")[:16] || len(ci.ID()) != store.TokenIDLen {
		t.Errorf("ID() = %q", ci.ID())
	}

	for _, tt := range []struct {
		project string
		want    []store.Token
	}{
		{"", []store.Token{ci, admin, reader}},
		{"web", []store.Token{ci}},
		{"none", nil},
	} {
		got, err := s.Tokens(ctx, tt.project)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("Tokens(%q) (-want +got):\n%s", tt.project, d)
		}
	}

	if got, err := s.TokenByID(ctx, admin.ID()); err != nil || got.Hash != admin.Hash {
		t.Errorf("TokenByID(admin) = %+v, %v", got, err)
	}
	for _, id := range []string{"0000000000000000", hexHash("c1")[:15], ""} {
		if _, err := s.TokenByID(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("TokenByID(%q): err %v, want ErrNotFound", id, err)
		}
		if _, err := s.RevokeToken(ctx, id, t0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RevokeToken(%q): err %v, want ErrNotFound", id, err)
		}
	}

	// A revocation is kept with its first time, and seen by the replica.
	at := t0.Add(time.Hour)
	for i, when := range []time.Time{at, at.Add(time.Hour)} {
		got, err := s.RevokeToken(ctx, ci.ID(), when)
		if err != nil || !got.Revoked.Equal(at) {
			t.Errorf("RevokeToken #%d = %+v, %v; want revoked at %v", i+1, got, err, at)
		}
	}
	got, err := replica.Token(ctx, ci.Hash)
	if err != nil || !got.Revoked.Equal(at) {
		t.Errorf("replica's Token after revocation = %+v, %v", got, err)
	}
	l, err := replica.Tokens(ctx, "")
	if err != nil || len(l) != 3 || !l[0].Revoked.Equal(at) || !l[1].Revoked.IsZero() {
		t.Errorf("Tokens after revocation = %+v, %v; want ci revoked, still listed", l, err)
	}
}
