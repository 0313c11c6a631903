"""The direction colours as the stylesheets define them: both conventions are mirror images, every text colour
meets WCAG AA (4.5:1) on the backgrounds it sits on (the page's dark panels, the admin's light and dark themes),
direction rules use only the --td-* variables, and no rule uses a variable nobody defines."""

from __future__ import annotations

import re
from pathlib import Path

import django.contrib.admin
import pytest
from django.conf import settings

CSS = Path(settings.BASE_DIR) / "static" / "css"
ADMIN_CSS = Path(django.contrib.admin.__file__).parent / "static" / "admin" / "css"
AA = 4.5
DIRECTION = ("--td-up", "--td-down", "--td-buy", "--td-sell")


def blocks(text: str) -> list[tuple[str, str]]:
    """(selector, declarations) of every rule, those inside @media prefixed with the media query."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    found: list[tuple[str, str]] = []
    for media, inner in re.findall(r"(@media[^{]*)\{((?:[^{}]*\{[^{}]*\})*\s*)\}", text):
        found += [
            (f"{media.strip()} {sel.strip()}", body)
            for sel, body in re.findall(r"([^{}]+)\{([^{}]*)\}", inner)
        ]
    text = re.sub(r"@media[^{]*\{(?:[^{}]*\{[^{}]*\})*\s*\}", "", text)
    found += [(sel.strip(), body) for sel, body in re.findall(r"([^{}]+)\{([^{}]*)\}", text)]
    return found


def declared(body: str) -> dict[str, str]:
    return {name: value.strip() for name, value in re.findall(r"(--[\w-]+)\s*:\s*([^;]+);", body)}


def variables(path: Path, *selectors: str) -> dict[str, str]:
    """The custom properties the rules with exactly these selectors declare, later rules winning."""
    values: dict[str, str] = {}
    for selector, body in blocks(path.read_text()):
        if {part.strip() for part in selector.split(",")} & set(selectors):
            values.update(declared(body))
    return values


def resolve(value: str, scope: dict[str, str]) -> str:
    while "var(" in value:
        value = re.sub(r"var\((--[\w-]+)\)", lambda m: scope[m.group(1)], value)
    return value


def rgb(colour: str) -> tuple[float, float, float, float]:
    colour = colour.strip()
    if colour.startswith("#"):
        digits = colour[1:]
        if len(digits) == 3:
            digits = "".join(c * 2 for c in digits)
        return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16), 1.0
    parts = [float(p) for p in re.findall(r"[\d.]+", colour)]
    return parts[0], parts[1], parts[2], parts[3] if len(parts) > 3 else 1.0


def over(colour: str, background: str) -> str:
    """`colour` (maybe translucent, or color-mix(in srgb, X N%, transparent)) painted over `background`."""
    mixed = re.fullmatch(r"color-mix\(in srgb, (#[0-9a-fA-F]{3,6}) ([\d.]+)%, transparent\)", colour)
    if mixed:
        r, g, b, _a = rgb(mixed.group(1))
        alpha = float(mixed.group(2)) / 100
    else:
        r, g, b, alpha = rgb(colour)
    br, bg, bb, _ = rgb(background)
    return "#" + "".join(f"{round(f * alpha + k * (1 - alpha)):02x}" for f, k in ((r, br), (g, bg), (b, bb)))


def luminance(colour: str) -> float:
    def linear(channel: float) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b, _ = rgb(colour)
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def convention(name: str, palette: dict[str, str] | None = None) -> dict[str, str]:
    """colours.css resolved for <html data-colours=name>, with `palette` (the admin's) over its own."""
    path = CSS / "colours.css"
    scope = {**variables(path, ":root"), **(palette or {})}
    scope.update(variables(path, f':root[data-colours="{name}"]') if name == "red-up" else {})
    if name == "green-up":
        scope.update(variables(path, ':root[data-colours="green-up"]'))
    return {key: resolve(value, scope) for key, value in scope.items()}


def rule(path: Path, selector: str) -> str:
    bodies = [
        body for sel, body in blocks(path.read_text()) if selector in {s.strip() for s in sel.split(",")}
    ]
    assert bodies, f"no rule for {selector} in {path.name}"
    return " ".join(bodies)


def background_of(path: Path, selector: str) -> str:
    found = re.search(r"background:\s*([^;]+);", rule(path, selector))
    assert found is not None, selector
    return found.group(1).strip()


def desk_backgrounds() -> dict[str, str]:
    """Where direction-coloured text sits on the page: panels, table rows (hovered, selected, totals)."""
    desk = CSS / "desk.css"
    root = variables(desk, ":root")
    panel = root["--panel"]
    return {
        "page": root["--bg"],
        "panel": panel,
        "panel-2": root["--panel-2"],
        "row hover": background_of(desk, ".grid tbody tr:hover"),
        "totals row": background_of(desk, ".grid-positions tfoot th"),
        "selected row": over(background_of(desk, ".order-row.selected"), panel),
    }


@pytest.mark.parametrize("name", ["red-up", "green-up"])
def test_the_conventions_are_mirror_images(name: str) -> None:
    scope = convention(name)
    red, green = scope["--td-red"], scope["--td-green"]
    up, down = (red, green) if name == "red-up" else (green, red)
    assert (scope["--td-up"], scope["--td-down"]) == (up, down)
    assert (scope["--td-buy"], scope["--td-sell"]) == (up, down)
    r, g, _b, _a = rgb(red)
    assert r > 2 * g  # the red family
    r, g, _b, _a = rgb(green)
    assert g > 1.5 * r


@pytest.mark.parametrize("name", ["red-up", "green-up"])
def test_direction_text_meets_wcag_aa_on_the_page(name: str) -> None:
    scope = convention(name)
    panel = desk_backgrounds()["panel"]
    ratios = {
        (variable, where): contrast(scope[variable], background)
        for variable in DIRECTION
        for where, background in desk_backgrounds().items()
    }
    # A Buy / Sell button: its colour on its own tint, and the ink on its solid fill when hovered or chosen.
    for side in ("buy", "sell"):
        tint = over(scope[f"--td-{side}-bg"], panel)
        ratios[(f"--td-{side}", "its button's tint")] = contrast(scope[f"--td-{side}"], tint)
        ratios[("--td-ink", f"solid --td-{side}")] = contrast(scope["--td-ink"], scope[f"--td-{side}"])
    low = {key: round(ratio, 2) for key, ratio in ratios.items() if ratio < AA}
    assert not low, low
    assert min(ratios.values()) >= AA


def admin_backgrounds(theme: str) -> dict[str, str]:
    """The admin's row backgrounds for its light (base.css) or dark (dark_mode.css) theme."""
    if theme == "light":
        root = variables(ADMIN_CSS / "base.css", ":root")
    else:
        root = variables(ADMIN_CSS / "dark_mode.css", 'html[data-theme="dark"]')
    return {key: root[key] for key in ("--body-bg", "--darkened-bg", "--selected-row")}


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("name", ["red-up", "green-up"])
def test_the_admins_signed_columns_meet_wcag_aa_in_both_themes(name: str, theme: str) -> None:
    admin_css = CSS / "admin.css"
    palette = variables(admin_css, f'html[data-theme="{theme}"]')
    # The theme left to the browser ("auto") resolves to the same palette as the chosen one.
    auto = variables(admin_css, ":root" if theme == "light" else "@media (prefers-color-scheme: dark) :root")
    assert auto == palette
    scope = convention(name, palette)
    ratios = {
        (variable, where): round(contrast(scope[variable], background), 2)
        for variable in ("--td-up", "--td-down")
        for where, background in admin_backgrounds(theme).items()
    }
    assert min(ratios.values()) >= AA, ratios


@pytest.mark.parametrize(
    "selector",
    [
        ".up",
        ".down",
        ".btn-buy",
        ".btn-sell",
        ".side-buy",
        ".side-sell",
        ".segmented input:checked + .seg-buy",
        ".segmented input:checked + .seg-sell",
    ],
)
def test_direction_rules_colour_only_through_the_td_variables(selector: str) -> None:
    body = rule(CSS / "desk.css", selector)
    colours = re.findall(r"(?:^|;)\s*(color|background|border-color)\s*:\s*([^;]+)", body)
    assert colours
    for prop, value in colours:
        assert value.strip().startswith("var(--td-"), (selector, prop, value)


def test_every_variable_used_is_defined() -> None:
    """A rule naming a variable nobody defines (the old --buy / --sell) silently loses its colour."""
    texts = {name: (CSS / name).read_text() for name in ("colours.css", "desk.css", "admin.css")}
    defined = {name for text in texts.values() for name in re.findall(r"(--[\w-]+)\s*:", text)}
    admin_defined = set(re.findall(r"(--[\w-]+)\s*:", (ADMIN_CSS / "base.css").read_text()))
    for name, text in texts.items():
        used = set(re.findall(r"var\((--[\w-]+)", re.sub(r"/\*.*?\*/", "", text, flags=re.S)))
        known = defined | (admin_defined if name == "admin.css" else set())
        assert used <= known, (name, sorted(used - known))
