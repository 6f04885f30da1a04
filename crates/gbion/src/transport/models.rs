//! `gbion transport model|nernst-einstein|arrhenius|haven|impedance`: the effective-medium models, the
//! Nernst–Einstein and Haven-ratio links, Arrhenius fits of tables, and the brick-layer impedance spectrum
//! (gbion_transport::{models, arrhenius, impedance}). Inputs accept units (gbion-units); outputs use D in
//! cm²/s, D_gb/δ in cm/s, σ in S/cm, Ea in eV. Every command prints a summary or, with `--json`, an object
//! whose keys carry their units.

use super::common::{
    M_S_TO_CM_S, M2_S_TO_CM2_S, S_M_TO_S_CM, area_cm2, density_cm3, diffusivity, length_mm, length_nm, length_um,
    temperature, velocity,
};
use crate::output::{emit, read_csv_columns};
use crate::plot::{Series, SeriesStyle, line_plot};
use anyhow::{Context, Result, bail, ensure};
use clap::{Args, Subcommand, ValueEnum};
use gbion_transport::arrhenius::{ArrheniusFit, ArrheniusForm, fit_arrhenius};
use gbion_transport::impedance::{BrickLayerCircuit, BrickLayerSample};
use gbion_transport::models::{
    GrainSizeDistribution, Model, Polycrystal, conductivity_diffusivity_cm2_s, conductivity_from_tracer_s_cm,
    haven_ratio, haven_ratio_from_prefactors, propagate_grain_size, specific_gb_conductivity_from_geometry,
};
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum ModelsCmd {
    /// Effective D of a polycrystal: series (paper 003 eqn 5), parallel, brick-layer or Maxwell-Garnett.
    Model(ModelArgs),
    /// Nernst–Einstein: D_σ = k_B T σ/(n q²) from --sigma, or σ = n q² D*/(k_B T H_R) from --d-tracer.
    NernstEinstein(NernstEinsteinArgs),
    /// Arrhenius fit of a CSV table (columns T_K or T_C; D… or sigma…; optional …err…).
    Arrhenius(ArrheniusArgs),
    /// Haven ratio H_R = D*/D_σ, from two coefficients or from two Arrhenius prefactors of equal Ea.
    Haven(HavenArgs),
    /// Brick-layer impedance spectrum (R_b‖C_b)+(R_gb‖C_gb) and its Nyquist plot.
    Impedance(ImpedanceArgs),
}

