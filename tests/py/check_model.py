#!/usr/bin/env python3
"""Cross-checks a docseek model file against the public safetensors package:
1. the file opens with safetensors (framework numpy); its metadata has
   format=docseek-model-1, a "config" and a "tokenizer" that parse as JSON; the
   config has exactly the keys `docseek model info --json` lists, with the same
   values, and the tokenizer's size is the config's vocab;
2. the tensors are exactly those the config implies (names, order, shapes; the
   layout below is written from fusion/model.c, vision/vit.c and text/lm.c, so a
   change there that forgets the file format fails here), all F32;
3. `docseek tensors MODEL --json --stats` agrees with numpy on every tensor:
   names, dtypes, shapes identical, min and max equal, sums to 1e-4 relative;
4. info's parameter counts match the shapes, and freshly initialised values
   follow the documented rules (norms 1, biases 0, router bias 0).
Usage: check_model.py MODEL INFO_JSON TENSORS_JSON
"""
import json
import math
import sys

import numpy as np
from safetensors import safe_open

FORMAT = "docseek-model-1"
BOX_BINS = 1024
GLYPH_DIM = 6 * 32  # fusion/model.h: DS_GLYPH_ROWS * DS_GLYPH_COLS
N_SPECIAL = 16


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def expected_layout(c):
    """(name, shape) in the order docseek carves its parameter buffer."""
    out = []
    add = lambda name, *shape: out.append((name, list(shape)))
    C, D = c["dim"], c["vit_dim"]
    if c["use_prefix"] or c["use_roi"]:
        M, p, G = c["vit_mlp"], c["patch"], c["img_size"] // c["patch"]
        add("vision.patch.weight", D, 3 * p * p)
        add("vision.patch.bias", D)
        add("vision.pos", G * G, D)
        for l in range(c["vit_layers"]):
            b = f"vision.blocks.{l}."
            add(b + "ln1.weight", D)
            add(b + "ln1.bias", D)
            add(b + "qkv.weight", 3 * D, D)
            add(b + "qkv.bias", 3 * D)
            add(b + "proj.weight", D, D)
            add(b + "proj.bias", D)
            add(b + "ln2.weight", D)
            add(b + "ln2.bias", D)
            add(b + "fc1.weight", M, D)
            add(b + "fc1.bias", M)
            add(b + "fc2.weight", D, M)
            add(b + "fc2.bias", D)
        add("vision.lnf.weight", D)
        add("vision.lnf.bias", D)
    if c["use_prefix"]:
        add("fusion.proj1.weight", C, 4 * D)
        add("fusion.proj1.bias", C)
        add("fusion.proj2.weight", C, C)
        add("fusion.proj2.bias", C)
    if c["use_box"]:
        add("fusion.box", 4 * BOX_BINS, C)
        add("fusion.page", c["max_pages"], C)
    if c["use_roi"]:
        add("fusion.roi.weight", C, D)
        add("fusion.roi.bias", C)
    if c.get("use_glyph", 0):
        add("fusion.glyph.weight", C, GLYPH_DIM)
        add("fusion.glyph.bias", C)
    V, hd = c["vocab"], c["head_dim"]
    E, He, SH = c["n_experts"], c["expert_hidden"], c["n_shared"] * c["expert_hidden"]
    add("lm.tok_emb", V, C)
    for l in range(c["n_layers"]):
        b = f"lm.layers.{l}."
        add(b + "attn_norm.weight", C)
        add(b + "qkv.weight", (c["n_heads"] + 2 * c["n_kv_heads"]) * hd, C)
        add(b + "o.weight", C, c["n_heads"] * hd)
        add(b + "ffn_norm.weight", C)
        if l < c["n_dense_layers"]:
            add(b + "ffn.w13.weight", 2 * c["dense_hidden"], C)
            add(b + "ffn.w2.weight", C, c["dense_hidden"])
            continue
        add(b + "moe.router.weight", E, C)
        add(b + "moe.experts.w13.weight", E, 2 * He, C)
        add(b + "moe.experts.w2.weight", E, C, He)
        if SH > 0:
            add(b + "moe.shared.w13.weight", 2 * SH, C)
            add(b + "moe.shared.w2.weight", C, SH)
    add("lm.norm.weight", C)
    add("lm.head.weight", V, C)
    if c["copy_pointer"]:
        for n in ("ptr_q_start", "ptr_q_end", "ptr_k"):
            add(f"head.{n}.weight", C, C)
    if c["copy_pointer_gen"]:
        add("head.pg_q.weight", C, C)
        add("head.pg_k.weight", C, C)
        add("head.pg_gate", C + 1)
    return out


