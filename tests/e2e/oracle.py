"""An independent judge of lip-sync for the end-to-end tests: dlib's 68-point face landmarks
(an ensemble of regression trees trained on iBUG 300-W; the weights ship in the
`face-recognition-models` package) and its HOG face detector. vpipe itself tracks faces with
MediaPipe FaceMesh, chooses mouths with its own viseme table and grades them with its own
aperture metric; none of that is used here, so a shared blind spot cannot pass a test twice.

Measures, per frame:
- the mouth opening: the mean gap between the inner lips (points 61-63 against 67-65),
  divided by the distance between the outer eye corners (36, 45), so it does not depend on
  the frame size or how close the speaker sits;
- the mouth box: the outer lip contour (points 48-59) with a margin, for a mouth-only PSNR.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass

import numpy as np

# ARPAbet phones (as pocketsphinx labels them) that close the lips, and open vowels
BILABIALS = frozenset({"M", "B", "P"})
OPEN_VOWELS = frozenset({"AA", "AE", "AH", "AO", "AW", "AY", "EH"})


@functools.cache
def _models():  # type: ignore[no-untyped-def]
    import dlib

    with warnings.catch_warnings():  # face_recognition_models imports pkg_resources
        warnings.simplefilter("ignore")
        import face_recognition_models

    return dlib.get_frontal_face_detector(), dlib.shape_predictor(
        face_recognition_models.pose_predictor_model_location()
    )


@dataclass(frozen=True)
class Mouth:
    points: np.ndarray  # (68, 2) float, image pixels
    opening: float  # inner-lip gap / outer-eye-corner distance

    @property
    def box(self) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1) around the outer lip contour, with a 20 % margin."""
        lips = self.points[48:60]
        (x0, y0), (x1, y1) = lips.min(axis=0), lips.max(axis=0)
        mx, my = 0.2 * (x1 - x0), 0.2 * (y1 - y0)
        return int(x0 - mx), int(y0 - my), int(np.ceil(x1 + mx)), int(np.ceil(y1 + my))


def mouth(image: np.ndarray) -> Mouth | None:
    """The largest face's mouth in a BGR image, or None when dlib finds no face."""
    import cv2

    detector, predictor = _models()
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    faces = detector(gray, 0)
    if len(faces) == 0:
        faces = detector(gray, 1)  # upsampled once: small faces
    if len(faces) == 0:
        return None
    face = max(faces, key=lambda r: r.width() * r.height())
    shape = predictor(gray, face)
    pts = np.array([(shape.part(i).x, shape.part(i).y) for i in range(68)], np.float64)
    gap = np.mean([np.linalg.norm(pts[a] - pts[b]) for a, b in ((61, 67), (62, 66), (63, 65))])
    eyes = float(np.linalg.norm(pts[36] - pts[45]))
    return Mouth(pts, float(gap / eyes))


def mouth_psnr(a: np.ndarray, b: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """PSNR of the luma of two BGR images inside `box`."""
    import cv2

    x0, y0, x1, y1 = box
    h, w = a.shape[:2]
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    ya = cv2.cvtColor(a[y0:y1, x0:x1], cv2.COLOR_BGR2GRAY).astype(np.float64)
    yb = cv2.cvtColor(b[y0:y1, x0:x1], cv2.COLOR_BGR2GRAY).astype(np.float64)
    mse = float(np.mean((ya - yb) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def bgr_frames(path, keep=None) -> list[tuple[float, np.ndarray]]:  # type: ignore[no-untyped-def]
    """(time, BGR image) of the decoded frames that `keep(time)` selects (all when None)."""
    import av

    out = []
    with av.open(str(path)) as c:
        for frame in c.decode(c.streams.video[0]):
            t = float(frame.time)
            if keep is None or keep(t):
                out.append((t, frame.to_ndarray(format="bgr24")))
    return out
