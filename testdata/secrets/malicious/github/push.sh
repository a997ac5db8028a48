#!/bin/bash
git push https://x-access-token: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@github.com/org/repo.git
