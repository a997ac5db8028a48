package store

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzEndpoint checks what uploads' endpoint properties become: never a
// panic; a host that is lower case, holds no user information, and is its
// own host again; a cleaned URL whose host is the same one.
func FuzzEndpoint(f *testing.F) {
	for _, s := range []string{
		"https://api.openai.com/v1", "HTTPS://user:pw@API.OpenAI.com:443/v1?key=x#f", "api.openai.com",
		"http://[::1]:80/x", "grpc://h:443", "wss://h:444", "host:name", "://", "http://", "a b", "%zz",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		host, clean, err := parseEndpoint(s)
		if err != nil {
			return
		}
		if host != strings.ToLower(host) || strings.Contains(host, "@") {
			t.Errorf("%q: host %q not lower case or holds user information", s, host)
		}
		if again, err := EndpointHost(host); err != nil || again != host {
			t.Errorf("%q: host %q reads back as %q, %v", s, host, again, err)
		}
		if h, err := EndpointHost(clean); err != nil || h != host {
			t.Errorf("%q: cleaned %q has host %q, %v; want %q", s, clean, h, err, host)
		}
		rest := clean
		if _, r, ok := strings.Cut(clean, "://"); ok {
			rest = r
		}
		if u, err := url.Parse("//" + rest); err != nil || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			t.Errorf("%q: cleaned %q keeps user information, a query or a fragment (%v)", s, clean, err)
		}
	})
}
