"""The latent SCM prior and the CausalVAE built on it: forward passes by hand, acyclicity, API."""

import math

import pytest
import torch

from workbench.errors import CycleError, ShapeError, UnknownVariableError, WorkbenchInputError
from workbench.latents import CausalVAE, LatentSCM, build_model, train

#   z0 ----> z1 ----> z2
#    \________________^        allowed edges: 0->1, 1->2, 0->2
CHAIN = [[0, 1, 1], [0, 0, 1], [0, 0, 0]]


def _random_prior(seed=0, mechanism="mlp"):
    torch.manual_seed(seed)
    prior = LatentSCM(3, structure=CHAIN, mechanism=mechanism, hidden=4)
    with torch.no_grad():
        for p in prior.parameters():
            p.copy_(torch.randn_like(p) * 0.7)
    return prior


def _by_hand(prior, noise, do=None):
    """Ancestral pass in the order 0, 1, 2, written out concept by concept."""
    do = do or {}
    W, w1, b1, w2 = prior.weight, prior.w1, prior.b1, prior.w2
    sigma, bias = prior.log_scale.exp(), prior.bias
    z = torch.zeros_like(noise)
    for j in range(3):
        if j in do:
            z[:, j] = do[j]
            continue
        linear = sum(W[i, j] * z[:, i] for i in range(j))
        pre = b1[j] + sum(z[:, i, None] * w1[j, i] for i in range(j))          # (n, hidden)
        nonlinear = torch.tanh(pre) @ w2[j] if prior.mechanism == "mlp" else 0.0
        z[:, j] = linear + bias[j] + nonlinear + sigma[j] * noise[:, j]
    return z


