# coding=utf-8
"""A tiny decoder in the style of a Hugging Face modeling file.

Written for chainvet's tests: every construct a tokenizer can trip on, and
no code that touches processes, the network or files.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from .configuration_tiny import TinyConfig  # relative import, as remote code does

_CHECKPOINT = r"acme/tiny-llm"
_DOC = """
Usage:
    >>> model = TinyModel(TinyConfig())  # not run here
"""


@dataclass
class Output:
    logits: torch.Tensor
    past: Optional[Tuple[torch.Tensor, ...]] = None
    extras: dict = field(default_factory=dict)


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        var = x.pow(2).mean(-1, keepdim=True)
        return x * torch.rsqrt(var + self.eps) * self.weight


def rotary(q, k, pos, base=10_000.0):
    dim = q.shape[-1]
    inv = 1.0 / (base ** (torch.arange(0, dim, 2).float() / dim))
    ang = torch.einsum("i,j->ij", pos.float(), inv)
    cos, sin = ang.cos(), ang.sin()

    def rot(x):
        a, b = x[..., ::2], x[..., 1::2]
        return torch.stack((a * cos - b * sin, a * sin + b * cos), dim=-1).flatten(-2)

    return rot(q), rot(k)


class Attention(nn.Module):
    def __init__(self, config: TinyConfig):
        super().__init__()
        self.heads = config.num_attention_heads
        self.head_dim = config.hidden_size // self.heads
        self.qkv = nn.Linear(config.hidden_size, 3 * config.hidden_size, bias=False)
        self.out = nn.Linear(config.hidden_size, config.hidden_size, bias=False)

    def forward(self, x, mask=None):
        b, t, _ = x.shape
        q, k, v = self.qkv(x).split(x.shape[-1], dim=-1)
        q, k, v = (y.view(b, t, self.heads, self.head_dim).transpose(1, 2) for y in (q, k, v))
        q, k = rotary(q, k, torch.arange(t, device=x.device))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(self.head_dim)
        if mask is not None:
            att = att.masked_fill(mask == 0, float("-inf"))
        y = F.softmax(att, dim=-1) @ v
        return self.out(y.transpose(1, 2).reshape(b, t, -1))


class TinyModel(nn.Module):
    config_class = TinyConfig

    def __init__(self, config: TinyConfig):
        super().__init__()
        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)
        self.layers = nn.ModuleList([Attention(config) for _ in range(config.num_hidden_layers)])
        self.norm = RMSNorm(config.hidden_size)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)

    def forward(self, input_ids, attention_mask=None, **kwargs) -> Output:
        h = self.embed(input_ids)
        for i, layer in enumerate(self.layers):
            h = h + layer(h, attention_mask)
        if (n := len(self.layers)) > 64:
            raise ValueError(f"too many layers: {n!r:>6} > {64:{'d'}}")
        logits = self.lm_head(self.norm(h))
        return Output(logits=logits, extras={f"layer_{i}": None for i in range(2)})

    def describe(self) -> str:
        parts = [f'{name}={getattr(self, name, None).__class__.__name__}' for name in ("embed", "norm")]
        return ", ".join(parts) + \
            f" ({sum(p.numel() for p in self.parameters()):,} params)"


async def generate(model, ids, steps=4):
    for _ in range(steps):
        match ids.dim():
            case 1:
                ids = ids[None]
            case _:
                pass
        nxt = (lambda t: t.argmax(-1, keepdim=True))(model(ids).logits[:, -1])
        ids = torch.cat([ids, nxt], dim=1)
    return ids
