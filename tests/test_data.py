"""trainer.data: synthetic faces, image folders/zips with their skip report, and the batch sampler."""
from __future__ import annotations

import dataclasses
import os
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from trainer.data import DatasetError, FACTORS, SyntheticFaces, open_dataset, thumbnails
from trainer.data.folder import load_images
from trainer.data.report import (CORRUPT, NO_CLASS_FOLDER, NOT_AN_IMAGE, TOO_SMALL,
                                 UNSUPPORTED)
from trainer.data.face_texture import BACKGROUNDS, FaceTexture
from trainer.data.synthetic_faces import FaceFactors, draw_face


def _luma(img: np.ndarray) -> np.ndarray:
    return img.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)


# ------------------------------------------------------------------------------------------------
# Synthetic faces

def test_faces_depend_only_on_seed_and_index():
    a = SyntheticFaces(32, size=10, seed=3)
    b = SyntheticFaces(32, size=500, seed=3)
    order = [7, 2, 5]
    imgs_a = {i: a[i][0] for i in order}
    imgs_b = {i: b[i][0] for i in reversed(order)}
    for i in order:
        np.testing.assert_array_equal(imgs_a[i], imgs_b[i])
        assert a[i][1] == b[i][1]
    assert not np.array_equal(a[2][0], a[5][0])                               # indices differ
    assert not np.array_equal(a[2][0], SyntheticFaces(32, size=10, seed=4)[2][0])   # seeds differ
    img, labels = a[0]
    assert img.shape == (32, 32, 3) and img.dtype == np.uint8
    assert set(labels) == set(SyntheticFaces.factor_names)


def test_labels_in_range_and_arrays():
    faces = SyntheticFaces(16, size=300, seed=0)
    arr = faces.labels_array()
    assert arr.shape == (300, len(FACTORS)) and arr.dtype == np.float32
    for j, (name, spec) in enumerate(FACTORS.items()):
        col = arr[:, j]
        if spec[0] == "categorical":
            assert set(np.unique(col).astype(int)) == set(range(len(spec[1]))), name
        elif spec[0] == "bool":
            assert set(np.unique(col)) == {0.0, 1.0}, name
        else:
            lo, hi = spec[1], spec[2]
            assert col.min() >= lo and col.max() <= hi, name
            assert col.max() - col.min() > 0.8 * (hi - lo), name      # the range is used
    hot = faces.labels_array(one_hot=True)
    cols = faces.label_columns(one_hot=True)
    assert hot.shape == (300, len(cols))
    hair = [k for k, c in enumerate(cols) if c.startswith("hair_colour=")]
    np.testing.assert_array_equal(hot[:, hair].sum(1), 1.0)
    np.testing.assert_array_equal(hot[:, hair].argmax(1), arr[:, FACTOR_INDEX["hair_colour"]])
    np.testing.assert_array_equal(faces.class_labels(), arr[:, FACTOR_INDEX["hair_colour"]])
    styled = SyntheticFaces(16, size=300, seed=0, class_factor="hair_style")
    np.testing.assert_array_equal(styled.class_labels(), arr[:, FACTOR_INDEX["hair_style"]])
    with pytest.raises(ValueError, match="categorical"):
        SyntheticFaces(16, size=3, class_factor="tilt")


FACTOR_INDEX = {name: j for j, name in enumerate(FACTORS)}

# A plain upright face at 128 px: head centre (64, 59); eyes at y ~ 58, mouth at y ~ 77.
BASE = FaceFactors(tilt=0.0, offset_x=0.0, offset_y=0.0, mouth_curve=0.0, glasses=False,
                   blush=0.0, hair_style=1)


def _changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a.astype(int) - b.astype(int)).max(axis=2) > 8          # [H, W] bool


def test_glasses_change_only_the_eye_region():
    plain = draw_face(BASE, 128)
    spectacled = draw_face(dataclasses.replace(BASE, glasses=True), 128)
    diff = _changed(plain, spectacled)
    ys, xs = np.nonzero(diff)
    assert diff.sum() > 150                                     # clearly visible
    assert 45 <= ys.min() and ys.max() <= 66                    # a band around the eyes
    assert diff[:, 64 - 12:64 + 12].any()                       # the bridge between the lenses


