import pickle
import joblib
import numpy as np
import pandas as pd
from dill import load as dload

obj = pickle.loads(blob)
clf = joblib.load("model.joblib")
df = pd.read_pickle("frame.pkl")
arr = np.load("objects.npy", allow_pickle=True)
state = dload(open("state.dill", "rb"))
