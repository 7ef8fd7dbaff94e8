"""Worksheets written by hand in each format (the facts of the formats, no converter code)."""

from __future__ import annotations

import io
import pickle
import struct
import tarfile
import zlib
from pathlib import Path

CELL, OUT = "\ufe20", "\ufe21"
UUIDS = ["3c1d8a5e-0c41-4a6c-9d57-1b1f3b6a1c01", "8f0a7f32-5a7e-4c55-8d2e-0b7d5b2c9e02",
         "1b2c3d4e-5f60-4718-92a3-b4c5d6e7f803", "a1b2c3d4-e5f6-4789-8abc-def012345604",
         "0f1e2d3c-4b5a-4697-8877-665544332205"]


def png(width: int = 4, height: int = 3, rgb: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A small valid PNG of one colour."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


SWS_TEXT = """<h1>Intégrales — a worksheet</h1>
<p>Some text with an image: <img src="data/logo.png" alt="logo"></p>

{{{id=1|
2+2
///
4
}}}

{{{id=2|
%hide
%html
<p>An <b>HTML</b> cell: ∫ x dx</p>
///
}}}

{{{id=3|
plot(sin(x), (x, 0, pi))
///
<html><font color='black'><img src='cell://sage0.png'></font></html>
}}}

{{{id=4|
%gp
factor(2^10-1)
///
[3 1]

[11 1]

[31 1]
}}}

{{{id=5|
print("Grüße, 世界")
html("<i>after</i>")
///
Grüße, 世界
<html><i>after</i></html>
}}}

{{{id=6|

///
}}}
<p>The end.</p>
"""


def sws_bytes(text: str = SWS_TEXT, name: str = "Intégrales", compress: str = "bz2") -> bytes:
    """An .sws archive: sage_worksheet/{worksheet.html, worksheet_conf.pickle, cells/3/sage0.png, data/logo.png}."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=f"w:{compress}") as tar:
        def add(path: str, data: bytes) -> None:
            info = tarfile.TarInfo(f"sage_worksheet/{path}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        add("worksheet.html", text.encode("utf-8"))
        add("worksheet_conf.pickle", pickle.dumps({"name": name, "system": "sage", "pretty_print": False}))
        add("cells/3/sage0.png", png(rgb=(10, 120, 200)))
        add("data/logo.png", png(rgb=(0, 160, 0)))
    return buf.getvalue()


def sagews_text() -> str:
    """A .sagews file: code, %md, %html, stderr, tex, an image file beside it, unicode."""
    u = UUIDS
    return "".join([
        f"{CELL}{u[0]}{CELL}\n2+3\n{OUT}{u[1]}{OUT}" + '{"stdout":"5\\n"}' + OUT + '{"done":true}' + OUT + "\n",
        f"{CELL}{u[1]}i{CELL}\n%md\n# Notes — ünïcode\nSome *markdown* and $x^2$.\n",
        f"{OUT}{u[2]}{OUT}" + '{"md":"# Notes — ünïcode\\nSome *markdown* and $x^2$."}' + OUT + '{"done":true}' + OUT + "\n",
        f"{CELL}{u[2]}{CELL}\nhtml('<b>bold</b>')\n1/0\n",
        f"{OUT}{u[3]}{OUT}" + '{"html":"<b>bold</b>"}' + OUT + '{"stderr":"Error in lines 2-2\\nZeroDivisionError: rational division by zero\\n"}' + OUT + "\n",
        f"{CELL}{u[3]}{CELL}\nshow(x^2)\nplot(x).save('p.png')\n",
        f"{OUT}{u[4]}{OUT}" + '{"tex":{"tex":"x^{2}","display":true}}' + OUT
        + '{"file":{"filename":"p.png","show":true,"uuid":"0000"}}' + OUT
        + '{"file":{"filename":"/tmp/gone.svg","show":true,"uuid":"1111"}}' + OUT + '{"done":true}' + OUT + "\n",
        f"{CELL}{u[4]}{CELL}\n%gp\nfactor(2^10-1)\n",
        f"{OUT}{u[0]}{OUT}" + '{"stdout":"\\n[3 1]\\n\\n[11 1]\\n\\n[31 1]\\n"}' + OUT + "\n",
    ])


def write_samples(folder: Path) -> dict[str, Path]:
    """Write good and damaged worksheets into folder; return their paths by role."""
    folder.mkdir(parents=True, exist_ok=True)
    good_sws = sws_bytes()
    files = {
        "sws": good_sws,
        "sagews": sagews_text().encode("utf-8"),
        "truncated_sws": good_sws[: len(good_sws) // 2],
        "truncated_sagews": sagews_text().encode("utf-8")[:-40],
        "notar_sws": b"this is not an archive\n",
        "unclosed_sws": sws_bytes(SWS_TEXT.replace("print(\"Grüße, 世界\")", "{{{id=9|\n1+1")
                                  .rsplit("}}}", 1)[0]),
    }
    names = {"sws": "Intégrales.sws", "sagews": "work sheet.sagews", "truncated_sws": "cut.sws",
             "truncated_sagews": "cut.sagews", "notar_sws": "fake.sws", "unclosed_sws": "open.sws"}
    paths = {}
    for role, data in files.items():
        paths[role] = folder / names[role]
        paths[role].write_bytes(data)
    (folder / "p.png").write_bytes(png(rgb=(250, 200, 0)))
    return paths
