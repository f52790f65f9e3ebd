"""Lead types (AUT-11): leads and rules name a type by a key derived once from its label."""

import re
import unicodedata
from collections.abc import Collection

KEY_MAX = 50


def key_for(label: str, taken: Collection[str] = ()) -> str:
    """A slug of `label` (`Re-engagement` -> `re_engagement`), made unique against `taken`."""
    ascii_label = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "_", ascii_label.lower()).strip("_")[: KEY_MAX - 4] or "type"
    key, n = base, 1
    while key in taken:
        n += 1
        key = f"{base}_{n}"
    return key
