#!/usr/bin/env python3
"""same_answer.py CPU.json GPU.json LABEL: two extractions of one document (docseek
extract's or serve's JSON) give the same answer: the same type, the same values on the
same pages and boxes, confidences within 0.01 (a GPU's GEMMs round to bf16). Used by
tests/extract-device.sh and tests/serve-device.sh."""
import json
import sys

cpu, gpu = (json.load(open(p)) for p in sys.argv[1:3])
assert cpu["doc_type"] == gpu["doc_type"], (cpu["doc_type"], gpu["doc_type"])
assert cpu["fields"].keys() == gpu["fields"].keys(), (cpu["fields"].keys(), gpu["fields"].keys())
assert len(cpu["fields"]) >= 3, cpu["fields"]
worst = 0.0
for k, c in cpu["fields"].items():
    g = gpu["fields"][k]
    for a in ("value", "page", "box", "normalized"):
        assert c.get(a) == g.get(a), (k, a, c.get(a), g.get(a))
    worst = max(worst, abs(c["confidence"] - g["confidence"]))
assert worst <= 0.01, worst
print("%s: type %s, %d fields: values, pages and boxes equal; confidences within %.3f"
      % (sys.argv[3], cpu["doc_type"], len(cpu["fields"]), worst))
