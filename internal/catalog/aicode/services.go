package aicode

import "strings"

// A provider is an AI service an SDK talks to.
type provider struct {
	id       string   // "openai": the service component is "service:openai"
	endpoint string   // the SDK's default endpoint; empty when none is fixed
	env      []string // the variables the SDK reads its key from by default
	keyless  bool     // the default endpoint needs no key (a local server)
	// words mark an environment variable as this provider's credential.
	words []string
}

var providers = map[string]*provider{
	"openai":       {id: "openai", endpoint: "https://api.openai.com/v1", env: []string{"OPENAI_API_KEY"}, words: []string{"OPENAI"}},
	"azure-openai": {id: "azure-openai", env: []string{"AZURE_OPENAI_API_KEY"}, words: []string{"AZURE_OPENAI", "AZURE"}},
	"anthropic":    {id: "anthropic", endpoint: "https://api.anthropic.com", env: []string{"ANTHROPIC_API_KEY"}, words: []string{"ANTHROPIC", "CLAUDE"}},
	"google":       {id: "google", endpoint: "https://generativelanguage.googleapis.com", env: []string{"GEMINI_API_KEY", "GOOGLE_API_KEY"}, words: []string{"GEMINI", "GOOGLE"}},
	"google-vertex-ai": {id: "google-vertex-ai", endpoint: "https://aiplatform.googleapis.com",
		env: []string{"GOOGLE_APPLICATION_CREDENTIALS"}, words: []string{"GOOGLE", "VERTEX", "GCP"}},
	"aws-bedrock": {id: "aws-bedrock", endpoint: "https://bedrock-runtime.amazonaws.com",
		env: []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}, words: []string{"AWS", "BEDROCK"}},
	"cohere":    {id: "cohere", endpoint: "https://api.cohere.com", env: []string{"CO_API_KEY"}, words: []string{"COHERE", "CO_API"}},
	"mistral":   {id: "mistral", endpoint: "https://api.mistral.ai", env: []string{"MISTRAL_API_KEY"}, words: []string{"MISTRAL"}},
	"groq":      {id: "groq", endpoint: "https://api.groq.com", env: []string{"GROQ_API_KEY"}, words: []string{"GROQ"}},
	"together":  {id: "together", endpoint: "https://api.together.xyz", env: []string{"TOGETHER_API_KEY"}, words: []string{"TOGETHER"}},
	"replicate": {id: "replicate", endpoint: "https://api.replicate.com", env: []string{"REPLICATE_API_TOKEN"}, words: []string{"REPLICATE"}},
	"huggingface-inference": {id: "huggingface-inference", endpoint: "https://router.huggingface.co",
		env: []string{"HF_TOKEN"}, words: []string{"HF_", "HUGGINGFACE", "HUGGING_FACE"}},
	"ollama": {id: "ollama", endpoint: "http://localhost:11434", keyless: true, words: []string{"OLLAMA"}},
}

// sdkModules map an imported module (or its prefix) to the provider it
// talks to. Modules that do more than call one service (boto3,
// huggingface_hub, litellm) are not here: only their calls count.
var sdkModules = []struct{ module, provider string }{
	{"openai", "openai"},
	{"anthropic", "anthropic"},
	{"google.genai", "google"},
	{"google.generativeai", "google"},
	{"vertexai", "google-vertex-ai"},
	{"google.cloud.aiplatform", "google-vertex-ai"},
	{"cohere", "cohere"},
	{"mistralai", "mistral"},
	{"groq", "groq"},
	{"together", "together"},
	{"replicate", "replicate"},
	{"ollama", "ollama"},
	{"langchain_openai", "openai"},
	{"langchain_anthropic", "anthropic"},
	{"langchain_google_genai", "google"},
	{"langchain_google_vertexai", "google-vertex-ai"},
	{"langchain_aws", "aws-bedrock"},
	{"langchain_cohere", "cohere"},
	{"langchain_mistralai", "mistral"},
	{"langchain_groq", "groq"},
	{"langchain_together", "together"},
	{"langchain_ollama", "ollama"},
	{"langchain_huggingface", "huggingface-inference"},
	{"llama_index.llms.openai", "openai"},
	{"llama_index.llms.azure_openai", "azure-openai"},
	{"llama_index.llms.anthropic", "anthropic"},
	{"llama_index.llms.gemini", "google"},
	{"llama_index.llms.google_genai", "google"},
	{"llama_index.llms.vertex", "google-vertex-ai"},
	{"llama_index.llms.bedrock", "aws-bedrock"},
	{"llama_index.llms.bedrock_converse", "aws-bedrock"},
	{"llama_index.llms.cohere", "cohere"},
	{"llama_index.llms.mistralai", "mistral"},
	{"llama_index.llms.groq", "groq"},
	{"llama_index.llms.together", "together"},
	{"llama_index.llms.replicate", "replicate"},
	{"llama_index.llms.ollama", "ollama"},
	{"llama_index.llms.huggingface_api", "huggingface-inference"},
	{"llama_index.embeddings.openai", "openai"},
}

