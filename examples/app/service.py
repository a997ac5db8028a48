"""Answers support questions: classifies with a pinned local model, drafts with OpenAI, reviews with Claude."""
import os

import anthropic
from datasets import load_dataset
from openai import OpenAI
from transformers import AutoModelForSequenceClassification

openai_client = OpenAI(api_key=os.environ["OPENAI_API_KEY"])
claude = anthropic.Anthropic(api_key=os.getenv("ANTHROPIC_API_KEY"))
classifier = AutoModelForSequenceClassification.from_pretrained(
    "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
    revision="714eb0fa89d2f80546fda750413ed43d93601a13",
)
faq = load_dataset("acme/support-faq", split="train")


def answer(question):
    draft = openai_client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": question}])
    review = claude.messages.create(model="claude-sonnet-4-5", max_tokens=256,
                                    messages=[{"role": "user", "content": draft.choices[0].message.content}])
    return review.content[0].text
