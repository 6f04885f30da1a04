#!/usr/bin/env python3
"""gbion's oracle protocol for any ASE calculator (optional; gbion never needs Python itself).

gbion writes configurations to an extended XYZ file, runs a command, and reads the same configurations back
with energy (eV), forces (eV/A), stress (eV/A^3, ASE sign) and, when the calculator has them, per-atom
energies. This script is such a command:

    gbion eval --potential "cmd:python3 $PWD/oracle/ase_oracle.py --calculator ase.calculators.emt:EMT {input} {output}" STRUCTURE

(the command runs in a fresh temporary directory, so the script's path must be absolute: $PWD expands in the
calling shell). In an active-learning input it is the template of the [oracle] table.

--calculator names a class as module:Class; --kwargs passes its keyword arguments as a JSON object, e.g.
--calculator ase.calculators.vasp:Vasp --kwargs '{"xc": "PBE", "encut": 520, "kpts": [2, 2, 2]}'.
Stress is computed only for cells periodic in all three directions. Values travel through ASE's extended XYZ
writer, which prints per-atom arrays (forces) with 8 decimals: 1e-8 eV/A, far below any oracle's own noise.
"""

import argparse
import importlib
import json

import ase.io
from ase.calculators.singlepoint import SinglePointCalculator


def make_calculator(spec, kwargs):
    module_name, _, class_name = spec.partition(":")
    if not class_name:
        raise SystemExit(f"--calculator must be module:Class, got {spec!r}")
    return getattr(importlib.import_module(module_name), class_name)(**kwargs)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("input", help="extended XYZ written by gbion")
    parser.add_argument("output", help="extended XYZ to write with the results")
    parser.add_argument("--calculator", required=True, help="module:Class of an ASE calculator")
    parser.add_argument("--kwargs", default="{}", help="JSON object of keyword arguments for the calculator")
    args = parser.parse_args()
    calculator = make_calculator(args.calculator, json.loads(args.kwargs))
    frames = ase.io.read(args.input, index=":", format="extxyz")
    for atoms in frames:
        atoms.calc = calculator
        results = {"energy": atoms.get_potential_energy(), "forces": atoms.get_forces()}
        if atoms.pbc.all():
            results["stress"] = atoms.get_stress(voigt=True)
        try:
            results["energies"] = atoms.get_potential_energies()
        except Exception:  # many calculators have no per-atom energies
            pass
        atoms.calc = SinglePointCalculator(atoms, **results)
    ase.io.write(args.output, frames, format="extxyz")


if __name__ == "__main__":
    main()