// sdkOf returns the provider a module belongs to.
func sdkOf(module string) (string, bool) {
	for _, m := range sdkModules {
		// module is m.module or below it; no string is built per call.
		if strings.HasPrefix(module, m.module) && (len(module) == len(m.module) || module[len(m.module)] == '.') {
			return m.provider, true
		}
	}
	return "", false
}

// clients are calls that construct a client or a model binding, by the
// resolved name's last element, with the keyword that overrides the
// endpoint. A class name alone decides only within a module of an SDK
// (langchain_community re-exports every provider's class).
var clients = map[string]struct{ provider, urlArg string }{
	"OpenAI":                 {"openai", "base_url"},
	"AsyncOpenAI":            {"openai", "base_url"},
	"ChatOpenAI":             {"openai", "base_url"},
	"OpenAIEmbeddings":       {"openai", "base_url"},
	"AzureOpenAI":            {"azure-openai", "azure_endpoint"},
	"AsyncAzureOpenAI":       {"azure-openai", "azure_endpoint"},
	"AzureChatOpenAI":        {"azure-openai", "azure_endpoint"},
	"Anthropic":              {"anthropic", "base_url"},
	"AsyncAnthropic":         {"anthropic", "base_url"},
	"ChatAnthropic":          {"anthropic", "base_url"},
	"ChatGoogleGenerativeAI": {"google", ""},
	"GenerativeModel":        {"google", ""},
	"ChatVertexAI":           {"google-vertex-ai", ""},
	"ChatBedrock":            {"aws-bedrock", "endpoint_url"},
	"ChatBedrockConverse":    {"aws-bedrock", "endpoint_url"},
	"ChatCohere":             {"cohere", ""},
	"ClientV2":               {"cohere", "base_url"},
	"Mistral":                {"mistral", "server_url"},
	"ChatMistralAI":          {"mistral", "endpoint"},
	"Groq":                   {"groq", "base_url"},
	"ChatGroq":               {"groq", "base_url"},
	"Together":               {"together", "base_url"},
	"ChatTogether":           {"together", "base_url"},
	"InferenceClient":        {"huggingface-inference", "base_url"},
	"AsyncInferenceClient":   {"huggingface-inference", "base_url"},
	"HuggingFaceEndpoint":    {"huggingface-inference", "endpoint_url"},
	"ChatOllama":             {"ollama", "base_url"},
	"OllamaLLM":              {"ollama", "base_url"},
	"Ollama":                 {"ollama", "base_url"},
	"Client":                 {"", "host"}, // ollama.Client(host=…), genai.Client(): provider from the module
	"AsyncClient":            {"", "host"},
}

// clientProvider says which provider the call resolved constructs.
func clientProvider(resolved string) (p, urlArg string, ok bool) {
	i := strings.LastIndexByte(resolved, '.')
	if i < 0 {
		return "", "", false
	}
	mod, class := resolved[:i], resolved[i+1:]
	c, known := clients[class]
	switch {
	case mod == "huggingface_hub" && known:
		return c.provider, c.urlArg, c.provider == "huggingface-inference"
	case strings.HasPrefix(mod, "langchain_community") && known && c.provider != "":
		return c.provider, c.urlArg, true
	}
	if !known {
		return "", "", false
	}
	sdk, ok := sdkOf(mod)
	if !ok {
		return "", "", false
	}
	if c.provider == "" || sdk == c.provider {
		if c.provider == "" {
			if sdk == "google" || sdk == "google-vertex-ai" {
				return sdk, "", true
			}
			if sdk != "ollama" {
				return sdk, "base_url", true
			}
			return sdk, c.urlArg, true
		}
		return c.provider, c.urlArg, true
	}
	// langchain_openai.AzureChatOpenAI and the like: the class decides.
	return c.provider, c.urlArg, true
}

// litellmProviders map the prefix of a LiteLLM model name to the service
// LiteLLM routes the call to.
var litellmProviders = map[string]string{
	"openai": "openai", "azure": "azure-openai", "anthropic": "anthropic",
	"gemini": "google", "vertex_ai": "google-vertex-ai", "bedrock": "aws-bedrock",
	"cohere": "cohere", "mistral": "mistral", "groq": "groq",
	"together_ai": "together", "replicate": "replicate", "huggingface": "huggingface-inference",
	"ollama": "ollama", "ollama_chat": "ollama",
}

// bedrockServices are the boto3 service names that reach Bedrock.
var bedrockServices = map[string]bool{
	"bedrock-runtime": true, "bedrock": true, "bedrock-agent-runtime": true, "bedrock-agent": true,
}

// envProvider guesses whose credential an environment variable holds.
func envProvider(name string, used map[string]bool) string {
	best := ""
	for id := range used {
		for _, w := range providers[id].words {
			if strings.Contains(name, w) && (best == "" || len(id) > len(best)) {
				best = id
			}
		}
	}
	return best
}
