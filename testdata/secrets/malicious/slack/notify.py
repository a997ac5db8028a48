import requests

requests.post("https://hooks.slack.com/services/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", json={"text": "done"})
