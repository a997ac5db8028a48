"""A small retrieval service: embeds with a local model, answers with two hosted APIs."""
import os

import anthropic
from openai import OpenAI
from sentence_transformers import SentenceTransformer
from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline
from datasets import load_dataset
from huggingface_hub import hf_hub_download

openai_client = OpenAI(
    base_url="https://user:hunter2@llm-gateway.internal.example/v1?team=search",
    api_key=os.environ["OPENAI_API_KEY"],
)
claude = anthropic.Anthropic(api_key=os.getenv("ANTHROPIC_API_KEY"))

embedder = SentenceTransformer("sentence-transformers/all-MiniLM-L6-v2")
tok = AutoTokenizer.from_pretrained("distilbert/distilbert-base-uncased-finetuned-sst-2-english",
                                    revision="714eb0fa89d2f80546fda750413ed43d93601a13")
clf = AutoModelForSequenceClassification.from_pretrained(
    "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
    revision="714eb0fa89d2f80546fda750413ed43d93601a13",
)
ner = pipeline("ner", model="dslim/bert-base-NER", revision="main")
vocab = hf_hub_download(repo_id="google-bert/bert-base-uncased", filename="vocab.txt")
faq = load_dataset("squad", split="train[:100]")
local = load_dataset("csv", data_files="faq.csv")
mine = AutoTokenizer.from_pretrained("./checkpoints/tok")


def answer(question: str) -> str:
    draft = openai_client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": question}])
    review = claude.messages.create(model="claude-sonnet-4-5", max_tokens=256,
                                    messages=[{"role": "user", "content": draft.choices[0].message.content}])
    return review.content[0].text
