package rules

import "github.com/chainvet/chainvet/internal/inventory"

// secretRules are the rules of credentials written into code,
// configuration and notebooks (package internal/catalog/secrets).
var secretRules = []Rule{
	{ID: "secret/ai-provider-key", Severity: inventory.Critical,
		Summary: "An AI provider's API key (OpenAI, Anthropic, Hugging Face, Google, Azure OpenAI, Replicate, Groq, xAI, OpenRouter, Cohere, Mistral, Pinecone, Weights & Biases, LangSmith) is written into a file",
		Help: "Anyone who can read the file, its history or a copy can spend on the account and read what it holds. " +
			"Revoke the key at the provider now (the finding says where), then read a new one at run time from the environment or a secret manager. " +
			"Deleting the line does not un-leak the key: it stays in version history. Keys with no prefix of their own (Azure, Cohere, Mistral, Pinecone's UUID keys, W&B) are reported only when assigned to a name that says whose they are."},
	{ID: "secret/aws-key", Severity: inventory.Critical,
		Summary: "An AWS access key id (AKIA…, ASIA…) or secret access key is written into a file; an id without its secret key nearby is high",
		Help: "An access key pair gives whatever the IAM user or role may do. Deactivate and delete the key in IAM, check CloudTrail for its use, " +
			"and use roles, SSO or the environment instead of keys in files. An id alone is high: it names the account and the user."},
	{ID: "secret/github-token", Severity: inventory.Critical,
		Summary: "A GitHub token (ghp_, gho_, ghu_, ghs_, ghr_, github_pat_) is written into a file",
		Help:    "A token acts as its owner on every repository it reaches: code, packages and workflows. Revoke it in GitHub's settings and use the CI's own token or a secret store."},
	{ID: "secret/slack-token", Severity: inventory.Critical,
		Summary: "A Slack token (xoxb-, xoxp-, xoxa-, xapp-) is written into a file; high for an incoming webhook URL",
		Help:    "Tokens read and post as the app or user; a webhook lets anyone post into the channel. Rotate the token or regenerate the webhook in the app's settings."},
	{ID: "secret/private-key", Severity: inventory.Critical,
		Summary: "A private key with its body (PEM, OpenSSH, PGP) is written into a file; high when it is encrypted with a passphrase",
		Help:    "The key is compromised once it is in a repository. Make a new key pair, remove the old public key wherever it is trusted, and keep private keys out of source trees."},
	{ID: "secret/generic", Severity: inventory.High,
		Summary: "A high-entropy value is assigned to a credential's name (`*_API_KEY`, `*_TOKEN`, `*SECRET*`) in code or configuration",
		Help: "Values that look random under such names are usually live credentials. If it is one, revoke and rotate it and read it from the environment or a secret manager. " +
			"Placeholders (YOUR_KEY_HERE, xxxx, ${VAR}, changeme), words and low-entropy values are never reported."},
	{ID: "secret/malformed", Severity: inventory.Low,
		Summary: "A notebook could not be decoded as nbformat JSON, so it was scanned for secrets as plain text only",
		Help:    "Keys split by JSON escapes (\\u002d) are missed in plain text. Check the notebook opens in Jupyter, re-save it and scan again."},
}
