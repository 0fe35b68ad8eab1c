"""Provenance end to end: every output carries a C2PA manifest (signed with a test CA made
here) naming the source as its parent ingredient and the synthesized spans, plus a JSON
sidecar with the same facts; `vpipe verify` validates both and catches tampering."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.helpers import INTERVIEW, align, read_manifest, vpipe, write_recipe
from tests.provenance.certs import Pki, make_pki

pytestmark = pytest.mark.media
c2pa = pytest.importorskip("c2pa")


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("provenance-cache")


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory, pki: Pki, cache: Path) -> Path:
    """One row re-animated (retrieve) and signed."""
    work = tmp_path_factory.mktemp("signed")
    recipe = write_recipe(work, INTERVIEW, ["feedback"], lipsync="retrieve")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VPIPE_C2PA_CERT", str(pki.chain))
        mp.setenv("VPIPE_C2PA_KEY", str(pki.key))
        cli = vpipe("run", recipe, "--no-progress", "--cache-dir", cache)
    assert cli.code == 0, cli.text
    assert "provenance: JSON sidecars only" not in cli.stdout
    (row,) = [r for r in read_manifest(work / "out" / "manifest.jsonl") if r["type"] == "row"]
    return Path(row["output"])


def test_signed_output_names_source_and_synthetic_spans(signed: Path, pki: Pki) -> None:
    cli = vpipe("verify", signed, "--trust", pki.ca)
    assert cli.code == 0, cli.text
    lines = cli.stdout.splitlines()
    assert lines[0] == f"{signed}: ok"
    assert lines[1] == "  c2pa: Trusted (signed by vpipe test signer, issuer vpipe test)"
    assert lines[2] == "  source (parent ingredient): interview_man.mp4"
    assert lines[3] == "  sidecar: matches the file"
    report = json.loads(vpipe("verify", signed, "--trust", pki.ca, "--format", "json").stdout)[0]
    spans = report["c2pa"]["synthesized"]
    assert spans == report["sidecar"]["synthesized"]  # the sidecar says the same as the manifest
    audio = [s for s in spans if s["track"] == "audio"]
    video = [s for s in spans if s["track"] == "video"]
    assert [(s["said"], s["replaced"]) for s in audio] == [("feedback", "help")]
    assert audio[0]["by"] == "piper voice en_US-joe-medium, moved towards the speaker's voice"
    assert video and all(s["by"] == "lip-sync retrieve" for s in video)
    # the audio span is where the new word is heard in the file (forced alignment of the output)
    words = align(signed, INTERVIEW.transcript.replace("help", "feedback", 1)).words
    heard = next(w for w in words if w.label == "feedback")
    assert audio[0]["start"] - 0.1 <= heard.start and heard.end <= audio[0]["end"] + 0.1
    # the re-rendered frames cover the new word (to the frame: 25 fps)
    assert min(s["start"] for s in video) <= audio[0]["start"] + 0.04
    assert max(s["end"] for s in video) >= audio[0]["end"] - 0.04
    with open(signed, "rb") as f:
        manifest = c2pa.Reader("video/mp4", f).get_active_manifest()
    actions = next(a for a in manifest["assertions"] if a["label"].startswith("c2pa.actions"))
    edited = actions["data"]["actions"]
    assert any(
        a["action"] == "c2pa.edited" and "compositeWithTrainedAlgorithmicMedia" in a.get("digitalSourceType", "")
        for a in edited
    )


def test_another_ca_is_not_trusted(signed: Path, tmp_path: Path) -> None:
    stranger = make_pki(tmp_path / "other", "someone else")
    cli = vpipe("verify", signed, "--trust", stranger.ca)
    assert cli.code == 1
    assert (
        "c2pa: Valid (signed by vpipe test signer, issuer vpipe test); failures: signingCredential.untrusted"
        in cli.stdout
    )
    assert "problem: the signer does not chain to the given trust anchors" in cli.stdout


def test_tampered_output_fails_verification(signed: Path, pki: Pki, tmp_path: Path) -> None:
    copy = tmp_path / signed.name
    data = bytearray(signed.read_bytes())
    data[len(data) * 3 // 4] ^= 0xFF  # one byte of the media data
    copy.write_bytes(bytes(data))
    (tmp_path / (signed.name + ".provenance.json")).write_bytes(
        (signed.parent / (signed.name + ".provenance.json")).read_bytes()
    )
    cli = vpipe("verify", copy, "--trust", pki.ca)
    assert cli.code == 1
    assert "c2pa: Invalid" in cli.stdout and "assertion.bmffHash.mismatch" in cli.stdout
    assert "sidecar: does NOT match the file (sha256 differs)" in cli.stdout


def test_without_a_certificate_the_sidecar_is_written_and_said(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VPIPE_C2PA_CERT", raising=False)
    monkeypatch.delenv("VPIPE_C2PA_KEY", raising=False)
    recipe = write_recipe(tmp_path, INTERVIEW, ["support"])
    cli = vpipe("run", recipe, "--no-progress", "--cache-dir", cache)
    assert cli.code == 0, cli.text
    assert (
        "provenance: JSON sidecars only (<output>.provenance.json); no C2PA signing certificate is configured "
        "(VPIPE_C2PA_CERT, VPIPE_C2PA_KEY)"
    ) in cli.stdout
    out = tmp_path / "out" / "r1.mp4"
    sidecar = json.loads((tmp_path / "out" / "r1.mp4.provenance.json").read_text())
    assert sidecar["c2pa"] is None and sidecar["source"]["file"] == "interview_man.mp4"
    assert [s["said"] for s in sidecar["synthesized"]] == ["support"]
    verify = vpipe("verify", out)
    assert verify.code == 0
    assert verify.stdout.splitlines()[1:3] == ["  c2pa: no embedded manifest", "  sidecar: matches the file"]


def test_a_half_configured_signer_is_refused_before_anything_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VPIPE_C2PA_CERT", str(tmp_path / "chain.pem"))
    monkeypatch.delenv("VPIPE_C2PA_KEY", raising=False)
    recipe = write_recipe(tmp_path, INTERVIEW, ["support"])
    cli = vpipe("run", recipe, "--no-progress", "--cache-dir", tmp_path / "cache")
    assert cli.code == 2
    assert (
        "vpipe: VP343 provenance: set both VPIPE_C2PA_CERT (certificate chain) and VPIPE_C2PA_KEY (private key)"
        in cli.stderr
    )
    assert not (tmp_path / "out").exists()
