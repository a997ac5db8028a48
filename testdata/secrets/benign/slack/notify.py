import os
import requests

# SLACK_WEBHOOK=https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX
requests.post(os.environ["SLACK_WEBHOOK"], json={"text": "done"})
