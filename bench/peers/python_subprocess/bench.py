# SP peer: CPython's asyncio, create_subprocess_exec("/bin/true") then wait(), one child at a
# time: microseconds per child.
import asyncio
import sys
import time

CHILDREN = 1000


async def main(label):
    warm = await asyncio.create_subprocess_exec("/bin/true")
    await warm.wait()
    t0 = time.perf_counter()
    for _ in range(CHILDREN):
        p = await asyncio.create_subprocess_exec("/bin/true")
        if await p.wait() != 0:
            print("SP: /bin/true failed", file=sys.stderr)
    s = time.perf_counter() - t0
    print(f"SP {label} us_per_child={s * 1e6 / CHILDREN:.1f} children={CHILDREN} wall_s={s:.3f}")


asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "cpython-asyncio"))
