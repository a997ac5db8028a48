require 'mistral'

MISTRAL_API_KEY = 'pY1almvJJTsg4lPtDWRLCtZgXiNKWsmf'
