import os

from setuptools import find_packages, setup

HERE = os.path.dirname(__file__)

setup(
    name="legacy-tool",
    version="1.0.0",
    packages=find_packages(),
    install_requires=[
        "click>=8.0",  # CLI
        'tqdm==4.66.5',
    ],
    # Built at run time: left out of a static reading.
    tests_require=open(os.path.join(HERE, "test-requirements.txt")).read().splitlines(),
)
