import json
import sqlite3

from openai import OpenAI

client = OpenAI()


def classify(text):
    resp = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": text}])
    label = json.loads(resp.choices[0].message.content)["label"]
    conn = sqlite3.connect("app.db")
    conn.execute("INSERT INTO labels VALUES (?)", (label,))
    return eval("1 + 1")


def run(code):
    exec(code)
