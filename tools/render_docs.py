"""Draw the README's pictures from the demo: docs/review.png, the workbook's Review tab as
LibreOffice draws it, and docs/report.png, the demo's report as chromium shows it.

Builds the demo in a temporary folder; the workbook goes to PDF with LibreOffice (each sheet
on one page), the Review tab's page to PNG with pdftoppm; the report is screenshot by headless
chromium; white margins are trimmed:

    python tools/render_docs.py                   # writes docs/review.png and docs/report.png

Needs soffice (LibreOffice), pdfinfo and pdftoppm (poppler), chromium and Pillow.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXPORT = 'pdf:calc_pdf_Export:{"SinglePageSheets":{"type":"boolean","value":"true"}}'


def render(out: Path, dpi: int = 85, workbook: Path | None = None) -> Path:
    """Draw the Review tab of `workbook` (default: a new demo's) into the PNG `out`."""
    from PIL import Image

    from sheetsync.demo_project import build_demo

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if workbook is None:
            workbook = build_demo(work / "sheetsync-demo").workbook
        profile = (work / "office-profile").as_uri()
        subprocess.run(
            ["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to",
             EXPORT, "--outdir", str(work), str(workbook)],
            check=True, capture_output=True, timeout=300,
        )  # fmt: skip
        pdf = work / f"{workbook.stem}.pdf"
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
        pages = int(next(x for x in info.stdout.splitlines() if x.startswith("Pages:")).split()[1])
        subprocess.run(  # the Review tab is the last tab, so the last page
            ["pdftoppm", "-f", str(pages), "-l", str(pages), "-r", str(dpi), "-png",
             "-singlefile", str(pdf), str(work / "review")],
            check=True, timeout=120,
        )  # fmt: skip
        image = _trim(Image.open(work / "review.png").convert("RGB"))
        out.parent.mkdir(parents=True, exist_ok=True)
        image.save(out, optimize=True)
    return out


def _trim(image: Any, room: int = 12) -> Any:
    """The image without its white margins (`room` pixels of them kept)."""
    from PIL import Image, ImageChops

    blank = Image.new("RGB", image.size, (255, 255, 255))
    box = ImageChops.difference(image, blank).getbbox()
    if box is None:
        return image
    left, top, right, bottom = box
    return image.crop((max(0, left - room), max(0, top - room), right + room, bottom + room))


def report(out: Path, folder: Path | None = None, width: int = 1400) -> Path:
    """Screenshot the demo's report (`folder`: a demo project, default a new one) into `out`."""
    from PIL import Image

    from sheetsync.demo_project import build_demo

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if folder is None:
            folder = build_demo(work / "sheetsync-demo").folder
        shot = work / "report.png"
        subprocess.run(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             f"--window-size={width},6000", f"--screenshot={shot}",
             (folder / "report" / "report.html").as_uri()],
            check=True, capture_output=True, timeout=300,
        )  # fmt: skip
        image = _trim(Image.open(shot).convert("RGB"), 24)
        out.parent.mkdir(parents=True, exist_ok=True)
        image.save(out, optimize=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=Path, default=ROOT / "docs")
    parser.add_argument("--dpi", type=int, default=85)
    args = parser.parse_args()
    from sheetsync.demo_project import build_demo

    with tempfile.TemporaryDirectory() as tmp:
        demo = build_demo(Path(tmp) / "sheetsync-demo")
        print(render(args.docs / "review.png", args.dpi, demo.workbook))
        print(report(args.docs / "report.png", demo.folder))


if __name__ == "__main__":
    main()
