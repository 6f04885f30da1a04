//! Cubic Hermite tables of the pairwise Coulomb functions (DSF, Ewald real space): a smooth pair function
//! f(r) on [r_lo, r_hi) from its value and derivative at equally spaced nodes, so that the evaluation loop
//! replaces an exponential and an erfc per pair by one lookup and a cubic.
//!
//! On each interval [r_i, r_i + h] the table holds the cubic p(t) = v_i + t·(m_i + t·(c2_i + t·c3_i)),
//! t = (r − r_i)/h, that matches f and h·f′ at both ends (m = h·f′). The derivative returned is p′(t)/h,
//! the exact derivative of the tabulated energy, so forces and stress stay consistent with it. The error is
//! h⁴·max|f⁗|/384 in f and about h³·max|f⁗|/72 in f′; with h = 1/512 Å and f ~ 1/r from r_lo = 0.5 Å that
//! is < 2e-11 relative in energy and < 3e-8 relative in force at 0.5 Å, decreasing as r⁻⁴ beyond
//! (checked against the exact functions in the tests below). Below r_lo the caller evaluates f exactly.

/// Node spacing (Å).
pub(crate) const SPACING: f64 = 1.0 / 512.0;

/// Start of the tables (Å); shorter distances are evaluated exactly.
pub(crate) const R_LO: f64 = 0.5;

/// A cubic Hermite table of (f, f′) on [r_lo, r_hi).
#[derive(Clone)]
pub(crate) struct Table {
    r_lo: f64,
    inv_h: f64,
    /// Per interval: v, m, c2, c3 of the cubic in t.
    cubics: Vec<[f64; 4]>,
}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Table")
            .field("r_lo", &self.r_lo)
            .field("spacing", &(1.0 / self.inv_h))
            .field("intervals", &self.cubics.len())
            .finish()
    }
}

impl Table {
    /// The table of `f` (returning (f(r), f′(r))) on [r_lo, r_hi) with spacing ≤ `spacing`.
    pub(crate) fn new(f: impl Fn(f64) -> (f64, f64), r_lo: f64, r_hi: f64, spacing: f64) -> Table {
        let intervals = (((r_hi - r_lo) / spacing).ceil() as usize).max(1);
        let h = (r_hi - r_lo) / intervals as f64;
        // The last node is r_hi itself, where the caller's functions may already be cut off; evaluate the
        // closed-form side (just below r_hi) so the last cubic is the smooth continuation.
        let nodes: Vec<(f64, f64)> = (0..=intervals)
            .map(|i| {
                let r = if i == intervals {
                    r_hi * (1.0 - f64::EPSILON)
                } else {
                    r_lo + i as f64 * h
                };
                let (v, d) = f(r);
                (v, h * d)
            })
            .collect();
        let cubics = nodes
            .windows(2)
            .map(|w| {
                let ((v0, m0), (v1, m1)) = (w[0], w[1]);
                [v0, m0, 3.0 * (v1 - v0) - 2.0 * m0 - m1, 2.0 * (v0 - v1) + m0 + m1]
            })
            .collect();
        Table {
            r_lo,
            inv_h: 1.0 / h,
            cubics,
        }
    }

    /// Start of the table (Å).
    #[inline(always)]
    pub(crate) fn r_lo(&self) -> f64 {
        self.r_lo
    }

    /// (f(r), f′(r)) from the table, for r_lo ≤ r < r_hi (clamped to the last interval above).
    #[inline(always)]
    pub(crate) fn eval(&self, r: f64) -> (f64, f64) {
        let x = (r - self.r_lo) * self.inv_h;
        let i = (x as usize).min(self.cubics.len() - 1);
        let t = x - i as f64;
        let [v, m, c2, c3] = self.cubics[i];
        let value = v + t * (m + t * (c2 + t * c3));
        let slope = m + t * (2.0 * c2 + 3.0 * t * c3);
        (value, slope * self.inv_h)
    }
}

#[cfg(test)]
mod tests {
    use super::super::dsf::Dsf;
    use super::super::ewald::EwaldParameters;
    use super::*;

    /// Largest |table − exact| over a dense sweep, scaled by 1/r (energy) and 1/r² (derivative).
    fn worst(exact: impl Fn(f64) -> (f64, f64), r_hi: f64) -> (f64, f64) {
        let table = Table::new(&exact, R_LO, r_hi, SPACING);
        let (mut value, mut slope) = (0.0f64, 0.0f64);
        let steps = 200_000;
        for k in 0..steps {
            let r = R_LO + (r_hi - R_LO) * (k as f64 + 0.37) / steps as f64;
            let (e, d) = exact(r);
            let (te, td) = table.eval(r);
            value = value.max((te - e).abs() * r);
            slope = slope.max((td - d).abs() * r * r);
        }
        (value, slope)
    }

    #[test]
    fn dsf_and_ewald_tables_match_the_exact_functions() {
        for (alpha, cutoff) in [(0.2, 10.0), (0.25, 8.0), (0.0, 9.0), (0.35, 15.0)] {
            let dsf = Dsf::new(alpha, cutoff);
            let (value, slope) = worst(|r| dsf.pair(r), cutoff);
            println!("DSF α {alpha} r_c {cutoff}: max |Δf|·r = {value:.1e}, max |Δf′|·r² = {slope:.1e}");
            assert!(value < 2e-11 && slope < 3e-8, "DSF α {alpha}: {value:e} {slope:e}");
        }
        let ewald = EwaldParameters::choose(1e-6, 10.0, 1000, 4000.0, 12000.0);
        let (value, slope) = worst(|r| ewald.real_space(r), 10.0);
        println!(
            "Ewald α {}: max |Δf|·r = {value:.1e}, max |Δf′|·r² = {slope:.1e}",
            ewald.alpha
        );
        assert!(value < 2e-11 && slope < 3e-8, "Ewald: {value:e} {slope:e}");
    }

    #[test]
    fn tabulated_derivative_is_the_derivative_of_the_tabulated_value() {
        let dsf = Dsf::new(0.2, 10.0);
        let table = Table::new(|r| dsf.pair(r), R_LO, 10.0, SPACING);
        let h = 1e-6;
        for r in [0.6, 1.2345, 2.71, 5.5, 9.99] {
            let numeric = (table.eval(r + h).0 - table.eval(r - h).0) / (2.0 * h);
            assert!(
                (numeric - table.eval(r).1).abs() < 1e-7 * table.eval(r).1.abs().max(1e-3),
                "r={r}"
            );
        }
    }
}
