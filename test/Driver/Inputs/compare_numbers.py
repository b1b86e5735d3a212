"""Compares two outputs of `leibniz run` up to a relative tolerance.

    compare_numbers.py EXPECTED ACTUAL RTOL

The texts must be equal once every number is replaced by the same marker, and
each pair of numbers must satisfy |a - e| <= RTOL * max(|e|, 1e-300) (equal
integers, equal infinities and NaNs). Exits 1 with the first difference.
"""

import math
import re
import sys

NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*(?:e[-+]?\d+)?|\.\d+(?:e[-+]?\d+)?|inf|nan)")


def split(text):
    return NUMBER.sub("#", text), NUMBER.findall(text)


def main():
    expected_path, actual_path, rtol = sys.argv[1], sys.argv[2], float(sys.argv[3])
    with open(expected_path) as f:
        expected = f.read()
    with open(actual_path) as f:
        actual = f.read()
    shape_e, numbers_e = split(expected)
    shape_a, numbers_a = split(actual)
    # Padding inside printed arrays depends on the digits; compare the
    # texts without runs of spaces.
    if re.sub(r" +", " ", shape_e) != re.sub(r" +", " ", shape_a):
        sys.exit(f"the outputs differ in structure:\n{expected}\n---\n{actual}")
    for e, a in zip(numbers_e, numbers_a):
        x, y = float(e), float(a)
        if math.isnan(x) and math.isnan(y) or x == y:
            continue
        if abs(x - y) > rtol * max(abs(x), 1e-300):
            sys.exit(f"{a} differs from {e} by more than {rtol} relative")
    print(f"{len(numbers_e)} numbers agree to {rtol} relative")


if __name__ == "__main__":
    main()
