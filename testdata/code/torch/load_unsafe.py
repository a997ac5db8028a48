import torch as t


def restore(path):
    # weights_only=True is what we should use
    state = t.load(
        path,
        map_location="cpu",
        weights_only=False,
    )
    return state
