// Package store keeps what the fleet server knows — projects, the reports
// pushed for them, their components flattened for queries, and API tokens —
// in SQLite (embedded, the default) or PostgreSQL (for several replicas).
//
// Open picks the backend from the DSN. Both run the same SQL, the same
// versioned migrations and the same test suite (package storetest). All
// coordination between replicas goes through the database: idempotent
// ingest is a UNIQUE constraint, the latest report of a deployment is an
// upserted row, and migrations and bootstrap are serialised by it.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/chainvet/chainvet/internal/inventory"
)

// ErrNotFound reports that a project, report or token does not exist.
var ErrNotFound = errors.New("store: not found")

// A Store is the server's database. Its methods are safe for concurrent
// use, and for use by several processes sharing one database.
type Store interface {
	Incidents  // incidents.go
	FeedStore  // advisory feeds polled by the server
	MatchStore // matching work left over (matching.go)
	// PutProject creates a project or replaces its owners, tier and tags.
	PutProject(ctx context.Context, p Project) error
	// Projects lists every project, by name.
	Projects(ctx context.Context) ([]Project, error)
	// Project returns one project, or ErrNotFound.
	Project(ctx context.Context, name string) (Project, error)

	// AddReport stores an upload in one transaction, creating its project
	// if needed. An upload whose project, version, environment and digest
	// are already stored is not stored again: AddReport returns the first
	// one's ID with created false.
	AddReport(ctx context.Context, u Upload) (id int64, created bool, err error)
	// Reports lists a project's reports, newest first, at most limit.
	Reports(ctx context.Context, project string, limit int) ([]ReportInfo, error)
	// Deployments lists the latest report of each environment of a project.
	Deployments(ctx context.Context, project string) ([]ReportInfo, error)
	// ReportBody returns the document of a report as it was uploaded.
	ReportBody(ctx context.Context, id int64) ([]byte, error)
	// FindComponents answers "who runs X?" across the fleet. It refuses
	// a query with a Range: see FindComponentsInRange.
	FindComponents(ctx context.Context, q ComponentQuery) ([]Match, error)
	// FindComponentsInRange answers "who runs a version of this package
	// in this range?": q names a package (Ecosystem and Package, or a
	// PURL without a version) and a Range. A stored version that does
	// not parse in the package's ecosystem is not matched: skipped
	// counts those, distinct, among the rows the query reads. An error
	// wrapping version.ErrUnsupported or version.ErrInvalid is the
	// query's fault.
	FindComponentsInRange(ctx context.Context, q ComponentQuery) (ms []Match, skipped int, err error)

	// AddToken stores a token (its hash, never the token).
	AddToken(ctx context.Context, t Token) error
	// Token returns the token with this SHA-256 hash (hex), or ErrNotFound.
	// It returns expired and revoked tokens too: the caller refuses them.
	Token(ctx context.Context, hash string) (Token, error)
	// Tokens lists the tokens, revoked and expired ones included, oldest
	// first; only those limited to project when project is not empty.
	Tokens(ctx context.Context, project string) ([]Token, error)
	// TokenByID returns the token whose ID (see Token.ID) is id, or
	// ErrNotFound.
	TokenByID(ctx context.Context, id string) (Token, error)
	// RevokeToken records that the token whose ID is id was revoked at
	// at, unless it was already, and returns it; ErrNotFound when no token
	// has this ID. The row stays, so the token stays listed.
	RevokeToken(ctx context.Context, id string, at time.Time) (Token, error)
	// Bootstrap stores t only if no token has ever been bootstrapped and
	// none exists, and says whether it did. Several replicas starting at
	// once create one token between them.
	Bootstrap(ctx context.Context, t Token) (bool, error)

	// PutAdvisories stores OSV advisories in one transaction. Each
	// replaces the stored copy only if it is newer (by Modified); a
	// withdrawn one removes it. It returns, in the order given, the ids
	// it changed, and the ids whose stored copy is the one given but was
	// never marked matched (see MarkMatched): both are to be matched
	// against the fleet. Of replicas storing the same new advisory at
	// once, one changes it.
	PutAdvisories(ctx context.Context, advs []Advisory, now time.Time) (changed, pending []string, err error)
	// MarkMatched records that the copy of an advisory modified at
	// modified has been matched against the fleet.
	MarkMatched(ctx context.Context, id string, modified time.Time) error
	// MarkAllMatched is MarkMatched of each advisory's ID and Modified,
	// in one transaction.
	MarkAllMatched(ctx context.Context, advs []Advisory) error
	// Advisory returns a stored advisory, or ErrNotFound.
	Advisory(ctx context.Context, id string) (Advisory, error)
	// AdvisoriesFor returns the raw records affecting a package
	// (ecosystem and normalized name, as in PackageKey), by id.
	AdvisoriesFor(ctx context.Context, ecosystem, name string) ([][]byte, error)
	// AdvisoriesByDigest returns the raw records reporting a file digest
	// ("sha256:<hex>"), by id.
	AdvisoriesByDigest(ctx context.Context, digest string) ([][]byte, error)

	// SyncFindings records what one matching run found, in one
	// transaction, and returns how many findings it opened (new, or
	// seen again after being resolved) and resolved. See FindingScope.
	SyncFindings(ctx context.Context, scope FindingScope, found []Finding, now time.Time) (opened, resolved int, err error)
	// Findings lists findings, most severe first.
	Findings(ctx context.Context, q FindingQuery) ([]Finding, error)

	// AddAlertRule stores a rule and returns its id.
	AddAlertRule(ctx context.Context, r AlertRule) (int64, error)
	// AlertRules lists the rules, by id, with their secrets.
	AlertRules(ctx context.Context) ([]AlertRule, error)
	// DeleteAlertRule removes a rule with its queued and logged
	// deliveries, or returns ErrNotFound.
	DeleteAlertRule(ctx context.Context, id int64) error
	// FlushDigests turns the findings each digest rule gathered into one
	// delivery, for the rules whose period has passed, and returns how
	// many deliveries it made. Replicas flushing at once make one each.
	FlushDigests(ctx context.Context, now time.Time) (int, error)
	// ClaimDeliveries leases to owner, until now+lease, at most limit
	// pending deliveries due at now that no current lease holds, counts
	// an attempt of each, and returns them with their rule as Target.
	// Replicas claiming at once never get the same delivery.
	ClaimDeliveries(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]Delivery, error)
	// FinishAttempt records how attempt a of a delivery owner holds went
	// and releases the lease. It says false, recording nothing, when
	// owner no longer holds that attempt.
	FinishAttempt(ctx context.Context, id int64, owner string, a Attempt) (bool, error)
	// Deliveries lists deliveries, newest first, with their attempts.
	Deliveries(ctx context.Context, q DeliveryQuery) ([]Delivery, error)

	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error
}

