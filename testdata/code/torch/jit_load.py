import torch

model = torch.jit.load("model.ts")
