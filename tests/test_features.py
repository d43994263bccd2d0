import numpy as np

from lcpipe.curve import Series
from lcpipe.forecasting.features import DELTA_SCALE, make_windows, schedule_columns, smooth, step_features


def test_step_features_are_scaled_epoch_accuracy_and_delta():
    acc = np.array([0.1, 0.3, 0.4])
    f = step_features(acc, total=10, inputs=["epoch", "acc", "delta"], lr=None)
    np.testing.assert_allclose(f[:, 0], [0.1, 0.2, 0.3])
    np.testing.assert_allclose(f[:, 1], acc)
    np.testing.assert_allclose(f[:, 2], np.array([0.0, 0.2, 0.1]) * DELTA_SCALE)


def test_windows_slide_over_every_source_and_target_the_next_delta():
    a = Series("a", np.linspace(0.1, 0.9, 10))
    b = Series("b", np.linspace(0.2, 0.6, 6))
    x, y = make_windows([a, b], window=3, inputs=["epoch", "acc", "delta"])
    assert x.shape == ((10 - 3) + (6 - 3), 3, 3)
    np.testing.assert_allclose(x[0, :, 1], a.values[:3], rtol=1e-6)
    np.testing.assert_allclose(y[0], (a.values[3] - a.values[2]) * DELTA_SCALE, rtol=1e-5)


def test_smoothing_is_causal_and_alpha_one_is_identity():
    acc = np.array([0.1, 0.9, 0.1, 0.9])
    np.testing.assert_array_equal(smooth(acc, 1.0), acc)
    s = smooth(acc, 0.5)
    np.testing.assert_allclose(s, [0.1, 0.5, 0.3, 0.6])
    np.testing.assert_allclose(smooth(acc[:2], 0.5), s[:2])  # the future does not leak back


def test_schedule_columns_mark_the_next_lr_drop():
    lr = np.array([0.1] * 4 + [0.01] * 4)
    cols = schedule_columns(lr, 8)
    np.testing.assert_allclose(cols["lr"], [1] * 4 + [0.1] * 4)
    np.testing.assert_allclose(cols["to_drop"][:4], np.array([4, 3, 2, 1]) / 8)
    np.testing.assert_allclose(cols["to_drop"][4:], 1.0)