// A Project is one service, application or repository of the fleet.
type Project struct {
	Name string `json:"name"`
	// Owners are the people or teams who answer for it.
	Owners []string `json:"owners"`
	// Tier is its criticality ("1" most critical, or a word such as
	// "critical"); empty when not set.
	Tier string   `json:"tier,omitempty"`
	Tags []string `json:"tags"`
}

// Upload formats: what the stored body is.
const (
	FormatReport    = "chainvet-report" // chainvet/report/v1 JSON
	FormatCycloneDX = "cyclonedx"       // CycloneDX JSON, from chainvet or another tool
)

// An Upload is one report pushed for a project.
type Upload struct {
	Project string
	// Version is the release the report is of (a tag, a commit); may be empty.
	Version string
	// Env is the environment (deployment) it runs in, such as "prod".
	Env string
	// Digest is "sha256:" and the lower-case hex SHA-256 of Body.
	Digest   string
	Received time.Time
	Format   string
	Body     []byte
	// Components are Body's components, stored flattened for queries.
	Components []inventory.Component
	// Meta, when set, replaces the project's owners, tier and tags in the
	// same transaction.
	Meta *Project
}

// A ReportInfo describes a stored report without its body.
type ReportInfo struct {
	ID         int64     `json:"id"`
	Project    string    `json:"project"`
	Version    string    `json:"version"`
	Env        string    `json:"env"`
	Digest     string    `json:"digest"`
	Format     string    `json:"format"`
	Received   time.Time `json:"received"`
	Components int       `json:"components"`
}

