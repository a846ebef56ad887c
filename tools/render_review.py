"""Render the demo workbook's Review tab as LibreOffice draws it, for docs/review.png.

Builds the demo in a temporary folder, converts the workbook to PDF with LibreOffice (each
sheet on one page), rasterises the Review tab's page with pdftoppm and trims the white margin:

    python tools/render_review.py                 # writes docs/review.png
    python tools/render_review.py --out x.png --dpi 110

Needs soffice (LibreOffice), pdfinfo and pdftoppm (poppler) and Pillow.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXPORT = 'pdf:calc_pdf_Export:{"SinglePageSheets":{"type":"boolean","value":"true"}}'


def render(out: Path, dpi: int = 85, workbook: Path | None = None) -> Path:
    """Draw the Review tab of `workbook` (default: a new demo's) into the PNG `out`."""
    from PIL import Image, ImageChops

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
        image = Image.open(work / "review.png").convert("RGB")
        blank = Image.new("RGB", image.size, (255, 255, 255))
        box = ImageChops.difference(image, blank).getbbox()
        if box is not None:
            left, top, right, bottom = box
            image = image.crop((max(0, left - 12), max(0, top - 12), right + 12, bottom + 12))
        out.parent.mkdir(parents=True, exist_ok=True)
        image.save(out, optimize=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "review.png")
    parser.add_argument("--dpi", type=int, default=85)
    args = parser.parse_args()
    print(render(args.out, args.dpi))


if __name__ == "__main__":
    main()
