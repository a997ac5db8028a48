#!/bin/sh
export REPLICATE_API_TOKEN=r8_GQF9QKmoyUSuIN9M3YcEqu9d8IJnc6Ofl5rGT
python predict.py
