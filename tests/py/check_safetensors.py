#!/usr/bin/env python3
"""Cross-checks docseek's safetensors code against the public implementation
(the `safetensors` package from PyPI, installed only in the test venv):
1. a file written by docseek (ds_tests safetensors_fixture) is read by
   safetensors.safe_open with the same names, shapes, dtypes, values and
   metadata (BF16, which numpy lacks, is decoded from the raw bytes);
2. a file written by safetensors.numpy.save_file is listed by
   `docseek tensors --json --stats` with the same names, shapes, dtypes, sums.
Usage: check_safetensors.py DOCSEEK DS_TESTS WORKDIR
"""
import json
import os
import struct
import subprocess
import sys

import numpy as np
from safetensors import safe_open
from safetensors.numpy import save_file


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def main():
    docseek, ds_tests, work = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    ours = os.path.join(work, "oracle-docseek.safetensors")
    env = dict(os.environ, DS_ST_FIXTURE_OUT=ours)
    subprocess.run([ds_tests, "safetensors_fixture"], check=True, env=env, stdout=subprocess.DEVNULL)

    # The same formulas as fill_fixture() in tests/test-safetensors.c.
    want = {
        "f32.m": (np.arange(24, dtype=np.float32) * 0.5 - 3).reshape(2, 3, 4),
        "f16.v": (np.arange(6, dtype=np.float32) * 0.25 - 1).astype(np.float16).reshape(2, 3),
        "i8.odd": (np.arange(5) * 50 - 100).astype(np.int8),
        "i32.v": (np.arange(7) * 7 - 20).astype(np.int32),
        "scalar": np.array(42.0, dtype=np.float32),
        "empty": np.zeros((0, 3), dtype=np.float32),
    }
    checked = 0
    with safe_open(ours, framework="np") as f:
        meta = f.metadata()
        if meta.get("format") != "pt" or json.loads(meta["config"])["width"] != 256:
            fail(f"metadata read back as {meta}")
        names = set(f.keys())
        if names != set(want) | {"bf16.v"}:
            fail(f"tensor names {sorted(names)}")
        for name, ref in want.items():
            got = f.get_tensor(name)
            if got.dtype != ref.dtype or got.shape != ref.shape or not np.array_equal(got, ref):
                fail(f"{name}: got {got.dtype} {got.shape} {got.ravel()[:4]}, want {ref.dtype} {ref.shape}")
            checked += 1
    # BF16 straight from the bytes, by the format's rules.
    raw = open(ours, "rb").read()
    hlen = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8 : 8 + hlen])
    b, e = header["bf16.v"]["data_offsets"]
    bits = np.frombuffer(raw[8 + hlen + b : 8 + hlen + e], dtype="<u2").astype(np.uint32) << 16
    if not np.array_equal(bits.view(np.float32), np.arange(10, dtype=np.float32) * 1.5):
        fail("bf16.v values")
    checked += 1
    print(f"docseek -> safetensors: {checked} tensors and metadata match")

    theirs = os.path.join(work, "oracle-python.safetensors")
    rng = np.random.default_rng(5)
    tensors = {
        "layer.0.w": rng.standard_normal((17, 9)).astype(np.float32),
        "layer.0.b": rng.standard_normal(9).astype(np.float16),
        "ids": rng.integers(-1000, 1000, size=(3, 5)).astype(np.int32),
        "q": rng.integers(-128, 127, size=11).astype(np.int8),
    }
    save_file(tensors, theirs, metadata={"config": "{\"a\": 1}"})
    out = subprocess.run([docseek, "tensors", theirs, "--json", "--stats"], check=True,
                         capture_output=True, text=True).stdout
    listing = json.loads(out)
    if listing["metadata"] != {"config": "{\"a\": 1}"}:
        fail(f"metadata {listing['metadata']}")
    by_name = {t["name"]: t for t in listing["tensors"]}
    names = {"F32": np.float32, "F16": np.float16, "I32": np.int32, "I8": np.int8}
    for name, ref in tensors.items():
        t = by_name.get(name)
        if t is None or names[t["dtype"]] != ref.dtype.type or tuple(t["shape"]) != ref.shape:
            fail(f"{name}: docseek lists {t}")
        ref_sum = float(ref.astype(np.float64).sum())
        if abs(t["sum"] - ref_sum) > 1e-9 * max(1.0, abs(ref_sum)):
            fail(f"{name}: sum {t['sum']} vs {ref_sum}")
    print(f"safetensors -> docseek: {len(tensors)} tensors match (names, dtypes, shapes, sums)")
    print("safetensors oracle: ok")


if __name__ == "__main__":
    main()
