from datasets import load_dataset
from transformers import AutoModelForCausalLM, AutoTokenizer

REV = "0123456789abcdef0123456789abcdef01234567"
tok = AutoTokenizer.from_pretrained("Qwen/Qwen2.5-0.5B-Instruct", revision="0123456789abcdef0123456789abcdef01234567")
model = AutoModelForCausalLM.from_pretrained("./checkpoints/final")
other = AutoModelForCausalLM.from_pretrained(model_dir)
data = load_dataset("stanfordnlp/imdb", revision="0123456789abcdef0123456789abcdef01234567")
local = load_dataset("csv", data_files="train.csv")
