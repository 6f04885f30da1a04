//! The simulation cell: a triclinic box given by three lattice vectors (rows of a matrix, Å), periodic or not
//! per direction; conversions between fractional and Cartesian coordinates, volume, perpendicular widths,
//! wrapping, and a minimum-image displacement that is exact for any cell shape.
//!
//! Conventions are ASE's: Cartesian `r = s · M` for fractional `s` and the cell matrix `M` whose rows are
//! a, b, c. A non-periodic direction may have a zero vector (a molecule in ASE has cell zeros); such a
//! direction is completed internally by a unit vector normal to the others so that fractional coordinates
//! along the periodic directions stay defined.

use crate::linalg::{Mat3, Vec3, add, cross, determinant, dot, inverse, norm, scale, vec_mat};
use crate::{Error, Result};

/// A triclinic cell, periodic or not along each lattice vector.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Cell {
    matrix: Mat3,
    /// `matrix` with zero vectors of non-periodic directions replaced by unit normals.
    basis: Mat3,
    inverse: Mat3,
    pbc: [bool; 3],
}

impl Default for Cell {
    /// An empty, fully non-periodic cell (the cell of a molecule in ASE).
    fn default() -> Self {
        Cell::new([[0.0; 3]; 3], [false; 3]).expect("the empty open cell is valid")
    }
}

impl Cell {
    /// A cell from its three lattice vectors (rows, Å) and periodicity per direction.
    ///
    /// Errors when a periodic direction has a zero vector or the non-zero vectors are linearly dependent.
    pub fn new(matrix: Mat3, pbc: [bool; 3]) -> Result<Cell> {
        if matrix.iter().flatten().any(|v| !v.is_finite()) {
            return Err(Error::InvalidCell(format!("non-finite cell vectors {matrix:?}")));
        }
        for axis in 0..3 {
            if pbc[axis] && norm(matrix[axis]) == 0.0 {
                return Err(Error::InvalidCell(format!(
                    "lattice vector {} is zero but the direction is periodic",
                    ["a", "b", "c"][axis]
                )));
            }
        }
        let basis = complete_basis(&matrix)?;
        let inverse = inverse(&basis)
            .ok_or_else(|| Error::InvalidCell(format!("lattice vectors are linearly dependent: {matrix:?}")))?;
        Ok(Cell {
            matrix,
            basis,
            inverse,
            pbc,
        })
    }

    /// A fully periodic cell from its vectors.
    pub fn periodic(matrix: Mat3) -> Result<Cell> {
        Cell::new(matrix, [true; 3])
    }

    /// An orthorhombic, fully periodic cell with edge lengths `lengths` (Å).
    pub fn orthorhombic(lengths: Vec3) -> Result<Cell> {
        Cell::periodic([[lengths[0], 0.0, 0.0], [0.0, lengths[1], 0.0], [0.0, 0.0, lengths[2]]])
    }

    /// A fully periodic cell from lengths a, b, c (Å) and angles α, β, γ (degrees), with ASE's and LAMMPS'
    /// orientation: a along x, b in the xy plane, c completing a right-handed set.
    pub fn from_parameters(lengths: Vec3, angles_deg: Vec3) -> Result<Cell> {
        let [a, b, c] = lengths;
        let [alpha, beta, gamma] = angles_deg.map(f64::to_radians);
        if lengths.iter().any(|l| l.is_nan() || *l <= 0.0) {
            return Err(Error::InvalidCell(format!(
                "cell lengths must be positive, got {lengths:?}"
            )));
        }
        let (cos_a, cos_b, cos_g) = (alpha.cos(), beta.cos(), gamma.cos());
        let sin_g = gamma.sin();
        let cx = c * cos_b;
        let cy = c * (cos_a - cos_b * cos_g) / sin_g;
        let cz2 = c * c - cx * cx - cy * cy;
        if cz2.is_nan() || cz2 <= 0.0 || sin_g.abs() < 1e-12 {
            return Err(Error::InvalidCell(format!(
                "angles (α, β, γ) = {angles_deg:?}° do not form a cell"
            )));
        }
        Cell::periodic([[a, 0.0, 0.0], [b * cos_g, b * sin_g, 0.0], [cx, cy, cz2.sqrt()]])
    }

    /// The lattice vectors as rows (Å), as given.
    pub fn matrix(&self) -> &Mat3 {
        &self.matrix
    }

    /// Periodicity along a, b, c.
    pub fn pbc(&self) -> [bool; 3] {
        self.pbc
    }

    /// Whether any direction is periodic.
    pub fn is_periodic(&self) -> bool {
        self.pbc.iter().any(|p| *p)
    }

    /// Volume |a · (b × c)| in Å³; zero when a vector is zero.
    pub fn volume(&self) -> f64 {
        determinant(&self.matrix).abs()
    }

    /// Lengths |a|, |b|, |c| (Å).
    pub fn lengths(&self) -> Vec3 {
        self.matrix.map(norm)
    }

