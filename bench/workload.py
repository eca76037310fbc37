"""The generated source trees the benchmark pushes."""
import os
import random


def generate(out, nfiles, small_total, nbig, big_size, seed):
    """A deterministic tree: text (slices of a seeded word corpus) and random bytes.

    Returns (files, bytes) of what it wrote, the Procfile and its symlink included."""
    rnd = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocab = ["".join(rnd.choice(letters) for _ in range(rnd.randint(2, 10))) for _ in range(4000)]
    lines, line = [], []
    for w in rnd.choices(vocab, k=400000):
        line.append(w)
        if len(line) >= rnd.randint(6, 14):
            lines.append(" ".join(line))
            line = []
    corpus = ("\n".join(lines) + "\n").encode()

    def text(n):
        parts, have = [], 0
        while have < n:
            k = min(n - have, rnd.randint(4096, 65536))
            o = rnd.randrange(0, len(corpus) - k)
            parts.append(corpus[o:o + k])
            have += k
        return b"".join(parts)

    dirs = [""]
    for i in range(max(1, nfiles // 20)):
        parent = rnd.choice(dirs)
        if parent.count("/") >= 4:
            parent = ""
        dirs.append(f"{parent}d{i:04d}/")
    raw = [rnd.lognormvariate(0, 1.2) for _ in range(nfiles)]
    scale = small_total / sum(raw)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "Procfile"), "w") as f:
        f.write("web: python3 -m http.server $PORT\n")
    files, total = 1, 35
    for i, r in enumerate(raw):
        size = max(1, int(r * scale))
        p = os.path.join(out, rnd.choice(dirs), f"f{i:05d}" + (".txt" if i % 5 < 3 else ".bin"))
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(text(size) if i % 5 < 3 else rnd.randbytes(size))
        os.chmod(p, 0o755 if i % 97 == 0 else 0o644)
        files += 1
        total += size
    for j in range(nbig):
        p = os.path.join(out, "big", f"big{j}" + (".txt" if j % 2 else ".bin"))
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            left = big_size
            while left:
                k = min(left, 1 << 20)
                f.write(text(k) if j % 2 else rnd.randbytes(k))
                left -= k
        files += 1
        total += big_size
    os.symlink("Procfile", os.path.join(out, "Procfile.link"))
    return files + 1, total