def main():
    if len(sys.argv) != 4:
        fail("usage: check_model.py MODEL INFO_JSON TENSORS_JSON")
    model, info_path, tensors_path = sys.argv[1:4]
    info = json.load(open(info_path))
    listing = json.load(open(tensors_path))

    arrays = {}
    with safe_open(model, framework="numpy") as f:
        meta = f.metadata() or {}
        for name in f.keys():
            arrays[name] = f.get_tensor(name)
    if meta.get("format") != FORMAT:
        fail(f"metadata format {meta.get('format')!r}, want {FORMAT}")
    for key in ("config", "tokenizer"):
        if key not in meta:
            fail(f"metadata has no {key!r} (keys {sorted(meta)})")
    try:
        cfg = json.loads(meta["config"])
        tok = json.loads(meta["tokenizer"])
    except json.JSONDecodeError as e:
        fail(f"metadata is not JSON: {e}")

    # 1. config and tokenizer
    want_keys = set(info["config"])
    if set(cfg) != want_keys:
        fail(f"config keys: missing {sorted(want_keys - set(cfg))}, extra {sorted(set(cfg) - want_keys)}")
    for k, v in info["config"].items():
        same = cfg[k] == v if isinstance(v, int) else np.float32(cfg[k]) == np.float32(v)
        if not same:
            fail(f"config {k}: file {cfg[k]!r}, info {v!r}")
    if tok.get("type") != "bpe-bytes" or tok.get("vocab_size") != cfg["vocab"]:
        fail(f"tokenizer type {tok.get('type')!r} size {tok.get('vocab_size')} vs config vocab {cfg['vocab']}")
    if len(tok["merges"]) != cfg["vocab"] - N_SPECIAL - 256 or info["tokenizer_vocab"] != cfg["vocab"]:
        fail(f"{len(tok['merges'])} merges for vocab {cfg['vocab']}; info says {info['tokenizer_vocab']}")
    print(f"metadata: {len(cfg)} config keys match info; tokenizer {tok['vocab_size']} tokens "
          f"({len(tok['merges'])} merges)")

    # 2. the layout the config implies
    layout = expected_layout(cfg) + [("lm.router_bias", [cfg["n_layers"], cfg["n_experts"]])]
    want = dict(layout)
    if set(arrays) != set(want):
        fail(f"tensors: missing {sorted(set(want) - set(arrays))}, extra {sorted(set(arrays) - set(want))}")
    for name, shape in layout:
        a = arrays[name]
        if list(a.shape) != shape or a.dtype != np.float32:
            fail(f"{name}: {a.dtype} {list(a.shape)}, config implies float32 {shape}")

    # 3. docseek's own listing against numpy
    theirs = listing["tensors"]
    if [t["name"] for t in theirs] != [n for n, _ in layout]:
        fail("docseek tensors order differs from the parameter layout (the file is not in place): "
             f"{[t['name'] for t in theirs][:5]}...")
    if listing["metadata"] != meta:
        fail("docseek tensors metadata differs from safetensors'")
    worst = 0.0
    for t in theirs:
        a = arrays[t["name"]]
        if t["dtype"] != "F32" or t["shape"] != list(a.shape) or t["bytes"] != a.nbytes:
            fail(f"{t['name']}: docseek says {t['dtype']} {t['shape']} {t['bytes']} B, numpy {a.dtype} {list(a.shape)} {a.nbytes} B")
        if a.size:
            if float(a.min()) != t["min"] or float(a.max()) != t["max"]:
                fail(f"{t['name']}: min/max docseek {t['min']}/{t['max']}, numpy {a.min()}/{a.max()}")
        s = float(a.astype(np.float64).sum())
        scale = max(abs(s), 1e-3 * float(np.abs(a.astype(np.float64)).sum()), 1e-30)
        rel = abs(t["sum"] - s) / scale
        worst = max(worst, rel)
        if rel > 1e-4:
            fail(f"{t['name']}: sum docseek {t['sum']!r}, numpy {s!r} (rel {rel:.3g})")
    print(f"tensors: {len(layout)} names, shapes, dtypes, min/max identical to docseek tensors; "
          f"worst sum difference {worst:.3g} (relative)")

    # 4. counts and initial values
    params = {n: int(np.prod(s)) for n, s in layout if n != "lm.router_bias"}
    p = info["parameters"]
    total = sum(params.values())
    by = lambda pre: sum(v for n, v in params.items() if n.startswith(pre))
    n_moe = cfg["n_layers"] - cfg["n_dense_layers"]
    active = total - n_moe * (cfg["n_experts"] - cfg["topk"]) * 3 * cfg["expert_hidden"] * cfg["dim"]
    got = (p["total"], p["vision"], p["fusion"], p["lm"], p["heads"], p["active_per_token"], info["tensors"])
    exp = (total, by("vision."), by("fusion."), by("lm."), by("head."), active, len(layout))
    if got != exp:
        fail(f"info counts (total, vision, fusion, lm, heads, active, tensors) {got}, want {exp}")
    for name, a in arrays.items():
        if name.endswith(("norm.weight", "ln1.weight", "ln2.weight", "lnf.weight")):
            if not np.all(a == 1):
                fail(f"{name}: a norm weight not initialised to 1")
        elif name.endswith(".bias") or name in ("head.pg_gate", "lm.router_bias"):
            if not np.all(a == 0):
                fail(f"{name}: a bias not initialised to 0")
        elif not np.isfinite(a).all() or a.std() == 0:
            fail(f"{name}: not random (std {a.std()})")
    print(f"counts: {total} parameters ({active} active per token) as info says; initial values ok")
    print("OK")


if __name__ == "__main__":
    main()