    /// Angles α (b, c), β (a, c), γ (a, b) in degrees; 90° where a vector is zero.
    pub fn angles(&self) -> Vec3 {
        let angle = |u: Vec3, v: Vec3| {
            let d = norm(u) * norm(v);
            if d == 0.0 {
                90.0
            } else {
                (dot(u, v) / d).clamp(-1.0, 1.0).acos().to_degrees()
            }
        };
        let [a, b, c] = self.matrix;
        [angle(b, c), angle(a, c), angle(a, b)]
    }

    /// Perpendicular widths of the cell (Å): the distance between opposite faces, h_a = V / |b × c| etc.
    /// A sphere of radius r fits inside the cell along direction i when 2r ≤ h_i. Computed on the
    /// completed basis, so a zero non-periodic vector gives width 1.
    pub fn heights(&self) -> Vec3 {
        let [a, b, c] = self.basis;
        let volume = determinant(&self.basis).abs();
        [cross(b, c), cross(c, a), cross(a, b)].map(|n| volume / norm(n))
    }

    /// Fractional coordinates of a Cartesian position.
    pub fn to_fractional(&self, r: Vec3) -> Vec3 {
        vec_mat(r, &self.inverse)
    }

    /// Cartesian position of fractional coordinates.
    #[inline]
    pub fn to_cartesian(&self, s: Vec3) -> Vec3 {
        vec_mat(s, &self.basis)
    }

    /// The lattice translation n_a a + n_b b + n_c c for integer image shifts.
    #[inline]
    pub fn translation(&self, shift: [i32; 3]) -> Vec3 {
        self.to_cartesian(shift.map(f64::from))
    }

    /// The position moved into the cell along periodic directions (fractional coordinate in [0, 1)).
    pub fn wrap(&self, r: Vec3) -> Vec3 {
        let mut s = self.to_fractional(r);
        for (component, periodic) in s.iter_mut().zip(self.pbc) {
            if periodic {
                *component -= component.floor();
                if *component >= 1.0 {
                    *component = 0.0;
                }
            }
        }
        self.to_cartesian(s)
    }

    /// The shortest periodic image of the displacement `d` (Å), with the image shift that gives it:
    /// returns `(d + n · M, n)`.
    ///
    /// Exact for any cell: `d` is first reduced to fractional components in [−½, ½]; if the result is no
    /// longer than half the smallest perpendicular width it is the minimum (any other image has some
    /// fractional component of magnitude ≥ ½, hence length ≥ h/2). Otherwise all images whose fractional
    /// component i satisfies |s_i| · h_i ≤ |d_reduced| are searched, which contains every shorter image.
    pub fn minimum_image_with_shift(&self, d: Vec3) -> (Vec3, [i32; 3]) {
        let mut s = self.to_fractional(d);
        let mut shift = [0i32; 3];
        for axis in 0..3 {
            if self.pbc[axis] {
                let n = -s[axis].round();
                s[axis] += n;
                shift[axis] = n as i32;
            }
        }
        let reduced = self.to_cartesian(s);
        let length = norm(reduced);
        let heights = self.heights();
        let smallest = (0..3)
            .filter(|&a| self.pbc[a])
            .map(|a| heights[a])
            .fold(f64::INFINITY, f64::min);
        if length <= 0.5 * smallest {
            return (reduced, shift);
        }
        let range = |axis: usize| -> i32 {
            if self.pbc[axis] {
                (length / heights[axis] + 0.5).ceil() as i32
            } else {
                0
            }
        };
        let (ra, rb, rc) = (range(0), range(1), range(2));
        let mut best = (reduced, shift, length * length);
        for na in -ra..=ra {
            for nb in -rb..=rb {
                for nc in -rc..=rc {
                    let candidate = add(reduced, self.translation([na, nb, nc]));
                    let d2 = dot(candidate, candidate);
                    if d2 < best.2 - 1e-12 * best.2 {
                        best = (candidate, [shift[0] + na, shift[1] + nb, shift[2] + nc], d2);
                    }
                }
            }
        }
        (best.0, best.1)
    }

    /// The shortest periodic image of the displacement `d` (Å).
    pub fn minimum_image(&self, d: Vec3) -> Vec3 {
        self.minimum_image_with_shift(d).0
    }
}

