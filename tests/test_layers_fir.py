"""FIR resampling: the fast depthwise (transposed) convolutions equal the textbook definition."""
import pytest
import torch
import torch.nn.functional as F

from ganstudio.core.layers import downsample2d, setup_filter, upfirdn2d, upsample2d


def upfirdn2d_by_definition(x, f, up=1, down=1, padding=(0, 0, 0, 0), gain=1.0):
    """Zero-insert, pad/crop, convolve with f, keep every `down`-th pixel."""
    n, c, h, w = x.shape
    px0, px1, py0, py1 = padding
    if up > 1:
        x = F.pad(x.reshape(n, c, h, 1, w, 1), [0, up - 1, 0, 0, 0, up - 1]).reshape(n, c, h * up, w * up)
    x = F.pad(x, [max(px0, 0), max(px1, 0), max(py0, 0), max(py1, 0)])
    x = x[:, :, max(-py0, 0): x.shape[2] - max(-py1, 0), max(-px0, 0): x.shape[3] - max(-px1, 0)]
    k = (f * gain).flip([0, 1])[None, None].repeat(c, 1, 1, 1)
    x = F.conv2d(x, k, groups=c)
    return x[:, :, ::down, ::down]


@pytest.mark.parametrize("kw", [
    dict(up=2, padding=(2, 1, 2, 1), gain=4.0), dict(up=2, padding=(1, 0, 1, 0)),
    dict(down=2, padding=(1, 1, 1, 1)), dict(padding=(1, 1, 1, 1), gain=4.0),
    dict(padding=(2, 1, 2, 1)), dict(up=2, padding=(-1, 0, -1, 0)),
])
def test_upfirdn2d_matches_definition_for_asymmetric_filters(kw):
    g = torch.Generator().manual_seed(0)
    f = torch.rand(4, 4, generator=g)       # asymmetric: a flip mistake would show
    x = torch.randn(2, 3, 9, 9, generator=g)
    got, want = upfirdn2d(x, f, **kw), upfirdn2d_by_definition(x, f, **kw)
    assert got.shape == want.shape
    assert torch.allclose(got, want, atol=1e-5)


def test_up_and_down_sampling_keep_a_constant_image_constant():
    f = setup_filter()
    x = torch.full([1, 2, 8, 8], 3.0)
    assert torch.allclose(upsample2d(x, f)[:, :, 2:-2, 2:-2], torch.tensor(3.0))
    assert torch.allclose(downsample2d(x, f)[:, :, 1:-1, 1:-1], torch.tensor(3.0))
    assert upsample2d(x, f).shape[-1] == 16 and downsample2d(x, f).shape[-1] == 4
