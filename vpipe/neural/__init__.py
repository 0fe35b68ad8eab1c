"""Neural network definitions for user-supplied weights (torch, extra `neural`).

Each module rebuilds a published architecture with the published state-dict key names and
shapes, so the authors' checkpoints load key for key (`vpipe.weights.load_strict`). A
`width` factor builds the same graph with fewer channels: the tests' tiny random models.
"""
