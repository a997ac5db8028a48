import Anthropic from "@anthropic-ai/sdk";

const anthropic = new Anthropic({
  apiKey: "sk-ant-api03-zgF2FPwQwo002q0K1lHTdnjklpsqk9-qyAK1Veo3MioNQ_B1fA2oVQJz4RC_PZIPH8gyPv16-vRAyKRloO594bCLBI9osAA",
});
