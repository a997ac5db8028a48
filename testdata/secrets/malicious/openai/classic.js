const OpenAI = require("openai");
const client = new OpenAI({ apiKey: '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' });
