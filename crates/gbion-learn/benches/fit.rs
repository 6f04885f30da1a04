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

use cells::{lstz_mtp, rattled_lstz};
use gbion_learn::fit::{FitData, LossWeights, loss_and_gradient};
use gbion_learn::training::{Configuration, TrainingSet};
use gbion_potentials::rigid_ion::{RigidIon, builtin};
use gbion_potentials::{Request, evaluate};

const CONFIGURATIONS: usize = 20;
const CELLS: [usize; 3] = [2, 2, 5];

/// `CONFIGURATIONS` rattled copies of the benchmark cell, labelled by `oracle`.
fn training_set(oracle: &RigidIon) -> TrainingSet {
    let configurations = rattled_lstz(CELLS, CONFIGURATIONS)
        .into_iter()
        .enumerate()
        .map(|(k, structure)| {
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
    let mtp = lstz_mtp();
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