def test_smile_and_frown_bend_the_mouth_opposite_ways():
    def mouth_rows(curve):
        img = draw_face(dataclasses.replace(BASE, mouth_curve=curve), 128)
        band = _luma(img)[68:92]                                # rows around the mouth
        centre = band[:, 64].argmin()
        corner = band[:, [64 - 8, 64 + 8]].argmin(axis=0).mean()
        return centre, corner, img

    c_smile, k_smile, smile = mouth_rows(1.0)
    c_frown, k_frown, frown = mouth_rows(-1.0)
    assert c_smile > k_smile + 2          # smile: the middle sits lower than the corners
    assert c_frown < k_frown - 2          # frown: higher
    diff = _changed(smile, frown)
    ys, _ = np.nonzero(diff)
    assert diff.sum() > 100 and ys.min() >= 68 and ys.max() <= 95   # only the mouth changed


def test_hair_colour_and_class_label():
    black = draw_face(dataclasses.replace(BASE, hair_colour=0), 64)
    blonde = draw_face(dataclasses.replace(BASE, hair_colour=2), 64)
    top = slice(8, 20)                                          # the top of the head is hair
    assert _luma(blonde[top, 24:40]).mean() > _luma(black[top, 24:40]).mean() + 80
    faces = SyntheticFaces(16, size=20, seed=1)
    assert all(faces.class_index(i) == faces[i][1]["hair_colour"] for i in range(20))


@pytest.mark.parametrize("res", [16, 24, 37, 64, 100, 256])
def test_any_resolution_draws_the_same_face(res):
    faces = SyntheticFaces(res, size=4, seed=0)
    img = faces[1][0]
    assert img.shape == (res, res, 3) and img.dtype == np.uint8
    assert img.std() > 20
    if res in (16, 64):   # the small drawing is the big one box-filtered, up to line rounding
        big = SyntheticFaces(256, size=4, seed=0)[1][0].astype(np.float32)
        k = 256 // res
        small_from_big = big.reshape(res, k, res, k, 3).mean(axis=(1, 3))
        assert np.abs(small_from_big - img).mean() < 6.0


def _detail(img: np.ndarray) -> float:
    """Mean |luma - its 3x3 box blur|: the energy at the one-to-two-pixel scale."""
    y = _luma(img)
    p = np.pad(y, 1, mode="edge")
    blur = sum(p[i:i + y.shape[0], j:j + y.shape[1]] for i in range(3) for j in range(3)) / 9
    return float(np.abs(y - blur).mean())


def test_texture_adds_fine_detail_and_keeps_the_factors():
    plain = SyntheticFaces(64, size=24, seed=2)
    textured = SyntheticFaces(64, size=24, seed=2, texture=True)
    np.testing.assert_array_equal(textured.labels_array(), plain.labels_array())
    np.testing.assert_array_equal(open_dataset("synthetic:faces?n=24&seed=2&texture=0", 64)[5][0],
                                  plain[5][0])
    np.testing.assert_array_equal(open_dataset("synthetic:faces?n=24&seed=2&texture=1", 64)[5][0],
                                  textured[5][0])
    gain = [_detail(textured[i][0]) / _detail(plain[i][0]) for i in range(24)]
    assert np.median(gain) > 1.5
    # Texture changes small-scale detail, not the face: at 8x8 (box-reduced) a textured face is
    # much closer to its plain self than any two plain faces are to each other.
    def coarse(img):
        return img.reshape(8, 8, 8, 8, 3).mean(axis=(1, 3))
    own = [np.abs(coarse(textured[i][0]) - coarse(plain[i][0])).mean() for i in range(24)]
    others = [np.abs(coarse(plain[i][0]) - coarse(plain[i + 1][0])).mean() for i in range(23)]
    assert max(own) < 0.5 * np.median(others)


