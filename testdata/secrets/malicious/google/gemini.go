package main

import "google.golang.org/genai"

const apiKey = "AIzaRFxaeDgKHBbjCBcSf_1ZbrRN58Gg96N64_L"

func config() *genai.ClientConfig { return &genai.ClientConfig{APIKey: apiKey} }
