"""The benches' argument parser: a bad argument is one line, `<script>: error: <what is wrong>`, and exit
2, as lcpipe's own CLI says it, instead of argparse's usage block above that line (--help still prints
the usage and every option)."""

from __future__ import annotations

import argparse


class Parser(argparse.ArgumentParser):
    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (--help lists the options)\n")
