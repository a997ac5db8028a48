#!/bin/sh
# Serve the generator with vLLM on one GPU.
set -eu
exec vllm serve mistralai/Mistral-7B-Instruct-v0.3 \
  --revision e0bc86c23ce5aae1db576c8cca6f06f1f73af2db \
  --max-model-len 8192 --port 8000
