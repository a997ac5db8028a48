from transformers import AutoModel

model = AutoModel.from_pretrained(
    "microsoft/phi-2",
    revision="0123456789abcdef0123456789abcdef01234567",
    trust_remote_code=True,
)
