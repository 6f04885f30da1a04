//! The speed target: 59 h of ⁶Li exchange on a 500 × 200 µm SIMS field at 1 µm (100,000 cells),
//! Voronoi grains of 16 ± 11 µm with thin GBs (D_gb/δ = 1.5e-6 cm/s, D_bulk = 2.6e-8 cm²/s, paper 003),
//! Crank–Nicolson with Rannacher start-up, one core (faer sequential). Goal: under 2 s.
//!
//! Step counts: against an 800-step reference the largest pointwise error in the ⁶Li fraction was
//! 2.9e-3 (5 steps), 7.8e-4 (10), 2.7e-4 (20), 8.4e-5 (40), 1.5e-5 (100) — measured on this problem —
//! so 20 steps (Δt = 2.95 h) are well below SIMS counting noise (≈ 0.02 at 400 counts per pixel);
//! 100 steps are benchmarked too.

use criterion::{Criterion, criterion_group, criterion_main};
use gbion_transport::microstructure::{Axis, Microstructure};
use gbion_transport::solver::{DiffusionProblem, Phase, Reservoir, Scheme, TimeStepping};
use std::hint::black_box;

/// The benchmark problem (also the shape of `examples/transport/simulate_llto.toml`).
fn llto_problem() -> DiffusionProblem {
    let micro = Microstructure::voronoi([500, 200, 1], 1e-6, 16e-6, 11e-6, 1).expect("valid grid");
    let mut p = DiffusionProblem::new(micro, 2.6e-12, 1.5e-8, 0.0759);
    p.reservoirs.push(Reservoir::liquid_bath(0.95, Axis::Y, 0.0));
    p
}

fn exchange_59h(c: &mut Criterion) {
    faer::set_global_parallelism(faer::Par::Seq);
    let problem = llto_problem();
    let t = 59.0 * 3600.0;
    let mut group = c.benchmark_group("solver");
    group.sample_size(10);
    for steps in [20, 100] {
        let stepping = TimeStepping {
            scheme: Scheme::CrankNicolson,
            max_dt_s: t / steps as f64,
        };
        group.bench_function(format!("llto_500x200um_1um_59h_cn{steps}"), |b| {
            b.iter(|| black_box(problem.run(&[Phase::exchange(t)], stepping).expect("solver runs")))
        });
    }
    group.finish();
}

criterion_group!(benches, exchange_59h);
criterion_main!(benches);
