import os

SECRET_KEY = "django-insecure-changeme"
TOKENIZER_NAME = "bert-base-uncased"
max_tokens = 1024
api_key = get_key()
API_TOKEN = os.environ.get("API_TOKEN")
SECRET_NAME = "prod/db/password"
CACHE_KEY = "user-profile-v2"
ACCESS_TOKEN = "********************"
