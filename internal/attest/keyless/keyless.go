// Package keyless signs DSSE payloads the Sigstore way: an ephemeral key,
// a short-lived certificate from Fulcio for an OIDC identity token, and an
// entry in the Rekor transparency log, all written into one Sigstore bundle
// (v0.3, JSON). No long-lived key exists to lose.
//
// The signing itself is sigstore-go's sign package; this package finds the
// identity token ([IDToken]: an explicit token, SIGSTORE_ID_TOKEN, or the
// GitHub Actions token exchange with audience "sigstore"), fills in the
// public-good instance's URLs when none are given, and adapts the result to
// attest.Signer. Bundles it makes verify offline with attest.Verify and a
// trusted root that names the Fulcio CA and Rekor log.
package keyless

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/sigstore/sigstore-go/pkg/sign"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/chainvet/chainvet/internal/attest"
)

// The public-good Sigstore instance, used when Options leave URLs empty.
const (
	PublicFulcio = "https://fulcio.sigstore.dev"
	PublicRekor  = "https://rekor.sigstore.dev"
)

// Audience is the OIDC audience Fulcio accepts.
const Audience = "sigstore"

// Timeout bounds each request to Fulcio, Rekor or the token endpoint.
const Timeout = 30 * time.Second

// maxTokenResponse bounds the GitHub token endpoint's answer: a JWT is a
// few KiB.
const maxTokenResponse = 1 << 20

// ErrNoToken is returned by IDToken when no identity token can be found.
var ErrNoToken = errors.New("keyless: no OIDC identity token: pass one, set SIGSTORE_ID_TOKEN, or run in GitHub Actions with permissions id-token: write")

// Options configure a Signer.
type Options struct {
	// FulcioURL and RekorURL are the Sigstore instance (default: public good).
	FulcioURL string
	RekorURL  string
	// IDToken is the OIDC token Fulcio exchanges for a certificate.
	IDToken string
}

// Signer signs with a fresh ephemeral key per signature.
type Signer struct {
	opts Options
}

var _ attest.Signer = (*Signer)(nil)

// New returns a Signer. The token is required: find one with IDToken.
func New(opts Options) (*Signer, error) {
	if opts.IDToken == "" {
		return nil, ErrNoToken
	}
	if opts.FulcioURL == "" {
		opts.FulcioURL = PublicFulcio
	}
	if opts.RekorURL == "" {
		opts.RekorURL = PublicRekor
	}
	for _, u := range []string{opts.FulcioURL, opts.RekorURL} {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			return nil, fmt.Errorf("keyless: %q is not an http(s) URL", u)
		}
	}
	return &Signer{opts: opts}, nil
}

// Sign gets a certificate for a new ephemeral key, signs the DSSE envelope
// of payload, records it in Rekor and returns the bundle as JSON.
func (s *Signer) Sign(ctx context.Context, payloadType string, payload []byte) ([]byte, error) {
	kp, err := sign.NewEphemeralKeypair(nil)
	if err != nil {
		return nil, fmt.Errorf("keyless: ephemeral key: %w", err)
	}
	b, err := sign.Bundle(&sign.DSSEData{Data: payload, PayloadType: payloadType}, kp, sign.BundleOptions{
		Context:                    ctx,
		CertificateProvider:        sign.NewFulcio(&sign.FulcioOptions{BaseURL: s.opts.FulcioURL, Timeout: Timeout}),
		CertificateProviderOptions: &sign.CertificateProviderOptions{IDToken: s.opts.IDToken},
		TransparencyLogs:           []sign.Transparency{sign.NewRekor(&sign.RekorOptions{BaseURL: s.opts.RekorURL, Timeout: Timeout})},
	})
	if err != nil {
		return nil, fmt.Errorf("keyless: signing with %s and %s: %w", s.opts.FulcioURL, s.opts.RekorURL, err)
	}
	out, err := protojson.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("keyless: encoding bundle: %w", err)
	}
	return out, nil
}

// IDToken returns the OIDC token to sign with: explicit when not empty,
// else SIGSTORE_ID_TOKEN, else GitHub Actions' token for audience
// "sigstore" (ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN, present in a job
// with permissions id-token: write), fetched with client.
func IDToken(ctx context.Context, explicit string, getenv func(string) string, client *http.Client) (string, error) {
	if explicit != "" {
		return explicit, nil
	}
	if t := getenv("SIGSTORE_ID_TOKEN"); t != "" {
		return t, nil
	}
	u, bearer := getenv("ACTIONS_ID_TOKEN_REQUEST_URL"), getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
	if u == "" || bearer == "" {
		return "", ErrNoToken
	}
	req, err := githubTokenRequest(ctx, u, bearer)
	if err != nil {
		return "", err
	}
	if client == nil {
		client = &http.Client{Timeout: Timeout}
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("keyless: GitHub token request: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenResponse))
	if err != nil {
		return "", fmt.Errorf("keyless: GitHub token response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		// The body may echo request details; the status says enough.
		return "", fmt.Errorf("keyless: GitHub token request: %s", resp.Status)
	}
	var v struct {
		Value string `json:"value"`
	}
	if err := json.Unmarshal(body, &v); err != nil || v.Value == "" {
		return "", errors.New("keyless: GitHub token response has no value")
	}
	return v.Value, nil
}

func githubTokenRequest(ctx context.Context, rawURL, bearer string) (*http.Request, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return nil, errors.New("keyless: ACTIONS_ID_TOKEN_REQUEST_URL is not a URL")
	}
	q := u.Query()
	q.Set("audience", Audience)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("keyless: GitHub token request: %w", err)
	}
	req.Header.Set("Authorization", "bearer "+bearer)
	req.Header.Set("Accept", "application/json")
	return req, nil
}
