"""VAT identification numbers: normalising and checking their format (not their registration).

Patterns follow the European Commission's VIES format list, plus the UK, Northern Ireland,
Switzerland and Norway. A format check catches typos; whether a number is registered needs
VIES, which is out of scope here.
"""

from __future__ import annotations

import re

VAT_FORMATS: dict[str, str] = {
    "AT": r"ATU\d{8}",
    "BE": r"BE[01]\d{9}",
    "BG": r"BG\d{9,10}",
    "CY": r"CY\d{8}[A-Z]",
    "CZ": r"CZ\d{8,10}",
    "DE": r"DE\d{9}",
    "DK": r"DK\d{8}",
    "EE": r"EE\d{9}",
    "EL": r"EL\d{9}",
    "ES": r"ES[A-Z0-9]\d{7}[A-Z0-9]",
    "FI": r"FI\d{8}",
    "FR": r"FR[A-HJ-NP-Z0-9]{2}\d{9}",
    "HR": r"HR\d{11}",
    "HU": r"HU\d{8}",
    "IE": r"IE(\d{7}[A-W][A-I]?|\d[A-Z+*]\d{5}[A-W])",
    "IT": r"IT\d{11}",
    "LT": r"LT(\d{9}|\d{12})",
    "LU": r"LU\d{8}",
    "LV": r"LV\d{11}",
    "MT": r"MT\d{8}",
    "NL": r"NL\d{9}B\d{2}",
    "PL": r"PL\d{10}",
    "PT": r"PT\d{9}",
    "RO": r"RO\d{2,10}",
    "SE": r"SE\d{10}01",
    "SI": r"SI\d{8}",
    "SK": r"SK\d{10}",
    "XI": r"XI(\d{9}|\d{12}|GD\d{3}|HA\d{3})",
    "GB": r"GB(\d{9}|\d{12}|GD\d{3}|HA\d{3})",
    "CH": r"CHE\d{9}(MWST|TVA|IVA)?",
    "NO": r"NO\d{9}MVA",
}
_COMPILED = {prefix: re.compile(pattern) for prefix, pattern in VAT_FORMATS.items()}


def vat_id_normalize(raw: str) -> str:
    """Upper case without spaces, dots and dashes; Greece's ISO code GR becomes EL as in VIES."""
    value = re.sub(r"[\s.\-]", "", raw or "").upper()
    return "EL" + value[2:] if value.startswith("GR") else value


def vat_id_is_well_formed(value: str) -> bool:
    pattern = _COMPILED.get(value[:2])
    return bool(pattern and pattern.fullmatch(value))
