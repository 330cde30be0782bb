"""`ganstudio bench data` times every stage of the data pipeline, plain and textured faces alike,
and writes the same figures as JSON."""
import json

from ganstudio.cli import main


def test_bench_data_times_each_stage_and_writes_json(tmp_path, capsys):
    out = tmp_path / "data.json"
    assert main(["bench", "data", "--count", "4", "--json", str(out)]) == 0
    rows = {row["task"]: row for row in json.loads(out.read_text())["rows"]}
    assert {"draw synthetic face 64x64", "draw textured face 64x64 (texture=1)",
            "decode folder 256px JPEG -> 64x64"} <= set(rows)
    assert rows["draw textured face 128x128 (texture=1)"]["items"] == 4
    assert all(row["per_s_wall"] > 0 for row in rows.values())
    assert "draw textured face 64x64" in capsys.readouterr().out
