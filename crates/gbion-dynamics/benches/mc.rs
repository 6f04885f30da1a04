//! Monte Carlo speed (issue 7): Li ↔ Sr swap attempts per second through [`MonteCarlo::attempts`] with the
//! MTP's local energy differences, on LSTZ0.75-like perovskite cells of ≈ 1k, 10k and 100k atoms
//! (the construction of gbion-potentials' `benches/mtp.rs`: level 16, 5 species, cutoff 5 Å; Li0.375
//! Sr0.4375 □0.1875 on A, Ta0.75 Zr0.25 on B, a = 3.95 Å, 0.05 Å noise), 1000 K, neighbour-list skin 1 Å.
//! One iteration is `ATTEMPTS` attempts; criterion's throughput is attempts per second. The goal is
//! ≥ 1,000 per second at 10k atoms with a cost per attempt independent of the number of atoms.
//! Run with `RAYON_NUM_THREADS=1` (the local energy change is serial anyway).
//!
//! The current energy passed to the sampler is 0: with a local energy change it is only accumulated, never
//! used, so the full evaluation of the cell is skipped.
//!
//! Before timing, `WARM_ATTEMPTS` attempts fill the MTP's cache of per-site moments (filled lazily, on a
//! site's first use after a change: an O(N) cost paid once per configuration, e.g. per MD segment) and let
//! the occupation relax from its random start; without them the 100k cell would mostly time first fills.
//! The cost of an attempt grows with the acceptance (an accepted swap leaves ≈ 85 sites to refill), which
//! is printed for the timed attempts.

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
#[path = "../../gbion-potentials/benches/cells/mod.rs"]
mod cells;

use cells::{element, lstz, lstz_mtp};
use gbion_dynamics::Engine;
use gbion_dynamics::mc::{MonteCarlo, MoveKind};
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

const ATTEMPTS: u64 = 200;
const WARM_ATTEMPTS: u64 = 20_000;

fn bench(c: &mut Criterion) {
    let mtp = lstz_mtp();
    let mut group = c.benchmark_group("mc_swap_li_sr_mtp_l16");
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(ATTEMPTS));
    for cells in [[6, 6, 6], [12, 12, 14], [27, 27, 28]] {
        let mut structure = lstz(cells);
        let mut engine = Engine::new(&mtp, 1.0);
        engine.list_for(&structure).unwrap();
        let mut mc = MonteCarlo::new(
            vec![MoveKind::Swap {
                a: element("Li"),
                b: element("Sr"),
            }],
            1000.0,
        )
        .unwrap();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let mut energy = 0.0;
        mc.attempts(WARM_ATTEMPTS, &mut structure, &mut energy, &mut engine, &mut rng)
            .unwrap();
        let warm = mc.stats[0];
        group.bench_function(format!("{}_atoms", structure.len()), |b| {
            b.iter(|| {
                mc.attempts(ATTEMPTS, &mut structure, &mut energy, &mut engine, &mut rng)
                    .unwrap()
            })
        });
        let s = mc.stats[0];
        eprintln!(
            "{} atoms: {} timed attempts, acceptance {:.3} (warm-up: {:.3})",
            structure.len(),
            s.attempted - warm.attempted,
            (s.accepted - warm.accepted) as f64 / (s.attempted - warm.attempted) as f64,
            warm.ratio()
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
