//! Readers for measured SIMS data (paper 003): line scans as CSV with a header (position with its unit in
//! the column name, plus a 6Li fraction column or 6Li/7Li count columns), numeric matrices as CSV/TSV
//! (delimiter sniffed), and grayscale TIFF images (8/16/32-bit integer or float; one page, or a multi-page
//! TIFF whose pages are the 6Li and 7Li channels). Positions come back in metres; images row-major with
//! row index y (the file's line) and column index x. Every error names the file and, where it applies, the
//! line and column.

use crate::image::Image;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

/// Why a data file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum IoError {
    #[error("{path}: cannot open: {source}")]
    Open { path: PathBuf, source: std::io::Error },
    #[error("{path}, line {line}: {message}")]
    Csv { path: PathBuf, line: u64, message: String },
    #[error("{path}: {message} (header: {header})")]
    Header {
        path: PathBuf,
        message: String,
        header: String,
    },
    #[error("{path}, line {line}, column {column} ({name}): cannot read {value:?} as a finite number")]
    BadNumber {
        path: PathBuf,
        line: u64,
        column: usize,
        name: String,
        value: String,
    },
    #[error("{path}, line {line}: expected {expected} fields, found {found}")]
    Ragged {
        path: PathBuf,
        line: u64,
        expected: usize,
        found: usize,
    },
    #[error("{path}: no data rows")]
    Empty { path: PathBuf },
    #[error("{path}: TIFF: {message}")]
    Tiff { path: PathBuf, message: String },
    #[error("{path}: {message}")]
    Shape { path: PathBuf, message: String },
}

/// The measured quantity of a line scan: either the 6Li fraction directly, or the two count channels.
#[derive(Debug, Clone, PartialEq)]
pub enum ScanValues {
    Fraction(Vec<f64>),
    Counts { li6: Vec<f64>, li7: Vec<f64> },
}

/// A SIMS line scan: positions in metres and the measured values at them.
#[derive(Debug, Clone, PartialEq)]
pub struct LineScan {
    pub position_m: Vec<f64>,
    pub values: ScanValues,
}

fn open(path: &Path) -> Result<BufReader<File>, IoError> {
    File::open(path).map(BufReader::new).map_err(|source| IoError::Open {
        path: path.to_path_buf(),
        source,
    })
}

fn read_text(path: &Path) -> Result<String, IoError> {
    let mut text = String::new();
    open(path)?.read_to_string(&mut text).map_err(|source| IoError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(text)
}

/// Normalise a column name for matching: lower case, `µ`/`μ` → `u`, `-`/space → `_`.
fn normalise_name(name: &str) -> String {
    name.trim()
        .to_lowercase()
        .replace(['µ', 'μ'], "u")
        .replace(['-', ' '], "_")
}

/// The metres per unit of a position column, from the unit suffix after its last `_` (`x_mm`,
/// `position_um`, `y_cm`, `x_nm`, `x_m`); `None` when the name has no recognised length suffix.
pub fn position_unit_m(column: &str) -> Option<f64> {
    let name = normalise_name(column);
    let (_, unit) = name.rsplit_once('_')?;
    let unit = unit.trim_start_matches('(').trim_end_matches(')');
    gbion_units::parse_length_m("1", unit).ok().filter(|f| *f > 0.0)
}

fn is_fraction_column(name: &str) -> bool {
    let n = normalise_name(name);
    matches!(
        n.as_str(),
        "f6" | "f" | "c" | "fraction" | "6li_fraction" | "fraction_6li" | "li6_fraction"
    ) || n.contains("fraction")
}

/// Which isotope a count column holds (`6Li`, `counts_6Li`, `I_7Li`, `li7` ...), if any.
fn count_isotope(name: &str) -> Option<u8> {
    let n = normalise_name(name);
    if n.contains("fraction") {
        return None;
    }
    if n.contains("6li") || n.contains("li6") {
        Some(6)
    } else if n.contains("7li") || n.contains("li7") {
        Some(7)
    } else {
        None
    }
}

/// The roles of the columns of a line-scan header.
struct ScanColumns {
    position: usize,
    metres_per_unit: f64,
    fraction: Option<usize>,
    counts: Option<(usize, usize)>,
}

fn scan_columns(path: &Path, header: &[String]) -> Result<ScanColumns, IoError> {
    let header_err = |message: String| IoError::Header {
        path: path.to_path_buf(),
        message,
        header: header.join(","),
    };
    let (position, metres_per_unit) = header
        .iter()
        .enumerate()
        .find_map(|(i, name)| position_unit_m(name).map(|f| (i, f)))
        .ok_or_else(|| {
            header_err("no position column with a length unit suffix (e.g. `x_mm`, `position_um`)".into())
        })?;
    let others = || header.iter().enumerate().filter(move |(i, _)| *i != position);
    let fraction = others().find(|(_, n)| is_fraction_column(n)).map(|(i, _)| i);
    let li6 = others().find(|(_, n)| count_isotope(n) == Some(6)).map(|(i, _)| i);
    let li7 = others().find(|(_, n)| count_isotope(n) == Some(7)).map(|(i, _)| i);
    let counts = li6.zip(li7);
    if fraction.is_none() && counts.is_none() {
        return Err(header_err(
            "no 6Li fraction column (`f6`, `fraction`, `6Li_fraction`) and no pair of count columns (`6Li`, `7Li`)"
                .into(),
        ));
    }
    Ok(ScanColumns {
        position,
        metres_per_unit,
        fraction,
        counts,
    })
}

/// Parse one field as a finite number, naming file, line and column on failure.
fn parse_field(path: &Path, line: u64, column: usize, name: &str, value: &str) -> Result<f64, IoError> {
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| IoError::BadNumber {
            path: path.to_path_buf(),
            line,
            column: column + 1,
            name: name.to_string(),
            value: value.to_string(),
        })
}

