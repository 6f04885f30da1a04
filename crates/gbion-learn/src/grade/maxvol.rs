//! The dense linear algebra of the active set: a numerically independent column subset (column-pivoted QR)
//! and the MaxVol search for a square submatrix of (locally) maximal |det| among the rows of a tall
//! matrix (Goreinov, Oseledets, Savostyanov, Tyrtyshnikov, Zamarashkin, "How to find a good submatrix",
//! in Matrix Methods: Theory, Algorithms and Applications (World Scientific, 2010), pp. 247–256),
//! refined by swaps of row pairs.
//!
//! **When the result is the global maximum.** Let A = B_S (rows S of the n × r matrix B) and C = B A⁻¹.
//! For any other r-subset T the rows of B_T are C_T A, and the rows of C_T for rows in T ∩ S are unit
//! vectors, so expanding det C_T along them gives |det B_T| = |det A| · |det C[T \ S, J]|, J the positions
//! in A of the rows S \ T. A search that ends with every k × k minor of C (k ≤ K, rows outside S) at most
//! 1 + [`SWAP_TOLERANCE`] in modulus therefore has |det B_T| ≤ (1 + tol) |det A| for every T with
//! |T \ S| ≤ K. Since |T \ S| ≤ min(r, n − r), the submatrix is within the factor 1 + tol of the
//! D-optimal (maximal-|det|) one whenever min(r, n − r) ≤ K. Single-row MaxVol gives K = 1 (exact for
//! r = 1 or n ≤ r + 1); the pair swaps below give K = 2 (exact for r ≤ 2 or n ≤ r + 2) when the pair search
//! is within [`PAIR_SWAP_BUDGET`]. Beyond that no efficient search can promise the maximum: choosing the
//! maximal-volume r-subset of rows is NP-hard (Çivril & Magdon-Ismail, Theor. Comput. Sci. 410, 4801
//! (2009)); what holds there is the Hadamard bound of [`maxvol`].

use super::{Error, Result};
use faer::linalg::solvers::{DenseSolveCore, Solve};
use faer::{Mat, MatRef};

/// MaxVol swaps rows while some |c_ij| > 1 + `SWAP_TOLERANCE` (C = B A⁻¹): every swap multiplies |det A|
/// by |c_ij|, so the search ends, and on return every |c_ij| ≤ 1 + `SWAP_TOLERANCE` (A is "dominant").
pub const SWAP_TOLERANCE: f64 = 1e-6;

/// A column (of the column-scaled matrix, each column divided by its largest |entry|) is independent of the
/// columns before it in the pivoted QR order when its diagonal |R_kk| exceeds `RANK_TOLERANCE` · |R_00|.
pub const RANK_TOLERANCE: f64 = 1e-10;

/// MaxVol's start rows count as dependent (an error) when |R_kk| ≤ `SINGULAR_TOLERANCE` · |R_00| in the
/// column-pivoted QR of Bᵀ: near rounding level, well below [`RANK_TOLERANCE`], so columns that
/// [`independent_columns`] keeps (a different pivoted QR, whose diagonal may be smaller by a modest factor)
/// always give a start.
const SINGULAR_TOLERANCE: f64 = 1e-13;

/// The pair-swap search examines the 2 × 2 minors of C on the pairs of non-active rows that can reach
/// 1 + [`SWAP_TOLERANCE`] (see `best_pair_swap`); when that is more than `PAIR_SWAP_BUDGET` minors (large
/// training sets) it is skipped and the result is single-swap dominant only.
pub const PAIR_SWAP_BUDGET: usize = 1 << 22;

/// At most this many swaps per row of A; each swap gains at least a factor 1 + `SWAP_TOLERANCE` in |det|, so
/// the bound is reached only on numerically pathological input, and then the submatrix found so far is
/// returned.
const MAX_SWAPS_PER_ROW: usize = 100;

/// The largest |entry| of each column (0 for a zero column).
pub fn column_scales(matrix: MatRef<'_, f64>) -> Vec<f64> {
    (0..matrix.ncols())
        .map(|j| (0..matrix.nrows()).fold(0.0_f64, |m, i| m.max(matrix[(i, j)].abs())))
        .collect()
}

