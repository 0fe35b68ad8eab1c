"""Play a video in headless Chromium (Debian's `chromium`) and report what the page saw.

The DevTools protocol over a pipe (`--remote-debugging-pipe`: commands on fd 3, replies on
fd 4, each JSON message ended by a NUL byte): open a page beside the video, wait for it to
load, then evaluate a script that plays the video and resolves on `ended`, `error` or a
timeout. `--dump-dom` cannot do this: its virtual time does not run media playback.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

PLAY = """
new Promise((resolve) => {
  const v = document.createElement('video');
  v.muted = true;
  v.src = %(src)s;
  document.body.appendChild(v);
  const seen = new Set();
  v.addEventListener('timeupdate', () => seen.add(Math.floor(v.currentTime * 4) / 4));
  v.addEventListener('error', () => resolve({state: 'error', error: v.error && (v.error.code + ' ' + v.error.message)}));
  v.addEventListener('ended', () => {
    const q = v.getVideoPlaybackQuality();
    resolve({state: 'ended', time: v.currentTime, duration: v.duration, frames: q.totalVideoFrames,
             dropped: q.droppedVideoFrames, corrupted: q.corruptedVideoFrames, seen: [...seen].sort((a, b) => a - b)});
  });
  v.play().catch((e) => resolve({state: 'rejected', error: String(e)}));
  setTimeout(() => resolve({state: 'timeout', time: v.currentTime}), %(ms)d);
})
"""


class _Pipe:
    def __init__(self, send: int, receive: int) -> None:
        self.send, self.receive, self.buffer, self.id = send, receive, b"", 0

    def message(self) -> dict[str, Any]:
        while b"\0" not in self.buffer:
            chunk = os.read(self.receive, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        return dict(json.loads(raw))

    def call(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        self.id += 1
        msg: dict[str, Any] = {"id": self.id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.send, json.dumps(msg).encode() + b"\0")
        while True:
            reply = self.message()
            if reply.get("id") == self.id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return dict(reply.get("result") or {})

    def wait_for(self, event: str) -> None:
        while self.message().get("method") != event:
            pass


def play(video: Path, seconds: float = 60.0) -> dict[str, Any]:
    """Play `video` to its end in headless Chromium; the page's account of it (state: ended,
    error, rejected or timeout; currentTime, duration, frames decoded, dropped and corrupted)."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.fail("Debian's chromium package is needed for the playback tests (apt-get install chromium)")
    page = video.parent / f"{video.stem}.play.html"
    page.write_text("<!doctype html><html><body></body></html>", encoding="utf-8")
    to_chrome, from_us = os.pipe()  # chromium reads fd 3
    from_chrome, to_us = os.pipe()  # and writes fd 4

    def wire() -> None:  # in the child, before exec: copies first, so neither end is overwritten
        a, b = os.dup(to_chrome), os.dup(to_us)
        os.dup2(a, 3)
        os.dup2(b, 4)
        os.set_inheritable(3, True)
        os.set_inheritable(4, True)

    args = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe"]
    args += ["--autoplay-policy=no-user-gesture-required", "about:blank"]
    proc = subprocess.Popen(
        args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, pass_fds=(3, 4), preexec_fn=wire, close_fds=True
    )
    os.close(to_chrome)
    os.close(to_us)
    pipe = _Pipe(from_us, from_chrome)
    try:
        target = pipe.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = pipe.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        pipe.call("Page.enable", session=session)
        pipe.call("Page.navigate", {"url": page.as_uri()}, session)
        pipe.wait_for("Page.loadEventFired")
        script = PLAY % {"src": json.dumps(video.name), "ms": int(seconds * 1000)}
        result = pipe.call("Runtime.evaluate", {"expression": script, "awaitPromise": True, "returnByValue": True}, session)
        pipe.call("Browser.close")
        return dict(result["result"]["value"])
    finally:
        os.close(from_us)
        os.close(from_chrome)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
