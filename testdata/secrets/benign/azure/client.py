import requests

CHECKSUM = "2143e25bec1af557f0cd2473c10cfed8"
headers = {"x-request-id": "082c97c8e7286437e433a7bb179dd62d"}
requests.get("https://example.invalid", headers=headers)
