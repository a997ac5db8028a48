import torch

model = torch.hub.load("./vendor/vision", "resnet18", source="local")
