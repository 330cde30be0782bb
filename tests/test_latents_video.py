"""Latent files (round trip, NVIDIA --projected-w layout), latent paths for videos, MP4/GIF
writers (exact frame count, atomic) and the `ganstudio video` command."""
import imageio.v2 as imageio
import numpy as np
import pytest
import torch
from PIL import Image

from ganstudio.cli import main as cli_main
from ganstudio.core.checkpoint import save_generator
from ganstudio.core.directions import save_direction, sefa_directions
from ganstudio.core.latent_files import LatentFileError, load_latents, save_latents
from ganstudio.core.latents import slerp, z_from_seed
from tiny_models import tiny_stylegan2
from ganstudio.core.video import (direction_walk, interpolate_ws, interpolate_z, render_frames)
from ganstudio.render.video_writer import VideoWriteError, write_video


def tiny(res=8):
    return tiny_stylegan2(res, dim=16, channel_max=8)


@pytest.fixture(scope="module")
def G():
    return tiny()


def test_latent_file_round_trip_and_nvidia_layout(G, tmp_path):
    z = torch.cat([z_from_seed(s, G.z_dim) for s in (3, 4)])            # [2, z_dim]
    ws = G.mapping(z)                                                    # [2, num_ws, w_dim]
    save_latents(tmp_path / "a.npz", w=ws, z=z, seeds=[3, 4], model_hash="abc", space="w",
                 truncation_psi=0.7)
    lat = load_latents(tmp_path / "a.npz")
    assert np.array_equal(lat.w, ws.numpy()) and np.array_equal(lat.z, z.numpy())
    assert lat.seeds.tolist() == [3, 4] and lat.model_hash == "abc" and lat.space == "w"
    assert lat.truncation_psi == 0.7 and len(lat) == 2
    # one latent: [1, num_ws, w_dim] float32 under key "w", read as NVIDIA's generate.py does
    save_latents(tmp_path / "one.npz", w=ws[0])
    raw = np.load(tmp_path / "one.npz", allow_pickle=False)["w"]
    assert raw.shape == (1, G.num_ws, G.w_dim) and raw.dtype == np.float32
    for w in torch.tensor(raw):
        img = G.synthesis(w.unsqueeze(0), noise_mode="const")
    assert torch.equal(img, G.synthesis(ws[:1]))
    # a file NVIDIA's projector wrote (only "w") loads too
    np.savez(tmp_path / "nv.npz", w=ws[1:].numpy())
    assert torch.equal(load_latents(tmp_path / "nv.npz").ws_for(G), ws[1:])
    # z-only files are mapped by the model
    save_latents(tmp_path / "z.npz", z=z[:1])
    assert torch.allclose(load_latents(tmp_path / "z.npz").ws_for(G), ws[:1])


def test_latent_file_errors(G, tmp_path):
    with pytest.raises(LatentFileError, match="no such file"):
        load_latents(tmp_path / "missing.npz")
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(LatentFileError, match="none of the keys"):
        load_latents(tmp_path / "other.npz")
    np.savez(tmp_path / "obj.npz", w=np.array([{"evil": 1}], dtype=object))
    with pytest.raises(LatentFileError):
        load_latents(tmp_path / "obj.npz")                            # never unpickled
    save_latents(tmp_path / "wrong.npz", w=np.zeros((1, G.num_ws + 1, G.w_dim)))
    with pytest.raises(LatentFileError, match="model needs"):
        load_latents(tmp_path / "wrong.npz").ws_for(G)
    with pytest.raises(LatentFileError, match="seeds for"):
        save_latents(tmp_path / "x.npz", w=np.zeros((2, 4, 3)), seeds=[1])


def test_interpolation_paths_have_exact_frames_and_endpoints(G):
    keys = torch.randn(3, G.num_ws, G.w_dim)
    path = interpolate_ws(keys, 9)
    assert path.shape == (9, G.num_ws, G.w_dim)
    assert torch.equal(path[0], keys[0]) and torch.equal(path[4], keys[1]) and torch.equal(path[8], keys[2])
    assert torch.allclose(path[2], (keys[0] + keys[1]) / 2)
    loop = interpolate_ws(keys, 6, loop=True)                         # keys at frames 0, 2, 4
    assert torch.equal(loop[4], keys[2]) and torch.allclose(loop[5], (keys[2] + keys[0]) / 2)
    assert interpolate_ws(keys, 1).shape[0] == 1
    zs = torch.randn(2, G.z_dim)
    wz = interpolate_z(G, zs, 5)
    assert torch.allclose(wz[2], G.mapping(slerp(zs[:1], zs[1:], 0.5))[0])
    assert torch.allclose(wz[0], G.mapping(zs[:1])[0])


