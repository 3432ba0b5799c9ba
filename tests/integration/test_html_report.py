"""The HTML report: self-contained, complete, and rendered by a real browser.

The browser tests drive headless Chromium through selenium (Debian packages
``chromium`` and ``chromium-driver``; scripts/setup.sh installs them) and are skipped,
with the reason, where those are absent.
"""

import base64
import io
import os
import re
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

import crackle.cli.report
import crackle.cli.sweep  # noqa: F401  (registers the commands)
from crackle.cli.main import app
from crackle.experiments.run_report import write_run_report
from crackle.io.rundir import RunDir
from crackle.report.html import html_report, write_html_report
from crackle.report.run import save_avalanches
from crackle.sim.branching import branching_process
from crackle.sweep.config import parse_config
from crackle.sweep.runner import run_sweep

CHROMIUM = os.environ.get("CRACKLE_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CRACKLE_CHROMEDRIVER", "/usr/bin/chromedriver")
EXTERNAL = re.compile(
    r"""(src|href)\s*=\s*["']?\s*(https?:|//|file:)|<link|<script|@import|url\(""", re.I
)


pytestmark = pytest.mark.xdist_group("html-report")


# Module fixtures live at fixed paths, so that pytest rebuilding them (xdist may
# interleave other modules' tests) costs nothing.
@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A run directory as `crackle demo` writes it."""
    run = RunDir.create(tmp_path_factory.getbasetemp() / "html-report-run")
    if run.report.exists():
        return run.path
    run.write_config({"command": "demo", "generator": "branching_process", "n": 5000, "seed": 3})
    av = branching_process(m=1.0, n=5000, seed=3)
    save_avalanches(av, run)
    write_run_report(av, run)
    return run.path


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory):
    """A finished sweep with a failed point (in-process threads: no network)."""
    cfg = parse_config(
        {
            "experiment": "smoke",
            "repeats": 2,
            "grid": {"x": [0.0, 1.0, 2.0], "fail": [False, True]},
            "cluster": {"processes": False, "n_workers": 2},
        }
    )
    out = tmp_path_factory.getbasetemp() / "html-report-sweep"
    run_sweep(cfg, out)  # resumes to nothing when it already ran
    return out


def _images(page):
    return re.findall(r"<img [^>]*src=\"([^\"]*)\"", page)


@pytest.mark.parametrize("which", ["run_dir", "sweep_dir"])
def test_page_is_self_contained_with_every_figure_embedded(which, request):
    path = request.getfixturevalue(which)
    page = html_report(path)
    assert page.startswith("<!doctype html>")
    assert not EXTERNAL.search(page), EXTERNAL.search(page)
    srcs = _images(page)
    pngs = sorted((path / "figures").glob("*.png"))
    assert len(pngs) >= 2
    assert len(srcs) == len(pngs)
    for src in srcs:
        assert src.startswith("data:image/png;base64,")
        raw = base64.b64decode(src.split(",", 1)[1], validate=True)
        assert raw.startswith(b"\x89PNG\r\n\x1a\n")
    assert sorted(base64.b64decode(s.split(",", 1)[1]) for s in srcs) == sorted(
        p.read_bytes() for p in pngs
    )


def test_run_page_shows_report_parameters_and_versions(run_dir):
    import json

    page = html_report(run_dir)
    rep = json.loads((run_dir / "report.json").read_text())
    from crackle._display import format_pm

    # value ± stat ± sys, rounded where the smaller error has its second figure
    assert format_pm(rep["tau"], rep["tau_err"], rep["tau_sys"]) in page
    assert "1/(σνz), fitted" in page  # human names, not raw keys
    assert "<th>generator</th><td>branching_process</td>" in page
    assert f"<th>numpy</th><td>{np.__version__}</td>" in page
    for note in rep["notes"]:
        assert note.replace("'", "&#x27;") in page


def test_sweep_page_shows_every_point_the_failures_and_the_config(sweep_dir):
    page = html_report(sweep_dir)
    table = page[page.index('<section id="table">') : page.index('<section id="failures">')]
    assert table.count('<td class="ok">ok</td>') == 6
    assert table.count('<td class="failed">failed</td>') == 6
    assert "RuntimeError: smoke point x = 2.0 failed on request" in page
    assert "Traceback (most recent call last)" in page
    assert '<th>status failed</th><td class="num">6</td>' in page


def test_report_command_writes_the_page_or_says_what_is_missing(run_dir, tmp_path):
    runner = CliRunner()
    res = runner.invoke(app, ["report", str(run_dir), "--out", str(tmp_path / "r.html")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "r.html").read_text().startswith("<!doctype html>")
    (tmp_path / "empty").mkdir()
    res = runner.invoke(app, ["report", str(tmp_path / "empty")])
    assert res.exit_code == 2
    assert "holds neither config.json" in res.output


# --- in a browser ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)) and not shutil.which(path):
            pytest.skip(
                f"{path} not found: install the Debian packages chromium and chromium-driver "
                "(scripts/setup.sh does, as root)"
            )
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    profile = tmp_path_factory.mktemp("chromium-profile")
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,1600",
        f"--user-data-dir={profile}",
        "--no-first-run",
        "--disable-background-networking",
    ):
        opts.add_argument(arg)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SE_OFFLINE", "true")  # never let selenium look for drivers online
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    yield driver
    driver.quit()


IMAGES_OK = """return Array.from(document.images).map(
    i => i.complete && i.naturalWidth > 0 && i.getBoundingClientRect().width > 0)"""


def _not_blank(png: bytes) -> tuple[float, float]:
    """Fraction of pixels that are not near white, and the pixel spread."""
    from matplotlib.image import imread

    img = imread(io.BytesIO(png), format="png")[..., :3]
    return float((img.min(axis=-1) < 0.9).mean()), float(img.std())


@pytest.mark.parametrize("which", ["run_dir", "sweep_dir"])
def test_browser_loads_every_figure_and_draws_the_page(which, request, browser, tmp_path):
    path = request.getfixturevalue(which)
    page = write_html_report(path, tmp_path / "report.html")
    browser.get(page.resolve().as_uri())
    loaded = browser.execute_script(IMAGES_OK)
    assert len(loaded) == len(list((path / "figures").glob("*.png")))
    assert all(loaded), loaded
    ink, spread = _not_blank(browser.get_screenshot_as_png())
    assert ink > 0.02, f"the screenshot is almost blank ({ink:.1%} ink)"
    assert spread > 0.05
    figure = browser.find_element("css selector", "figure img")
    ink, _ = _not_blank(figure.screenshot_as_png)
    assert ink > 0.02, f"the first figure renders almost blank ({ink:.1%} ink)"


def test_browser_check_catches_a_broken_image(browser, tmp_path):
    # The same check on a page whose image cannot decode must fail: the test has teeth.
    bad = tmp_path / "bad.html"
    bad.write_text('<!doctype html><img src="data:image/png;base64,iVBORw0KGgoAAAA=">')
    browser.get(bad.as_uri())
    assert browser.execute_script(IMAGES_OK) == [False]


def test_run_page_leads_with_the_verdict_and_errors(run_dir):
    page = html_report(run_dir)
    assert "Verdict: <strong" in page
    assert "± systematic" in page
    for check in ("data", "sizes", "durations", "scaling relation"):
        assert f"<td>{check}</td>" in page
    assert "DCC" in page
