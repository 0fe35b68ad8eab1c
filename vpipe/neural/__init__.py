"""Neural network definitions for user-supplied weights (torch, extra `neural`).

Each module rebuilds a published architecture with the published state-dict key names and
shapes, so the authors' checkpoints load key for key (`vpipe.weights.load_strict`). A
`width` factor builds the same graph with fewer channels: the tests' tiny random models.

MuseTalk 1.5 (a diffusers UNet2DConditionModel at t=0, `musetalk.py`) and LatentSync 1.5/1.6
(a UNet3D with motion modules, `unet3d.py`) use tiny *configs* instead (their config files
carry the widths); with them: whisper-tiny window features, the SD VAE, 16-frame window plans
and the diffusion sampling loop. Crops, loading and rendering on a track are in
`vpipe.lipsync` (latent_crop, neural_load, latent_render).
"""
