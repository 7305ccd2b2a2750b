# 10001 services: hagen must stop at its limit quickly, with a bounded number of messages.
import sys
sys.stdout.write('entrypoints:\n  web: { bind: ":8080" }\nservices:\n')
for i in range(10001):
    sys.stdout.write('  s%d: { match: { path: [/s%d] }, servers: [{ name: a, address: "127.0.0.1:%d" }] }\n' % (i, i, 1000 + i % 60000))
