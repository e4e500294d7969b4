import hashlib, json, math, os, statistics, time
import numpy as np
# MED PARAMETERS START
import medeq
parameters = medeq.create_parameters(['x0', 'x1', 'x2', 'x3', 'x4'], [0.0, 0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0, 1.0])
# MED PARAMETERS END
start = time.time()
x = parameters["value"].to_numpy(dtype=float)
u = int(hashlib.sha1(x.tobytes()).hexdigest()[:12], 16) / 16**12
z = statistics.NormalDist().inv_cdf(min(max(u, 1e-9), 1 - 1e-9))
time.sleep(2.0 * math.exp(0.8 * z))
def friedman(x):
    return (10 * np.sin(np.pi * x[:, 0] * x[:, 1]) + 20 * (x[:, 2] - 0.5) ** 2
            + 10 * x[:, 3] + 5 * x[:, 4])

response = float(friedman(x[None, :])[0])
end = time.time()
with open("/proc/self/stat") as stat:       # the process start, in clock ticks after boot
    ticks = float(stat.read().rsplit(")", 1)[1].split()[19])
with open("/proc/stat") as stat:
    boot = float(next(line for line in stat if line.startswith("btime")).split()[1])
extra = {"work": end - start, "process": end - boot - ticks / os.sysconf("SC_CLK_TCK")}
