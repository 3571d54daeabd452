"""IQL losses, TD target, Polyak update and networks of pnlc.value."""

import pytest
import torch

from pnlc.value.losses import expectile_loss, masked_squared_error, polyak_update, q_loss, td_target, value_loss
from pnlc.value.networks import QNet, TwinQ, ValueNet, mlp


def test_expectile_loss_weights_positive_and_negative_errors():
    diff = torch.tensor([2.0, -2.0, 0.5, -0.5])
    loss = expectile_loss(diff, expectile=0.8, reduction="none")
    # target above prediction (diff > 0) weighs e, below weighs 1 - e
    assert torch.allclose(loss, torch.tensor([0.8 * 4, 0.2 * 4, 0.8 * 0.25, 0.2 * 0.25]))
    assert torch.allclose(expectile_loss(diff, 0.8, "mean"), loss.mean())
    assert torch.allclose(expectile_loss(diff, 0.8, "sum"), loss.sum())


def test_expectile_half_is_half_mse_and_value_loss_sign():
    diff = torch.randn(16, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(expectile_loss(diff, 0.5, "mean"), 0.5 * diff.square().mean())
    # value_loss takes (target Q, V): V below the target is penalised with weight e
    assert value_loss(torch.tensor([1.0]), torch.tensor([0.0]), 0.9, "sum").item() == pytest.approx(0.9)
    assert value_loss(torch.tensor([0.0]), torch.tensor([1.0]), 0.9, "sum").item() == pytest.approx(0.1)


def test_bad_reduction_is_an_error():
    with pytest.raises(ValueError, match="reduction"):
        expectile_loss(torch.zeros(2), 0.7, "avg")


def test_td_target_termination_and_goal_reached():
    next_value = torch.full((4,), 0.5)
    reward = torch.tensor([0.0, 1.0, 0.0, 1.0])
    terminal = torch.tensor([0.0, 0.0, 1.0, 1.0])
    target = td_target(reward, terminal, 0.9, next_value)
    # bootstrap only when the goal is not reached and the episode goes on
    assert torch.allclose(target, torch.tensor([0.45, 1.0, 0.0, 1.0]))
    # per-sample discount (outcome goals use 1.0)
    target = td_target(torch.zeros(2), torch.zeros(2), torch.tensor([0.9, 1.0]), torch.tensor([0.5, 0.5]))
    assert torch.allclose(target, torch.tensor([0.45, 0.5]))
    # fractional outcome labels at the terminal step are the target itself
    assert td_target(torch.tensor([0.3]), torch.tensor([1.0]), 1.0, torch.tensor([0.9])).item() == pytest.approx(0.3)


def test_q_loss_is_squared_error():
    assert q_loss(torch.tensor([0.2, 0.4]), torch.tensor([0.5, 0.5]), "sum").item() == pytest.approx(0.09 + 0.01)


def test_masked_squared_error_averages_over_the_masked_rows_only():
    pred, target = torch.tensor([0.2, 0.4, 0.9]), torch.tensor([0.5, 0.5, 0.0])
    assert masked_squared_error(pred, target, torch.tensor([1.0, 1.0, 0.0])).item() == pytest.approx((0.09 + 0.01) / 2)
    assert masked_squared_error(pred, target, torch.zeros(3)).item() == 0.0


def test_polyak_update_arithmetic():
    online = torch.nn.Linear(3, 2)
    target = torch.nn.Linear(3, 2)
    with torch.no_grad():
        online.weight.fill_(1.0)
        online.bias.fill_(-2.0)
        target.weight.fill_(0.0)
        target.bias.fill_(2.0)
    polyak_update(target, online, target_update_rate=0.25)
    assert torch.allclose(target.weight, torch.full((2, 3), 0.25))
    assert torch.allclose(target.bias, torch.full((2,), 2.0 * 0.75 - 2.0 * 0.25))
    polyak_update(target, online, target_update_rate=1.0)
    assert torch.equal(target.weight, online.weight)


def test_mlp_factory_shapes():
    net = mlp(10, (7, 5), 1)
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(10, 7), (7, 5), (5, 1)]
    assert net(torch.zeros(4, 10)).shape == (4, 1)


def test_networks_are_probabilities_and_twin_min():
    torch.manual_seed(0)
    s, a, g = torch.randn(6, 4), torch.randn(6, 4), torch.randn(6, 4)
    twin = TwinQ(4, 4, (8,))
    q1, q2 = twin.both(s, a, g)
    assert torch.equal(twin(s, a, g), torch.minimum(q1, q2))
    assert ((q1 > 0) & (q1 < 1)).all()
    v = ValueNet(4, 4, (8,))(s, g)
    assert v.shape == (6,) and ((v > 0) & (v < 1)).all()
    # scalar critic: no goal input
    assert QNet(4, 0, (8,))(s, a).shape == (6,)
