package secrets

import (
	"regexp"

	"github.com/chainvet/chainvet/internal/inventory"
)

// Rule ids; internal/rules/secrets.go describes them.
const (
	RuleAIKey      = "secret/ai-provider-key"
	RuleAWS        = "secret/aws-key"
	RuleGitHub     = "secret/github-token"
	RuleSlack      = "secret/slack-token"
	RulePrivateKey = "secret/private-key"
	RuleGeneric    = "secret/generic"
	RuleMalformed  = "secret/malformed"
)

// A provider is whose key a pattern finds, and where to revoke it.
type provider struct {
	name   string // "OpenAI"
	what   string // "API key"
	rule   string
	revoke string // where the owner revokes or rotates it
}

var (
	openAI      = provider{"OpenAI", "API key", RuleAIKey, "https://platform.openai.com/api-keys"}
	openAIAdmin = provider{"OpenAI", "admin key", RuleAIKey, "https://platform.openai.com/settings/organization/admin-keys"}
	anthropic   = provider{"Anthropic", "API key", RuleAIKey, "https://console.anthropic.com/settings/keys"}
	huggingFace = provider{"Hugging Face", "token", RuleAIKey, "https://huggingface.co/settings/tokens"}
	google      = provider{"Google", "API key", RuleAIKey, "https://console.cloud.google.com/apis/credentials"}
	aws         = provider{"AWS", "access key id", RuleAWS, "the IAM console (Security credentials → Access keys)"}
	awsSecret   = provider{"AWS", "secret access key", RuleAWS, "the IAM console (Security credentials → Access keys)"}
	azureOpenAI = provider{"Azure OpenAI", "API key", RuleAIKey, "the Azure portal (resource → Keys and Endpoint → Regenerate)"}
	replicate   = provider{"Replicate", "API token", RuleAIKey, "https://replicate.com/account/api-tokens"}
	groq        = provider{"Groq", "API key", RuleAIKey, "https://console.groq.com/keys"}
	xAI         = provider{"xAI", "API key", RuleAIKey, "https://console.x.ai"}
	openRouter  = provider{"OpenRouter", "API key", RuleAIKey, "https://openrouter.ai/settings/keys"}
	cohere      = provider{"Cohere", "API key", RuleAIKey, "https://dashboard.cohere.com/api-keys"}
	mistral     = provider{"Mistral", "API key", RuleAIKey, "https://console.mistral.ai/api-keys"}
	pinecone    = provider{"Pinecone", "API key", RuleAIKey, "the Pinecone console (API keys)"}
	wandb       = provider{"Weights & Biases", "API key", RuleAIKey, "https://wandb.ai/authorize"}
	langSmith   = provider{"LangSmith", "API key", RuleAIKey, "LangSmith settings (API keys)"}
	github      = provider{"GitHub", "token", RuleGitHub, "https://github.com/settings/tokens (or the app's settings for app tokens)"}
	slack       = provider{"Slack", "token", RuleSlack, "https://api.slack.com/apps (the app's OAuth & Permissions page)"}
	slackHook   = provider{"Slack", "incoming webhook URL", RuleSlack, "https://api.slack.com/apps (the app's Incoming Webhooks page)"}
)

// A shape is a key format recognised on its own, by a fixed prefix.
type shape struct {
	provider
	sev inventory.Severity
	// needle is a literal every match contains: files without it are not
	// searched with re.
	needle string
	// prefix is the constant start of every match, shown in evidence.
	prefix string
	// re matches the whole key; the byte before and after a match must not
	// be a key byte (letters, digits, _ and -).
	re *regexp.Regexp
	// minEntropy bounds the entropy of the part after prefix.
	minEntropy float64
}

