"""Writes the sample dataset files in this folder, byte for byte as the programs named below save them.

Run ``.venv/bin/python tests/data/make_samples.py`` to regenerate; the files are committed so the tests read
real bytes (the tests also write further variants at run time).
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent

ROWS = [
    ("Classify: The délivery was late again.", "negative"),
    ("Classify: Great “service”, thank you!", "positive"),
    ("Classify: Où est ma commande ?", "neutral"),
    ("Classify: 注文はまだ届いていません", "negative"),
]


def excel_unicode_text() -> bytes:
    """Excel › Save As › "Unicode Text (*.txt)": UTF-16 LE with BOM, tab-separated, CRLF, quoted multi-line."""
    lines = ["input\toutput"] + [f"{i}\t{o}" for i, o in ROWS] + ['"Line one\nline two"\tmulti-line']
    return "\r\n".join(lines).encode("utf-16") + "\r\n".encode("utf-16-le")


def windows_csv() -> bytes:
    """Excel on a French/German Windows › "CSV (separator: semicolon)": cp1252, ';', smart quotes, CRLF."""
    rows = ["Question;Answer"] + [f'"{i}";{o}' for i, o in ROWS[:3]] + ["Say “hi” – politely;Hello… I’m here"]
    return "\r\n".join(rows).encode("cp1252") + b"\r\n"


def utf8_bom_csv() -> bytes:
    """Excel › "CSV UTF-8": BOM, commas, a quoted cell spanning lines, a blank line, split and tags columns."""
    text = ('Prompt,Response,Split,Tags\r\n'
            '"Summarise:\nline A\nline B","A, then B",validation,notes\r\n'
            '\r\n'
            'Plain question,Plain answer,Test,\r\n'
            '"He said ""no""",Quoted,train,x\r\n')
    return b"\xef\xbb\xbf" + text.encode("utf-8")


def latin1_tsv() -> bytes:
    return "input\toutput\r\nCafé crème\tÇa va très bien\r\nÄpfel\tÜbergröße\r\n".encode("latin-1")


def gemini_jsonl() -> bytes:
    import json

    return "".join(json.dumps({"text_input": i, "output": o}) + "\n" for i, o in ROWS).encode()


def agent_jsonl() -> bytes:
    import json

    out = []
    for i, o in ROWS:
        out.append(json.dumps({"systemInstruction": {"role": "system", "parts": [{"text": "Answer with one word."}]},
                               "contents": [{"role": "user", "parts": [{"text": i}]},
                                            {"role": "model", "parts": [{"text": o}]}]}, ensure_ascii=False))
    out.append(json.dumps({"contents": [{"role": "user", "parts": [{"text": "Hi"}]},
                                        {"role": "model", "parts": [{"text": "Hello"}]},
                                        {"role": "user", "parts": [{"text": "How are you?"}]},
                                        {"role": "model", "parts": [{"text": "Fine"}]}]}))
    return ("\n".join(out) + "\n").encode()


def openai_jsonl() -> bytes:
    import json

    out = [json.dumps({"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": i},
                                    {"role": "assistant", "content": o}]}) for i, o in ROWS]
    return ("\n".join(out) + "\n").encode()


def broken_jsonl() -> bytes:
    return (b'{"text_input": "ok one", "output": "fine"}\n'
            b'{"text_input": "missing brace", "output": "x"\n'
            b'\n'
            b'{"text_input": "ok two", "output": "fine"}\n'
            b'{"prompt": 1, "completion": 2.5}\n'
            b'"just a string"\n')


def array_json() -> bytes:
    import json

    return json.dumps([{"text_input": i, "output": o} for i, o in ROWS], indent=2, ensure_ascii=False).encode()


def workbook() -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Notes"
    ws.append(["nothing here"])
    data = wb.create_sheet("Examples")
    data.append(["Question", "Answer", "Note"])
    data.append(["How many legs has a spider?", 8, None])
    data.append([None, None, None])
    data.append(["Pi to one decimal?", 3.1, "rounded"])
    data.append(["=1+1 stays text?", "yes", None])
    data.cell(row=5, column=1).data_type = "s"  # typed as text (Excel: a leading apostrophe), not a formula
    data.append(["Half of five?", 2.5, None])
    wb.save(HERE / "workbook.xlsx")


def main() -> None:
    files = {"excel_unicode_text.txt": excel_unicode_text(), "windows_semicolon.csv": windows_csv(),
             "excel_utf8_bom.csv": utf8_bom_csv(), "latin1.tsv": latin1_tsv(), "gemini.jsonl": gemini_jsonl(),
             "agent_platform.jsonl": agent_jsonl(), "openai.jsonl": openai_jsonl(), "broken.jsonl": broken_jsonl(),
             "array.json": array_json()}
    for name, data in files.items():
        (HERE / name).write_bytes(data)
    workbook()


if __name__ == "__main__":
    main()
