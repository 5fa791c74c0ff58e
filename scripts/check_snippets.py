#!/usr/bin/env python3
"""Compiles every C++ code block in README.md and docs/ so the docs cannot drift from the API.

A block is a fenced ```cpp block; words after `cpp` on the fence line say what it is:

  ```cpp program          a complete program: compiled (g++, and clang++ -fsyntax-only, both with
                          -Wall -Wextra -Wpedantic -Wconversion -Wshadow -Werror), linked
                          against the library and run; it must exit 0 within 30 s. `program certs` first runs
                          scripts/make-demo-certs.sh into certs/ in the program's directory;
                          `program gtest` links GoogleTest and its main().
  ```cpp                  a fragment of declarations and definitions at namespace scope:
                          compiled (-fsyntax-only) after <asyncio/asyncio.hpp> and the standard
                          headers a reader would assume.
  ```cpp body             statements: compiled inside the body of an asyncio::Coro<> function
                          (of a plain function if they contain no co_await).
  ```cpp extract=FILE#TAG the text between the lines `// [snippet TAG]` and
                          `// [end snippet TAG]` in FILE (relative to the repository), verbatim:
                          the block must be identical, so it cannot drift from the real program
                          (which CI builds and runs).

A fragment or body may need names it does not show; an HTML comment on the lines just above the
fence gives them (it is not rendered). Its #include lines go at the top of the file, the rest
just before the block; for a body, the lines after `// in the body:` go inside the function:

  <!-- snippet-context
  struct Connection {};
  asyncio::Coro<> use(Connection c);
  // in the body:
  Connection conn;
  -->

Fragments also see GoogleTest, tests/ and src/ (docs/testing.md shows test helpers).

Usage: python3 scripts/check_snippets.py [--build-dir build/release] [-j 2] [FILE.md ...]
The build directory must hold libasyncio.a and the generated include/asyncio/version.hpp:
`cmake --preset release && cmake --build --preset release --target asyncio`.
Exits 1 if any block fails, naming FILE:LINE of each.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

PRELUDE = """\
#include <asyncio/asyncio.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
"""

# Warnings a strict user turns on: programs compile cleanly under them with g++ (built) and
# clang++ (-fsyntax-only), so the public headers add no warning to a user's build.
USER_WARNINGS = ["-Wall", "-Wextra", "-Wpedantic", "-Wconversion", "-Wshadow", "-Werror"]
OTHER_CXX = os.environ.get("CHECK_SNIPPETS_CLANG", "clang++")

FENCE = re.compile(r"^```cpp(?P<attrs>[^`]*)$")


@dataclass
class Block:
    path: Path
    line: int  # of the opening fence, 1-based
    attrs: list[str]
    text: str
    context: str = ""
    kind: str = field(init=False)

    def __post_init__(self) -> None:
        if any(a.startswith("extract=") for a in self.attrs):
            self.kind = "extract"
        elif "program" in self.attrs:
            self.kind = "program"
        elif "body" in self.attrs:
            self.kind = "body"
        else:
            self.kind = "fragment"

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line}"


def parse(path: Path) -> list[Block]:
    lines = path.read_text().split("\n")
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        start = i
        j = i + 1
        while j < len(lines) and lines[j] != "```":
            j += 1
        if j == len(lines):
            raise SystemExit(f"{path}:{start + 1}: unterminated ```cpp block")
        # An HTML comment ending on the line just above the fence (blank lines allowed).
        context = ""
        k = start - 1
        while k >= 0 and lines[k].strip() == "":
            k -= 1
        if k >= 0 and lines[k].strip() == "-->":
            end = k
            while k >= 0 and not lines[k].startswith("<!-- snippet-context"):
                k -= 1
            if k >= 0:
                context = "\n".join(lines[k + 1 : end]) + "\n"
        blocks.append(Block(path, start + 1, m.group("attrs").split(), "\n".join(lines[start + 1 : j]) + "\n", context))
        i = j + 1
    return blocks


def extract_region(spec: str) -> str:
    file, _, tag = spec.partition("#")
    source = (REPO / file).read_text().split("\n")
    begin, end = f"// [snippet {tag}]", f"// [end snippet {tag}]"
    starts = [n for n, l in enumerate(source) if l.strip() == begin]
    ends = [n for n, l in enumerate(source) if l.strip() == end]
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        raise ValueError(f"{file} needs exactly one '{begin}' ... '{end}' pair")
    return "\n".join(source[starts[0] + 1 : ends[0]]) + "\n"


def compiler() -> list[str]:
    cxx = os.environ.get("CXX", "g++")
    launcher = shutil.which("ccache")
    return ([launcher] if launcher else []) + [cxx]


def check(block: Block, build: Path, scratch: Path, index: int) -> tuple[Block, str | None]:
    if block.kind == "extract":
        spec = next(a for a in block.attrs if a.startswith("extract="))[len("extract=") :]
        try:
            want = extract_region(spec)
        except (OSError, ValueError) as e:
            return block, str(e)
        if want != block.text:
            return block, f"differs from {spec}; paste the region between its snippet markers"
        return block, None

    work = scratch / f"block{index}"
    work.mkdir()
    src = work / "snippet.cpp"
    # Line numbers of the Markdown file; the file name stays the main file's (g++ judges
    # -Wsubobject-linkage by it), and error messages get the Markdown path back below.
    line_marker = f"#line {block.line + 1}\n"
    includes = ["-I", str(REPO / "include"), "-I", str(build / "include")]
    if block.kind == "program":
        src.write_text(line_marker + block.text)
        cmd = compiler() + ["-std=c++20", *USER_WARNINGS, *includes, str(src), "-o", str(work / "prog"),
                            str(build / "libasyncio.a"), "-lssl", "-lcrypto", "-pthread"]
        if "gtest" in block.attrs:
            cmd += ["-lgtest_main", "-lgtest"]
    else:
        # The context's #include lines go at the top, the rest just before the block; for a
        # body, the lines after "// in the body:" go inside the function.
        ctx, _, inside = block.context.partition("// in the body:\n")
        hoisted = "".join(l + "\n" for l in ctx.split("\n") if l.startswith("#include"))
        outside = "".join(l + "\n" for l in ctx.split("\n") if l and not l.startswith("#include"))
        body = block.text
        if block.kind == "body" and "co_await" in body:
            body = "asyncio::Coro<> snippet_body_() {\n" + inside + line_marker + body + "co_return;\n}\n"
        elif block.kind == "body":  # a plain function: g++ 12 rejects a block-scope function
            body = "void snippet_body_() {\n" + inside + line_marker + body + "}\n"  # declaration in a coroutine
        else:
            body = inside + line_marker + body
        # An anonymous namespace, as in a real program's main file: g++ 12 warns about
        # coroutine frames holding types without linkage otherwise (-Wsubobject-linkage).
        src.write_text(PRELUDE + hoisted + "namespace {\n" + outside + body + "}  // namespace\n")
        cmd = compiler() + ["-std=c++20", "-fsyntax-only", *includes, "-I", str(REPO / "tests"), "-I", str(REPO / "src"),
                            str(src)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode == 0 and block.kind == "program" and shutil.which(OTHER_CXX):
        # The library must add no warning to its users' builds, with either compiler.
        done = subprocess.run([OTHER_CXX, "-std=c++20", "-fsyntax-only", *USER_WARNINGS, *includes, str(src)],
                              capture_output=True, text=True)
    if done.returncode != 0:
        return block, "does not compile:\n" + done.stderr.replace(str(src), block.where.rsplit(":", 1)[0])[-4000:]
    if block.kind != "program":
        return block, None
    if "certs" in block.attrs:
        subprocess.run(["bash", str(REPO / "scripts/make-demo-certs.sh"), str(work / "certs")], check=True,
                       capture_output=True)
    try:
        ran = subprocess.run([str(work / "prog")], cwd=work, capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        return block, "the program did not finish within 30 s"
    if ran.returncode != 0:
        return block, f"the program exited {ran.returncode}:\n{ran.stdout[-2000:]}{ran.stderr[-2000:]}"
    return block, None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build-dir", default=str(REPO / "build/release"))
    ap.add_argument("-j", type=int, default=2)
    ap.add_argument("files", nargs="*")
    args = ap.parse_args()
    build = Path(args.build_dir).resolve()
    if not (build / "libasyncio.a").exists() or not (build / "include/asyncio/version.hpp").exists():
        print(f"check_snippets: build the library first: {build} has no libasyncio.a "
              "(cmake --preset release && cmake --build --preset release --target asyncio)", file=sys.stderr)
        return 2
    files = [Path(f).resolve() for f in args.files] or [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
    blocks = [b for f in files for b in parse(f)]
    failures = 0
    with tempfile.TemporaryDirectory(prefix="asyncio-snippets-") as tmp:
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.j) as pool:
            jobs = [pool.submit(check, b, build, Path(tmp), n) for n, b in enumerate(blocks)]
            for job in jobs:
                block, error = job.result()
                if error is None:
                    print(f"ok    {block.kind:8} {block.where}")
                else:
                    failures += 1
                    print(f"FAIL  {block.kind:8} {block.where}: {error}")
    counts = {k: sum(b.kind == k for b in blocks) for k in ("program", "fragment", "body", "extract")}
    print(f"check_snippets: {len(blocks) - failures}/{len(blocks)} blocks ok "
          f"({', '.join(f'{v} {k}' for k, v in counts.items())})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
