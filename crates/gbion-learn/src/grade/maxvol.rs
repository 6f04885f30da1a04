//! The dense linear algebra of the active set: a numerically independent column subset (column-pivoted QR)
//! and the MaxVol search for a square submatrix of (locally) maximal |det| among the rows of a tall
//! matrix (Goreinov, Oseledets, Savostyanov, Tyrtyshnikov, Zamarashkin, "How to find a good submatrix",
//! in Matrix Methods: Theory, Algorithms and Applications (World Scientific, 2010), pp. 247–256).

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
/// |det|: no single row swap increases |det A| by more than a factor 1 + [`SWAP_TOLERANCE`], which is the
/// same as max |c_ij| ≤ 1 + [`SWAP_TOLERANCE`] for C = B A⁻¹ (Goreinov et al. 2010). Element j of
/// the result is the row of `rows` that is row j of A. The start is the r rows chosen by column-pivoted QR
/// of Bᵀ; an error when their rank is below r (see `SINGULAR_TOLERANCE`).
///
/// Locally maximal is not always globally maximal, but |det A| ≥ |det A_max| / ((1 + tol)² r)^{r/2}: the rows
/// of A_max are C_S A with |entries of C_S| ≤ 1 + tol, and Hadamard's inequality bounds |det C_S|.
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
        if !swapped {
            return Ok(active);
        }
    }
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
