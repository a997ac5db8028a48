#!/bin/sh
echo chainvet-fixture
