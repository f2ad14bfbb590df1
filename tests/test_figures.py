import io

import numpy as np
from PIL import Image

from srgan.evaluation.figures import TRIPTYCH_TITLES, triptych_figure, triptych_png


def _solid(colour, size):
    return np.broadcast_to(np.array(colour, np.uint8), (size, size, 3)).copy()


def test_triptych_panels_titles_and_contents():
    lr, sr, hr = _solid((255, 0, 0), 8), _solid((0, 255, 0), 32), _solid((0, 0, 255), 32)
    fig = triptych_figure(lr, sr, hr, "epoch 5")
    assert [ax.get_title() for ax in fig.axes] == list(TRIPTYCH_TITLES)
    assert fig._suptitle.get_text() == "epoch 5"
    png = np.asarray(Image.open(io.BytesIO(triptych_png(lr, sr, hr))).convert("RGB"))
    third = png.shape[1] // 3
    # Each third of the picture is dominated by its panel's colour: LR | SR | HR, in order.
    for i, channel in enumerate((0, 1, 2)):
        panel = png[:, i * third:(i + 1) * third].reshape(-1, 3)
        pure = (panel[:, channel] > 200) & (np.delete(panel, channel, axis=1).max(axis=1) < 60)
        assert pure.mean() > 0.25, f"panel {i} lacks its colour"


def test_float_panels_are_converted_from_unit_range():
    sr = np.full((32, 32, 3), -1.0, np.float32)
    sr[..., 1] = 1.0  # green in [-1, 1]
    lr, hr = _solid((255, 0, 0), 8), _solid((0, 0, 255), 32)
    png = np.asarray(Image.open(io.BytesIO(triptych_png(lr, sr, hr))).convert("RGB"))
    middle = png[:, png.shape[1] // 3:2 * png.shape[1] // 3].reshape(-1, 3)
    assert ((middle[:, 1] > 200) & (middle[:, [0, 2]].max(axis=1) < 60)).mean() > 0.25
