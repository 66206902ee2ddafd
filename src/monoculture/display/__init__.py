"""What the report and the terminal share: number formatting, escaping, SVG figures, templates, table parts.

Tasks render their own report sections and tables with these, so every section looks alike and every piece of
untrusted text (model output, model specs, words) goes through the same escaping.
"""

from monoculture.display._format import (
    HEX_COLOUR,
    MISSING,
    cut,
    format_ci,
    format_number,
    format_percent,
    interval,
    number,
    valid_hex,
)
from monoculture.display._schema_doc import schema_sections
from monoculture.display._svg import HUMAN_COLOUR, figure_style, plot_label, to_svg
from monoculture.display._templates import render_template
from monoculture.display._terminal import add_identity_columns, escaped, with_interval

__all__ = [
    "HEX_COLOUR",
    "HUMAN_COLOUR",
    "MISSING",
    "add_identity_columns",
    "cut",
    "escaped",
    "figure_style",
    "format_ci",
    "format_number",
    "format_percent",
    "interval",
    "number",
    "plot_label",
    "render_template",
    "schema_sections",
    "to_svg",
    "valid_hex",
    "with_interval",
]