@pytest.mark.parametrize("mechanism", ["mlp", "linear"])
def test_sampling_equals_a_hand_written_forward_pass(mechanism):
    prior = _random_prior(mechanism=mechanism)
    noise = torch.randn(50, 3, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.allclose(prior.solve(noise), _by_hand(prior, noise), atol=1e-5)
        z = prior.sample(50, generator=torch.Generator().manual_seed(1))
        assert torch.allclose(z, _by_hand(prior, noise), atol=1e-5)


def test_interventions_equal_the_hand_written_mutilated_pass():
    prior = _random_prior(seed=2)
    noise = torch.randn(40, 3, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        observed = prior.solve(noise)
        done = prior.solve(noise, {1: 0.8})
        assert torch.allclose(done, _by_hand(prior, noise, {1: 0.8}), atol=1e-5)
        assert torch.equal(done[:, 0], observed[:, 0])          # an ancestor does not move
        assert (done[:, 1] == 0.8).all()
        assert not torch.allclose(done[:, 2], observed[:, 2])   # the child follows
        # counterfactual: abduct the noise from the observed concepts, then act
        assert torch.allclose(prior.noise_of(observed), noise, atol=1e-5)
        assert torch.allclose(prior.counterfactual(observed, {1: 0.8}), done, atol=1e-5)


def test_log_prob_is_the_sum_of_conditional_normals():
    prior = _random_prior(seed=4)
    z = torch.randn(30, 3, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        mean = torch.stack([_by_hand(prior, torch.zeros(30, 3), {i: z[:, i] for i in range(3) if i != j})[:, j]
                            for j in range(3)], dim=1)
        expected = torch.distributions.Normal(mean, prior.log_scale.exp()).log_prob(z).sum(1)
        assert torch.allclose(prior.log_prob(z), expected, atol=1e-5)


def test_acyclicity_penalty_closed_form():
    prior = LatentSCM(2, structure="learn", mechanism="linear")
    with torch.no_grad():
        prior.weight.copy_(torch.tensor([[0.0, 0.6], [0.0, 0.0]]))
        assert abs(prior.acyclicity().item()) < 1e-6                       # a DAG
        prior.weight.copy_(torch.tensor([[0.0, 0.6], [0.5, 0.0]]))         # a 2-cycle
        # tr exp([[0, a^2], [b^2, 0]]) - 2 = 2 cosh(ab) - 2
        assert prior.acyclicity().item() == pytest.approx(2 * math.cosh(0.3) - 2, abs=1e-5)
    graph = prior.graph(threshold=0.1)                     # the cycle is cut at its weaker edge
    assert list(graph.edges) == [(0, 1)] and graph.graph["cut"] == [(1, 0)]


def test_learned_adjacency_stays_acyclic_when_trained():
    # data from x0 -> x1 -> x2 (nonlinear); the prior may propose any edge
    g = torch.Generator().manual_seed(0)
    x0 = torch.randn(2000, generator=g)
    x1 = torch.tanh(2 * x0) + 0.3 * torch.randn(2000, generator=g)
    x2 = 1.5 * x1 + 0.3 * torch.randn(2000, generator=g)
    data = torch.stack([x0, x1, x2], 1)
    torch.manual_seed(0)
    prior = LatentSCM(3, structure="learn", hidden=8)
    start = prior.acyclicity().item()
    opt = torch.optim.Adam(prior.parameters(), lr=1e-2)
    for _ in range(200):
        h = prior.acyclicity()
        loss = -prior.log_prob(data).mean() + 10 * (h + h * h) + 0.02 * prior.adjacency.abs().sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(prior.acyclicity().detach()) < start / 20   # the penalty pulls towards a DAG
    graph = prior.graph(threshold=0.3)
    import networkx as nx
    assert nx.is_directed_acyclic_graph(graph) and graph.number_of_edges() >= 2


def test_order_structure_is_upper_triangular_after_training():
    prior = LatentSCM(3, structure="order")
    opt = torch.optim.Adam(prior.parameters(), lr=0.1)
    for _ in range(5):
        loss = -prior.log_prob(torch.randn(64, 3)).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert torch.equal(torch.tril(prior.adjacency.detach()), torch.zeros(3, 3))
    assert prior.acyclicity().item() == pytest.approx(0.0, abs=1e-6)


def test_structure_and_intervention_input_errors():
    with pytest.raises(CycleError):
        LatentSCM(2, structure=[[0, 1], [1, 0]])
    with pytest.raises(WorkbenchInputError, match="self-loops"):
        LatentSCM(2, structure=[[1, 0], [0, 0]])
    with pytest.raises(ShapeError):
        LatentSCM(3, structure=[[0, 1], [0, 0]])
    with pytest.raises(UnknownVariableError):
        LatentSCM(2, structure="random")
    with pytest.raises(UnknownVariableError):
        LatentSCM(2).sample(3, interventions={5: 1.0})


def _tiny_vae(**options):
    torch.manual_seed(0)
    return CausalVAE((3, 16, 16), factor_names=["a", "b", "c"], structure=CHAIN, device="cpu",
                     factor_mean=[1.0, 2.0, 3.0], factor_std=[2.0, 1.0, 0.5], **options)


def test_causal_vae_interventions_leave_ancestors_and_follow_the_prior():
    model = _tiny_vae().eval()
    x = torch.rand(6, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    z = model.encode(x)[0].detach()
    after = model.intervene_concepts(x, {"b": 2.5})                       # in b's units
    assert torch.allclose(after[:, 0], z[:, 0])                          # a: an ancestor
    assert torch.allclose(after[:, 1], torch.full((6,), (2.5 - 2.0) / 1.0))
    expected = model.prior.counterfactual(z, {1: 0.5})
    assert torch.allclose(after, expected, atol=1e-6)
    assert torch.allclose(model.intervene(x, {"b": 2.5}), model.decode(expected))
    assert torch.allclose(model.to_factors(model.to_concepts(torch.ones(2, 3))), torch.ones(2, 3))
    with pytest.raises(UnknownVariableError, match="concept"):
        model.intervene(x, {"d": 1.0})


def test_causal_vae_supervision_terms_and_config():
    model = _tiny_vae()
    x, labels = torch.rand(8, 3, 16, 16), torch.randn(8, 3)
    g = lambda: torch.Generator().manual_seed(0)                            # noqa: E731
    _, unlabelled = model.loss(x, labels, torch.zeros(8, dtype=torch.bool), generator=g())
    assert unlabelled["supervision"] == 0.0 and unlabelled["prior_nll"] == 0.0
    _, full = model.loss(x, labels, generator=g())
    mean = model.encode(x)[0]
    expected = ((mean - model.to_concepts(labels)) ** 2).sum(1).mean()
    assert full["supervision"] == pytest.approx(float(expected), rel=1e-5)
    with pytest.raises(ShapeError, match="labels"):
        model.loss(x, labels[:, :2])
    rebuilt = build_model(model.config, device="cpu")
    assert rebuilt.config == model.config and isinstance(rebuilt, CausalVAE)


def test_training_on_images_and_labels_resumes_bit_identically(tmp_path):
    x = (torch.rand(32, 3, 16, 16, generator=torch.Generator().manual_seed(0)) * 255).to(torch.uint8)
    labels = torch.randn(32, 3, generator=torch.Generator().manual_seed(1))
    data = (x, labels, torch.arange(32) % 2 == 0)
    straight = train(_tiny_vae(), data, steps=6, batch_size=8, progress=False, kl_warmup=3)
    model = _tiny_vae()
    train(model, data, steps=3, batch_size=8, progress=False, kl_warmup=3, checkpoint_dir=tmp_path)
    resumed = train(_tiny_vae(), data, steps=6, batch_size=8, progress=False, kl_warmup=3,
                    checkpoint_dir=tmp_path)
    for key, value in straight.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[key]), key
    with pytest.raises(WorkbenchInputError, match="different lengths"):
        train(_tiny_vae(), (x, labels[:5]), steps=1, progress=False)
