import subprocess

from openai import OpenAI

client = OpenAI()


def run_task(task):
    resp = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Write one shell command to " + task}],
    )
    command = resp.choices[0].message.content
    command = command.strip().strip("`")
    full = f"bash -c '{command}'"
    return subprocess.run(full, shell=True, capture_output=True)
