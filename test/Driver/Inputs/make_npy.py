"""Writes the .npy files of the driver tests, without NumPy.

usage: make_npy.py DIR
"""
import os
import struct
import sys


def npy(descr, shape, data, fortran=False, version=1):
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': (%s), }" % (
        descr, "True" if fortran else "False",
        "".join("%d, " % d for d in shape) if len(shape) != 1 else "%d," % shape[0])
    prefix = 10 if version == 1 else 12
    padding = (64 - (prefix + len(header) + 1) % 64) % 64
    header = header + " " * padding + "\n"
    size = struct.pack("<H", len(header)) if version == 1 else struct.pack("<I", len(header))
    return b"\x93NUMPY" + bytes([version, 0]) + size + header.encode("latin1") + data


def main(out):
    files = {
        "vec3.npy": npy("<f8", [3], struct.pack("<3d", 1.0, 2.0, 3.0)),
        "vec4.npy": npy("<f8", [4], struct.pack("<4d", 1.0, 2.0, 3.0, 4.0)),
        "mat2x3.npy": npy("<f8", [2, 3], struct.pack("<6d", 1, 2, 3, 4, 5, 6), version=2),
        "ints.npy": npy("<i8", [3], struct.pack("<3q", 1, -2, 3)),
        "f32.npy": npy("<f4", [3], struct.pack("<3f", 1, 2, 3)),
        "fortran.npy": npy("<f8", [2, 2], struct.pack("<4d", 1, 2, 3, 4), fortran=True),
        "bigendian.npy": npy(">f8", [2], struct.pack(">2d", 1, 2)),
        "complex.npy": npy("<c16", [1], b"\0" * 16),
        "truncated.npy": npy("<f8", [3], struct.pack("<2d", 1.0, 2.0)),
        "garbage.npy": b"not a numpy file at all",
        # Empty, but a loop over its other dimension would never end.
        "empty_huge.npy": npy("<f8", [0, 1 << 62], b""),
    }
    # Matrices of small integers, whose products every summation order
    # computes exactly (test/Driver/cuda-blas.lz).
    for name, rows, cols in (("gemm_a", 20, 41), ("gemm_b", 41, 40)):
        values = [float((i * cols + j) * 5 % 7 - 3) for i in range(rows)
                  for j in range(cols)]
        for descr, code in (("<f8", "d"), ("<f4", "f")):
            files["%s_%s.npy" % (name, code)] = npy(
                descr, [rows, cols],
                struct.pack("<%d%s" % (len(values), code), *values))
    os.makedirs(out, exist_ok=True)
    for name, data in files.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main(sys.argv[1])
