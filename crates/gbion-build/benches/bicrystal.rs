//! Speed of the builders: a 100,000-atom Σ5 (0-12) LSTZ0.75 bicrystal (20 × 20 in-plane CSL cells, 25
//! lattice planes per grain, merging within 1 Å) and an 8 × 8 × 8-unit-of-16 perovskite supercell.

use criterion::{Criterion, criterion_group, criterion_main};
use gbion_build::bicrystal::{BicrystalSpec, Misorientation};
use gbion_build::{Formula, Ordering, PerovskiteSpec};

fn lstz() -> Formula {
    Formula::parse("Li0.375Sr0.4375Va0.1875 Ta0.75Zr0.25 O3").unwrap()
}

fn builders(c: &mut Criterion) {
    let gb = BicrystalSpec {
        formula: lstz(),
        a: 3.99,
        axis: [1, 0, 0],
        misorientation: Misorientation::Sigma(5),
        plane: [0, -1, 2],
        plane2: None,
        layers: Some(25),
        repeat: [20, 20],
        translation: [0.0, 0.0],
        merge_distance: 1.0,
        seed: 0,
    };
    let n = gb.build().unwrap().built.structure.len();
    c.bench_function(&format!("bicrystal sigma5 tilt {n} atoms"), |b| {
        b.iter(|| gb.build().unwrap())
    });
    let perovskite = PerovskiteSpec {
        formula: lstz(),
        a: 3.99,
        supercell: [16, 16, 32],
        ordering: Ordering::Random,
        seed: 0,
        round: false,
    };
    let n = perovskite.build().unwrap().structure.len();
    c.bench_function(&format!("perovskite 16x16x32 {n} atoms"), |b| {
        b.iter(|| perovskite.build().unwrap())
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = builders
}
criterion_main!(benches);
