# Runs a command and checks it stays within a time and memory bound (the hostile-inventory
# cases of tests/cases/hardening-hagen-hostile). usage: python3 bound.py SECONDS MIB CMD...
# Passes the command's stdout, stderr and exit code through; exit 125 when over a bound.
import resource, subprocess, sys, time

secs, mib, cmd = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
t0 = time.monotonic()
try:
    rc = subprocess.run(cmd, timeout=secs).returncode
except subprocess.TimeoutExpired:
    print("bound: over %.0f s" % secs, file=sys.stderr)
    sys.exit(125)
took = time.monotonic() - t0
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
if rss > mib:
    print("bound: used %d MiB, over %d MiB" % (rss, mib), file=sys.stderr)
    sys.exit(125)
sys.exit(rc if rc >= 0 else 128 - rc)
