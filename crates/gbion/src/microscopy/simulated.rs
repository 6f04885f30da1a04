//! The simulated composition profile written by `gbion analyze gb --profile-out`: a CSV whose first column
//! is `distance_A` (signed distance from the GB plane, Å) followed by `<El>_at_percent` columns, one per
//! species.

use anyhow::{Context, Result, bail};
use std::path::Path;

/// One species' simulated profile.
pub struct SimulatedProfile {
    pub element: String,
    pub distance_a: Vec<f64>,
    pub at_percent: Vec<f64>,
}

impl SimulatedProfile {
    /// The profile relative to its bulk value: the mean over the outer half of the distance range
    /// (|d| ≥ max|d|/2), so that it sits beside a measured profile normalised to its grains.
    pub fn relative(&self) -> Result<Vec<f64>> {
        let far = self.distance_a.iter().fold(0.0f64, |m, d| m.max(d.abs())) / 2.0;
        let bulk: Vec<f64> = self
            .distance_a
            .iter()
            .zip(&self.at_percent)
            .filter(|(d, _)| d.abs() >= far)
            .map(|(_, v)| *v)
            .collect();
        let mean = bulk.iter().sum::<f64>() / bulk.len() as f64;
        if mean.is_nan() || mean <= 0.0 {
            bail!(
                "simulated {} profile: bulk at-% {mean} cannot normalise it",
                self.element
            );
        }
        Ok(self.at_percent.iter().map(|v| v / mean).collect())
    }
}

/// Read the profile CSV.
pub fn read(path: &Path) -> Result<Vec<SimulatedProfile>> {
    let mut reader = csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let headers = reader
        .headers()
        .with_context(|| format!("{}: no header line", path.display()))?
        .clone();
    if headers.get(0) != Some("distance_A") {
        bail!(
            "{}: line 1: the first column must be distance_A, not {:?}",
            path.display(),
            headers.get(0)
        );
    }
    let mut profiles = Vec::new();
    for (col, name) in headers.iter().enumerate().skip(1) {
        let element = name.strip_suffix("_at_percent").with_context(|| {
            format!(
                "{}: line 1: column {} {name:?} is not <El>_at_percent",
                path.display(),
                col + 1
            )
        })?;
        profiles.push(SimulatedProfile {
            element: element.to_string(),
            distance_a: vec![],
            at_percent: vec![],
        });
    }
    for (row, record) in reader.records().enumerate() {
        let record = record.with_context(|| format!("{}: line {}", path.display(), row + 2))?;
        let field = |col: usize| -> Result<f64> {
            let text = record.get(col).unwrap_or("");
            text.trim().parse().with_context(|| {
                format!(
                    "{}: line {}: column {} ({:?}) is not a number",
                    path.display(),
                    row + 2,
                    col + 1,
                    text
                )
            })
        };
        let distance = field(0)?;
        for (k, p) in profiles.iter_mut().enumerate() {
            p.distance_a.push(distance);
            p.at_percent.push(field(k + 1)?);
        }
    }
    if profiles.is_empty() || profiles[0].distance_a.is_empty() {
        bail!("{}: no species columns or no rows", path.display());
    }
    Ok(profiles)
}