/// Read a line scan from a CSV file with a header. The position column is the first whose name ends in a
/// length unit (`x_mm`, `position_um`); the value columns are a 6Li fraction (`f6`, `fraction`,
/// `6Li_fraction`) — preferred when present — or two count columns (`6Li`, `7Li`, `counts_6Li` ...).
/// Lines starting with `#` are comments. Positions are returned in metres.
pub fn read_line_scan(path: &Path) -> Result<LineScan, IoError> {
    parse_line_scan(&read_text(path)?, path)
}

/// [`read_line_scan`] on text already in memory; `path` only names the source in errors.
pub fn parse_line_scan(text: &str, path: &Path) -> Result<LineScan, IoError> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(sniff_delimiter(text).unwrap_or(b','))
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let csv_err = |e: csv::Error| IoError::Csv {
        path: path.to_path_buf(),
        line: e.position().map_or(0, |p| p.line()),
        message: e.to_string(),
    };
    let header: Vec<String> = reader.headers().map_err(csv_err)?.iter().map(str::to_string).collect();
    let cols = scan_columns(path, &header)?;
    let mut position_m = Vec::new();
    let (mut frac, mut li6, mut li7) = (Vec::new(), Vec::new(), Vec::new());
    for record in reader.records() {
        let record = record.map_err(|e| match e.kind() {
            csv::ErrorKind::UnequalLengths { pos, expected_len, len } => IoError::Ragged {
                path: path.to_path_buf(),
                line: pos.as_ref().map_or(0, |p| p.line()),
                expected: *expected_len as usize,
                found: *len as usize,
            },
            _ => csv_err(e),
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let field = |i: usize| parse_field(path, line, i, &header[i], &record[i]);
        position_m.push(field(cols.position)? * cols.metres_per_unit);
        match (cols.fraction, cols.counts) {
            (Some(f), _) => frac.push(field(f)?),
            (None, Some((a, b))) => {
                li6.push(field(a)?);
                li7.push(field(b)?);
            }
            (None, None) => unreachable!("scan_columns guarantees a value column"),
        }
    }
    if position_m.is_empty() {
        return Err(IoError::Empty {
            path: path.to_path_buf(),
        });
    }
    let values = if cols.fraction.is_some() {
        ScanValues::Fraction(frac)
    } else {
        ScanValues::Counts { li6, li7 }
    };
    Ok(LineScan { position_m, values })
}

/// Guess the delimiter of a delimited text table from its first non-comment line: tab, then `;`, then `,`;
/// `None` means whitespace-separated.
fn sniff_delimiter(text: &str) -> Option<u8> {
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))?;
    [b'\t', b';', b','].into_iter().find(|d| first.as_bytes().contains(d))
}

/// Read a numeric matrix from a CSV/TSV (or whitespace-separated) text file: one image row per line, no
/// header; the delimiter is sniffed from the first line. Lines starting with `#` and blank lines are skipped.
pub fn read_matrix_text(path: &Path) -> Result<Image, IoError> {
    parse_matrix_text(&read_text(path)?, path)
}

