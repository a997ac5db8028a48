package rules

import "github.com/chainvet/chainvet/internal/inventory"

// mcpRules are the rules of agent plugins: how MCP clients are configured
// to launch or reach their servers.
var mcpRules = []Rule{
	{ID: "mcp/unpinned-launch", Severity: inventory.High,
		Summary: "An MCP server is launched through npx, bunx, pnpm/yarn dlx, uvx, pipx run, uv tool run or docker run without an exact version or digest",
		Help: "The client fetches and runs whatever the registry serves at each start, with the user's rights and the agent's data: " +
			"a hijacked or typosquatted release runs at once, and npx -y installs it without asking. " +
			"Pin an exact version (pkg@1.2.3, pkg==1.2.3, --from pkg==1.2.3) or an image digest (image@sha256:…), and update it on purpose."},
	{ID: "mcp/plain-http", Severity: inventory.High,
		Summary: "A remote MCP server is reached over plain http:// (or ws://) on a host that is not the local machine",
		Help: "Anyone on the network path can read the agent's requests and tokens and rewrite the tools and answers the server returns. " +
			"Use https:// (wss://); plain HTTP is fine only for localhost, 127.0.0.1 and ::1."},
	{ID: "mcp/inline-secret", Severity: inventory.High,
		Summary: "An MCP config holds a literal credential in env, headers, arguments or its URL",
		Help: "Config files are committed, synced and read by every tool in the project; a key written in them leaks with them. " +
			"Revoke the key, then reference it instead: ${input:name} (VS Code), ${env:NAME} or $NAME, set outside the file. " +
			"The finding names the variable and the first characters and length of the value, never the value."},
	{ID: "mcp/filesystem-root", Severity: inventory.High,
		Summary: "A filesystem MCP server, or a container an MCP server runs in, is given the whole disk or a home directory",
		Help: "The agent can then read SSH keys, cloud credentials and browser profiles, and write anywhere the user can, on a single prompt injection. " +
			"Allow only the project directories the server needs (e.g. the repository path), never /, ~, $HOME, C:\\ or %USERPROFILE%."},
}
