"""Turning the bytes of a text dataset into text: byte-order marks, UTF-8, UTF-16 without a BOM, and legacy
Windows/Latin encodings (guessed with charset-normalizer), and refusing what is not text at all."""

from __future__ import annotations

import codecs

from gemtune_desktop.core.errors import DatasetReadError
from gemtune_desktop.core.words import plural

_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_BOM_LABELS = {"utf-8-sig": "UTF-8 with BOM", "utf-16": "UTF-16", "utf-32": "UTF-32"}
# Encodings charset-normalizer may name for text that is really Windows Western European; decode those as cp1252.
_WESTERN = {"cp1252", "windows-1252", "latin_1", "latin-1", "iso8859_1", "iso-8859-1", "iso8859_15", "cp1250",
            "cp1254", "cp1257", "iso8859_2", "iso8859_9", "iso8859_13", "iso8859_16", "mac_roman", "cp850",
            "cp437", "ascii", "utf_8", "utf-8", "mac_latin2", "latin_10", "cp1258", "hp_roman8", "iso8859_10",
            "iso8859_14", "iso8859_3", "iso8859_4"}
_BINARY_MAGIC = (b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"\x1f\x8b", b"PK\x03\x04", b"\xd0\xcf\x11\xe0",
                 b"SQLite format 3", b"BZh", b"\xfd7zXZ", b"7z\xbc\xaf", b"Rar!", b"\x7fELF", b"MZ")


def bom_encoding(head: bytes) -> str | None:
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    return None


def utf16_without_bom(head: bytes) -> str | None:
    """'utf-16-le'/'utf-16-be' when every other byte is NUL in mostly-ASCII text written as UTF-16."""
    sample = head[:4096]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    return None


def looks_binary(head: bytes) -> bool:
    """True for bytes that are clearly not a text file (NUL bytes outside UTF-16/32, known binary formats)."""
    if bom_encoding(head) in ("utf-16", "utf-32") or utf16_without_bom(head):
        return False
    if head.startswith(_BINARY_MAGIC):
        return True
    sample = head[:8192]
    if b"\x00" in sample:
        return True
    controls = sum(sample.count(bytes([b])) for b in (*range(1, 9), 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
                                                       25, 26, 27, 28, 29, 30, 31))
    return len(sample) > 0 and controls > 0.1 * len(sample)


def _single_byte(line: bytes) -> str:
    try:
        return line.decode("cp1252")
    except UnicodeDecodeError:
        return line.decode("latin-1")


def _utf8_with_stray_lines(data: bytes) -> tuple[str, str] | None:
    """UTF-8 text with a few lines in Windows-1252 (rows pasted from another file) or a character cut off at
    the end — each valid line read as UTF-8, the others as Windows-1252 (issue 7: no whole-file mojibake).

    None unless the file shows it is UTF-8: at least one non-ASCII line valid as UTF-8, and no fewer valid
    non-ASCII lines than invalid ones.
    """
    lines = data.split(b"\n")
    good = bad = 0
    out: list[str] = []
    for i, line in enumerate(lines):
        try:
            out.append(line.decode("utf-8"))
            good += not line.isascii()
        except UnicodeDecodeError as exc:
            if i == len(lines) - 1 and exc.reason == "unexpected end of data" and exc.end == len(line):
                out.append(line[: exc.start].decode("utf-8", "replace") + "\ufffd")  # the file was cut short
                continue
            bad += 1
            out.append(_single_byte(line))
    if good == 0 or bad > good:
        return None
    if bad == 0:
        return "\n".join(out), "UTF-8"
    return "\n".join(out), f"UTF-8 ({plural(bad, 'line')} in Windows-1252)"


def decode(data: bytes, name: str = "file", partial: bool = False) -> tuple[str, str]:
    """(text, encoding name) for the bytes of a text dataset; raises DatasetReadError for binary data.

    Order, cheapest first: a byte-order mark; strict UTF-8; UTF-16 without a BOM; UTF-8 with a few stray
    Windows-1252 lines or a cut last character; then charset-normalizer's
    guess over the first megabyte, where any Western guess is read as cp1252 (Excel's "CSV" on Windows)
    and bytes cp1252 leaves undefined as Latin-1. ``partial`` means ``data`` is the start of a longer file, so
    a character cut at the end is dropped rather than treated as an error.
    """
    cut = data.rfind(b"\n") if partial else -1
    if cut >= 0:
        data = data[: cut + 1] + (b"\x00" if data[cut + 1: cut + 2] == b"\x00" else b"")
    head = data[:65536]
    enc = bom_encoding(head)
    if enc:
        try:
            return data.decode(enc), _BOM_LABELS[enc]
        except UnicodeDecodeError as exc:
            raise DatasetReadError(f"{name} starts with a {enc.upper()} marker but is not valid {enc.upper()} "
                                   f"text (byte {exc.start}).", "Save it again as UTF-8 and retry.") from None
    if looks_binary(head):
        raise DatasetReadError(f"{name} is not a text dataset (it looks like a binary file).",
                               "Choose a CSV, TSV, Excel (.xlsx), JSON or JSONL file.")
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    enc16 = utf16_without_bom(head)
    if enc16:
        try:
            return data.decode(enc16), enc16.upper()
        except UnicodeDecodeError:
            pass
    mostly_utf8 = _utf8_with_stray_lines(data)
    if mostly_utf8 is not None:
        return mostly_utf8
    guess = None
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[:1_000_000]).best()
        guess = best.encoding if best is not None else None
    except Exception:  # a detector failure must not stop the import; cp1252 is the common case
        guess = None
    if guess and guess.replace("-", "_").lower() not in _WESTERN:
        try:
            return data.decode(guess), guess
        except (UnicodeDecodeError, LookupError):
            pass
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        # cp1252 leaves 0x81, 0x8D, 0x8F, 0x90, 0x9D undefined; Latin-1 maps every byte.
        return data.decode("latin-1"), "Latin-1"