// A ComponentQuery selects components by purl, by package, by digest,
// by name and version, or by the service endpoint they call.
type ComponentQuery struct {
	// PURL matches exactly; without a version ("pkg:pypi/torch") it
	// matches every version of the package.
	PURL string
	// Range keeps, of a package's versions, those in a range written as
	// the package's ecosystem writes ranges (see version.ParseConstraint),
	// such as ">=2.0,<2.5" for PyPI. Only FindComponentsInRange reads it;
	// it matches the package by its key (see PackageKey), so that a
	// PURL of "pkg:pypi/Torch" finds torch.
	Range string
	// Ecosystem (an OSV ecosystem name, such as "PyPI") and Package (a
	// name as NormalizeName gives it) match the package however its
	// name is spelt; see PackageKey.
	Ecosystem string
	Package   string
	// Digest matches the components holding a file digest,
	// "sha256:<hex>" or "sha512:<hex>" in lower case.
	Digest string
	// Name and Version match exactly; an empty Version matches any.
	Name    string
	Version string
	// Endpoint matches the components calling a service endpoint: a
	// host ("api.openai.com", "localhost:8080") or a URL, whose host is
	// taken (see EndpointHost). It selects alone. The endpoints indexed
	// are a component's "endpoints" property (comma-separated URLs) and
	// a plugin's "url", within MaxComponentEndpoints and MaxEndpointLen;
	// of the reports stored before the index existed, only the latest of
	// each deployment was indexed.
	Endpoint string
	// Project limits the answer to one project when not empty.
	Project string
	// History includes every stored report, not only the latest of each
	// deployment.
	History bool
	// Limit caps the number of matches; 0 means DefaultLimit.
	Limit int
}

// DefaultLimit is the number of matches FindComponents returns when the
// query sets none: enough for any incident, small enough to render.
const DefaultLimit = 10000

// A Match is one component found in one report.
type Match struct {
	Project  string    `json:"project"`
	Owners   []string  `json:"owners"`
	Tier     string    `json:"tier,omitempty"`
	Env      string    `json:"env"`
	Version  string    `json:"version"`
	ReportID int64     `json:"report"`
	Received time.Time `json:"received"`
	Kind     string    `json:"kind"`
	Name     string    `json:"name"`
	CVersion string    `json:"componentVersion,omitempty"`
	PURL     string    `json:"purl,omitempty"`
	Digests  []string  `json:"digests,omitempty"`
	Path     string    `json:"path,omitempty"`
	// Endpoint is, for an endpoint query, the URL the component calls
	// at the host asked for.
	Endpoint string `json:"endpoint,omitempty"`
}

// Scopes a token may hold, each allowing what the one before it allows.
const (
	ScopeRead  = "read"
	ScopePush  = "push"
	ScopeAdmin = "admin"
)

// A Token is an API token as stored: its hash, never its value.
type Token struct {
	// Hash is the lower-case hex SHA-256 of the token.
	Hash  string `json:"-"`
	Name  string `json:"name"`
	Scope string `json:"scope"`
	// Project limits the token to one project when not empty.
	Project string    `json:"project,omitempty"`
	Created time.Time `json:"created"`
	// Expires, when not zero, is when the token stops working.
	Expires time.Time `json:"expires,omitzero"`
	// Revoked, when not zero, is when the token was revoked.
	Revoked time.Time `json:"revoked,omitzero"`
}

// TokenIDLen is the number of hex digits of a token's hash that make its
// ID: 64 bits, so that a fleet would need about 2³² tokens before two
// random ones are likely to share an ID. The store refuses a second token
// with the same ID all the same, so an ID names one token.
const TokenIDLen = 16

// ID is the token's public name, the first TokenIDLen hex digits of its
// hash, by which it is listed and revoked. It reveals nothing of the
// token: the hash is one-way, and this is only part of it.
func (t Token) ID() string {
	return t.Hash[:min(len(t.Hash), TokenIDLen)]
}