// shapes are tried in order; where two overlap, the first wins (so
// sk-ant- and sk-or-v1- are not read as OpenAI's sk-).
var shapes = []shape{
	{anthropic, inventory.Critical, "sk-ant-", "sk-ant-", regexp.MustCompile(`sk-ant-(?:api|admin|oat)\d\d-[A-Za-z0-9_-]{80,120}`), 4.0},
	{openRouter, inventory.Critical, "sk-or-v1-", "sk-or-v1-", regexp.MustCompile(`sk-or-v1-[0-9a-f]{64}`), 3.0},
	{openAI, inventory.Critical, "sk-proj-", "sk-proj-", regexp.MustCompile(`sk-proj-[A-Za-z0-9_-]{40,250}`), 4.0},
	{openAI, inventory.Critical, "sk-svcacct-", "sk-svcacct-", regexp.MustCompile(`sk-svcacct-[A-Za-z0-9_-]{40,250}`), 4.0},
	{openAIAdmin, inventory.Critical, "sk-admin-", "sk-admin-", regexp.MustCompile(`sk-admin-[A-Za-z0-9_-]{40,250}`), 4.0},
	{openAI, inventory.Critical, "sk-None-", "sk-None-", regexp.MustCompile(`sk-None-[A-Za-z0-9_-]{40,250}`), 4.0},
	// Classic keys carry "openai" base64-encoded (T3BlbkFJ) mid-key.
	{openAI, inventory.Critical, "T3BlbkFJ", "sk-", regexp.MustCompile(`sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}`), 3.5},
	{huggingFace, inventory.Critical, "hf_", "hf_", regexp.MustCompile(`hf_[A-Za-z]{34}`), 3.5},
	{huggingFace, inventory.Critical, "api_org_", "api_org_", regexp.MustCompile(`api_org_[A-Za-z]{34}`), 3.5},
	{google, inventory.Critical, "AIza", "AIza", regexp.MustCompile(`AIza[0-9A-Za-z_-]{35}`), 3.5},
	// AWS access key ids are base32 after the prefix. Alone, an id is
	// high; with its secret key nearby it is critical (see pairAWS).
	{aws, inventory.High, "AKIA", "AKIA", regexp.MustCompile(`AKIA[A-Z2-7]{16}`), 2.8},
	{aws, inventory.High, "ASIA", "ASIA", regexp.MustCompile(`ASIA[A-Z2-7]{16}`), 2.8},
	{replicate, inventory.Critical, "r8_", "r8_", regexp.MustCompile(`r8_[A-Za-z0-9]{37}`), 3.5},
	{groq, inventory.Critical, "gsk_", "gsk_", regexp.MustCompile(`gsk_[A-Za-z0-9]{52}`), 4.0},
	{xAI, inventory.Critical, "xai-", "xai-", regexp.MustCompile(`xai-[A-Za-z0-9]{80}`), 4.0},
	{pinecone, inventory.Critical, "pcsk_", "pcsk_", regexp.MustCompile(`pcsk_[A-Za-z0-9]{4,10}_[A-Za-z0-9]{40,100}`), 4.0},
	{langSmith, inventory.Critical, "lsv2_pt_", "lsv2_pt_", regexp.MustCompile(`lsv2_pt_[0-9a-f]{32}_[0-9a-f]{10}`), 3.0},
	{langSmith, inventory.Critical, "lsv2_sk_", "lsv2_sk_", regexp.MustCompile(`lsv2_sk_[0-9a-f]{32}_[0-9a-f]{10}`), 3.0},
	{github, inventory.Critical, "ghp_", "ghp_", regexp.MustCompile(`ghp_[A-Za-z0-9]{36}`), 3.5},
	{github, inventory.Critical, "gho_", "gho_", regexp.MustCompile(`gho_[A-Za-z0-9]{36}`), 3.5},
	{github, inventory.Critical, "ghu_", "ghu_", regexp.MustCompile(`ghu_[A-Za-z0-9]{36}`), 3.5},
	{github, inventory.Critical, "ghs_", "ghs_", regexp.MustCompile(`ghs_[A-Za-z0-9]{36}`), 3.5},
	{github, inventory.Critical, "ghr_", "ghr_", regexp.MustCompile(`ghr_[A-Za-z0-9]{36}`), 3.5},
	{github, inventory.Critical, "github_pat_", "github_pat_", regexp.MustCompile(`github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}`), 4.0},
	{slack, inventory.Critical, "xoxb-", "xoxb-", regexp.MustCompile(`xoxb-\d{8,14}-\d{8,14}-[A-Za-z0-9]{20,40}`), 3.0},
	{slack, inventory.Critical, "xoxp-", "xoxp-", regexp.MustCompile(`xoxp-\d{8,14}-\d{8,14}-\d{8,14}-[0-9a-f]{32}`), 3.0},
	{slack, inventory.Critical, "xoxa-", "xoxa-", regexp.MustCompile(`xoxa-(?:2-)?\d{8,14}-\d{8,14}-\d{8,14}-[0-9a-f]{32}`), 3.0},
	{slack, inventory.Critical, "xapp-", "xapp-", regexp.MustCompile(`xapp-\d-[A-Z0-9]{8,14}-\d{8,16}-[0-9a-f]{64}`), 3.0},
	{slackHook, inventory.High, "hooks.slack.com/", "https://hooks.slack.com/", regexp.MustCompile(`https://hooks\.slack\.com/(?:services|workflows|triggers)/T[A-Z0-9]{8,12}/[A-Z0-9]{8,12}/[A-Za-z0-9]{20,40}`), 3.0},
}

