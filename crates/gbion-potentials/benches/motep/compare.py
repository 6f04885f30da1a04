"""motep (the independent MTP implementation that made the reference vectors) on the MTP benchmark cell.

Reads the cell that `mtp_profile write` wrote (9,724-atom LSTZ0.75, with gbion's energy, forces and stress),
evaluates it with motep's compiled `cext` engine and the same potential (l16_5sp.mtp; Li, Sr, Ta, Zr, O),
prints the largest differences from gbion's results and motep's time per atom per call (E + F + S, one
thread). With `--gbion BINARY` it runs `BINARY 3 1` (the mtp_profile example, 3 calls on one thread)
between motep's calls, so both are timed in the same minutes, and prints the median ratio.

    python3 compare.py CELL.extxyz POTENTIAL.mtp [--calls N] [--gbion target/release/examples/mtp_profile]

Needs numpy, ase and motep 0.2.0 (`pip install motep==0.2.0`); no part of the build or tests needs it.
"""

import argparse
import os
import re
import statistics
import subprocess
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from ase.data import atomic_numbers  # noqa: E402
from ase.io import read  # noqa: E402
from motep.calculator import MTP  # noqa: E402
from motep.io.mlip.mtp import read_mtp  # noqa: E402

SPECIES = ["Li", "Sr", "Ta", "Zr", "O"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("cell")
    ap.add_argument("potential")
    ap.add_argument("--calls", type=int, default=5)
    ap.add_argument("--gbion", help="the mtp_profile example binary, timed between motep's calls")
    args = ap.parse_args()

    gbion_cell = read(args.cell)
    gbion = {
        "energy": gbion_cell.get_potential_energy(),
        "forces": gbion_cell.get_forces(),
        "stress": gbion_cell.get_stress(),
    }
    data = read_mtp(args.potential)
    data.species = [atomic_numbers[s] for s in SPECIES]
    atoms = gbion_cell.copy()
    atoms.calc = MTP(data, engine="cext", mode="run")

    def call() -> tuple[float, dict]:
        atoms.calc.results.clear()  # evaluate again, same positions
        t0 = time.perf_counter()
        out = {
            "energy": atoms.get_potential_energy(),
            "forces": atoms.get_forces(),
            "stress": atoms.get_stress(),
        }
        return (time.perf_counter() - t0) * 1e6 / len(atoms), out

    _, motep = call()
    n = len(atoms)
    print(f"{n} atoms; gbion − motep: energy {gbion['energy'] - motep['energy']:.3e} eV "
          f"(relative {abs(gbion['energy'] / motep['energy'] - 1):.1e}), "
          f"max |ΔF| {np.abs(gbion['forces'] - motep['forces']).max():.3e} eV/Å "
          f"(max |F| {np.abs(motep['forces']).max():.3f}), "
          f"max |Δσ| {np.abs(gbion['stress'] - motep['stress']).max():.3e} eV/Å³")

    pairs = []
    for _ in range(args.calls):
        motep_us, _ = call()
        gbion_us = float("nan")
        if args.gbion:
            line = subprocess.run([args.gbion, "3", "1"], capture_output=True, text=True,
                                  env={**os.environ, "RAYON_NUM_THREADS": "1"}, check=True).stdout
            gbion_us = float(re.search(r"wall ([0-9.]+)", line).group(1))
        pairs.append((motep_us, gbion_us))
        print(f"motep {motep_us:.1f} µs per atom per call" + (f", gbion {gbion_us:.2f}" if args.gbion else ""))
    summary = f"median motep {statistics.median(p[0] for p in pairs):.1f} µs per atom per call"
    if args.gbion:
        summary += (f", gbion {statistics.median(p[1] for p in pairs):.2f} µs; "
                    f"median ratio motep/gbion {statistics.median(p[0] / p[1] for p in pairs):.1f}")
    print(summary)


if __name__ == "__main__":
    main()
