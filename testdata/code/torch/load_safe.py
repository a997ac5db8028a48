import torch


def restore(path):
    doc = "torch.load(path) is unsafe"  # torch.load(path)
    return torch.load(path, map_location="cpu", weights_only=True)