/// The indices (ascending) of a numerically independent subset of the columns of `matrix` of maximal size:
/// columns are scaled to unit largest |entry| (zero columns are never chosen), ordered by the column-pivoted
/// QR factorisation, and kept while |R_kk| > `tolerance` · |R_00|. Its length is the numerical rank.
pub fn independent_columns(matrix: MatRef<'_, f64>, tolerance: f64) -> Vec<usize> {
    let scales = column_scales(matrix);
    let nonzero: Vec<usize> = (0..matrix.ncols()).filter(|&j| scales[j] > 0.0).collect();
    if nonzero.is_empty() || matrix.nrows() == 0 {
        return Vec::new();
    }
    let scaled = Mat::from_fn(matrix.nrows(), nonzero.len(), |i, k| {
        matrix[(i, nonzero[k])] / scales[nonzero[k]]
    });
    let qr = scaled.col_piv_qr();
    let r = qr.R();
    let first = r[(0, 0)].abs();
    let rank = (0..r.nrows().min(r.ncols()))
        .take_while(|&k| r[(k, k)].abs() > tolerance * first)
        .count();
    let (order, _) = qr.P().arrays();
    let mut columns: Vec<usize> = order[..rank].iter().map(|&k| nonzero[k]).collect();
    columns.sort_unstable();
    columns
}

/// Rows of a tall n × r matrix `rows` (n ≥ r, rank r) forming an r × r submatrix A of locally maximal
/// |det|: no swap of one row, nor (within [`PAIR_SWAP_BUDGET`]) of two rows, increases |det A| by more
/// than a factor 1 + [`SWAP_TOLERANCE`]; for one row that is max |c_ij| ≤ 1 + tol for C = B A⁻¹
/// (Goreinov et al. 2010), for two rows every 2 × 2 minor of C is at most 1 + tol. Element j of the result
/// is the row of `rows` that is row j of A. The start is the r rows chosen by column-pivoted QR of Bᵀ; an
/// error when their rank is below r (see `SINGULAR_TOLERANCE`).
///
/// The result is the D-optimal submatrix (to the factor 1 + tol) when min(r, n − r) ≤ 2 (module
/// documentation). In general locally maximal is not globally maximal, but |det A| ≥ |det A_max| /
/// ((1 + tol)² r)^{r/2}: the rows of A_max are C_S A with |entries of C_S| ≤ 1 + tol, and Hadamard's
/// inequality bounds |det C_S|.
pub fn maxvol(rows: MatRef<'_, f64>) -> Result<Vec<usize>> {
    let start = pivoted_rows(rows)?;
    maxvol_from(rows, start)
}

/// [`maxvol`] from the given start rows (`start.len()` = number of columns, A nonsingular).
pub(crate) fn maxvol_from(rows: MatRef<'_, f64>, mut active: Vec<usize>) -> Result<Vec<usize>> {
    let r = rows.ncols();
    let mut swaps_left = MAX_SWAPS_PER_ROW * r.max(1);
    loop {
        // Exact coefficients, then up to r swaps with rank-one updates before the next exact solve.
        let mut c = coefficients(rows, &active)?;
        let mut swapped = false;
        for _ in 0..r {
            let (i, j, value) = largest_entry(c.as_ref());
            if value.abs() <= 1.0 + SWAP_TOLERANCE || swaps_left == 0 {
                break;
            }
            swap_update(&mut c, i, j);
            active[j] = i;
            swapped = true;
            swaps_left -= 1;
        }
        if swapped {
            continue;
        }
        // Single-swap dominant on the exact C: a pair swap, or done.
        match best_pair_swap(c.as_ref(), &active) {
            Some([(i1, j1), (i2, j2)]) if swaps_left >= 2 => {
                active[j1] = i1;
                active[j2] = i2;
                swaps_left -= 2;
            }
            _ => return Ok(active),
        }
    }
}

/// The swap of two non-active rows i1, i2 into positions j1, j2 of A with the largest gain
/// |det A'| / |det A| = |c_{i1 j1} c_{i2 j2} − c_{i1 j2} c_{i2 j1}| (the 2 × 2 minor of C, module
/// documentation), when that gain exceeds 1 + [`SWAP_TOLERANCE`]; `None` when no pair does, or when the
/// search would exceed [`PAIR_SWAP_BUDGET`] minors. With g_i = max_j |c_ij|, a minor is at most
/// 2 g_{i1} g_{i2}, so only pairs with g_{i1} g_{i2} > (1 + tol) / 2 are examined (an exact pruning).
fn best_pair_swap(c: MatRef<'_, f64>, active: &[usize]) -> Option<[(usize, usize); 2]> {
    let r = c.ncols();
    if r < 2 {
        return None;
    }
    let threshold = 1.0 + SWAP_TOLERANCE;
    let mut candidates: Vec<(usize, f64)> = (0..c.nrows())
        .filter(|i| !active.contains(i))
        .map(|i| (i, (0..r).fold(0.0_f64, |m, j| m.max(c[(i, j)].abs()))))
        .collect();
    candidates.sort_by(|a, b| b.1.total_cmp(&a.1));
    // partners[a]: how many candidates after a can pair with it (g sorted descending).
    let partners: Vec<usize> = (0..candidates.len())
        .map(|a| candidates[a + 1..].partition_point(|&(_, g)| 2.0 * candidates[a].1 * g > threshold))
        .collect();
    let pairs: usize = partners.iter().sum();
    if pairs.saturating_mul(r * (r - 1) / 2) > PAIR_SWAP_BUDGET {
        return None;
    }
    let mut best = (threshold, None);
    for (a, &(i1, _)) in candidates.iter().enumerate() {
        for &(i2, _) in &candidates[a + 1..a + 1 + partners[a]] {
            for j1 in 0..r {
                for j2 in j1 + 1..r {
                    let gain = (c[(i1, j1)] * c[(i2, j2)] - c[(i1, j2)] * c[(i2, j1)]).abs();
                    if gain > best.0 {
                        best = (gain, Some([(i1, j1), (i2, j2)]));
                    }
                }
            }
        }
    }
    best.1
}

