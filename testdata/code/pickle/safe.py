import pickle
import numpy as np
import pandas as pd

blob = pickle.dumps({"a": 1})
arr = np.load("weights.npy")
arr2 = np.load("weights.npy", allow_pickle=False)
df = pd.read_parquet("frame.parquet")
