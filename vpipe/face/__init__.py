"""Face tracking for vpipe: mediapipe FaceMesh landmarks of one chosen face per frame, head pose,
presence, and zero-phase smoothing of the rigid head motion that leaves the lips untouched.

Pure library code (no IR/compiler imports): `landmarks` (mesh topology and per-frame measures),
`pose` (rigid fit, head pose, smoothing), `tracker` (`track_video`, `track_image`).
"""
