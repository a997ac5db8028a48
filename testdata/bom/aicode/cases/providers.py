import os
from openai import AzureOpenAI
from google import genai
import vertexai
from vertexai.generative_models import GenerativeModel
from langchain_anthropic import ChatAnthropic
from langchain_community.chat_models import ChatOllama
import cohere
from mistralai import Mistral
import replicate
from together import Together
from huggingface_hub import InferenceClient, snapshot_download
from diffusers import StableDiffusionPipeline
import torch

azure = AzureOpenAI(azure_endpoint="https://contoso.openai.azure.com/", api_key=os.environ.get("AZURE_OPENAI_API_KEY"))
gem = genai.Client()
vertexai.init(project="p", location="europe-west4")
llm = ChatAnthropic(model="claude-3-5-haiku-latest")
local = ChatOllama(model="llama3", base_url="http://localhost:11434")
co = cohere.ClientV2()
mi = Mistral(api_key=os.getenv("MISTRAL_API_KEY"))
hf = InferenceClient(token=os.environ["HF_TOKEN"])
pipe = StableDiffusionPipeline.from_pretrained("stabilityai/stable-diffusion-2-1", torch_dtype=torch.float16)
snapshot_download("HuggingFaceFW/fineweb-edu", repo_type="dataset", revision="v1.2.0")
name = os.environ["MODEL_NAME"]
dynamic = StableDiffusionPipeline.from_pretrained(name)