def test_direction_walk(G):
    d = sefa_directions(G, k=2, layers=(1, 2))
    ws = G.mapping(z_from_seed(1, G.z_dim))
    walk = direction_walk(ws, d, 1, 7, amount=2.0)
    assert walk.shape == (7, G.num_ws, G.w_dim)
    assert torch.equal(walk[3], ws[0])                               # the middle frame is the start
    step = torch.from_numpy(d.vectors[1])
    assert torch.allclose(walk[-1, 1] - ws[0, 1], 2.0 * step, atol=1e-6)
    assert torch.equal(walk[:, 0], ws[:, 0].expand(7, -1))           # outside the layer range
    assert torch.equal(walk[:, 3:], ws[:, 3:].expand(7, -1, -1))


def _frames(G, n):
    keys = torch.cat([G.mapping(z_from_seed(s, G.z_dim)) for s in (1, 2)])
    return list(render_frames(G, interpolate_ws(keys, n), batch=3))


def test_gif_keeps_every_frame_even_repeated_ones(G, tmp_path):
    frames = _frames(G, 5)
    frames = frames[:2] + [frames[1], frames[1]] + frames[2:]         # 7, with repeats
    assert write_video(tmp_path / "a.gif", frames, fps=10, scale=2) == 7
    with Image.open(tmp_path / "a.gif") as im:
        assert im.n_frames == 7 and im.size == (16, 16) and im.info["duration"] == 100
    back = imageio.mimread(tmp_path / "a.gif")
    assert len(back) == 7
    first = np.asarray(back[0])[..., :3][::2, ::2].astype(int)
    assert np.abs(first - frames[0]).mean() < 8                      # palette quantisation only


def test_mp4_has_the_frame_count_and_content(G, tmp_path):
    frames = _frames(G, 9)
    assert write_video(tmp_path / "a.mp4", frames, fps=12, scale=4) == 9
    reader = imageio.get_reader(tmp_path / "a.mp4", format="FFMPEG")
    try:
        assert reader.count_frames() == 9
        assert reader.get_meta_data()["size"] == (32, 32)
        last = reader.get_data(8)[::4, ::4].astype(int)
    finally:
        reader.close()
    assert np.abs(last - frames[8]).mean() < 20                       # lossy, but the same picture


def test_writers_are_atomic_and_reject_bad_input(G, tmp_path):
    frames = _frames(G, 3)
    for name in ("keep.gif", "keep.mp4"):
        path = tmp_path / name
        path.write_bytes(b"old")

        def broken():
            yield frames[0]
            yield frames[1]
            raise RuntimeError("renderer died")
        with pytest.raises(RuntimeError):
            write_video(path, broken())
        assert path.read_bytes() == b"old"
    with pytest.raises(VideoWriteError, match="size changed"):
        write_video(tmp_path / "x.gif", [frames[0], np.zeros((4, 4, 3), np.uint8)])
    with pytest.raises(VideoWriteError, match="even"):
        write_video(tmp_path / "x.mp4", [np.zeros((5, 5, 3), np.uint8)])
    with pytest.raises(VideoWriteError, match="unknown video type"):
        write_video(tmp_path / "x.avi", frames)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.gif", "keep.mp4"]


def test_video_command(G, tmp_path, capsys):
    model = tmp_path / "g.safetensors"
    save_generator(model, G)
    for s in (1, 2):
        z = z_from_seed(s, G.z_dim)
        save_latents(tmp_path / f"l{s}.npz", w=G.mapping(z), z=z)
    out = tmp_path / "i.gif"
    assert cli_main(["video", str(model), "--latents", str(tmp_path / "l1.npz"),
                     str(tmp_path / "l2.npz"), "--frames", "6", "--out", str(out)]) == 0
    with Image.open(out) as im:
        assert im.n_frames == 6
    assert cli_main(["video", str(model), "--latents", str(tmp_path / "l1.npz"),
                     str(tmp_path / "l2.npz"), "--space", "z", "--frames", "4",
                     "--out", str(tmp_path / "z.mp4")]) == 0
    save_direction(tmp_path / "d.npz", sefa_directions(G, k=2))
    assert cli_main(["video", str(model), "--direction", str(tmp_path / "d.npz"), "--index", "1",
                     "--frames", "5", "--loop", "--scale", "2", "--out", str(tmp_path / "w.gif")]) == 0
    with Image.open(tmp_path / "w.gif") as im:
        assert im.n_frames == 5 and im.size == (16, 16)
    assert "5 frames" in capsys.readouterr().out
    assert cli_main(["video", str(model), "--direction", str(tmp_path / "d.npz"), "--index", "7",
                     "--frames", "5", "--out", str(tmp_path / "bad.gif")]) == 1
    assert "out of range" in capsys.readouterr().err and not (tmp_path / "bad.gif").exists()