pub fn run(cmd: ModelsCmd) -> Result<()> {
    match cmd {
        ModelsCmd::Model(a) => run_model(a),
        ModelsCmd::NernstEinstein(a) => run_nernst_einstein(a),
        ModelsCmd::Arrhenius(a) => run_arrhenius(a),
        ModelsCmd::Haven(a) => run_haven(a),
        ModelsCmd::Impedance(a) => run_impedance(a),
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ModelKind {
    Series,
    Parallel,
    BrickLayer,
    MaxwellGarnett,
}

impl ModelKind {
    fn model(self) -> Model {
        match self {
            ModelKind::Series => Model::Series,
            ModelKind::Parallel => Model::Parallel,
            ModelKind::BrickLayer => Model::BrickLayer,
            ModelKind::MaxwellGarnett => Model::MaxwellGarnett,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum DistributionKind {
    Normal,
    LogNormal,
}

#[derive(Args)]
pub struct ModelArgs {
    /// series: (l+δ)/D = l/D_bulk + δ/D_gb; brick-layer: cubic grains, across + along GB paths;
    /// maxwell-garnett: spherical grains in a continuous GB matrix.
    #[arg(value_enum)]
    kind: ModelKind,
    /// Bulk diffusion coefficient (default unit cm²/s), e.g. 2.6e-8.
    #[arg(long, value_parser = diffusivity)]
    d_bulk: f64,
    /// GB diffusion coefficient (default unit cm²/s), e.g. 7.6e-14.
    #[arg(long, value_parser = diffusivity, required_unless_present = "d_gb_over_delta", conflicts_with = "d_gb_over_delta")]
    d_gb: Option<f64>,
    /// GB conductance D_gb/δ (default unit cm/s) instead of --d-gb, e.g. 1.52e-6.
    #[arg(long, value_parser = velocity)]
    d_gb_over_delta: Option<f64>,
    /// GB width δ (default unit nm).
    #[arg(long, value_parser = length_nm, default_value = "0.5nm")]
    delta: f64,
    /// Grain size l (default unit µm).
    #[arg(long, value_parser = length_um)]
    grain_size: f64,
    /// Standard deviation of the grain size (default unit µm): adds D_eff_err (first order) and the chain average.
    #[arg(long, value_parser = length_um)]
    grain_size_spread: Option<f64>,
    /// Shape of the grain-size distribution used with --grain-size-spread.
    #[arg(long, value_enum, default_value = "normal")]
    distribution: DistributionKind,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct ModelReport {
    model: String,
    #[serde(rename = "D_bulk_cm2_s")]
    d_bulk: f64,
    #[serde(rename = "D_gb_cm2_s")]
    d_gb: f64,
    /// Absent when δ = 0 (no GB).
    #[serde(rename = "D_gb_over_delta_cm_s", skip_serializing_if = "Option::is_none")]
    gb_conductance: Option<f64>,
    delta_nm: f64,
    grain_size_um: f64,
    #[serde(rename = "D_eff_cm2_s")]
    d_eff: f64,
    #[serde(rename = "D_eff_err_cm2_s", skip_serializing_if = "Option::is_none")]
    d_eff_err: Option<f64>,
    #[serde(rename = "D_eff_chain_average_cm2_s", skip_serializing_if = "Option::is_none")]
    d_eff_chain_average: Option<f64>,
    #[serde(rename = "D_eff_across_cm2_s", skip_serializing_if = "Option::is_none")]
    d_eff_across: Option<f64>,
    #[serde(rename = "D_eff_along_cm2_s", skip_serializing_if = "Option::is_none")]
    d_eff_along: Option<f64>,
}

fn run_model(a: ModelArgs) -> Result<()> {
    let d_gb = match (a.d_gb, a.d_gb_over_delta) {
        (Some(d), _) => d,
        (None, Some(g)) => g * a.delta,
        (None, None) => bail!("give --d-gb or --d-gb-over-delta"),
    };
    let p = Polycrystal::new(a.d_bulk, d_gb, a.delta, a.grain_size)?;
    let model = a.kind.model();
    let name = a
        .kind
        .to_possible_value()
        .map_or("model".to_string(), |v| v.get_name().to_string());
    let brick = matches!(model, Model::BrickLayer).then(|| p.brick_layer());
    let spread = match a.grain_size_spread {
        Some(std) => {
            let dist = match a.distribution {
                DistributionKind::Normal => GrainSizeDistribution::normal(a.grain_size, std)?,
                DistributionKind::LogNormal => GrainSizeDistribution::log_normal(a.grain_size, std)?,
            };
            Some(propagate_grain_size(&p, model, &dist)?)
        }
        None => None,
    };
    let report = ModelReport {
        model: name,
        d_bulk: p.d_bulk * M2_S_TO_CM2_S,
        d_gb: p.d_gb * M2_S_TO_CM2_S,
        gb_conductance: (p.delta > 0.0).then(|| p.d_gb / p.delta * M_S_TO_CM_S),
        delta_nm: p.delta * 1e9,
        grain_size_um: p.grain_size * 1e6,
        d_eff: p.effective(model) * M2_S_TO_CM2_S,
        d_eff_err: spread.map(|s| s.d_eff_err * M2_S_TO_CM2_S),
        d_eff_chain_average: spread.map(|s| s.d_eff_chain_average * M2_S_TO_CM2_S),
        d_eff_across: brick.map(|b| b.across * M2_S_TO_CM2_S),
        d_eff_along: brick.map(|b| b.along * M2_S_TO_CM2_S),
    };
    emit(a.json, &report, || {
        let mut s = format!(
            "{} model: D_bulk = {:.3e} cm²/s, D_gb = {:.3e} cm²/s (D_gb/δ = {:.3e} cm/s), δ = {} nm, l = {} µm\n",
            report.model,
            report.d_bulk,
            report.d_gb,
            report.gb_conductance.unwrap_or(f64::INFINITY),
            report.delta_nm,
            report.grain_size_um
        );
        s += &format!("D_eff = {:.3e} cm²/s", report.d_eff);
        if let Some(e) = report.d_eff_err {
            s += &format!(" ± {e:.2e} (first order in the grain-size spread)");
        }
        s.push('\n');
        if let (Some(across), Some(along)) = (report.d_eff_across, report.d_eff_along) {
            s += &format!("  across GBs: {across:.3e} cm²/s, along GBs: {along:.3e} cm²/s\n");
        }
        if let Some(c) = report.d_eff_chain_average {
            s += &format!("  averaged over the grain-size distribution (grains in series): {c:.3e} cm²/s\n");
        }
        s
    })
}

#[derive(Args)]
pub struct NernstEinsteinArgs {
    /// Conductivity in S/cm → D_σ (and D* = H_R D_σ).
    #[arg(long, required_unless_present = "d_tracer", conflicts_with = "d_tracer")]
    sigma: Option<f64>,
    /// Tracer diffusion coefficient (default unit cm²/s) → σ.
    #[arg(long, value_parser = diffusivity)]
    d_tracer: Option<f64>,
    /// Li number density (default unit cm⁻³); LLTO: 5.0e21 (paper 003 prints 10⁻²¹, a typo).
    #[arg(long, value_parser = density_cm3)]
    n_li: f64,
    /// Temperature (default unit K; "22C" accepted).
    #[arg(long, value_parser = temperature)]
    temperature: f64,
    /// Haven ratio H_R = D*/D_σ.
    #[arg(long, default_value_t = 1.0)]
    haven: f64,
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct NernstEinsteinReport {
    #[serde(rename = "temperature_K")]
    temperature: f64,
    n_li_cm3: f64,
    haven_ratio: f64,
    #[serde(rename = "sigma_S_cm")]
    sigma: f64,
    #[serde(rename = "D_sigma_cm2_s")]
    d_sigma: f64,
    #[serde(rename = "D_tracer_cm2_s")]
    d_tracer: f64,
}

fn run_nernst_einstein(a: NernstEinsteinArgs) -> Result<()> {
    let (t, n, h) = (a.temperature, a.n_li, a.haven);
    let (sigma, d_tracer) = match (a.sigma, a.d_tracer) {
        (Some(sigma), _) => (sigma, h * conductivity_diffusivity_cm2_s(sigma, n, t)?),
        (None, Some(d)) => {
            let d = d * M2_S_TO_CM2_S;
            (conductivity_from_tracer_s_cm(d, n, t, h)?, d)
        }
        (None, None) => bail!("give --sigma or --d-tracer"),
    };
    let report = NernstEinsteinReport {
        temperature: t,
        n_li_cm3: n,
        haven_ratio: h,
        sigma,
        d_sigma: conductivity_diffusivity_cm2_s(sigma, n, t)?,
        d_tracer,
    };
    emit(a.json, &report, || {
        format!(
            "T = {} K, n = {:.3e} cm⁻³, H_R = {}\nσ = {:.4e} S/cm, D_σ = {:.4e} cm²/s, D* = {:.4e} cm²/s\n",
            report.temperature, report.n_li_cm3, report.haven_ratio, report.sigma, report.d_sigma, report.d_tracer
        )
    })
}

#[derive(Args)]
pub struct HavenArgs {
    /// Tracer diffusion coefficient D* (default unit cm²/s).
    #[arg(long, value_parser = diffusivity, requires = "d_sigma", required_unless_present = "prefactors")]
    d_tracer: Option<f64>,
    /// Conductivity diffusion coefficient D_σ (default unit cm²/s).
    #[arg(long, value_parser = diffusivity)]
    d_sigma: Option<f64>,
    /// Arrhenius prefactors of D* and D_σ with a common Ea, e.g. 0.048,0.20 (paper 003).
    #[arg(long, value_delimiter = ',', conflicts_with_all = ["d_tracer", "d_sigma"])]
    prefactors: Option<Vec<f64>>,
    #[arg(long)]
    json: bool,
}

fn run_haven(a: HavenArgs) -> Result<()> {
    let h = match (a.prefactors.as_deref(), a.d_tracer, a.d_sigma) {
        (Some([tracer, sigma]), _, _) => haven_ratio_from_prefactors(*tracer, *sigma)?,
        (Some(other), _, _) => bail!("--prefactors takes two numbers D0_TRACER,D0_SIGMA, got {}", other.len()),
        (_, Some(t), Some(s)) => haven_ratio(t, s)?,
        _ => bail!("give --d-tracer and --d-sigma, or --prefactors D0_TRACER,D0_SIGMA"),
    };
    emit(a.json, &json!({ "haven_ratio": h }), || {
        format!("H_R = D*/D_σ = {h:.4}\n")
    })
}

#[derive(Clone, Copy, ValueEnum)]
pub enum FormKind {
    /// y = A exp(−Ea/k_BT).
    Plain,
    /// y·T = A exp(−Ea/k_BT) (conductivity).
    SigmaT,
}

#[derive(Args)]
pub struct ArrheniusArgs {
    /// CSV with a header: T_K or T_C; a value column whose name starts with D or sigma; optional …err… column.
    data: PathBuf,
    /// Fit y or y·T (default: sigma-t for a sigma column, plain for D).
    #[arg(long, value_enum)]
    form: Option<FormKind>,
    /// Temperature of the prediction (default unit K).
    #[arg(long, value_parser = temperature, default_value = "300K")]
    at: f64,
    /// Write an Arrhenius plot (.png or .svg).
    #[arg(long)]
    plot: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

/// An Arrhenius table as read from CSV.
struct ArrheniusTable {
    temperatures_k: Vec<f64>,
    values: Vec<f64>,
    errors: Option<Vec<f64>>,
    /// "D" or "sigma".
    quantity: &'static str,
    value_header: String,
}

/// Which columns of the header hold T, the value and its error; and whether T is in °C.
fn arrhenius_columns(path: &Path, headers: &csv::StringRecord) -> Result<(usize, bool, usize, Option<usize>)> {
    let names: Vec<String> = headers.iter().map(|h| h.trim().to_ascii_lowercase()).collect();
    let find = |pred: &dyn Fn(&str) -> bool| names.iter().position(|n| pred(n));
    let t_col = find(&|n| n.starts_with("t_") || n.starts_with("temperature")).with_context(|| {
        format!(
            "{}: line 1: no temperature column (T_K or T_C) in the header",
            path.display()
        )
    })?;
    let celsius = names[t_col].ends_with("_c");
    ensure!(
        celsius || names[t_col].ends_with("_k"),
        "{}: line 1: column {:?} must say its unit: T_K or T_C",
        path.display(),
        headers.get(t_col).unwrap_or("")
    );
    let v_col = find(&|n| (n.starts_with('d') || n.starts_with("sigma")) && !n.contains("err")).with_context(|| {
        format!(
            "{}: line 1: no value column (D… or sigma…) in the header",
            path.display()
        )
    })?;
    let e_col = find(&|n| n.contains("err"));
    Ok((t_col, celsius, v_col, e_col))
}

fn read_arrhenius_csv(path: &Path) -> Result<ArrheniusTable> {
    let mut picked = None;
    let (headers, mut columns) = read_csv_columns(path, |headers| {
        let (t_col, celsius, v_col, e_col) = arrhenius_columns(path, headers)?;
        picked = Some((celsius, v_col));
        Ok([t_col, v_col].into_iter().chain(e_col).collect())
    })?;
    let (celsius, v_col) = picked.expect("set by the column choice");
    let errors = (columns.len() == 3).then(|| columns.pop().expect("three columns"));
    let values = columns.pop().expect("a value column");
    let mut temperatures_k = columns.pop().expect("a temperature column");
    if celsius {
        temperatures_k.iter_mut().for_each(|t| *t += 273.15);
    }
    ensure!(!values.is_empty(), "{}: no data rows", path.display());
    let value_header = headers[v_col].trim().to_string();
    Ok(ArrheniusTable {
        temperatures_k,
        values,
        errors,
        quantity: if value_header.to_ascii_lowercase().starts_with("sigma") {
            "sigma"
        } else {
            "D"
        },
        value_header,
    })
}

fn run_arrhenius(a: ArrheniusArgs) -> Result<()> {
    let table = read_arrhenius_csv(&a.data)?;
    let form = match a.form {
        Some(FormKind::SigmaT) => ArrheniusForm::TimesT,
        Some(FormKind::Plain) => ArrheniusForm::Plain,
        None if table.quantity == "sigma" => ArrheniusForm::TimesT,
        None => ArrheniusForm::Plain,
    };
    let fit = fit_arrhenius(&table.temperatures_k, &table.values, table.errors.as_deref(), form)
        .with_context(|| format!("Arrhenius fit of {}", a.data.display()))?;
    let prediction = fit.predict(a.at, 1.0);
    let key = format!("{}_{}K", table.quantity, format_temperature(a.at));
    let mut out = Map::new();
    out.insert("quantity".into(), json!(table.quantity));
    out.insert("column".into(), json!(table.value_header));
    out.insert(
        "form".into(),
        json!(if form == ArrheniusForm::TimesT {
            "sigma*T"
        } else {
            "plain"
        }),
    );
    out.insert("n_points".into(), json!(table.values.len()));
    out.insert("Ea_eV".into(), json!(fit.ea_ev));
    out.insert("Ea_err_eV".into(), json!(fit.ea_err_ev));
    out.insert("prefactor".into(), json!(fit.prefactor));
    out.insert("prefactor_err".into(), json!(fit.prefactor_err));
    out.insert("cov_lnA_Ea".into(), json!(fit.covariance_ln_prefactor_ea));
    out.insert("chi2".into(), json!(fit.line.chi2));
    out.insert("dof".into(), json!(fit.line.dof));
    out.insert(key.clone(), json!(prediction.value));
    out.insert(format!("{key}_lower"), json!(prediction.lower));
    out.insert(format!("{key}_upper"), json!(prediction.upper));
    if let Some(path) = &a.plot {
        arrhenius_plot(path, &table, &fit)?;
    }
    emit(a.json, &Value::Object(out), || {
        format!(
            "{} points, {} form: Ea = {:.4} ± {:.4} eV, prefactor = {:.4e} ± {:.2e}\n{key} = {:.4e} (1σ band {:.4e} – {:.4e})\n",
            table.values.len(),
            if form == ArrheniusForm::TimesT { "σT" } else { "plain" },
            fit.ea_ev,
            fit.ea_err_ev,
            fit.prefactor,
            fit.prefactor_err,
            prediction.value,
            prediction.lower,
            prediction.upper
        )
    })
}

/// "300" for 300 K, "295.15" otherwise: a key suffix that round-trips the requested temperature.
fn format_temperature(t: f64) -> String {
    let s = format!("{t:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn arrhenius_plot(path: &Path, table: &ArrheniusTable, fit: &ArrheniusFit) -> Result<()> {
    let inv_t: Vec<f64> = table.temperatures_k.iter().map(|t| 1000.0 / t).collect();
    let (lo, hi) = inv_t
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
    let grid: Vec<f64> = (0..=50).map(|k| lo + (hi - lo) * k as f64 / 50.0).collect();
    let predictions: Vec<_> = grid.iter().map(|x| fit.predict(1000.0 / x, 1.0)).collect();
    let series = vec![
        Series::points("data", inv_t, table.values.clone(), table.errors.clone()),
        Series::line(
            format!("fit: Ea = {:.3} ± {:.3} eV", fit.ea_ev, fit.ea_err_ev),
            grid.clone(),
            predictions.iter().map(|p| p.value).collect(),
        ),
        Series {
            label: "±1σ band".into(),
            x: grid.clone(),
            y: predictions.iter().map(|p| p.lower).collect(),
            y_err: None,
            style: SeriesStyle::Line,
        },
        Series {
            label: String::new(),
            x: grid,
            y: predictions.iter().map(|p| p.upper).collect(),
            y_err: None,
            style: SeriesStyle::Line,
        },
    ];
    let unit = if table.quantity == "sigma" {
        "σ (S/cm)"
    } else {
        "D (cm²/s)"
    };
    line_plot(path, "Arrhenius plot", "1000/T (1/K)", unit, &series, false, true)
}

#[derive(Args)]
pub struct ImpedanceArgs {
    /// Bulk conductivity, S/cm.
    #[arg(long)]
    sigma_bulk: f64,
    /// Specific GB conductivity (of the GB material), S/cm.
    #[arg(
        long,
        required_unless_present = "sigma_gb_apparent",
        conflicts_with = "sigma_gb_apparent"
    )]
    sigma_gb: Option<f64>,
    /// Apparent GB conductivity (from R_gb with the sample geometry), S/cm; converted with δ/l.
    #[arg(long)]
    sigma_gb_apparent: Option<f64>,
    /// Grain size l (default unit µm).
    #[arg(long, value_parser = length_um)]
    grain_size: f64,
    /// GB width δ (default unit nm).
    #[arg(long, value_parser = length_nm, default_value = "0.5nm")]
    delta: f64,
    /// Relative permittivity of the grains.
    #[arg(long, default_value_t = 60.0)]
    eps: f64,
    /// Relative permittivity of the GBs (default: --eps).
    #[arg(long)]
    eps_gb: Option<f64>,
    /// Sample thickness between the electrodes (default unit mm).
    #[arg(long, value_parser = length_mm, default_value = "0.5mm")]
    thickness: f64,
    /// Electrode area (default unit cm²).
    #[arg(long, value_parser = area_cm2, default_value = "0.5cm^2")]
    area: f64,
    /// Lowest frequency, Hz.
    #[arg(long, default_value_t = 1e-3)]
    f_min: f64,
    /// Highest frequency, Hz.
    #[arg(long, default_value_t = 1e9)]
    f_max: f64,
    /// Frequencies per decade.
    #[arg(long, default_value_t = 10)]
    points_per_decade: usize,
    /// Write a Nyquist plot (.png or .svg).
    #[arg(long)]
    plot: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct SpectrumPoint {
    frequency_hz: f64,
    z_re_ohm: f64,
    z_im_ohm: f64,
}

#[derive(Serialize)]
struct ImpedanceReport {
    #[serde(rename = "R_bulk_ohm")]
    r_bulk: f64,
    #[serde(rename = "C_bulk_F")]
    c_bulk: f64,
    #[serde(rename = "R_gb_ohm")]
    r_gb: f64,
    #[serde(rename = "C_gb_F")]
    c_gb: f64,
    #[serde(rename = "f_apex_bulk_Hz")]
    f_bulk: f64,
    #[serde(rename = "f_apex_gb_Hz")]
    f_gb: f64,
    #[serde(rename = "sigma_gb_specific_S_cm")]
    sigma_gb_specific: f64,
    #[serde(rename = "sigma_gb_apparent_S_cm")]
    sigma_gb_apparent: f64,
    #[serde(rename = "sigma_total_S_cm")]
    sigma_total: f64,
    spectrum: Vec<SpectrumPoint>,
}

fn run_impedance(a: ImpedanceArgs) -> Result<()> {
    let sigma_gb_s_cm = match (a.sigma_gb, a.sigma_gb_apparent) {
        (Some(s), _) => s,
        (None, Some(app)) => specific_gb_conductivity_from_geometry(app, a.delta, a.grain_size)?,
        (None, None) => bail!("give --sigma-gb or --sigma-gb-apparent"),
    };
    let sample = BrickLayerSample {
        sigma_bulk: a.sigma_bulk / S_M_TO_S_CM,
        sigma_gb: sigma_gb_s_cm / S_M_TO_S_CM,
        grain_size: a.grain_size,
        delta: a.delta,
        eps_bulk: a.eps,
        eps_gb: a.eps_gb.unwrap_or(a.eps),
        thickness: a.thickness,
        area: a.area,
    };
    let circuit = sample.circuit()?;
    let spectrum = circuit.spectrum(a.f_min, a.f_max, a.points_per_decade)?;
    if let Some(path) = &a.plot {
        nyquist_plot(path, &circuit, &spectrum)?;
    }
    let report = ImpedanceReport {
        r_bulk: circuit.bulk.resistance_ohm,
        c_bulk: circuit.bulk.capacitance_f,
        r_gb: circuit.gb.resistance_ohm,
        c_gb: circuit.gb.capacitance_f,
        f_bulk: circuit.bulk.apex_frequency_hz(),
        f_gb: circuit.gb.apex_frequency_hz(),
        sigma_gb_specific: sigma_gb_s_cm,
        sigma_gb_apparent: circuit.apparent_gb_conductivity(a.thickness, a.area) * S_M_TO_S_CM,
        sigma_total: circuit.total_conductivity(a.thickness, a.area) * S_M_TO_S_CM,
        spectrum: spectrum
            .iter()
            .map(|p| SpectrumPoint {
                frequency_hz: p.frequency_hz,
                z_re_ohm: p.z_re_ohm,
                z_im_ohm: p.z_im_ohm,
            })
            .collect(),
    };
    emit(a.json, &report, || {
        format!(
            "bulk arc: R = {:.4e} Ω, C = {:.3e} F, apex at {:.3e} Hz\nGB arc:   R = {:.4e} Ω, C = {:.3e} F, apex at {:.3e} Hz\n\
             σ_gb specific = {:.3e} S/cm, apparent = {:.3e} S/cm; σ_total = {:.3e} S/cm\n",
            report.r_bulk,
            report.c_bulk,
            report.f_bulk,
            report.r_gb,
            report.c_gb,
            report.f_gb,
            report.sigma_gb_specific,
            report.sigma_gb_apparent,
            report.sigma_total
        )
    })
}

fn nyquist_plot(
    path: &Path,
    circuit: &BrickLayerCircuit,
    spectrum: &[gbion_transport::impedance::ImpedancePoint],
) -> Result<()> {
    let apexes: Vec<(f64, f64)> = [circuit.bulk, circuit.gb]
        .iter()
        .map(|arc| {
            let (re, im) = circuit.impedance(2.0 * std::f64::consts::PI * arc.apex_frequency_hz());
            (re, -im)
        })
        .collect();
    let series = vec![
        Series::line(
            "Z(ω)",
            spectrum.iter().map(|p| p.z_re_ohm).collect(),
            spectrum.iter().map(|p| -p.z_im_ohm).collect(),
        ),
        Series::points(
            "arc apexes f = 1/(2πRC)",
            apexes.iter().map(|p| p.0).collect(),
            apexes.iter().map(|p| p.1).collect(),
            None,
        ),
    ];
    line_plot(
        path,
        "Brick-layer impedance (Nyquist)",
        "Z' (Ω)",
        "−Z'' (Ω)",
        &series,
        false,
        false,
    )
}
