"""vpipe's built-in kernels: every module here is imported by `vpipe.kernel_api.plugins`, and
registers its kernels (and declares its backends) on import.

Files are named after what they implement:
- a backend a recipe chooses by name: `<task>_<backend>.py` (`lipsync_retrieve`, `lipsync_warp`,
  `lipsync_wav2lip`, `align_pocketsphinx`, `align_whisperx`); the TTS engines share one kernel,
  `speech_tts.py` (their code is `vpipe.speech.tts`);
- everything else by the op namespace it implements, with a word for the concept when a
  namespace has several (`media`, `media_gops`, `face`, `audio`, `slots`, `speech_fit`,
  `speech_voice`, `qc`, and `builtin` for rows, text, lexicon and template).
Heavy packages (torch, diffusers, onnxruntime) are imported inside `run`/`available`, never at
module import, so a backend whose extra is not installed is still declared.
"""