@pytest.mark.parametrize("kind", BACKGROUNDS[1:])
def test_each_background_texture_is_fine_scale(kind):
    """Every background pattern is visible in the corner (background only) and repeats within a
    few pixels; grain is different for another grain seed."""
    flat = draw_face(BASE, 64, texture=FaceTexture())
    tex = FaceTexture(background=BACKGROUNDS.index(kind), background_contrast=0.2)
    img = draw_face(BASE, 64, texture=tex)
    corner, flat_corner = img[:12, :12].astype(np.float32), flat[:12, :12].astype(np.float32)
    assert flat_corner.std(axis=(0, 1)).max() < 0.5 < corner.std(axis=(0, 1)).min()
    assert _detail(img[:12, :12]) > 2.0
    if kind == "grain":
        other = draw_face(BASE, 64, texture=dataclasses.replace(tex, grain_seed=1))
        assert np.abs(other[:12, :12].astype(np.float32) - corner).mean() > 2.0


# ------------------------------------------------------------------------------------------------
# Folders and zips

def _noise(w, h, seed):
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8))


@pytest.fixture
def image_folder(tmp_path):
    root = tmp_path / "imgs"
    (root / "cats" / "deep").mkdir(parents=True)
    (root / "dogs").mkdir()
    # Usable: 60x40 with red side strips and a green centre square (tests the centre crop).
    strip = np.zeros((40, 60, 3), np.uint8)
    strip[:, :, 1] = 200
    strip[:, :10] = (255, 0, 0)
    strip[:, 50:] = (255, 0, 0)
    Image.fromarray(strip).save(root / "cats" / "a_strip.png")
    _noise(50, 60, 1).save(root / "cats" / "deep" / "b.jpg", quality=90)
    _noise(33, 33, 2).save(root / "dogs" / "c.webp")
    _noise(64, 64, 3).save(root / "dogs" / "d.BMP")
    rgba = Image.new("RGBA", (40, 40), (0, 0, 0, 0))          # fully transparent -> white
    rgba.save(root / "cats" / "e_alpha.png")
    # Bad ones.
    good = (root / "cats" / "a_strip.png").read_bytes()
    (root / "broken.png").write_bytes(good[: len(good) // 2])
    (root / "text.jpg").write_text("this is not a jpeg")
    _noise(8, 8, 4).save(root / "dogs" / "tiny.png")
    (root / "notes.txt").write_text("hello")
    (root / ".DS_Store").write_bytes(b"\0\1")                   # hidden: ignored silently
    return root


EXPECTED_SKIPS = {CORRUPT: ["broken.png"], NOT_AN_IMAGE: ["text.jpg"],
                  TOO_SMALL: ["dogs/tiny.png"], UNSUPPORTED: ["notes.txt"]}
EXPECTED_NAMES = ["cats/a_strip.png", "cats/deep/b.jpg", "cats/e_alpha.png", "dogs/c.webp",
                  "dogs/d.BMP"]


def test_folder_loads_good_images_and_reports_bad_ones(image_folder):
    loaded = load_images(image_folder, 32)
    assert loaded.names == EXPECTED_NAMES                       # recursive, sorted, nested found
    assert loaded.images.shape == (5, 32, 32, 3) and loaded.images.dtype == np.uint8
    rep = loaded.report
    assert rep.usable == 5 and rep.skipped_total == 4
    assert rep.skipped == {k: 1 for k in EXPECTED_SKIPS} and rep.examples == EXPECTED_SKIPS
    text = rep.summary()
    for reason, names in EXPECTED_SKIPS.items():
        assert reason in text and names[0] in text
    assert ".DS_Store" not in text
    strip = loaded.images[0].astype(int)                        # centre crop kept only the green
    assert strip[..., 0].max() < 40 and strip[..., 1].min() > 150
    np.testing.assert_array_equal(loaded.images[2], 255)        # transparent -> white

    ds = open_dataset(str(image_folder), 32)
    assert len(ds) == 5 and ds.num_classes == 0 and ds.report.usable == 5
    assert ds.sample(3, torch.Generator().manual_seed(0))[1].tolist() == [0, 0, 0]


def test_too_small_rule_is_half_the_resolution(tmp_path):
    _noise(16, 40, 0).save(tmp_path / "sixteen.png")           # shorter side 16
    assert load_images(tmp_path, 32).report.usable == 1        # 2 * 16 >= 32: used
    with pytest.raises(DatasetError, match="too small"):
        load_images(tmp_path, 33)                               # 2 * 16 < 33: skipped


@pytest.mark.parametrize("top_folder", ["", "wrapped/"])
def test_zip_matches_folder(image_folder, tmp_path, top_folder):
    zpath = tmp_path / "imgs.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for dirpath, _, files in os.walk(image_folder):
            for fn in files:
                full = os.path.join(dirpath, fn)
                zf.write(full, top_folder + os.path.relpath(full, image_folder).replace(os.sep, "/"))
    from_zip = load_images(zpath, 32, labels=True)
    from_dir = load_images(image_folder, 32, labels=True)
    np.testing.assert_array_equal(from_zip.images, from_dir.images)
    np.testing.assert_array_equal(from_zip.classes, from_dir.classes)
    assert from_zip.class_names == from_dir.class_names == ("cats", "dogs")
    assert from_zip.report.skipped == from_dir.report.skipped
    assert from_zip.report.examples[TOO_SMALL] == [top_folder + "dogs/tiny.png"]


def test_class_per_top_level_folder(image_folder):
    ds = open_dataset(str(image_folder), 32, labels=True)
    assert ds.class_names == ("cats", "dogs") and ds.num_classes == 2
    assert [ds[i][1] for i in range(len(ds))] == [0, 0, 0, 1, 1]
    # Root-level files cannot have a class: reported, not silently dropped.
    assert ds.report.skipped[NO_CLASS_FOLDER] == 3


def test_nothing_usable_is_a_clear_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="empty"):
        open_dataset(str(tmp_path / "empty"), 32)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    (bad / "y.jpg").write_text("nope")
    (bad / "z.doc").write_text("nope")
    with pytest.raises(DatasetError) as info:
        open_dataset(str(bad), 32)
    msg = str(info.value)
    assert "no usable images" in msg and "3 file(s)" in msg and "\n" not in msg
    with pytest.raises(DatasetError, match="not found"):
        open_dataset(str(tmp_path / "missing"), 32)
    (tmp_path / "fake.zip").write_text("not a zip")
    with pytest.raises(DatasetError, match="zip"):
        open_dataset(str(tmp_path / "fake.zip"), 32)


def test_max_images_thumbnails_and_disk_cache(image_folder, tmp_path):
    ds = open_dataset(str(image_folder), 32, max_images=2)
    assert len(ds) == 2
    thumbs, rep = thumbnails(image_folder, k=3, size=16)
    assert len(thumbs) == 3 and thumbs[0].shape == (16, 16, 3) and rep.usable == 3
    faces, rep = thumbnails("synthetic:faces?n=100", k=4, size=16)
    assert len(faces) == 4 and rep.usable == 100
    np.testing.assert_array_equal(faces[3], SyntheticFaces(16, size=100)[3][0])
    assert [t.shape for t in ds.thumbnails(2, size=8)] == [(8, 8, 3)] * 2

    cache = tmp_path / "cache"
    first = open_dataset(str(image_folder), 32, cache_dir=cache)
    files = list(cache.glob("dataset-*.npz"))
    assert len(files) == 1
    second = open_dataset(str(image_folder), 32, cache_dir=cache)
    assert any("from cache" in n for n in second.report.notes)
    np.testing.assert_array_equal(first.store.array, second.store.array)
    assert second.report.skipped == first.report.skipped
    _noise(40, 40, 9).save(image_folder / "dogs" / "new.png")    # a changed folder misses the cache
    third = open_dataset(str(image_folder), 32, cache_dir=cache)
    assert len(third) == 6 and not any("from cache" in n for n in third.report.notes)
    (image_folder / "dogs" / "new.png").unlink()                 # back to the first key ...
    files[0].write_bytes(b"garbage")                             # ... whose cache is damaged
    fourth = open_dataset(str(image_folder), 32, cache_dir=cache)
    assert not any("from cache" in n for n in fourth.report.notes)
    np.testing.assert_array_equal(fourth.store.array, first.store.array)
    fifth = open_dataset(str(image_folder), 32, cache_dir=cache)   # rewritten by the rebuild
    assert any("from cache" in n for n in fifth.report.notes)


# ------------------------------------------------------------------------------------------------
# open_dataset and sampling

def test_synthetic_spec_options():
    ds = open_dataset("synthetic:faces?n=50&seed=3", 16)
    assert len(ds) == 50 and ds.num_classes == 5 and ds.class_names[0] == "black"
    np.testing.assert_array_equal(ds[7][0], SyntheticFaces(16, size=50, seed=3)[7][0])
    assert len(open_dataset("synthetic:faces", 16, max_images=20)) == 20
    assert open_dataset("synthetic:faces?n=5&class=glasses", 16).class_names == ("no", "yes")
    for bad, match in [("synthetic:cats", "unknown synthetic"), ("synthetic:faces?size=3", "unknown option"),
                       ("synthetic:faces?n=x", "integers"), ("synthetic:faces?class=tilt", "categorical"),
                       ("synthetic:faces?texture=yes", "texture must be 0 or 1")]:
        with pytest.raises(DatasetError, match=match):
            open_dataset(bad, 16)


def test_sample_is_deterministic_and_in_range():
    ds = open_dataset("synthetic:faces?n=64", 16, xflip=True)
    g = torch.Generator().manual_seed(5)
    state = g.get_state()
    x1, c1 = ds.sample(8, g)
    x_next, _ = ds.sample(8, g)
    g.set_state(state)
    x2, c2 = ds.sample(8, g)
    assert torch.equal(x1, x2) and torch.equal(c1, c2) and not torch.equal(x1, x_next)
    assert x1.shape == (8, 3, 16, 16) and x1.dtype == torch.float32 and c1.dtype == torch.long
    assert x1.min() >= -1.0 and x1.max() <= 1.0 and x1.min() < -0.5 and x1.max() > 0.5
    # Each sampled image is the stored face (maybe mirrored), class = its hair colour.
    pick = torch.randint(64, (8,), generator=torch.Generator().manual_seed(5))
    for k, i in enumerate(pick.tolist()):
        face = torch.from_numpy(ds[i][0]).permute(2, 0, 1).float() / 127.5 - 1
        assert torch.allclose(x1[k], face, atol=1e-6) or torch.allclose(x1[k], face.flip(2), atol=1e-6)
        assert c1[k] == ds[i][1]


def test_xflip_mirrors_about_half():
    plain = open_dataset("synthetic:faces?n=16", 16)
    flipping = open_dataset("synthetic:faces?n=16", 16, xflip=True)
    a, _ = plain.sample(64, torch.Generator().manual_seed(1))
    b, _ = flipping.sample(64, torch.Generator().manual_seed(1))
    same = [torch.equal(a[k], b[k]) for k in range(64)]
    mirrored = [torch.equal(a[k].flip(2), b[k]) for k in range(64)]
    assert all(s or m for s, m in zip(same, mirrored))
    assert 16 < sum(mirrored) < 48 and 16 < sum(same) < 48


def test_downsampled_sample_is_box_filter_of_full_batch():
    ds = open_dataset("synthetic:faces?n=32", 32, xflip=True)
    g = torch.Generator().manual_seed(11)
    state = g.get_state()
    full, c_full = ds.sample(6, g)
    for r in (16, 8, 4):
        g.set_state(state)
        small, c_small = ds.sample(6, g, resolution=r)
        k = 32 // r
        expect = full.reshape(6, 3, r, k, r, k).mean(dim=(3, 5))
        assert small.shape == (6, 3, r, r)
        torch.testing.assert_close(small, expect, atol=1e-6, rtol=0)
        assert torch.equal(c_small, c_full)
    with pytest.raises(ValueError):
        ds.sample(2, g, resolution=64)


def test_shards_are_disjoint_and_cover_the_data():
    ds = open_dataset("synthetic:faces?n=10", 16)
    shards = [ds.shard(r, 3) for r in range(3)]
    assert sorted(np.concatenate([s.indices for s in shards]).tolist()) == list(range(10))
    s1 = shards[1]
    x, c = s1.sample(12, torch.Generator().manual_seed(0))
    allowed = [torch.from_numpy(ds[i][0]).permute(2, 0, 1).float() / 127.5 - 1 for i in s1.indices]
    for k in range(12):
        assert any(torch.allclose(x[k], a, atol=1e-6) for a in allowed)
    with pytest.raises(ValueError):
        ds.shard(3, 3)
    calls = []
    s1.preload(progress=lambda done, total: calls.append((done, total)), chunk=2)
    assert calls == [(2, 3), (3, 3)] and ds.store._drawn[s1.indices].all()
    np.testing.assert_array_equal(s1.factor_labels(), ds.store.labels_array()[[1, 4, 7]])
