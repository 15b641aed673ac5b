#!/usr/bin/env python3
# convert.py: rewrites one kernels/cuda/*.cu into C++ that g++ compiles against the emulation
# headers of tests/cuda-emu (ds_tests_cuda_emu). Only two constructs change, in place, with
# every line kept where it was (a #line directive names the .cu, so errors and asserts point
# at it): kernel<<<grid, block[, shm[, stream]]>>>(args) becomes
# emu_launch(kernel, emu_config(grid, block[, shm[, stream]]), args), and
# `extern __shared__ T name[];` becomes a pointer to the launch's dynamic shared memory.
# Static __shared__ variables are left to the header's macro. Not a CUDA parser: a construct
# it does not know (e.g. a launch it cannot match) stops the build with the file and line.
# Usage: convert.py IN.cu OUT.cpp
import re
import sys

LAUNCH = re.compile(
    r"(?P<kernel>[A-Za-z_]\w*(?:\s*<[^<>;(){}]*>)?)(?P<ws1>\s*)<<<(?P<cfg>.*?)>>>(?P<ws2>\s*)\("
    r"(?P<empty>\s*\))?",
    re.S,
)
DYN_SHARED = re.compile(
    r"extern\s+__shared__\s+(?P<type>[A-Za-z_][\w\s:]*?)\s*(?P<name>\w+)\s*\[\s*\]\s*;"
)


def launch(m):
    # Newlines moved out of the matched text are kept, so line numbers stay put.
    nl = "\n" * (m.group("ws1").count("\n") + m.group("ws2").count("\n"))
    args = ")" if m.group("empty") else ", "
    if m.group("empty"):
        nl += "\n" * m.group("empty").count("\n")
    return "emu_launch(%s, emu_config(%s)%s%s" % (m.group("kernel"), m.group("cfg"), args, nl)


def dyn_shared(m):
    t = m.group("type").strip()
    return "%s *const %s = (%s *)emu_dynamic_shared();" % (t, m.group("name"), t)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: convert.py IN.cu OUT.cpp")
    src, dst = sys.argv[1], sys.argv[2]
    with open(src) as f:
        text = f.read()
    out = LAUNCH.sub(launch, text)
    out = DYN_SHARED.sub(dyn_shared, out)
    for bad in ("<<<", ">>>", "extern __shared__"):
        i = out.find(bad)
        if i >= 0:
            line = out.count("\n", 0, i) + 1
            sys.exit("%s:%d: convert.py cannot rewrite this '%s' for the CUDA emulator"
                     % (src, line, bad))
    assert out.count("\n") == text.count("\n"), "line numbers moved"
    with open(dst, "w") as f:
        f.write('#line 1 "%s"\n' % src)
        f.write(out)


if __name__ == "__main__":
    main()
