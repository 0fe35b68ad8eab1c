"""Speech: text preparation, synthesis, alignment, voice matching."""
