import Anthropic from "@anthropic-ai/sdk";

// export ANTHROPIC_API_KEY=sk-ant-api03-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxAA
const anthropic = new Anthropic({ apiKey: process.env.ANTHROPIC_API_KEY });
