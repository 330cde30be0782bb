"""`ganstudio bench render` runs end to end on the small config and writes its JSON."""
import json

from ganstudio.cli import main


def test_bench_render_64_writes_table_and_json(tmp_path, capsys):
    out = tmp_path / "bench.json"
    rc = main(["bench", "render", "--configs", "64", "--repeats", "1", "--no-official",
               "--threads", "1", "--no-malloc-tuning", "--json", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "| 64² |" in text and "matmul" in text
    report = json.loads(out.read_text())
    r = report["configs"]["64"]
    assert report["machine"]["threads"] == 1 and report["machine"]["cpu"]
    assert r["full"]["min_ms"] > 0 and set(r["edits"]) == {"w6", "w0"}
    assert r["edits"]["w6"]["first_stage"] == "b32.conv1" and r["preview"]["resolution"] == 32
    assert 0.9 < r["gflop"] < 1.1


def test_bench_render_rejects_unknown_config(capsys):
    assert main(["bench", "render", "--configs", "77"]) == 2
    assert "unknown config" in capsys.readouterr().err
