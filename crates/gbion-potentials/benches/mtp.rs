//! MTP speed: level 16, 5 species (Li, Sr, Ta, Zr, O), cutoff 5 Å, energy + forces + stress of an
//! LSTZ0.75-like perovskite (Li0.375 Sr0.4375 □0.1875 on A, Ta0.75 Zr0.25 on B, a = 3.95 Å, 12 × 12 × 14
//! cells, ≈ 9,700 atoms) on 1 and 2 threads, neighbour list reused. Criterion reports atoms per second
//! (its inverse is the time per atom per call).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gbion_atoms::{Cell, Element, ListKind, NeighborList, Structure, Vec3};
use gbion_potentials::mtp::Mtp;
use gbion_potentials::{Potential, Request};
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::path::Path;

const LATTICE: f64 = 3.95;
const CELLS: [usize; 3] = [12, 12, 14];

fn element(symbol: &str) -> Element {
    Element::from_symbol(symbol).unwrap()
}

/// The perovskite with random A-site (Li/Sr/vacancy) and B-site (Ta/Zr) occupation and 0.05 Å noise.
fn lstz() -> Structure {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(75);
    let mut elements = Vec::new();
    let mut positions: Vec<Vec3> = Vec::new();
    let mut place = |e: &str, frac: [f64; 3], cell: [usize; 3], rng: &mut Xoshiro256PlusPlus| {
        elements.push(element(e));
        positions.push([0, 1, 2].map(|d| (cell[d] as f64 + frac[d]) * LATTICE + rng.random_range(-0.05..0.05)));
    };
    for i in 0..CELLS[0] {
        for j in 0..CELLS[1] {
            for k in 0..CELLS[2] {
                let cell = [i, j, k];
                let a: f64 = rng.random_range(0.0..1.0);
                if a < 0.375 {
                    place("Li", [0.0; 3], cell, &mut rng);
                } else if a < 0.8125 {
                    place("Sr", [0.0; 3], cell, &mut rng);
                }
                let b = if rng.random_range(0.0..1.0) < 0.75 { "Ta" } else { "Zr" };
                place(b, [0.5; 3], cell, &mut rng);
                for o in [[0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 0.5, 0.5]] {
                    place("O", o, cell, &mut rng);
                }
            }
        }
    }
    let lengths = CELLS.map(|c| c as f64 * LATTICE);
    Structure::new(Cell::orthorhombic(lengths).unwrap(), elements, positions).unwrap()
}

fn bench_mtp(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mtp/potentials/l16_5sp.mtp");
    let species = ["Li", "Sr", "Ta", "Zr", "O"].map(element).to_vec();
    let mtp = Mtp::read(&path).unwrap().with_species(species).unwrap();
    let structure = lstz();
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
