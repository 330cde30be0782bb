"""Device and thread choice: precedence, fallbacks, clear errors, the measured thread count."""
import pytest
import torch

from ganstudio.render import device as dev


def test_precedence_argument_env_setting_auto():
    env = {dev.DEVICE_ENV: "cpu"}
    assert dev.choose_device("cpu", "cuda", env).source == "argument"
    assert dev.choose_device(None, "mps", env).source == "environment"
    assert dev.choose_device(None, "cpu", {}).source == "setting"
    auto = dev.choose_device(None, None, {})
    assert auto.source == "auto" and auto.device == dev.available_devices()[0]


def test_auto_order_is_cuda_mps_cpu():
    order = dev.available_devices()
    assert order[-1] == "cpu"
    if torch.cuda.is_available():
        assert order[0] == "cuda"


def test_missing_accelerator_falls_back_to_cpu_with_a_note():
    if torch.cuda.is_available():
        choice = dev.choose_device("cuda:99", env={})
    else:
        choice = dev.choose_device("cuda", env={})
    assert choice.device == "cpu" and "not available" in choice.note or "only" in choice.note


def test_unknown_device_name_is_an_error():
    with pytest.raises(ValueError, match="unknown device"):
        dev.choose_device("tpu", env={})
    with pytest.raises(ValueError, match="environment"):
        dev.choose_device(None, env={dev.DEVICE_ENV: "gpu0"})


def test_thread_env_override_and_measurement():
    assert dev.choose_threads({dev.THREADS_ENV: "3"}) == 3
    with pytest.raises(ValueError, match="whole number"):
        dev.choose_threads({dev.THREADS_ENV: "many"})
    old = torch.get_num_threads()
    times = dev.measure_threads([1], repeats=1)
    assert set(times) == {1} and times[1] > 0
    assert torch.get_num_threads() == old
    assert dev.choose_threads({}, measure=False) == 1
