"""Quality measurement of outputs (audio and video)."""
