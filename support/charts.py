"""Charts for the insights page as plain geometry: the template draws them as SVG (no script, no
inline style: the CSP allows neither). Pure functions, no database."""

from __future__ import annotations

WIDTH, HEIGHT = 720, 180  # the columns chart's drawing area (SVG user units)
BAR_WIDTH = 300  # the longest bar of a bar list
BAR_X = 200  # where bars start (their labels end just before)


def _nice_top(value: int) -> int:
    """A round number at or above `value` for the top of the scale (1, 2, 5 × 10^n)."""
    if value <= 0:
        return 1
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def stacked_columns(series: list[dict], parts: tuple[str, ...], *, total: str) -> dict:
    """One column per bucket, `total` high, split into `parts` from the bottom (the remainder
    on top). Returns the columns' rectangles and the scale."""
    top = _nice_top(max((row[total] for row in series), default=0))
    count = max(len(series), 1)
    slot = WIDTH / count
    width = max(slot * 0.7, 1.0)
    columns = []
    for index, row in enumerate(series):
        x = round(index * slot + (slot - width) / 2, 2)
        y = float(HEIGHT)
        rects = []
        used = 0
        for part in parts + ("rest",):
            value = row[total] - used if part == "rest" else row[part]
            used += value if part != "rest" else 0
            if value <= 0:
                continue
            height = HEIGHT * value / top
            y -= height
            rects.append({"part": part, "x": x, "y": round(y, 2), "width": round(width, 2), "height": round(height, 2), "value": value})
        columns.append({"label": row["start"], "total": row[total], "rects": rects, "x": x, "width": round(width, 2)})
    return {"width": WIDTH, "height": HEIGHT, "top": top, "columns": columns, "middle": top / 2}


def bars(items: list[tuple[str, float, str]]) -> dict:
    """Horizontal bars: (label, value, text shown) each, scaled to the largest value."""
    largest = max((value for _, value, _ in items), default=0) or 1
    rows = [
        {
            "label": label, "value": value, "text": text, "y": index * 22, "text_y": index * 22 + 15, "bar_y": index * 22 + 3,
            "width": round(BAR_WIDTH * value / largest, 2), "value_x": round(BAR_X + 6 + BAR_WIDTH * value / largest, 2),
        }
        for index, (label, value, text) in enumerate(items)
    ]
    return {"rows": rows, "height": max(len(rows) * 22, 22), "x": BAR_X, "label_x": BAR_X - 4, "view_width": BAR_X + BAR_WIDTH + 130}
