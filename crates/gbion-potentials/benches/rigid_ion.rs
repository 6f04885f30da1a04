//! Speed of the rigid-ion models on a 10,080-atom distorted SrTiO3 supercell (12×12×14 cubic cells),
//! energy + forces per call, one thread: Buckingham + Ewald (relative accuracy 1e-5, r_c 10 Å) and
//! Buckingham + DSF (α 0.2 1/Å, r_c 10 Å). The neighbour list is built once, outside the timing.
//! The same cell and settings for LAMMPS: `tests/fixtures/lammps/make_fixtures.py` parameters.

use criterion::{Criterion, criterion_group, criterion_main};
#[path = "cells/mod.rs"]
mod cells;

use cells::{SRTIO3_PAIRS as PAIRS, srtio3_supercell as supercell};
use gbion_atoms::{ListKind, NeighborList};
use gbion_potentials::rigid_ion::RigidIon;
use gbion_potentials::{Potential, Request};

fn bench(c: &mut Criterion) {
    let atoms = supercell();
    let models = [
        (
            "buckingham_ewald_1e-5",
            "[coulomb]\nmethod = \"ewald\"\naccuracy = 1e-5\n",
        ),
        ("buckingham_dsf", "[coulomb]\nmethod = \"dsf\"\nalpha = 0.2\n"),
    ];
    let mut group = c.benchmark_group("rigid_ion_10080_atoms");
    group.sample_size(10);
    for (name, coulomb) in models {
        let model = RigidIon::from_toml(&format!("{PAIRS}{coulomb}"), name).unwrap();
        let range = model.neighbor_list().unwrap().cutoff;
        let list = NeighborList::build(&atoms, range, 0.0, ListKind::Half).unwrap();
        group.bench_function(name, |b| {
            b.iter(|| model.compute(&atoms, Some(&list), Request::FORCES).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