/// [`read_matrix_text`] on text already in memory; `path` only names the source in errors.
pub fn parse_matrix_text(text: &str, path: &Path) -> Result<Image, IoError> {
    let delimiter = sniff_delimiter(text);
    let mut data = Vec::new();
    let mut nx = 0usize;
    let mut ny = 0usize;
    for (index, raw) in text.lines().enumerate() {
        let line = index as u64 + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = match delimiter {
            Some(d) => trimmed.split(d as char).collect(),
            None => trimmed.split_whitespace().collect(),
        };
        if ny == 0 {
            nx = fields.len();
        } else if fields.len() != nx {
            return Err(IoError::Ragged {
                path: path.to_path_buf(),
                line,
                expected: nx,
                found: fields.len(),
            });
        }
        for (column, value) in fields.iter().enumerate() {
            data.push(parse_field(path, line, column, "matrix", value)?);
        }
        ny += 1;
    }
    if ny == 0 {
        return Err(IoError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(Image { nx, ny, data })
}

/// Write an image as a comma-separated matrix, one row per line, full precision (a round trip through
/// [`parse_matrix_text`] is exact).
pub fn write_matrix_csv(image: &Image, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    for row in image.data.chunks(image.nx) {
        let line: Vec<String> = row.iter().map(|v| format!("{v:e}")).collect();
        writeln!(w, "{}", line.join(","))?;
    }
    Ok(())
}

fn tiff_err(path: &Path, e: impl std::fmt::Display) -> IoError {
    IoError::Tiff {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Convert one decoded TIFF page to f64 values.
fn decoded_to_f64(result: tiff::decoder::DecodingResult) -> Vec<f64> {
    use tiff::decoder::DecodingResult as D;
    match result {
        D::U8(v) => v.into_iter().map(f64::from).collect(),
        D::U16(v) => v.into_iter().map(f64::from).collect(),
        D::U32(v) => v.into_iter().map(f64::from).collect(),
        D::U64(v) => v.into_iter().map(|x| x as f64).collect(),
        D::F16(v) => v.into_iter().map(f64::from).collect(),
        D::F32(v) => v.into_iter().map(f64::from).collect(),
        D::F64(v) => v,
        D::I8(v) => v.into_iter().map(f64::from).collect(),
        D::I16(v) => v.into_iter().map(f64::from).collect(),
        D::I32(v) => v.into_iter().map(f64::from).collect(),
        D::I64(v) => v.into_iter().map(|x| x as f64).collect(),
    }
}

/// Read every page of a grayscale TIFF (8/16/32/64-bit integer or floating point) as an [`Image`]. A
/// two-channel SIMS measurement stored as one file has two pages: 6Li first, then 7Li.
pub fn read_tiff_pages(path: &Path) -> Result<Vec<Image>, IoError> {
    let mut decoder = tiff::decoder::Decoder::new(open(path)?).map_err(|e| tiff_err(path, e))?;
    let mut pages = Vec::new();
    loop {
        let colour = decoder.colortype().map_err(|e| tiff_err(path, e))?;
        if !matches!(colour, tiff::ColorType::Gray(_)) {
            return Err(tiff_err(
                path,
                format!("page {} is {colour:?}, expected grayscale", pages.len() + 1),
            ));
        }
        let (width, height) = decoder.dimensions().map_err(|e| tiff_err(path, e))?;
        let data = decoded_to_f64(decoder.read_image().map_err(|e| tiff_err(path, e))?);
        if data.iter().any(|v| !v.is_finite()) {
            return Err(tiff_err(
                path,
                format!("page {} holds non-finite values", pages.len() + 1),
            ));
        }
        let image = Image::new(width as usize, height as usize, data).map_err(|m| tiff_err(path, m))?;
        pages.push(image);
        if !decoder.more_images() {
            break;
        }
        decoder.next_image().map_err(|e| tiff_err(path, e))?;
    }
    Ok(pages)
}

/// Write a single-page 16-bit grayscale TIFF (values are rounded and clamped to 0..=65535). Used for
/// synthetic count images and tests.
pub fn write_tiff_u16(pages: &[&Image], w: &mut (impl std::io::Write + std::io::Seek)) -> Result<(), String> {
    let mut encoder = tiff::encoder::TiffEncoder::new(w).map_err(|e| e.to_string())?;
    for image in pages {
        let counts: Vec<u16> = image
            .data
            .iter()
            .map(|v| v.round().clamp(0.0, 65535.0) as u16)
            .collect();
        encoder
            .write_image::<tiff::encoder::colortype::Gray16>(image.nx as u32, image.ny as u32, &counts)
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn is_tiff(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("tif") || e.eq_ignore_ascii_case("tiff"))
}

/// Read the pages of an image file: TIFF (`.tif`/`.tiff`, possibly multi-page) or a text matrix (anything
/// else: CSV, TSV, whitespace).
pub fn read_image_pages(path: &Path) -> Result<Vec<Image>, IoError> {
    if is_tiff(path) {
        read_tiff_pages(path)
    } else {
        Ok(vec![read_matrix_text(path)?])
    }
}

/// A SIMS image: either a 6Li fraction image, or the two count channels on the same pixel grid.
#[derive(Debug, Clone, PartialEq)]
pub enum IsotopeImage {
    Fraction(Image),
    Counts { li6: Image, li7: Image },
}

/// Read a SIMS image from a specification: `A,B` (two files: 6Li counts, then 7Li counts), one two-page TIFF
/// (6Li, 7Li), or one single-page file holding the 6Li fraction.
pub fn read_isotope_image(spec: &str) -> Result<IsotopeImage, IoError> {
    let (li6, li7) = match spec.split_once(',') {
        Some((a, b)) => {
            let (pa, pb) = (Path::new(a.trim()), Path::new(b.trim()));
            (single_page(pa)?, single_page(pb)?)
        }
        None => {
            let path = Path::new(spec.trim());
            let mut pages = read_image_pages(path)?;
            match pages.len() {
                1 => return Ok(IsotopeImage::Fraction(pages.remove(0))),
                2 => {
                    let li7 = pages.pop().expect("two pages");
                    (pages.pop().expect("two pages"), li7)
                }
                n => {
                    return Err(IoError::Shape {
                        path: path.to_path_buf(),
                        message: format!("{n} pages: expected 1 (6Li fraction) or 2 (6Li, 7Li counts)"),
                    });
                }
            }
        }
    };
    if (li6.nx, li6.ny) != (li7.nx, li7.ny) {
        return Err(IoError::Shape {
            path: PathBuf::from(spec),
            message: format!("6Li is {}x{} pixels but 7Li is {}x{}", li6.nx, li6.ny, li7.nx, li7.ny),
        });
    }
    Ok(IsotopeImage::Counts { li6, li7 })
}

fn single_page(path: &Path) -> Result<Image, IoError> {
    let mut pages = read_image_pages(path)?;
    if pages.len() != 1 {
        return Err(IoError::Shape {
            path: path.to_path_buf(),
            message: format!("{} pages: expected one channel per file", pages.len()),
        });
    }
    Ok(pages.remove(0))
}

/// A grain map: one non-negative integer grain id per pixel, on the same grid as a SIMS image.
#[derive(Debug, Clone, PartialEq)]
pub struct GrainMap {
    pub nx: usize,
    pub ny: usize,
    pub ids: Vec<u32>,
}

impl GrainMap {
    /// The grain id at column `x`, row `y`.
    pub fn at(&self, x: usize, y: usize) -> u32 {
        self.ids[y * self.nx + x]
    }
}

/// Read a grain map (TIFF or text matrix) whose pixels are non-negative integer grain ids.
pub fn read_grain_map(path: &Path) -> Result<GrainMap, IoError> {
    let image = single_page(path)?;
    let ids = image
        .data
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if v >= 0.0 && v.fract() == 0.0 && v <= f64::from(u32::MAX) {
                Ok(v as u32)
            } else {
                Err(IoError::Shape {
                    path: path.to_path_buf(),
                    message: format!(
                        "pixel (x {}, y {}) = {v}: a grain id must be a non-negative integer",
                        i % image.nx,
                        i / image.nx
                    ),
                })
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(GrainMap {
        nx: image.nx,
        ny: image.ny,
        ids,
    })
}

/// Read a list of lines in pixel coordinates, one `x0,y0,x1,y1` per row (comma, tab, `;` or whitespace
/// separated); a first row that is not numeric is taken as a header, `#` starts a comment line.
pub fn read_pixel_lines(path: &Path) -> Result<Vec<[f64; 4]>, IoError> {
    let text = read_text(path)?;
    let mut rows = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i as u64 + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
        .peekable();
    let delimiter = sniff_delimiter(&text);
    let split = |l: &str| -> Vec<String> {
        match delimiter {
            Some(d) => l.split(d as char).map(|f| f.trim().to_string()).collect(),
            None => l.split_whitespace().map(str::to_string).collect(),
        }
    };
    if let Some((_, first)) = rows.peek()
        && split(first).iter().any(|f| f.parse::<f64>().is_err())
    {
        rows.next();
    }
    let names = ["x0", "y0", "x1", "y1"];
    let lines = rows
        .map(|(line, l)| {
            let fields = split(l);
            if fields.len() != 4 {
                return Err(IoError::Ragged {
                    path: path.to_path_buf(),
                    line,
                    expected: 4,
                    found: fields.len(),
                });
            }
            let mut out = [0.0; 4];
            for (k, value) in fields.iter().enumerate() {
                out[k] = parse_field(path, line, k, names[k], value)?;
            }
            Ok(out)
        })
        .collect::<Result<Vec<_>, _>>()?;
    if lines.is_empty() {
        return Err(IoError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(lines)
}
