"""check_upload_page.py DOCSEEK SOURCE_DIR WORK_DIR: the upload page in a real
browser (Debian's chromium, driven by Playwright). The real server starts on a
free port; the page gets a sample invoice through its file input, and must show
every value `docseek extract` finds for that file in its table, draw one canvas
per page with the first value's box stroked in its colour, and show the JSON.
Its choices come from GET /v1/types: every schema's type is offered, and the
same invoice read again with type receipt, OCR on every page and Tesseract's
layout analysis is posted with type=receipt&ocr=always&ocr_layout=auto (the four
layouts offered) and answered as a receipt. The status names the type the model
chose with its confidence, and a chosen type without; a blank scan's status says
no type was named, as its answer's note does. A screenshot is kept as the test's artifact (WORK_DIR/upload-page.png)."""
import json
import os
import signal
import subprocess
import sys
import time

from playwright.sync_api import sync_playwright

docseek, src, work = sys.argv[1:4]
os.makedirs(work, exist_ok=True)
os.chdir(src)
invoice = "samples/sets/invoice/invoice-100-00000.pdf"
# a calibration that withholds every value of a receipt: the page lists them, greyed
calibration = os.path.join(work, "withhold.json")
with open(calibration, "w") as f:
    json.dump({"docseek_calibration": 1,
               "curves": {"*": {"values": 10, "steps (raw up to, right share, values)": [[1, 0.9, 10]]}},
               "withhold": {f"receipt.{k}": {"raw_below": 2}
                            for k in ("company", "address", "date", "total")}}, f)
common = ["--model", f"{src}/models/default.safetensors", "--schemas", f"{src}/samples/schemas",
          "--calibration", calibration]
port_file = os.path.join(work, "port")
if os.path.exists(port_file):
    os.remove(port_file)
log = open(os.path.join(work, "serve.log"), "w")
server = subprocess.Popen([docseek, "serve", "--port", "0", "--port-file", port_file] + common,
                          stderr=log)
try:
    for _ in range(300):
        if os.path.exists(port_file) and open(port_file).read().strip():
            break
        time.sleep(0.1)
    port = int(open(port_file).read())
    want = json.loads(subprocess.run([docseek, "extract"] + common + [invoice], check=True,
                                     capture_output=True, text=True).stdout)
    expected = {k: v["value"] for k, v in want["fields"].items() if isinstance(v, dict)}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                    args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"http://127.0.0.1:{port}/")
        page.set_input_files("#file", invoice)
        page.wait_for_selector("body[data-done='1']", timeout=60000)
        shown = {}
        for row in page.query_selector_all("#fields tbody tr"):
            cells = [c.inner_text() for c in row.query_selector_all("td")]
            shown[cells[0]] = cells[1]
        missing = {k: v for k, v in expected.items() if shown.get(k) != str(v)}
        canvases = page.query_selector_all("#pages canvas")
        # the first value's box: its top-left corner carries the first colour (#d62728)
        first = next(v for v in want["fields"].values() if isinstance(v, dict))
        page.wait_for_function("document.querySelector('#pages canvas').width > 0")
        pixel = page.evaluate(
            """(b) => { const c = document.querySelector('#pages canvas');
                const s = c.width / Number(c.dataset.widthPt); const g = c.getContext('2d');
                return Array.from(g.getImageData(Math.round(b[0] * s), Math.round(b[1] * s) + 3,
                                                 1, 1).data); }""",
            first["box"])
        status = page.inner_text("#status")
        js = page.inner_text("#json")
        page.screenshot(path=os.path.join(work, "upload-page.png"), full_page=True)
        # the choices: every schema's type offered; a type and an OCR mode sent and obeyed
        page.wait_for_selector("body[data-choices='1']", timeout=10000)
        offered = page.eval_on_selector_all("#type option", "os => os.map(o => o.value)")
        schemas = sorted(f[:-5] for f in os.listdir("samples/schemas") if f.endswith(".json"))
        page.select_option("#type", "receipt")
        page.select_option("#ocr", "always")
        layouts = page.eval_on_selector_all("#layout option", "os => os.map(o => o.value)")
        page.select_option("#layout", "auto")
        page.evaluate("delete document.body.dataset.done")
        with page.expect_request(lambda q: "/v1/extract" in q.url) as req:
            page.set_input_files("#file", [])
            page.set_input_files("#file", invoice)
        page.wait_for_selector("body[data-done='1']", timeout=60000)
        sent = req.value.url
        as_receipt = json.loads(page.inner_text("#json"))
        status_typed = page.inner_text("#status")
        greyed = page.eval_on_selector_all("#fields tbody tr.withheld",
                                           "rs => rs.map(r => r.dataset.field)")
        # a blank scan, its type left to the model: no type named, the answer's note shown
        blank = os.path.join(work, "blank.png")
        subprocess.run([sys.executable, "tests/py/blank_png.py", blank], check=True)
        page.select_option("#type", "")
        page.evaluate("delete document.body.dataset.done")
        page.set_input_files("#file", [])
        page.set_input_files("#file", blank)
        page.wait_for_selector("body[data-done='1']", timeout=60000)
        status_blank = page.inner_text("#status")
        as_blank = json.loads(page.inner_text("#json"))
        browser.close()
    print(f"  {len(expected)} values from docseek extract, {len(shown)} rows shown, "
          f"{len(missing)} missing or different: {missing}")
    print(f"  {len(canvases)} canvas(es) for {want['pages']} page(s); pixel at the first box: "
          f"{pixel}; status: {status}")
    print(f"  status with the type chosen: {status_typed}")
    print(f"  layouts offered {layouts[1:]}")
    print(f"  types offered {offered[1:]} (schemas {schemas}); chosen receipt + OCR always + auto: "
          f"{sent.split('?')[1]} -> {as_receipt['doc_type']}, fields {sorted(as_receipt['fields'])}")
    print(f"  a blank scan: doc_type {as_blank['doc_type']}, fields {as_blank['fields']}; "
          f"status: {status_blank}")
    withheld = as_receipt.get("withheld", {})
    print(f"  withheld {sorted(withheld)}, greyed rows {sorted(greyed)}")
    named = f"invoice (named by the model, confidence {want['type_confidence']:.2f}"
    ok = (not missing and len(canvases) == want["pages"] and '"doc_type": "invoice"' in js
          and pixel[0] > 150 and pixel[1] < 110 and pixel[2] < 110)
    # a type the model named is shown with its confidence (unsure under 0.7); a chosen one not
    ok = (ok and named in status and ("unsure" in status) == (want["type_confidence"] < 0.7)
          and "named by the model" not in status_typed)
    ok = (ok and offered[0] == "" and sorted(offered[1:]) == schemas
          and "type=receipt" in sent and "ocr=always" in sent
          and layouts == ["", "block", "auto", "column", "sparse"] and "ocr_layout=auto" in sent
          and as_receipt["doc_type"] == "receipt"
          and sorted(as_receipt["fields"]) == ["address", "company", "date", "total"]
          and len(withheld) > 0 and sorted(greyed) == sorted(withheld)
          and all(as_receipt["fields"][k] is None for k in withheld))
    ok = (ok and as_blank["doc_type"] is None and as_blank["fields"] == {}
          and "no words on any page" in status_blank)
finally:
    server.send_signal(signal.SIGTERM)
    rc = server.wait(timeout=60)
print(f"  server exit {rc}; screenshot {os.path.join(work, 'upload-page.png')}")
if not ok or rc != 0:
    sys.exit(1)
print("upload page: the invoice's fields shown, its boxes drawn; the type and OCR chosen obeyed; withheld values greyed")
