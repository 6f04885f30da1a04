//! Small fixed-size vector and 3×3 matrix helpers on plain arrays (`[f64; 3]`, `[[f64; 3]; 3]`), as the
//! hot loops of neighbour lists and potentials want them: no generic types, no allocation.

/// A Cartesian or fractional 3-vector.
pub type Vec3 = [f64; 3];
/// A 3×3 matrix, row-major. A cell matrix holds the lattice vectors a, b, c as rows.
pub type Mat3 = [[f64; 3]; 3];

pub fn add(a: Vec3, b: Vec3) -> Vec3 {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}

pub fn sub(a: Vec3, b: Vec3) -> Vec3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

pub fn scale(a: Vec3, s: f64) -> Vec3 {
    [a[0] * s, a[1] * s, a[2] * s]
}

pub fn dot(a: Vec3, b: Vec3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

pub fn cross(a: Vec3, b: Vec3) -> Vec3 {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

pub fn norm(a: Vec3) -> f64 {
    dot(a, a).sqrt()
}

/// Row vector times matrix: `v · M` (fractional → Cartesian with a cell matrix).
pub fn vec_mat(v: Vec3, m: &Mat3) -> Vec3 {
    [
        v[0] * m[0][0] + v[1] * m[1][0] + v[2] * m[2][0],
        v[0] * m[0][1] + v[1] * m[1][1] + v[2] * m[2][1],
        v[0] * m[0][2] + v[1] * m[1][2] + v[2] * m[2][2],
    ]
}

pub fn determinant(m: &Mat3) -> f64 {
    dot(m[0], cross(m[1], m[2]))
}

pub fn transpose(m: &Mat3) -> Mat3 {
    [
        [m[0][0], m[1][0], m[2][0]],
        [m[0][1], m[1][1], m[2][1]],
        [m[0][2], m[1][2], m[2][2]],
    ]
}

/// Matrix product `a · b`.
pub fn mat_mul(a: &Mat3, b: &Mat3) -> Mat3 {
    let mut out = [[0.0; 3]; 3];
    for (i, row) in out.iter_mut().enumerate() {
        *row = vec_mat(a[i], b);
    }
    out
}

/// The inverse of `m`, or `None` when |det m| is not above `1e-12 · (product of row lengths)`.
pub fn inverse(m: &Mat3) -> Option<Mat3> {
    let det = determinant(m);
    let scale = norm(m[0]) * norm(m[1]) * norm(m[2]);
    if !det.is_finite() || det.abs() <= 1e-12 * scale || scale == 0.0 {
        return None;
    }
    // Columns of the inverse are the cross products of rows, divided by det.
    let c0 = cross(m[1], m[2]);
    let c1 = cross(m[2], m[0]);
    let c2 = cross(m[0], m[1]);
    Some([
        [c0[0] / det, c1[0] / det, c2[0] / det],
        [c0[1] / det, c1[1] / det, c2[1] / det],
        [c0[2] / det, c1[2] / det, c2[2] / det],
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_times_matrix_is_identity() {
        let m = [[6.2, 0.0, 0.0], [4.9, 5.3, 0.0], [-3.1, 2.6, 5.6]];
        let inv = inverse(&m).unwrap();
        let id = mat_mul(&m, &inv);
        for (i, row) in id.iter().enumerate() {
            for (j, v) in row.iter().enumerate() {
                let expected = if i == j { 1.0 } else { 0.0 };
                assert!((v - expected).abs() < 1e-14, "{i}{j}: {v}");
            }
        }
        assert!((determinant(&m) - 6.2 * 5.3 * 5.6).abs() < 1e-12);
    }

    #[test]
    fn singular_matrix_has_no_inverse() {
        assert!(inverse(&[[1.0, 0.0, 0.0], [2.0, 0.0, 0.0], [0.0, 0.0, 1.0]]).is_none());
        assert!(inverse(&[[0.0; 3]; 3]).is_none());
    }
}
