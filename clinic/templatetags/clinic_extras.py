from __future__ import annotations

import re

from django import template
from django.template.defaultfilters import urlencode

register = template.Library()


@register.filter
def percent(value, digits: int = 2) -> str:
    """0.0123 -> '1.23%'; None -> 'n/a'."""
    if value is None or value == "":
        return "n/a"
    try:
        return f"{float(value) * 100:.{int(digits)}f}%"
    except (TypeError, ValueError):
        return "n/a"


@register.filter
def query_param(value, name: str) -> str:
    """``name=value`` URL-encoded as ``name={{ value|urlencode }}`` writes it,
    so a list's filter can be handed to the shared pager include."""
    return f"{name}={urlencode(value)}"


#: What a model card's Markdown may turn into (no scripts, styles or links out
#: of the page's control; nh3 strips the rest).
CARD_TAGS = {
    "h1",
    "h2",
    "h3",
    "h4",
    "p",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "code",
    "pre",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "blockquote",
    "br",
    "hr",
    "a",
}


@register.filter
def markdown_card(text: str) -> str:
    """A model card's Markdown as sanitised HTML (markdown, then nh3)."""
    import markdown
    import nh3
    from django.utils.safestring import mark_safe

    html = markdown.markdown(text or "", extensions=["tables", "fenced_code"])
    return mark_safe(
        nh3.clean(html, tags=CARD_TAGS, attributes={"a": {"href"}, "th": {"align"}})
    )


@register.filter
def amplitude(value, unit: str = "") -> str:
    """An amplitude with a sensible unit and precision: 0.0123 mV -> '12.3 µV'.

    ``unit`` is the signal's unit as emgcore reports it ('uV', 'mV', 'V', ...);
    values without a known unit keep it and three significant digits.
    """
    if value is None or value == "":
        return "n/a"
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "n/a"
    scale = {"uv": 1e-6, "µv": 1e-6, "mv": 1e-3, "v": 1.0}.get(str(unit).lower())
    if scale is None:
        return f"{v:.3g} {unit}".strip()
    volts = v * scale
    if abs(volts) >= 1e-3:
        return f"{volts * 1e3:.{_digits(volts * 1e3)}f} mV"
    return f"{volts * 1e6:.{_digits(volts * 1e6)}f} µV"


_ASCII_MICRO = re.compile(r"(?<![A-Za-z])uV(?![A-Za-z])")


@register.filter
def units(text) -> str:
    """Messages from emgcore write microvolts as 'uV' (ASCII, as WFDB headers
    do); people read 'µV'. Only the standalone unit is replaced."""
    if text is None:
        return ""
    return _ASCII_MICRO.sub("µV", str(text))


def _digits(v: float) -> int:
    """Decimals for three significant digits at most (12.3, 123, 1.23)."""
    a = abs(v)
    return 0 if a >= 100 else 1 if a >= 10 else 2


@register.inclusion_tag("clinic/_no_active_model.html", takes_context=True)
def no_active_model_notice(context) -> dict:
    """Why no disease model is active (shown on the upload pages)."""
    from clinic.models import ModelVersion
    from clinic.services import model_version_promotion_problems

    if ModelVersion.objects.filter(
        kind=ModelVersion.Kind.DISEASE, is_active=True
    ).exists():
        return {"show": False}
    latest = ModelVersion.objects.filter(kind=ModelVersion.Kind.DISEASE).first()
    return {
        "show": True,
        "latest": latest,
        "problems": model_version_promotion_problems(latest) if latest else [],
        "perms": context.get("perms"),
    }