/// Replace zero rows (non-periodic directions without a vector) by unit vectors normal to the others.
fn complete_basis(matrix: &Mat3) -> Result<Mat3> {
    let mut basis = *matrix;
    let zero: Vec<usize> = (0..3).filter(|&i| norm(matrix[i]) == 0.0).collect();
    match zero.len() {
        0 => {}
        1 => {
            let i = zero[0];
            let n = cross(matrix[(i + 1) % 3], matrix[(i + 2) % 3]);
            let len = norm(n);
            if len == 0.0 {
                return Err(Error::InvalidCell(
                    "the two non-zero lattice vectors are parallel".into(),
                ));
            }
            basis[i] = scale(n, 1.0 / len);
        }
        2 => {
            let i = (0..3).find(|k| !zero.contains(k)).expect("one non-zero row");
            let u = scale(matrix[i], 1.0 / norm(matrix[i]));
            // Any vector not parallel to u, orthogonalised, then the cross product; kept right-handed.
            let trial = if u[0].abs() < 0.9 {
                [1.0, 0.0, 0.0]
            } else {
                [0.0, 1.0, 0.0]
            };
            let v = cross(u, trial);
            let v = scale(v, 1.0 / norm(v));
            let w = cross(u, v);
            basis[(i + 1) % 3] = v;
            basis[(i + 2) % 3] = w;
        }
        _ => basis = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
    }
    Ok(basis)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skewed() -> Cell {
        Cell::periodic([[6.2, 0.0, 0.0], [4.9, 5.3, 0.0], [-3.1, 2.6, 5.6]]).unwrap()
    }

    #[test]
    fn parameters_round_trip() {
        let cell = Cell::from_parameters([5.0, 6.0, 7.0], [80.0, 95.0, 110.0]).unwrap();
        let lengths = cell.lengths();
        let angles = cell.angles();
        for (got, want) in lengths.iter().zip([5.0, 6.0, 7.0]) {
            assert!((got - want).abs() < 1e-12);
        }
        for (got, want) in angles.iter().zip([80.0, 95.0, 110.0]) {
            assert!((got - want).abs() < 1e-10);
        }
        assert!(Cell::from_parameters([1.0, 1.0, 1.0], [10.0, 100.0, 170.0]).is_err());
    }

    #[test]
    fn volume_and_heights_of_skewed_cell() {
        let cell = skewed();
        assert!((cell.volume() - 6.2 * 5.3 * 5.6).abs() < 1e-10);
        // h_c is the distance between the ab faces: the z extent of c.
        assert!((cell.heights()[2] - 5.6).abs() < 1e-12);
    }

    #[test]
    fn fractional_cartesian_round_trip() {
        let cell = skewed();
        let r = [1.3, -2.2, 7.9];
        let back = cell.to_cartesian(cell.to_fractional(r));
        for k in 0..3 {
            assert!((back[k] - r[k]).abs() < 1e-12);
        }
    }

    /// Brute force over every image that could be shorter than `d` itself: image n has fractional
    /// component s_i + n_i, and |s_i + n_i| · h_i ≤ |d| is necessary for it to be no longer than d.
    fn brute_force_minimum(cell: &Cell, d: Vec3) -> f64 {
        let s = cell.to_fractional(d);
        let h = cell.heights();
        let bound = |k: usize| -> std::ops::RangeInclusive<i32> {
            if !cell.pbc()[k] {
                return 0..=0;
            }
            let reach = norm(d) / h[k];
            ((-s[k] - reach).floor() as i32)..=((-s[k] + reach).ceil() as i32)
        };
        let mut best = norm(d);
        for na in bound(0) {
            for nb in bound(1) {
                for nc in bound(2) {
                    best = best.min(norm(add(d, cell.translation([na, nb, nc]))));
                }
            }
        }
        best
    }

    #[test]
    fn minimum_image_matches_brute_force_in_strongly_skewed_cells() {
        let cells = [
            skewed(),
            Cell::periodic([[3.0, 0.0, 0.0], [2.9, 0.4, 0.0], [1.4, 0.3, 3.1]]).unwrap(),
            Cell::periodic([[10.0, 0.0, 0.0], [9.5, 1.0, 0.0], [-9.0, 0.5, 1.2]]).unwrap(),
            Cell::new([[4.0, 0.0, 0.0], [3.5, 1.0, 0.0], [0.0, 0.0, 0.0]], [true, true, false]).unwrap(),
        ];
        let mut state = 12345u64;
        let mut uniform = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        for cell in &cells {
            for _ in 0..500 {
                let d = [
                    20.0 * uniform() - 10.0,
                    20.0 * uniform() - 10.0,
                    20.0 * uniform() - 10.0,
                ];
                let (image, shift) = cell.minimum_image_with_shift(d);
                let t = cell.translation(shift);
                for k in 0..3 {
                    assert!((image[k] - d[k] - t[k]).abs() < 1e-9, "image is d + n·M");
                }
                assert!((norm(image) - brute_force_minimum(cell, d)).abs() < 1e-9);
            }
        }
    }

    #[test]
    fn wrap_puts_positions_inside_periodic_directions_only() {
        let cell = Cell::new([[4.0, 0.0, 0.0], [0.0, 4.0, 0.0], [0.0, 0.0, 4.0]], [true, true, false]).unwrap();
        let w = cell.wrap([-1.0, 9.0, 13.0]);
        assert_eq!(w, [3.0, 1.0, 13.0]);
    }

    #[test]
    fn invalid_cells_are_rejected() {
        assert!(Cell::periodic([[1.0, 0.0, 0.0], [2.0, 0.0, 0.0], [0.0, 0.0, 1.0]]).is_err());
        assert!(Cell::new([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 1.0]], [true; 3]).is_err());
        assert!(Cell::new([[f64::NAN, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], [true; 3]).is_err());
        let open = Cell::default();
        assert_eq!(open.volume(), 0.0);
        assert_eq!(open.minimum_image([5.0, 0.0, 0.0]), [5.0, 0.0, 0.0]);
    }
}
