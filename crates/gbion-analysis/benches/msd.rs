//! MSD and D* of 1,000 Li atoms over 100,000 frames (issue 8 speed goal: under 10 s on one core).
//! Run: `RAYON_NUM_THREADS=1 cargo bench -p gbion-analysis --bench msd`; GBION_MSD_BENCH_FRAMES and
//! GBION_MSD_BENCH_ATOMS change the size (the trajectory, 2.4 GB at full size, is generated here).

use criterion::{Criterion, criterion_group, criterion_main};
use gbion_analysis::diffusion::{FitOptions, tracer_diffusivity};
use gbion_analysis::msd::{Components, Trajectory};
use gbion_atoms::Vec3;
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::hint::black_box;

fn size(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A Gaussian random walk, frame-major, 0.1 Å per component per frame.
fn walk(atoms: usize, frames: usize) -> Vec<Vec3> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    let normal = Normal::new(0.0, 0.1).unwrap();
    let mut current = vec![[0.0; 3]; atoms];
    let mut positions = Vec::with_capacity(atoms * frames);
    for _ in 0..frames {
        for r in current.iter_mut() {
            r.iter_mut().for_each(|x| *x += normal.sample(&mut rng));
        }
        positions.extend_from_slice(&current);
    }
    positions
}

fn msd_and_d(c: &mut Criterion) {
    let (atoms, frames) = (
        size("GBION_MSD_BENCH_ATOMS", 1000),
        size("GBION_MSD_BENCH_FRAMES", 100_000),
    );
    let traj = Trajectory::from_unwrapped(atoms, walk(atoms, frames)).unwrap();
    let subset: Vec<usize> = (0..atoms).collect();
    let mut group = c.benchmark_group("msd");
    group.sample_size(10);
    group.bench_function(format!("tracer_diffusivity_{atoms}x{frames}"), |b| {
        b.iter(|| {
            let result = tracer_diffusivity(&traj, &subset, Components::XYZ, 1.0, &FitOptions::default()).unwrap();
            black_box(result.fit.d_cm2_s)
        })
    });
    group.finish();
}

criterion_group!(benches, msd_and_d);
criterion_main!(benches);
