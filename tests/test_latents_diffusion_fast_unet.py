"""FastUNet: the teaching UNet's forward, traced and frozen, pinned to the teaching forward."""

from __future__ import annotations

import pickle

import pytest
import torch

from workbench.errors import WorkbenchInputError
from workbench.latents.diffusion import DiffusionModel, decode_ddim, invert_ddim
from workbench.latents.diffusion.fast_unet import FAST_TOLERANCE, FastDiffusion, FastUNet
from workbench.latents.diffusion.unet import UNet


def _inputs(n: int, condition_dim: int, seed: int = 0, side: int = 16):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, side, side, generator=g)
    t = torch.randint(0, 1000, (n,), generator=g)
    c = torch.randn(n, condition_dim, generator=g) if condition_dim else None
    return x, t, c


@pytest.mark.parametrize("condition_dim", [0, 3])
def test_equals_the_teaching_forward_at_every_batch_size(condition_dim):
    torch.manual_seed(0)
    net = UNet((1, 16, 16), channels=4, condition_dim=condition_dim).eval()
    fast = FastUNet(net)
    for n in (5, 1, 2, 9):                       # traced at the first size, run at the others
        x, t, c = _inputs(n, condition_dim, seed=n)
        with torch.no_grad():
            teaching = net(x, t, c)
        got = fast(x, t, c)
        assert got.shape == teaching.shape and got.is_contiguous()
        assert float((got - teaching).abs().max()) < FAST_TOLERANCE
        assert not torch.equal(got[:1], fast(x[:1] + 0.5, t[:1], None if c is None else c[:1]))


def test_follows_the_weights_when_they_change():
    torch.manual_seed(1)
    net = UNet((1, 8, 8), channels=2, condition_dim=2).eval()
    fast = FastUNet(net)
    x, t, c = _inputs(3, 2, side=8)
    before = fast(x, t, c)
    with torch.no_grad():
        net.head[2].bias.add_(1.0)                # in place, as an optimiser step does
    after = fast(x, t, c)
    with torch.no_grad():
        assert float((after - net(x, t, c)).abs().max()) < FAST_TOLERANCE
    assert float((after - before).mean()) == pytest.approx(1.0, abs=1e-5)
    net.load_state_dict({k: v * 0.5 for k, v in net.state_dict().items()})
    with torch.no_grad():
        assert float((fast(x, t, c) - net(x, t, c)).abs().max()) < FAST_TOLERANCE


def test_the_shipped_ddim_unet_within_the_tolerance():
    from workbench.latents.pretrained import list_pretrained, load_pretrained

    if "ddim_digits" not in list_pretrained():
        pytest.skip("ddim_digits weights not present")
    unet = load_pretrained("ddim_digits", device="cpu").diffusion.unet.eval()
    x, t, c = _inputs(8, 12, seed=4, side=32)
    t[:3] = torch.tensor([0, 66, 924])            # the least and the most noisy steps it visits
    with torch.no_grad():
        teaching = unet(x, t, c)
    assert float((FastUNet(unet)(x, t, c) - teaching).abs().max()) < FAST_TOLERANCE


def test_fast_diffusion_decodes_and_inverts_as_the_model():
    torch.manual_seed(2)
    model = DiffusionModel((1, 8, 8), channels=4, condition_dim=2, num_steps=50, device="cpu").eval()
    fast = FastDiffusion(model)
    x_T, c = torch.randn(4, 1, 8, 8), torch.randn(4, 2)
    images = decode_ddim(model, x_T, c, steps=5)
    assert float((decode_ddim(fast, x_T, c, steps=5) - images).abs().max()) < 1e-4
    assert float((invert_ddim(fast, images, c, steps=5) - invert_ddim(model, images, c, steps=5)).abs().max()) < 1e-4
    eps, h = fast.predict_noise(x_T, 10, c, return_h=True)          # h-space: the teaching forward
    assert h.shape == (4, 8, 2, 2) and fast.schedule is model.schedule


def test_bad_input():
    with pytest.raises(WorkbenchInputError, match="workbench UNet"):
        FastUNet(torch.nn.Linear(2, 2))


def test_a_fast_mechanism_pickles_and_keeps_its_state_dict():
    from workbench.deepscm import DiffusionMechanism

    torch.manual_seed(3)
    plain = DiffusionMechanism(channels=4, num_steps=20, steps=3, device="cpu").eval()
    fast = pickle.loads(pickle.dumps(plain))
    fast.fast = True
    images = torch.rand(2, 1, 32, 32)
    pa = {"digit": torch.tensor([1.0, 7.0]), "thickness": torch.tensor([2.0, 3.0]),
          "intensity": torch.tensor([120.0, 200.0])}
    x_T = fast.abduct(images, pa)                                    # builds the traced copy
    assert float((x_T - plain.abduct(images, pa)).abs().max()) < 1e-3
    assert float((fast.predict(x_T, pa) - plain.predict(x_T, pa)).abs().max()) < 1e-3
    assert fast.state_dict().keys() == plain.state_dict().keys() and "fast" not in fast.config
    again = pickle.loads(pickle.dumps(fast))                          # the traced copy stays behind
    assert again.fast and again._fast_diffusion is None
    assert torch.equal(again.abduct(images, pa), x_T)
