"""The web page in a real browser: headless Chromium (Debian's chromium and chromium-driver
packages) driven by Selenium, against the server on 127.0.0.1 on a free port.

Skipped, with the reason, when Chromium, its driver or Selenium is missing; ``.ci/run``
installs them. The screenshot is kept as an artefact in the folder the test prints.
"""

import shutil
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from srgan import files
from srgan.data import pipeline

selenium = pytest.importorskip("selenium", reason="selenium is not installed (.ci/run "
                               "installs it)")
from selenium import webdriver  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

from srgan.web.server import WebOptions, build_server, create_app  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not (CHROMIUM and DRIVER), reason="Chromium or chromedriver not found (apt-get install "
    "chromium chromium-driver; .ci/run does)")]


@pytest.fixture
def server(tmp_path):
    """``http://127.0.0.1:PORT/`` of the page, served by waitress from a thread."""
    results = tmp_path / "server"
    results.mkdir()
    options = WebOptions()
    app = create_app(options, results)
    listener = socket.create_server(("127.0.0.1", 0))
    _, run, close = build_server(app, listener, options)
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    close()
    thread.join(10)
    app.extensions["jobs"].close()


@pytest.fixture
def browser(tmp_path):
    """Headless Chromium with a fresh profile, downloading into ``tmp_path/downloads``."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=900,1000",
                f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    options.add_experimental_option("prefs", {
        "download.default_directory": str(tmp_path / "downloads"),
        "download.prompt_for_download": False})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(DRIVER))
    yield driver
    driver.quit()


def wait_for_download(folder: Path, timeout: float = 30) -> Path:
    for _ in range(int(timeout * 10)):
        done = [p for p in folder.glob("*") if not p.name.endswith(".crdownload")]
        if done:
            return done[0]
        time.sleep(0.1)
    raise AssertionError(f"nothing downloaded into {folder}")


def test_upload_compare_download_and_bad_file(server, browser, tmp_path):
    face = files.read_image(pipeline.sample_face_paths()[0])  # ships with matplotlib
    small = np.asarray(Image.fromarray(face).resize((64, 64), Image.BICUBIC))
    Image.fromarray(small).save(tmp_path / "face.png")
    (tmp_path / "notes.jpg").write_text("not a picture\n")
    artefacts = tmp_path / "artefacts"
    artefacts.mkdir()
    print(f"browser test artefacts: {artefacts}")

    browser.get(server)
    wait = WebDriverWait(browser, 180)
    wait.until(lambda d: len(Select(d.find_element(By.ID, "method")).options) == 4)
    Select(browser.find_element(By.ID, "method")).select_by_value("srgan")
    Select(browser.find_element(By.ID, "scale")).select_by_value("4")
    browser.find_element(By.ID, "file").send_keys(str(tmp_path / "face.png"))
    browser.find_element(By.ID, "go").click()
    job = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".job.done"))[0]
    browser.execute_script("document.querySelector('.slider').value = 60;"
                           "document.querySelector('.slider').dispatchEvent("
                           "new Event('input'))")
    wait.until(lambda d: d.execute_script(
        "return [...document.images].every(i => i.complete && i.naturalWidth > 0)"))
    browser.save_screenshot(str(artefacts / "web_page.png"))
    job.find_element(By.CSS_SELECTOR, ".download").click()
    with Image.open(wait_for_download(tmp_path / "downloads")) as out:
        assert out.size == (256, 256)

    # A ZSSR job (minutes) cancelled from its own button.
    Select(browser.find_element(By.ID, "method")).select_by_value("zssr")
    Select(browser.find_element(By.ID, "scale")).select_by_value("2")
    browser.find_element(By.ID, "go").click()
    zssr = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".job:not(.done)"))[0]
    wait.until(lambda d: "running" in zssr.find_element(By.CSS_SELECTOR, ".status").text)
    zssr.find_element(By.CSS_SELECTOR, ".cancel").click()
    wait.until(lambda d: "cancelled" in zssr.get_attribute("class"))
    assert zssr.find_element(By.CSS_SELECTOR, ".status").text == "cancelled"

    browser.find_element(By.ID, "file").send_keys(str(tmp_path / "notes.jpg"))
    browser.find_element(By.ID, "go").click()
    error = wait.until(lambda d: d.find_element(By.ID, "error").text)
    assert error == "notes.jpg: not an image (or not a supported format)"
    browser.save_screenshot(str(artefacts / "web_page_bad_file.png"))
    # Nothing the page does is blocked by its Content-Security-Policy.
    blocked = [e["message"] for e in browser.get_log("browser")
               if "Content Security Policy" in e["message"]]
    assert not blocked
