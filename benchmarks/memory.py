"""Peak memory of the app server with a 1M-transaction upload browsed through every page.

Run (about 3-5 minutes; needs Debian's chromium and the playwright package)::

    python -m benchmarks.memory [--transactions 1000000]

Starts ``streamlit run app.py``, uploads a generated transactions CSV through the Data
page in headless Chromium, uses it, opens every page (waiting for each to finish, the
simulator and models included), and prints the server's peak resident memory (VmHWM
from /proc) plus the RSS after each step. Community Cloud gives an app about 1-2.7 GB;
the target is under 1 GB.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["Overview", "Data", "KPI dashboard", "Points & liability", "Segments", "Customer value", "Experiments",
         "What-if simulator", "Report"]
READY = "[data-testid='stApp'][data-test-script-state='notRunning']"


def _status(pid: int) -> dict[str, float]:
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmHWM", "VmRSS")):
                k, v = line.split(":")
                out[k] = int(v.split()[0]) / 1024  # MB
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--transactions", type=int, default=1_000_000)
    args = ap.parse_args(argv)

    from playwright.sync_api import sync_playwright

    from sample_data.generate import generate_program, n_members_for

    with tempfile.TemporaryDirectory() as tmp:
        tx = generate_program(n_members=n_members_for(args.transactions), with_ledger=False, seed=3)["transactions"]
        csv = Path(tmp) / f"program_{len(tx)}.csv"
        tx.to_csv(csv, index=False)
        print(f"upload file: {len(tx):,} transactions, {csv.stat().st_size / 1e6:.0f} MB", flush=True)
        del tx
        port = _free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
             "--server.headless", "true", "--server.fileWatcherType", "none"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(120):
                try:
                    urllib.request.urlopen(url + "/_stcore/health", timeout=2)
                    break
                except OSError:
                    time.sleep(0.5)
            steps = []
            with sync_playwright() as p:
                b = p.chromium.launch(executable_path="/usr/bin/chromium",
                                      args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
                pg = b.new_page(viewport={"width": 1400, "height": 1000})
                pg.set_default_timeout(600_000)

                def idle():
                    pg.wait_for_timeout(800)
                    pg.wait_for_selector(READY, timeout=600_000)

                def step(name):
                    steps.append((name, _status(proc.pid)))
                    print(f"  {name:<34} RSS {steps[-1][1]['VmRSS']:7.0f} MB  peak {steps[-1][1]['VmHWM']:7.0f} MB",
                          flush=True)

                pg.goto(url)
                idle()
                step("start (sample program)")
                pg.locator("[data-testid='stSidebarNav'] a", has_text="Data").first.click()
                idle()
                t0 = time.perf_counter()
                pg.locator("[data-testid='stFileUploader'] input[type='file']").first.set_input_files(str(csv))
                idle()
                pg.get_by_role("button", name="Use this data").click()
                idle()
                step(f"upload + import ({time.perf_counter() - t0:.0f}s)")
                for name in PAGES:
                    t0 = time.perf_counter()
                    pg.locator("[data-testid='stSidebarNav'] a", has_text=name).first.click()
                    idle()
                    if name == "Report":
                        pg.get_by_role("button", name="Build report").click()
                        idle()
                    step(f"{name} ({time.perf_counter() - t0:.1f}s)")
                b.close()
            peak = max(s["VmHWM"] for _, s in steps)
            print(f"\nserver peak RSS: {peak:.0f} MB (target < 1024 MB) on {os.cpu_count()} cores")
        finally:
            proc.terminate()
            proc.wait(10)


if __name__ == "__main__":
    main()
