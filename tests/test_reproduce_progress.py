"""`reproduce` reports its progress: a tqdm bar on a terminal, one flushed line per stage
on stdout when stderr is not a terminal (a log, a pipe), nothing with --no-progress."""

import re
import sys

from adaptive_rnn.cli import main
from adaptive_rnn.paper import _common as C

DONE = r"\.\.\. done in \d+\.\d s"


def test_reproduce_piped_prints_one_line_per_stage(tmp_path, capfd, monkeypatch):
    """`adaptive-rnn reproduce local --scale tiny` (the cheapest experiment) with stderr not
    a terminal: a line per stage, each begun (and flushed) before the stage's work."""
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    seen_at_training = []
    train = C.train

    def spy(*args, **kw):
        seen_at_training.append(capfd.readouterr().out)
        assert kw["progress"] is False  # no inner bars either
        return train(*args, **kw)

    monkeypatch.setattr(C, "train", spy)
    assert main(["reproduce", "local", "--scale", "tiny", "--out", str(tmp_path)]) == 0
    out = "".join(seen_at_training) + capfd.readouterr().out
    lines = out.splitlines()
    assert len(lines) == 4, out
    assert re.fullmatch(r"local: \d+ teachers' data and students \(stage 1/2\)" + DONE, lines[0])
    assert re.fullmatch(r"local: training \d+ students, 2 epochs \(stage 2/2\)" + DONE, lines[1])
    assert re.fullmatch(r"local: writing local\.json, \.png, \.pdf" + DONE, lines[2])
    assert lines[3].startswith("local: wrote ")
    # The training stage's line was on stdout before its training began.
    assert re.search(
        r"local: training \d+ students, 2 epochs \(stage 2/2\)\.\.\.$", seen_at_training[0]
    )


def test_no_progress_prints_no_stage_lines(tmp_path, capfd, monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    stages = C.Stages("x", 2, False)
    stages.start("one")
    stages.start("two")
    stages.done()
    assert capfd.readouterr().out == ""
    assert not stages.bars


def test_terminal_gets_a_bar_not_lines(capsys, monkeypatch):
    """With stderr a terminal, the default (`None`) is a tqdm bar on stderr and inner bars
    on; stdout stays empty."""
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert C.progress_mode(None) == "bars"
    with C.Stages("fig2", 2, None) as stages:
        assert stages.bars
        for what in ("first", "second"):
            with stages.stage(what):
                pass
    out, err = capsys.readouterr()
    assert out == ""
    assert "fig2 stages" in err


def test_piped_default_is_lines_and_failure_is_reported(capsys, monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    assert C.progress_mode(None) == "lines"
    try:
        with C.Stages("fig3", 2, None) as stages:
            stages.start("target (1, 2): 3 students, 4 epochs")
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    out, err = capsys.readouterr()
    assert out == "fig3: target (1, 2): 3 students, 4 epochs (stage 1/2)... failed\n"
    assert err == ""
