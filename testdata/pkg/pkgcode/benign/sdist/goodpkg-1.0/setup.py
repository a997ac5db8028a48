from setuptools import find_packages, setup

with open("README.md") as f:
    long_description = f.read()

setup(
    name="goodpkg",
    version="1.0",
    packages=find_packages(),
    long_description=long_description,
    install_requires=["numpy>=1.20"],
)
