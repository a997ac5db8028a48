import os
from huggingface_hub import login

login(token=os.environ["HF_TOKEN"])  # e.g. hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
HF_TOKEN = "<your-token>"
