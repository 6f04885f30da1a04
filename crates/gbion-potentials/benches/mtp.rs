//! MTP speed: level 16, 5 species (Li, Sr, Ta, Zr, O), cutoff 5 Å, energy + forces + stress of an
//! LSTZ0.75-like perovskite (Li0.375 Sr0.4375 □0.1875 on A, Ta0.75 Zr0.25 on B, a = 3.95 Å, 12 × 12 × 14
//! cells, ≈ 9,700 atoms) on 1 and 2 threads, neighbour list reused. Criterion reports atoms per second
//! (its inverse is the time per atom per call).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
#[path = "cells/mod.rs"]
mod cells;

use cells::{lstz, lstz_mtp};
use gbion_atoms::{ListKind, NeighborList};
use gbion_potentials::{Potential, Request};

const CELLS: [usize; 3] = [12, 12, 14];

fn bench_mtp(c: &mut Criterion) {
    let mtp = lstz_mtp();
    let structure = lstz(CELLS);
    let list = NeighborList::build(&structure, mtp.cutoff(), 0.0, ListKind::Full).unwrap();
    let mut group = c.benchmark_group(format!("mtp_l16_5sp_efs_{}_atoms", structure.len()));
    group.sample_size(10);
    group.throughput(Throughput::Elements(structure.len() as u64));
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        group.bench_function(format!("{threads}_threads"), |b| {
            b.iter(|| pool.install(|| mtp.compute(&structure, Some(&list), Request::EFS).unwrap()))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_mtp);
criterion_main!(benches);
