#!/usr/bin/env python3
"""Reference values for escalation_test.cpp, from textbook definitions in
plain Python (no numpy/sklearn on this machine), independent of the C++:
AUROC by counting all (error, non-error) pairs, AUPRC by recounting the
precision/recall of every threshold, ECE by explicit bin edges, caught-error
rates by averaging over every order of tied scores, the bootstrap over an
MT19937-64 written out here (checked against the C++ standard's required
10000th output), the logistic fit by plain gradient descent on the same
penalised objective (the C++ uses Newton's method).

Run: python3 tests/escalation/reference_values.py"""
import itertools, json, math, os

here = os.path.dirname(os.path.abspath(__file__))
recs = [json.loads(l) for l in open(os.path.join(here, "known_log.jsonl")) if l.strip()]

def cases(key):
    return [(key(r), r["outcome"]["error"]) for r in recs]

def auroc(cs):
    pos = [s for s, y in cs if y]; neg = [s for s, y in cs if not y]
    if not pos or not neg: return None
    win = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg)
    return win / (len(pos) * len(neg))

def auprc(cs):
    P = sum(y for _, y in cs)
    if P == 0: return None
    ap, r_prev = 0.0, 0.0
    for t in sorted({s for s, _ in cs}, reverse=True):
        sel = [y for s, y in cs if s >= t]
        r = sum(sel) / P; p = sum(sel) / len(sel)
        ap += (r - r_prev) * p; r_prev = r
    return ap

def ece(cs, B=10):
    total = 0.0
    for i in range(B):
        lo, hi = i / B, (i + 1) / B
        inb = [(s, y) for s, y in cs if lo <= s < hi or (i == B - 1 and s == 1.0)]
        if inb:
            total += len(inb) / len(cs) * abs(sum(y for _, y in inb) / len(inb) - sum(s for s, _ in inb) / len(inb))
    return total

def brier(cs):
    return sum((s - (1 if y else 0)) ** 2 for s, y in cs) / len(cs)

def caught_at(cs, rate):
    k = int(math.floor(rate * len(cs) + 1e-9)); P = sum(y for _, y in cs)
    groups = {}
    for s, y in cs: groups.setdefault(s, []).append(y)
    orders = [list(itertools.permutations(groups[s])) for s in sorted(groups, reverse=True)]
    vals = []
    for combo in itertools.product(*orders):
        flat = [y for g in combo for y in g]
        vals.append(sum(flat[:k]) / P)
    return sum(vals) / len(vals)

class MT64:
    def __init__(self, seed):
        self.mt = [0] * 312; self.mt[0] = seed & (2**64 - 1); self.i = 312
        for j in range(1, 312):
            self.mt[j] = (6364136223846793005 * (self.mt[j-1] ^ (self.mt[j-1] >> 62)) + j) & (2**64 - 1)
    def __call__(self):
        if self.i >= 312:
            for j in range(312):
                x = (self.mt[j] & 0xFFFFFFFF80000000) | (self.mt[(j + 1) % 312] & 0x7FFFFFFF)
                xa = x >> 1
                if x & 1: xa ^= 0xB5026F5AA96619E9
                self.mt[j] = self.mt[(j + 156) % 312] ^ xa
            self.i = 0
        y = self.mt[self.i]; self.i += 1
        y ^= (y >> 29) & 0x5555555555555555
        y ^= (y << 17) & 0x71D67FFFEDA60000
        y ^= (y << 37) & 0xFFF7EEE000000000
        y ^= y >> 43
        return y & (2**64 - 1)

g = MT64(5489)
for _ in range(9999): g()
assert g() == 9981545732273789042, "MT19937-64 does not match the C++ standard"

def draw(g, n):
    excess = (2**64) % n
    while True:
        x = g()
        if excess == 0 or x < 2**64 - excess: return x % n

def quantile(v, q):
    pos = q * (len(v) - 1); lo = math.floor(pos); hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)

def bootstrap(metric, resamples, level, seed):
    g = MT64(seed); vals = []
    for _ in range(resamples):
        sample = [recs[draw(g, len(recs))] for _ in recs]
        v = metric(sample)
        if v is not None: vals.append(v)
    vals.sort(); tail = (1 - level) / 2
    return quantile(vals, tail), quantile(vals, 1 - tail), len(vals)

def fit(rs, ridge=0.01, lr=0.02, steps=400000):
    w = [0.0] * 4
    for _ in range(steps):
        grad = [ridge * wj for wj in w]
        for r in rs:
            f = r["features"]; x = [1.0, f["uncertainty"], f["novelty"], f["benefit"]]
            p = 1 / (1 + math.exp(-sum(a * b for a, b in zip(w, x))))
            for j in range(4): grad[j] += (p - (1 if r["outcome"]["error"] else 0)) * x[j]
        w = [wj - lr * gj for wj, gj in zip(w, grad)]
    return w, max(abs(gj) for gj in grad)

keys = {"score": lambda r: r["score"],
        "uncertainty": lambda r: r["features"]["uncertainty"],
        "novelty": lambda r: r["features"]["novelty"],
        "benefit": lambda r: r["features"]["benefit"]}
for name, key in keys.items():
    cs = cases(key)
    print(f"{name}: auroc={auroc(cs)!r} auprc={auprc(cs)!r} caught10/20/30="
          f"{caught_at(cs, .1)!r} {caught_at(cs, .2)!r} {caught_at(cs, .3)!r}")
cs = cases(keys["score"])
print("score: ece10=%r brier=%r" % (ece(cs), brier(cs)))
print("score caught at 5%%/12%%/15%%/16%%/29%%/50%%/100%%: %r %r %r %r %r %r %r" %
      tuple(caught_at(cs, r) for r in (.05, .12, .15, .16, .29, .5, 1.0)))
print("bootstrap auroc(score), 200 resamples, 95%%, seed 7: %r" %
      (bootstrap(lambda rs: auroc([(r["score"], r["outcome"]["error"]) for r in rs]), 200, .95, 7),))
print("bootstrap auprc(novelty), 200 resamples, 90%%, seed 42: %r" %
      (bootstrap(lambda rs: auprc([(r["features"]["novelty"], r["outcome"]["error"]) for r in rs]), 200, .90, 42),))
ordered = sorted(recs, key=lambda r: r["t"])  # Python's sort is stable too
past, future = ordered[:14], ordered[14:]
w, g_max = fit(past)
print("fit on past (14): w=%r (largest gradient left %.1e)" % (w, g_max))
def pred(r):
    f = r["features"]
    return 1 / (1 + math.exp(-(w[0] + w[1] * f["uncertainty"] + w[2] * f["novelty"] + w[3] * f["benefit"])))
refit = [(pred(r), r["outcome"]["error"]) for r in future]
logged = [(r["score"], r["outcome"]["error"]) for r in future]
print("future (6): refit auroc=%r auprc=%r, logged auroc=%r auprc=%r, split_t=%r" %
      (auroc(refit), auprc(refit), auroc(logged), auprc(logged), future[0]["t"]))
