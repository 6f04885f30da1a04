//! Steady-state Monte Carlo speed (issue 7) for profiling: Li ↔ Sr swap attempts with the MTP's cached
//! local energies (level 16, 5 species, 5 Å) on the LSTZ cells of `benches/mc.rs`, after `WARM` attempts
//! that fill the cache of per-site moments and let the occupation relax at 1000 K (the criterion bench
//! starts cold, so at 100k atoms it mostly measures first fills of the cache).
//!
//! Run: `RAYON_NUM_THREADS=1 cargo run --release -p gbion-dynamics --example mc_profile -- SIZE WARM COUNT`
//! with SIZE 1, 10 or 100 (≈ 1k, 10k, 100k atoms). Prints attempts per second of the process's CPU time
//! (Linux `/proc/self/schedstat`, which a loaded machine does not inflate) and of wall time, and the
//! acceptance during the timed attempts (the share of stale cache entries, and so the cost, grows with it).

#[path = "../../gbion-potentials/benches/cells/mod.rs"]
mod cells;

use cells::{element, lstz, lstz_mtp};
use gbion_dynamics::Engine;
use gbion_dynamics::mc::{MonteCarlo, MoveKind};
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use std::time::Instant;

const BATCH: u64 = 200;

/// CPU time of this process so far (s).
fn cpu_seconds() -> f64 {
    let text = std::fs::read_to_string("/proc/self/schedstat").expect("Linux /proc/self/schedstat");
    let nanoseconds: f64 = text
        .split_whitespace()
        .next()
        .and_then(|x| x.parse().ok())
        .expect("a number");
    nanoseconds * 1e-9
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("a whole number"))
        .collect();
    let [size, warm, count] = args[..] else {
        panic!("usage: mc_profile SIZE WARM COUNT");
    };
    let cells = match size {
        1 => [6, 6, 6],
        10 => [12, 12, 14],
        _ => [27, 27, 28],
    };
    let mtp = lstz_mtp();
    let mut structure = lstz(cells);
    let mut engine = Engine::new(&mtp, 1.0);
    let swap = MoveKind::Swap {
        a: element("Li"),
        b: element("Sr"),
    };
    let mut mc = MonteCarlo::new(vec![swap], 1000.0).unwrap();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let mut energy = 0.0;
    mc.attempts(warm, &mut structure, &mut energy, &mut engine, &mut rng)
        .unwrap();
    let before = mc.stats[0];
    let (cpu, wall) = (cpu_seconds(), Instant::now());
    for _ in 0..count.div_ceil(BATCH) {
        mc.attempts(BATCH, &mut structure, &mut energy, &mut engine, &mut rng)
            .unwrap();
    }
    let (cpu, wall) = (cpu_seconds() - cpu, wall.elapsed().as_secs_f64());
    let timed = mc.stats[0].attempted - before.attempted;
    let accepted = mc.stats[0].accepted - before.accepted;
    println!(
        "{} atoms: {:.0} attempts/s of CPU time, {:.0} per wall second, acceptance {:.3} ({timed} attempts)",
        structure.len(),
        timed as f64 / cpu,
        timed as f64 / wall,
        accepted as f64 / timed as f64
    );
}
