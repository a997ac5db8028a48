module github.com/acme/inference-gateway

go 1.22.0

toolchain go1.22.5

require (
	github.com/ollama/ollama v0.1.48
	github.com/sashabaranov/go-openai v1.26.3
	google.golang.org/grpc v1.64.0
)

require (
	github.com/google/uuid v1.6.0 // indirect
	golang.org/x/net v0.26.0 // indirect
	google.golang.org/protobuf v1.34.2 // indirect
	github.com/acme/tokenizer v0.0.0-20240611093012-4f2a9e1c7b3d // indirect
)

replace github.com/acme/tokenizer => ../tokenizer

replace google.golang.org/grpc v1.64.0 => google.golang.org/grpc v1.64.1

exclude golang.org/x/net v0.25.0
