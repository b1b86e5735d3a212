"""Checks that docs/rewriting.md names every rule and strategy.

Reads `leibniz-opt --list-rules` on stdin; the argument is the document.
Each rule and each defined strategy must appear in it in backquotes
(`name` or `name(...)`). Prints the missing ones and exits with 1.
"""

import re
import sys

text = open(sys.argv[1], encoding="utf-8").read()
names = []
section = None
for line in sys.stdin:
    if line.strip() in ("Rules:", "Strategies:"):
        section = line.strip()
        continue
    if not line.startswith("  "):
        continue
    if section == "Rules:":
        names.append(line.split(":")[0].split(" (")[0].strip())
    elif section == "Strategies:":
        names.append(re.split(r"[ (=]", line.strip())[0])
missing = [n for n in names
           if not re.search(r"`" + re.escape(n) + r"[`(]", text)
           and not re.search(r"^" + re.escape(n) + r"[ (]", text, re.M)]
if not names:
    print("no rules read")
    sys.exit(1)
if missing:
    print("not documented in docs/rewriting.md: " + ", ".join(missing))
    sys.exit(1)
print(f"{len(names)} rules and strategies documented")
