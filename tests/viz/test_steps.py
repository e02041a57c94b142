"""The step-through page: its steps, its self-containment, and a real browser clicking it."""

import math
import shutil

import pytest

import viz
from autodiff import Value
from viz.steps import steps_of

PNG = b"\x89PNG\r\n\x1a\n"


def expression():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b + a.tanh()
    c.label = "c"
    return a, b, c


def test_steps_follow_the_engine_order_and_end_on_the_gradients():
    a, b, c = expression()
    steps = steps_of(c)
    assert len(steps) == 1 + 3  # the seed, then +, tanh and * (each op node once)
    assert steps[0]["set"] == {steps[0]["node"]: 1.0}
    final = {}
    for step in steps:
        final.update(step["set"])
    ids = {"a": "v0", "b": "v1"}  # graph order: a, b, a*b, tanh(a), c
    assert final[ids["a"]] == pytest.approx(-3.0 + 1 - math.tanh(2.0) ** 2, rel=1e-15)  # closed form
    assert final[ids["b"]] == 2.0


def test_the_page_is_self_contained(tmp_path):
    path = viz.backward_steps(expression()[2], tmp_path / "steps.html")
    text = path.read_text()
    assert "<script src" not in text and "<link" not in text and "@import" not in text
    assert text.count("<svg") == 1 and "const steps = [" in text


def test_a_path_that_is_not_html_is_refused(tmp_path):
    with pytest.raises(ValueError, match="ending in .html"):
        viz.backward_steps(expression()[2], tmp_path / "steps.svg")


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        pytest.fail("the browser test needs Debian's chromium and chromium-driver: ./scripts/test installs them")
    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--window-size=1400,900"):
        options.add_argument(flag)
    options.binary_location = chromium
    session = webdriver.Chrome(service=Service(driver), options=options)
    yield session
    session.quit()


def test_a_browser_clicks_through_every_step(browser, tmp_path):
    from selenium.webdriver.common.by import By

    a, b, c = expression()
    path = viz.backward_steps(c, tmp_path / "steps.html")
    steps = steps_of(c)
    browser.get(path.as_uri())
    grad_of = lambda node_id: browser.execute_script(  # noqa: E731
        "return gradText[arguments[0]].textContent", node_id)
    assert browser.find_element(By.ID, "counter").text == f"step 0 of {len(steps) - 1}"
    assert grad_of("v0") == "grad ?"  # nothing known before the pass reaches a
    for k in range(1, len(steps)):
        browser.find_element(By.ID, "next").click()
        assert browser.find_element(By.ID, "counter").text == f"step {k} of {len(steps) - 1}"
        assert "current" in browser.find_element(By.ID, steps[k]["node"]).get_attribute("class")
        for node_id, value in steps[k]["set"].items():
            assert grad_of(node_id) == "grad " + browser.execute_script("return format(arguments[0])", value)
    assert grad_of("v0") == "grad -2.929" and grad_of("v1") == "grad 2"
    browser.find_element(By.ID, "previous").click()
    assert browser.find_element(By.ID, "counter").text == f"step {len(steps) - 2} of {len(steps) - 1}"
    screenshot = tmp_path / "steps.png"
    browser.save_screenshot(str(screenshot))
    assert screenshot.read_bytes().startswith(PNG)
