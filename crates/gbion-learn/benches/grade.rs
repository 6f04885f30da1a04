//! Active-set speed: [`gbion_learn::grade::maxvol`] (single-row MaxVol, then pair swaps within
//! `PAIR_SWAP_BUDGET`) on (1) the site rows of 20 rattled copies of the LSTZ0.75-like benchmark cell of
//! gbion-potentials (2 × 2 × 5 cells, about 100 atoms each) for the level-16, 5-species fixture
//! `l16_5sp.mtp` (the rows [`gbion_learn::grade::rows`] gives, restricted to their independent columns and
//! scaled as `ActiveSet::from_training` does), and (2) a random 20,000 × 50 matrix (entries uniform in
//! [−1, 1]). Criterion reports rows per second. On both the pair search exceeds `PAIR_SWAP_BUDGET`
//! (about 1.2e9 and 2.9e8 candidate 2 × 2 minors after single-swap convergence, as counted on 2026-11-24)
//! and is skipped: at these sizes the result is single-swap dominant only, and pair swaps cost nothing.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
#[path = "../../gbion-potentials/benches/cells/mod.rs"]
mod cells;

use cells::{lstz_mtp, rattled_lstz};
use faer::Mat;
use gbion_learn::grade::{RANK_TOLERANCE, RowMode, column_scales, independent_columns, maxvol, rows};
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

const CONFIGURATIONS: usize = 20;
const CELLS: [usize; 3] = [2, 2, 5];

/// The site rows of `CONFIGURATIONS` rattled benchmark cells, on their independent columns, each column
/// scaled to unit largest |entry|.
fn site_rows() -> Mat<f64> {
    let mtp = lstz_mtp();
    let mut all = Vec::new();
    for structure in rattled_lstz(CELLS, CONFIGURATIONS) {
        all.extend(rows(&mtp, &structure, RowMode::Site).unwrap());
    }
    let full = Mat::from_fn(all.len(), all[0].len(), |i, k| all[i][k]);
    let columns = independent_columns(full.as_ref(), RANK_TOLERANCE);
    let scales = column_scales(full.as_ref());
    Mat::from_fn(full.nrows(), columns.len(), |i, k| {
        full[(i, columns[k])] / scales[columns[k]]
    })
}

fn bench_maxvol(c: &mut Criterion) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(17);
    let random = Mat::from_fn(20_000, 50, |_, _| rng.random_range(-1.0..1.0));
    let site = site_rows();
    let mut group = c.benchmark_group("maxvol");
    group.sample_size(10);
    for (name, matrix) in [("site_rows_l16_5sp", &site), ("random", &random)] {
        group.throughput(Throughput::Elements(matrix.nrows() as u64));
        group.bench_function(format!("{name}_{}x{}", matrix.nrows(), matrix.ncols()), |b| {
            b.iter(|| maxvol(matrix.as_ref()).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, bench_maxvol);
criterion_main!(benches);
