//! Neighbour-list build time for cubic perovskite ABO3 supercells (a = 3.95 Å) of about 1k, 10k, 100k and
//! 1M atoms at a 5 Å cutoff (no skin), half list. Criterion reports the time per build with the atom count
//! as throughput ("elements"), so time per atom = time / N; the goal is under 0.3 µs per atom at 100k atoms
//! on one core, and flat in N.
//!
//! The build runs on one core (it does not use rayon).
//!
//! Run: `cargo bench -p gbion-atoms --bench neighbor_list` (append `-- 98415` for one size).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
#[path = "cells/mod.rs"]
mod cells;

use cells::perovskite_supercell;
use gbion_atoms::{ListKind, NeighborList};
use std::hint::black_box;
use std::time::Duration;

/// Cutoff of the build (Å).
const CUTOFF: f64 = 5.0;

/// Supercells of 6³, 13³, 27³ and 58³ unit cells: 1 080, 10 985, 98 415 and 975 560 atoms.
const REPEATS: [usize; 4] = [6, 13, 27, 58];

/// Fewer, longer samples for the million-atom case so that the whole run stays short.
fn configure(group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>, n_atoms: usize) {
    group.throughput(Throughput::Elements(n_atoms as u64));
    if n_atoms > 200_000 {
        group.sample_size(10);
        group.measurement_time(Duration::from_secs(10));
    } else {
        group.sample_size(20);
        group.measurement_time(Duration::from_secs(5));
    }
}

/// A fresh list each time: includes allocating (and the operating system zeroing) its memory.
fn build_half_list(c: &mut Criterion) {
    let mut group = c.benchmark_group("neighbor_list_build_half_5A");
    for repeat in REPEATS {
        let (cell, positions) = perovskite_supercell(repeat);
        configure(&mut group, positions.len());
        group.bench_with_input(
            BenchmarkId::from_parameter(positions.len()),
            &positions,
            |b, positions| {
                b.iter(|| {
                    let list = NeighborList::build_from(&cell, black_box(positions), CUTOFF, 0.0, ListKind::Half)
                        .expect("a valid build");
                    black_box(list.n_entries())
                })
            },
        );
    }
    group.finish();
}

/// A rebuild into an existing list's memory, as in molecular dynamics when atoms moved past the skin.
fn rebuild_half_list(c: &mut Criterion) {
    let mut group = c.benchmark_group("neighbor_list_rebuild_half_5A");
    for repeat in REPEATS {
        let (cell, positions) = perovskite_supercell(repeat);
        configure(&mut group, positions.len());
        let mut list = NeighborList::build_from(&cell, &positions, CUTOFF, 0.0, ListKind::Half).expect("a valid build");
        group.bench_with_input(
            BenchmarkId::from_parameter(positions.len()),
            &positions,
            |b, positions| {
                b.iter(|| {
                    list.rebuild_from(&cell, black_box(positions)).expect("a valid build");
                    black_box(list.n_entries())
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, build_half_list, rebuild_half_list);
criterion_main!(benches);
