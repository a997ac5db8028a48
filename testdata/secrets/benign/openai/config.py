import os

import openai

OPENAI_API_KEY = os.environ["OPENAI_API_KEY"]
client = openai.OpenAI(api_key=OPENAI_API_KEY)
# Set OPENAI_API_KEY=sk-... or "sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" in your shell.
docs = "sk-proj-YOUR_KEY_HERE_YOUR_KEY_HERE_YOUR_KEY_HERE_YOUR_KEY_HERE"
other = "sk-proj-abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
