"""Reading checkpoints safely and strictly (vpipe.weights.load)."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from vpipe.weights import WeightsError, compare, load_state_dict, load_strict  # noqa: E402


class Payload:
    """Unpickling this object runs code: it creates `marker` (what an attacker's os.system would do)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_code_executing_pickle_does_not_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    evil = tmp_path / "wav2lip_gan.pth"
    torch.save({"state_dict": {"w": torch.zeros(2)}, "extra": Payload(marker)}, evil)
    # the payload is real: an unrestricted unpickler runs it
    torch.load(evil, weights_only=False)
    assert marker.exists()
    marker.unlink()
    with pytest.raises(WeightsError, match="refused to load"):
        load_state_dict(evil)
    assert not marker.exists()


def test_state_dict_container_and_module_prefix(tmp_path: Path) -> None:
    net = torch.nn.Sequential(torch.nn.Linear(3, 2))
    wrapped = {"module." + k: v for k, v in net.state_dict().items()}
    path = tmp_path / "ck.pth"
    torch.save({"state_dict": wrapped, "optimizer": {}, "global_step": 7}, path)
    state = load_state_dict(path)
    assert sorted(state) == ["0.bias", "0.weight"]
    other = torch.nn.Sequential(torch.nn.Linear(3, 2))
    assert load_strict(other, state).clean
    assert torch.equal(other[0].weight, net[0].weight)


def test_safetensors(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    path = tmp_path / "m.safetensors"
    save_file({"a": torch.arange(4.0)}, str(path))
    assert torch.equal(load_state_dict(path)["a"], torch.arange(4.0))
    (tmp_path / "bad.safetensors").write_bytes(b"junk")
    with pytest.raises(WeightsError, match="not a readable safetensors"):
        load_state_dict(tmp_path / "bad.safetensors")


def test_strict_load_lists_missing_unexpected_and_mis_shaped_keys(tmp_path: Path) -> None:
    net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Linear(2, 2))
    state = dict(net.state_dict())
    del state["1.bias"]
    state["2.weight"] = torch.zeros(1)
    state["0.weight"] = torch.zeros(5, 5)
    report = compare(net, state)
    assert report.missing == ("1.bias",) and report.unexpected == ("2.weight",)
    assert report.mismatched == ("0.weight: (5, 5) vs (2, 3)",)
    before = net[1].weight.clone()
    with pytest.raises(WeightsError, match=r"1 missing: 1\.bias; 1 unexpected: 2\.weight; 1 shape"):
        load_strict(net, state)
    assert torch.equal(net[1].weight, before)  # nothing half-loaded


def test_not_a_checkpoint(tmp_path: Path) -> None:
    (tmp_path / "x.pth").write_bytes(b"\x00garbage")
    with pytest.raises(WeightsError, match="not a readable PyTorch checkpoint"):
        load_state_dict(tmp_path / "x.pth")
    torch.save({"state_dict": {"w": 3}}, tmp_path / "y.pth")
    with pytest.raises(WeightsError, match="not tensors"):
        load_state_dict(tmp_path / "y.pth")
    with pytest.raises(WeightsError, match="no such file"):
        load_state_dict(tmp_path / "none.pth")
