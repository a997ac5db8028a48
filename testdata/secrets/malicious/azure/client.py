import requests

url = "https://contoso.openai.azure.com/openai/deployments/gpt/chat/completions?api-version=2024-06-01"
headers = {"api-key": "f49fc7741477d9105ccd4c468249e0d7"}
requests.post(url, headers=headers, json={})
