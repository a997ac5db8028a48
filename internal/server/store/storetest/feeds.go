package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/chainvet/chainvet/internal/server/store"
)

// Feeds tests the advisory-feed state of a store: leases, their expiry
// and the state a finished poll leaves. Run it as a case of Run's table:
// {"advisory_feeds", storetest.Feeds}.
func Feeds(t *testing.T, dsn string, s store.Store) {
	fs, ok := s.(store.FeedStore)
	if !ok {
		t.Fatal("the store keeps no feed state")
	}
	ctx := context.Background()
	const u = "https://example.invalid/all.zip"
	steps := []struct {
		name   string
		owner  string
		at     time.Duration
		claim  bool // claim, else finish
		want   bool
		finish store.AdvisoryFeed
	}{
		{"first claim", "a", 0, true, true, store.AdvisoryFeed{}},
		{"held", "b", 59 * time.Second, true, false, store.AdvisoryFeed{}},
		{"expired", "b", time.Minute, true, true, store.AdvisoryFeed{}},
		{"held by b", "a", 90 * time.Second, true, false, store.AdvisoryFeed{}},
		{"lost lease finishes nothing", "a", 100 * time.Second, false, false, store.AdvisoryFeed{URL: u, ETag: `"x"`}},
		{"lease holder finishes", "b", 100 * time.Second, false, true,
			store.AdvisoryFeed{URL: u, ETag: `"y"`, LastModified: "Sun, 01 Nov 2026 12:00:00 GMT", LastResult: "imported", Polled: t0}},
		{"not due", "c", 30 * time.Minute, true, false, store.AdvisoryFeed{}},
		{"due", "c", time.Hour + 100*time.Second, true, true, store.AdvisoryFeed{}},
	}
	for _, st := range steps {
		now := t0.Add(st.at)
		if st.claim {
			f, ok, err := fs.ClaimFeed(ctx, u, st.owner, now, time.Minute)
			if err != nil || ok != st.want {
				t.Fatalf("%s: claim = %v, %v; want %v", st.name, ok, err, st.want)
			}
			if st.name == "due" && (f.ETag != `"y"` || f.LastModified == "" || !f.Polled.Equal(t0)) {
				t.Errorf("%s: claimed state %+v", st.name, f)
			}
			continue
		}
		ok, err := fs.FinishFeed(ctx, st.owner, st.finish, now.Add(time.Hour))
		if err != nil || ok != st.want {
			t.Fatalf("%s: finish = %v, %v; want %v", st.name, ok, err, st.want)
		}
	}
	// The last step left c holding the lease of the feed b polled.
	feeds, err := fs.AdvisoryFeeds(ctx)
	if err != nil {
		t.Fatal(err)
	}
	due := t0.Add(time.Hour + 100*time.Second)
	want := []store.AdvisoryFeed{{URL: u, ETag: `"y"`, LastModified: "Sun, 01 Nov 2026 12:00:00 GMT", LastResult: "imported",
		Polled: t0, NextPoll: due, LeaseOwner: "c", LeaseUntil: due.Add(time.Minute)}}
	if d := cmp.Diff(want, feeds); d != "" {
		t.Errorf("AdvisoryFeeds (-want +got):\n%s", d)
	}
}

// FeedsTwoReplicas claims one feed from many goroutines on two stores
// opened on one database: exactly one claim wins.
func FeedsTwoReplicas(t *testing.T, a, b store.Store) {
	var won atomic.Int64
	var wg sync.WaitGroup
	for i := range 8 {
		fs := []store.Store{a, b}[i%2].(store.FeedStore)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, ok, err := fs.ClaimFeed(context.Background(), "https://example.invalid/x", fmt.Sprint("r", i), t0, time.Hour)
			if err != nil {
				t.Error(err)
			}
			if ok {
				won.Add(1)
			}
		}()
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Errorf("%d claims won, want 1", won.Load())
	}
}
