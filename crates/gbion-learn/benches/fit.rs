//! Fit speed: one evaluation of the loss and its exact gradient ([`gbion_learn::fit::loss_and_gradient`],
//! the cost of one L-BFGS iteration) for a level-16, 5-species MTP (the trained fixture `l16_5sp.mtp`,
//! Li, Sr, Ta, Zr, O, cutoff 5 Å) over 20 configurations of an LSTZ0.75-like perovskite (2 × 2 × 5 cells,
//! about 100 atoms; the shared benchmark cell of gbion-potentials, each copy rattled by up to 0.1 Å)
//! labelled with energies, forces and stresses by the built-in `lstz_toy` rigid-ion model, on 1 and
//! 2 threads. Criterion reports configurations per second: its inverse is the fit time per configuration
//! per iteration (scale by the atom count for other sizes; the cost is linear in atoms).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
#[path = "../../gbion-potentials/benches/cells/mod.rs"]
mod cells;

use cells::{element, lstz};
use gbion_atoms::Structure;
use gbion_learn::fit::{FitData, LossWeights, loss_and_gradient};
use gbion_learn::training::{Configuration, TrainingSet};
use gbion_potentials::mtp::Mtp;
use gbion_potentials::rigid_ion::{RigidIon, builtin};
use gbion_potentials::{Request, evaluate};
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::path::Path;

const CONFIGURATIONS: usize = 20;
const CELLS: [usize; 3] = [2, 2, 5];

/// `CONFIGURATIONS` rattled copies of the benchmark cell, labelled by `oracle`.
fn training_set(oracle: &RigidIon) -> TrainingSet {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(16);
    let configurations = (0..CONFIGURATIONS)
        .map(|k| {
            let mut structure: Structure = lstz(CELLS);
            for position in structure.positions.iter_mut() {
                for x in position.iter_mut() {
                    *x += rng.random_range(-0.1..0.1);
                }
            }
            let label = evaluate(oracle, &structure, Request::EFS).unwrap();
            Configuration {
                structure,
                energy: label.energy,
                forces: label.forces,
                stress: label.stress,
                energy_weight: 1.0,
                weight: 1.0,
                source: format!("rattled copy {k}"),
            }
        })
        .collect();
    TrainingSet { configurations }
}

fn bench_loss_and_gradient(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../gbion-potentials");
    let species = ["Li", "Sr", "Ta", "Zr", "O"].map(element).to_vec();
    let mtp = Mtp::read(&root.join("tests/fixtures/mtp/potentials/l16_5sp.mtp"))
        .unwrap()
        .with_species(species)
        .unwrap();
    let oracle = RigidIon::from_toml(builtin("lstz_toy").unwrap(), "builtin:lstz_toy").unwrap();
    let set = training_set(&oracle);
    let atoms = set.configurations[0].structure.len();
    let data = FitData::new(&set, &mtp).unwrap();
    let weights = LossWeights::default();
    let mut group = c.benchmark_group(format!("loss_and_gradient_l16_5sp_{CONFIGURATIONS}x{atoms}_atoms"));
    group.sample_size(10);
    group.throughput(Throughput::Elements(CONFIGURATIONS as u64));
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        group.bench_function(format!("{threads}_threads"), |b| {
            b.iter(|| pool.install(|| loss_and_gradient(&mtp, &data, &weights).unwrap()))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_loss_and_gradient);
criterion_main!(benches);
