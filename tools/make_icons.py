"""Draw the web app icons (app/web/static/icons) from the favicon's shapes: a red tile with a white document.

Run once after changing the design: `.venv/bin/python tools/make_icons.py`; the PNGs are committed."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "app" / "web" / "static" / "icons"
RED, WHITE = (183, 28, 28), (255, 255, 255)


def draw(size: int, *, maskable: bool) -> Image.Image:
    scale = size / 32
    image = Image.new("RGB" if maskable else "RGBA", (size, size), RED if maskable else (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    if not maskable:
        pen.rounded_rectangle((0, 0, size - 1, size - 1), radius=int(6 * scale), fill=RED)
    # Maskable icons keep their drawing inside the central 80 % safe zone.
    inset = 0.1 * size if maskable else 0
    k = (size - 2 * inset) / 32

    def p(x: float, y: float) -> tuple[float, float]:
        return (inset + x * k, inset + y * k)

    pen.polygon([p(9, 8), p(19, 8), p(23, 12), p(23, 24), p(9, 24)], fill=WHITE)
    for y in (15, 19):
        pen.line([p(12, y), p(20, y)], fill=RED, width=max(2, int(2 * k)))
    return image


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        draw(size, maskable=False).save(OUT / f"icon-{size}.png", optimize=True)
    draw(512, maskable=True).save(OUT / "icon-maskable-512.png", optimize=True)


if __name__ == "__main__":
    main()
