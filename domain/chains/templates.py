"""Templates: `{{record.column}}` placeholders, checked on write and filled in on run."""

import re
from typing import Annotated

from pydantic_core import PydanticCustomError

from domain.bounds import Text
from domain.chains.properties import PROPERTIES, ChainContext, JsonScalar

PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)


def template_names(text: str) -> list[str]:
    """The placeholder names in `text`, stripped, in order of appearance."""
    return [m.group(1).strip() for m in PLACEHOLDER.finditer(text)]


def _check_template(text: str) -> str:
    for name in template_names(text):
        if name not in PROPERTIES:
            raise PydanticCustomError(
                "unknown_placeholder",
                "unknown placeholder {{{name}}}; placeholders name a property such as "
                "{{contact.first_name}}",
                {"name": name},
            )
    return text


Template = Annotated[str, Text(20000)]


def _text(value: JsonScalar) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render_template(text: str, context: ChainContext) -> str:
    """`text` with each `{{record.column}}` replaced by its value; a missing value (or a name
    outside the catalogue, which validation already refuses) becomes an empty string.

    Only substitution happens: no expressions, filters or nested lookups are evaluated.
    """

    def replace(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        return _text(context.value(name)) if name in PROPERTIES else ""

    return PLACEHOLDER.sub(replace, text)