/// The r rows of `rows` that column-pivoted QR of Bᵀ picks first (a well-conditioned start for MaxVol);
/// an error when they are numerically dependent.
fn pivoted_rows(rows: MatRef<'_, f64>) -> Result<Vec<usize>> {
    let (n, r) = (rows.nrows(), rows.ncols());
    if n < r || r == 0 {
        return Err(Error::Invalid(format!(
            "MaxVol needs at least as many rows as columns (≥ 1); got {n} rows, {r} columns"
        )));
    }
    let qr = rows.transpose().col_piv_qr();
    let diag = qr.R();
    let rank = (0..r)
        .take_while(|&k| diag[(k, k)].abs() > SINGULAR_TOLERANCE * diag[(0, 0)].abs())
        .count();
    if rank < r {
        return Err(Error::Invalid(format!(
            "the {n} rows have numerical rank {rank} < {r} columns; choose independent columns first"
        )));
    }
    let (order, _) = qr.P().arrays();
    Ok(order[..r].to_vec())
}

/// C = B A⁻¹ (n × r), A = the rows `active` of B; an error when A is numerically singular.
pub(crate) fn coefficients(rows: MatRef<'_, f64>, active: &[usize]) -> Result<Mat<f64>> {
    let lu = submatrix(rows, active).partial_piv_lu();
    let c = lu.rsolve(rows);
    if all_finite(c.as_ref()) {
        Ok(c)
    } else {
        Err(singular(active.len()))
    }
}

/// A⁻¹ for A = the rows `active` of `rows`; an error when A is numerically singular.
pub(crate) fn inverse(rows: MatRef<'_, f64>, active: &[usize]) -> Result<Mat<f64>> {
    let a = submatrix(rows, active);
    let inverse = a.partial_piv_lu().inverse();
    if all_finite(inverse.as_ref()) {
        Ok(inverse)
    } else {
        Err(singular(active.len()))
    }
}

fn all_finite(m: MatRef<'_, f64>) -> bool {
    (0..m.ncols()).all(|j| (0..m.nrows()).all(|i| m[(i, j)].is_finite()))
}

fn singular(r: usize) -> Error {
    Error::Invalid(format!("the {r} × {r} active-set matrix is numerically singular"))
}

/// The rows `active` of `rows`, in that order.
pub(crate) fn submatrix(rows: MatRef<'_, f64>, active: &[usize]) -> Mat<f64> {
    Mat::from_fn(active.len(), rows.ncols(), |j, k| rows[(active[j], k)])
}

/// (i, j, c_ij) of the entry of largest |c_ij| (the first one in column-major order on ties).
fn largest_entry(c: MatRef<'_, f64>) -> (usize, usize, f64) {
    let mut best = (0, 0, 0.0_f64);
    for j in 0..c.ncols() {
        for i in 0..c.nrows() {
            if c[(i, j)].abs() > best.2.abs() {
                best = (i, j, c[(i, j)]);
            }
        }
    }
    best
}

/// C after row i of B replaces row j of A: A' = (I + e_j (c_i − e_j)ᵀ) A, so by Sherman–Morrison
/// C' = B A'⁻¹ = C − C e_j (c_i − e_j)ᵀ / c_ij, the MaxVol update of Goreinov et al. (2010).
fn swap_update(c: &mut Mat<f64>, i: usize, j: usize) {
    let pivot = c[(i, j)];
    let mut v: Vec<f64> = (0..c.ncols()).map(|k| c[(i, k)] / pivot).collect();
    v[j] -= 1.0 / pivot;
    let column: Vec<f64> = (0..c.nrows()).map(|row| c[(row, j)]).collect();
    for (k, &v_k) in v.iter().enumerate() {
        if v_k != 0.0 {
            for (row, &c_rj) in column.iter().enumerate() {
                c[(row, k)] -= c_rj * v_k;
            }
        }
    }
}