// A keyed format is a key with no prefix of its own (32 hex digits, a
// UUID), believed only when assigned to a name that says whose it is.
type keyed struct {
	provider
	sev inventory.Severity
	// names are lower-case words one of which the assigned name holds, or
	// failing that the text just before it (wandb.login(key=...)).
	names []string
	// fileWord, when set, must also appear (in this case) in the text
	// scanned: "api-key" is Azure's only next to an Azure endpoint.
	fileWord string
	value    *regexp.Regexp // anchored
	// minEntropy bounds the value's entropy.
	minEntropy float64
}

var keyedFormats = []keyed{
	{awsSecret, inventory.Critical, []string{"aws_secret_access_key", "secret_access_key", "aws_secret_key", "secretaccesskey"}, "",
		regexp.MustCompile(`^[A-Za-z0-9/+]{40}$`), 4.0},
	{azureOpenAI, inventory.Critical, []string{"azure_openai_api_key", "azure_openai_key", "azure_api_key", "azureopenai"}, "",
		regexp.MustCompile(`^[0-9a-f]{32}$`), 3.0},
	{azureOpenAI, inventory.Critical, []string{"api-key", "api_key", "apikey"}, ".openai.azure.com",
		regexp.MustCompile(`^[0-9a-f]{32}$`), 3.0},
	{wandb, inventory.Critical, []string{"wandb"}, "",
		regexp.MustCompile(`^(?:local-)?[0-9a-f]{40}$`), 3.0},
	{cohere, inventory.Critical, []string{"cohere", "co_api_key"}, "",
		regexp.MustCompile(`^[A-Za-z0-9]{40}$`), 4.0},
	{mistral, inventory.Critical, []string{"mistral"}, "",
		regexp.MustCompile(`^[A-Za-z0-9]{32}$`), 4.0},
	{pinecone, inventory.Critical, []string{"pinecone"}, "",
		regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`), 3.0},
}

// keyedLen holds the lengths of the values of keyedFormats: other values
// are not looked at for them.
var keyedLen = map[int]bool{32: true, 36: true, 40: true, 46: true}

// assignmentWords are what a credential's name holds, one at least.
var assignmentWords = [][]byte{[]byte("key"), []byte("token"), []byte("secret")}

// Bounds of assignedValue: how far after a name it reads, and the longest
// value it takes.
const (
	maxAssigned = 600
	maxValue    = 512
)

// genericNotSecret are parts of names that hold key, token or secret but
// name something else: tokenizers, counts, public keys, key names.
var genericNotSecret = []string{
	"tokeniz", "tokens", "token_type", "token_id", "tokenid", "public", "publishable", "pub_key", "pubkey",
	"cache_key", "sort_key", "partition_key", "primary_key", "foreign_key", "key_id", "keyid",
	"_name", "name_", "_path", "_file", "_url", "_uri", "_dir", "_env", "_var", "_field", "_header",
	"_prefix", "_length", "_len", "_size", "_count", "_type", "_ref", "_arn", "keyref", "_id",
	"secretkeyref", "secretname", "secret_name", "keyname", "key_name",
}

// Limits of the generic detector: the values it believes.
const (
	genericMinLen     = 16
	genericMaxLen     = 256
	genericMinEntropy = 3.3
)

// privateKeyBegin starts a PEM or OpenSSH or PGP private key.
var privateKeyBegin = regexp.MustCompile(`-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY( BLOCK)?-----`)

// Limits of a private key's body.
const (
	// maxKeyBody bounds how far the body of a private key is read: an
	// RSA-8192 PEM is about 6.5 KB.
	maxKeyBody = 16 << 10
	// minKeyBody is the fewest base64 bytes a real private key body has
	// (an Ed25519 PKCS#8 key is 64).
	minKeyBody = 64
)

// Bounds on what is reported: matches in one text scanned (a window or a
// notebook cell), and findings for one file. Past either, a scan/limit
// finding says the rest are not listed.
const (
	maxMatches  = 1000
	maxFindings = 1000
)

// awsPairDistance is how near (in bytes, either way) an AWS secret key
// must be to an access key id to be taken as its pair.
const awsPairDistance = 512

// awsSecretShape is a candidate AWS secret access key near an id.
var awsSecretShape = regexp.MustCompile(`[A-Za-z0-9/+]{40}`)
