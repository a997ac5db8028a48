"""Writes the .npy fixtures for package numpy's tests.

Run: /usr/bin/python3 internal/modelfile/numpy/testdata/gen.py (needs Debian's python3-numpy).
Each file is real np.save output; nothing is loaded back with allow_pickle.
"""
import os
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))

def save(name, arr, **kw):
    with open(os.path.join(here, name), "wb") as f:
        np.save(f, arr, **kw)

save("f4_2x3.npy", np.zeros((2, 3), dtype="<f4"))
save("i8_scalar.npy", np.int64(7))
save("fortran.npy", np.asfortranarray(np.ones((2, 2), dtype=">f8")))
save("object.npy", np.array(["a", 1, None], dtype=object), allow_pickle=True)
structured = np.zeros(2, dtype=[("O", "<i4"), ("obj", "O"), ("nested", [("x", "<f2")])])
save("structured_object.npy", structured, allow_pickle=True)
save("structured_plain.npy", np.zeros(2, dtype=[("O", "<i4"), ("b", "S3")]))
save("unicode.npy", np.array(["abc", "de"]))
