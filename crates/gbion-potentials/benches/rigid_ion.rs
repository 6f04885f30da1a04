//! Speed of the rigid-ion models on a 10,080-atom distorted SrTiO3 supercell (12×12×14 cubic cells),
//! energy + forces per call, one thread: Buckingham + Ewald (relative accuracy 1e-5, r_c 10 Å) and
//! Buckingham + DSF (α 0.2 1/Å, r_c 10 Å). The neighbour list is built once, outside the timing.
//! The same cell and settings for LAMMPS: `tests/fixtures/lammps/make_fixtures.py` parameters.

use criterion::{Criterion, criterion_group, criterion_main};
use gbion_atoms::{Cell, Element, ListKind, NeighborList, Structure, Vec3};
use gbion_potentials::rigid_ion::RigidIon;
use gbion_potentials::{Potential, Request};
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

const PAIRS: &str = r#"
cutoff = 10.0
[charges]
Sr = 2.0
Ti = 4.0
O = -2.0
[[pair]]
species = ["O", "O"]
buckingham = { a = 22764.0, rho = 0.149, c = 27.88 }
[[pair]]
species = ["Ti", "O"]
buckingham = { a = 4590.7279, rho = 0.261, c = 0.0 }
[[pair]]
species = ["Sr", "O"]
buckingham = { a = 1956.702, rho = 0.3252, c = 0.0 }
"#;

fn supercell() -> Structure {
    let (a, reps) = (3.905, [12usize, 12, 14]);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    let mut elements = Vec::new();
    let mut positions: Vec<Vec3> = Vec::new();
    let sites = [
        ("Sr", [0.0, 0.0, 0.0]),
        ("Ti", [0.5, 0.5, 0.5]),
        ("O", [0.5, 0.5, 0.0]),
        ("O", [0.5, 0.0, 0.5]),
        ("O", [0.0, 0.5, 0.5]),
    ];
    for i in 0..reps[0] {
        for j in 0..reps[1] {
            for k in 0..reps[2] {
                for (symbol, offset) in sites {
                    elements.push(Element::from_symbol(symbol).unwrap());
                    let cell = [i as f64, j as f64, k as f64];
                    positions.push(std::array::from_fn(|d| {
                        a * (cell[d] + offset[d]) + rng.random_range(-0.1..0.1)
                    }));
                }
            }
        }
    }
    let cell = Cell::orthorhombic(reps.map(|r| r as f64 * a)).unwrap();
    Structure::new(cell, elements, positions).unwrap()
}

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
