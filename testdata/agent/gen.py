#!/usr/bin/python3
"""Writes the MCP client configs under testdata/agent and their MANIFEST.tsv.

Each case is a config with one problem (malicious) or its benign twin.
Keys and tokens are fake; internal/catalog/mcp tests check that none of
them reaches a report. Run from anywhere: python3 testdata/agent/gen.py
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))

FAKE_GH = "ghp_" + "FAKE" * 9
FAKE_OPENAI = "sk-proj-" + "FAKEfake" * 4
FAKE_BEARER = "FAKEbearer" + "0123456789" * 2
FAKE_DIGEST = "sha256:" + "0" * 63 + "1"

# (path, config, verdict, min, max, rules, evidence, description)
CASES = [
    # mcp/unpinned-launch
    ("unpinned/npx-latest/.mcp.json",
     {"mcpServers": {"github": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github@latest"]}}},
     "malicious", "high", "high", "mcp/unpinned-launch", "npx -y installs",
     "npx -y of a scoped package at latest"),
    ("unpinned/runners/.cursor/mcp.json",
     {"mcpServers": {
         "a": {"command": "npx", "args": ["some-mcp@^1.2"]},
         "b": {"command": "pnpm", "args": ["dlx", "other-mcp"]},
         "c": {"command": "yarn", "args": ["dlx", "third-mcp@~2.0.0"]},
         "d": {"command": "bunx", "args": ["bun-mcp"]}}},
     "malicious", "high", "high", "mcp/unpinned-launch", "not an exact version",
     "npx with a caret range, pnpm dlx with no version, yarn dlx with a tilde range, bunx with none"),
    ("unpinned/python/.vscode/mcp.json",
     {"servers": {
         "git": {"type": "stdio", "command": "uvx", "args": ["mcp-server-git", "--repository", "."]},
         "fetch": {"type": "stdio", "command": "uv", "args": ["tool", "run", "--from", "mcp-server-fetch>=1", "mcp-server-fetch"]},
         "time": {"type": "stdio", "command": "pipx", "args": ["run", "mcp-server-time"]}}},
     "malicious", "high", "high", "mcp/unpinned-launch", "launched by uv tool run",
     "uvx with no version, uv tool run --from a range, pipx run with no version"),
    ("unpinned/docker-tag/.mcp.json",
     {"mcpServers": {"fetch": {"command": "docker", "args": ["run", "-i", "--rm", "mcp/fetch:latest"]}}},
     "malicious", "high", "high", "mcp/unpinned-launch", "by tag, not digest",
     "docker run of an image by tag"),
    ("unpinned/pinned/.mcp.json",
     {"mcpServers": {
         "github": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github@2025.4.8"]},
         "git": {"command": "uvx", "args": ["mcp-server-git==2025.1.14"]},
         "git2": {"command": "uvx", "args": ["mcp-server-git@2025.1.14"]},
         "fetch": {"command": "uvx", "args": ["--from", "mcp-server-fetch==2025.4.7", "mcp-server-fetch"]},
         "time": {"command": "pipx", "args": ["run", "--spec", "mcp-server-time==2025.1.1", "mcp-server-time"]},
         "box": {"command": "docker", "args": ["run", "-i", "--rm", "mcp/fetch@" + FAKE_DIGEST]},
         "local": {"command": "node", "args": ["./server.js"]},
         "py": {"command": "python", "args": ["server.py"]}}},
     "benign", "info", "info", "", "",
     "benign twin: exact versions, a digest, and local commands"),
    # mcp/plain-http
    ("plain-http/remote/.mcp.json",
     {"mcpServers": {"remote": {"type": "http", "url": "http://mcp.example.com/mcp"}}},
     "malicious", "high", "high", "mcp/plain-http", "http://mcp.example.com/mcp",
     "remote server over http"),
    ("plain-http/windsurf/mcp_config.json",
     {"mcpServers": {"docs": {"serverUrl": "http://10.1.2.3:8080/sse"}}},
     "malicious", "high", "high", "mcp/plain-http", "10.1.2.3",
     "Windsurf serverUrl over http to a LAN address"),
    ("plain-http/local/.mcp.json",
     {"mcpServers": {
         "a": {"type": "http", "url": "http://localhost:3000/mcp"},
         "b": {"type": "sse", "url": "http://127.0.0.1:8080/sse"},
         "c": {"type": "http", "url": "http://[::1]:9000/mcp"},
         "d": {"type": "http", "url": "https://mcp.example.com/mcp"}}},
     "benign", "info", "info", "", "",
     "benign twin: http to loopback, https elsewhere"),
    # mcp/inline-secret
    ("secret/env/.vscode/mcp.json",
     {"servers": {"openai": {"type": "stdio", "command": "/opt/mcp/openai-mcp",
                             "env": {"OPENAI_API_KEY": FAKE_OPENAI, "LOG_LEVEL": "debug"}}}},
     "malicious", "high", "high", "mcp/inline-secret", "env OPENAI_API_KEY",
     "literal API key in env"),
    ("secret/header/.mcp.json",
     {"mcpServers": {"remote": {"type": "http", "url": "https://mcp.example.com/mcp",
                                "headers": {"Authorization": "Bearer " + FAKE_BEARER}}}},
     "malicious", "high", "high", "mcp/inline-secret", "header Authorization: Bearer",
     "literal bearer token in headers"),
    ("secret/token-prefix/claude_desktop_config.json",
     {"mcpServers": {"github": {"command": "/usr/local/bin/github-mcp-server", "args": ["stdio"],
                                "env": {"GH_CONFIG": FAKE_GH}}}},
     "malicious", "high", "high", "mcp/inline-secret", "40 chars",
     "a GitHub token under a name that does not say so"),
    ("secret/refs/.vscode/mcp.json",
     {"inputs": [{"type": "promptString", "id": "openai-key", "password": True}],
      "servers": {"openai": {"type": "stdio", "command": "/opt/mcp/openai-mcp",
                             "env": {"OPENAI_API_KEY": "${input:openai-key}", "GITHUB_TOKEN": "${env:GITHUB_TOKEN}",
                                     "HF_TOKEN": "$HF_TOKEN", "EMPTY_KEY": "", "DOC_KEY": "<your-api-key>",
                                     "KEY_FILE": "/run/secrets/key", "TOKEN_LIMIT": "4096", "AUTH_ENABLED": "true"}},
                  "remote": {"type": "http", "url": "https://mcp.example.com/mcp",
                             "headers": {"Authorization": "Bearer ${input:openai-key}", "X-Api-Key": "YOUR_API_KEY"}}}},
     "benign", "info", "info", "", "",
     "benign twin: references, placeholders, paths, numbers and flags"),
    # mcp/filesystem-root
    ("filesystem/root/.mcp.json",
     {"mcpServers": {"fs": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem@2025.1.14", "/"]}}},
     "malicious", "high", "high", "mcp/filesystem-root", "serves /",
     "filesystem server rooted at /"),
    ("filesystem/home/claude_desktop_config.json",
     {"mcpServers": {"fs": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem@2025.1.14", "/Users/alice/Desktop", "/Users/alice"]}}},
     "malicious", "high", "high", "mcp/filesystem-root", "/Users/alice",
     "filesystem server given a whole macOS home"),
    ("filesystem/windows/.cursor/mcp.json",
     {"mcpServers": {"fs": {"command": "npx.cmd", "args": ["-y", "@modelcontextprotocol/server-filesystem@2025.1.14", "C:\\"]}}},
     "malicious", "high", "high", "mcp/filesystem-root", "C:\\",
     "filesystem server given a Windows drive"),
    ("filesystem/docker/.mcp.json",
     {"mcpServers": {"fs": {"command": "docker", "args": [
         "run", "-i", "--rm", "--mount", "type=bind,src=$HOME,dst=/projects/home", "mcp/filesystem@" + FAKE_DIGEST, "/projects"]}}},
     "malicious", "high", "high", "mcp/filesystem-root", "$HOME",
     "container given the home directory by a bind mount"),
    ("filesystem/project/.mcp.json",
     {"mcpServers": {
         "fs": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem@2025.1.14", "/Users/alice/src/app", "./data"]},
         "box": {"command": "docker", "args": ["run", "-i", "--rm", "-v", "/srv/data:/data:ro", "mcp/filesystem@" + FAKE_DIGEST, "/data"]}}},
     "benign", "info", "info", "", "",
     "benign twin: project directories and a data volume"),
]


def main():
    rows = ["path\tverdict\tmin_severity\tmax_severity\trules\tevidence\tdescription"]
    for path, cfg, verdict, lo, hi, rules, evidence, desc in CASES:
        full = os.path.join(HERE, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            json.dump(cfg, f, indent=2)
            f.write("\n")
        rows.append("\t".join([path, verdict, lo, hi, rules, evidence, desc]))
    with open(os.path.join(HERE, "MANIFEST.tsv"), "w") as f:
        f.write("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
