//! Gatan Digital Micrograph `.dm3`/`.dm4` reader: the tag tree, then the images, spectra and spectrum
//! images in its `ImageList` with their axis calibrations.
//!
//! Written from the public descriptions of the format (C. Boothroyd's DM3 notes; the RosettaSciIO and ncempy
//! documentation). A file is a header — version (3 or 4), file size, byte-order flag (1 = data little
//! endian), all big endian — and a root tag group. A group is `sorted: u8, open: u8, n_tags`; a tag entry is
//! `kind: u8` (20 group, 21 data), `label length: u16`, the label, in DM4 a `u64` tag size, then the group
//! or, for data, `"%%%%"`, the info-array length and the info array (type codes, big endian) and the data in
//! the file's byte order. Counts and info entries are `u32` in DM3 and `u64` in DM4. Type codes: 2 i16,
//! 3 i32, 4 u16, 5 u32, 6 f32, 7 f64, 8 bool, 9 i8, 10 u8, 11 i64, 12 u64, 15 struct, 18 string (UTF-16),
//! 20 array. Thumbnails (listed under the root `Thumbnails` group) are skipped; the largest other image is
//! returned. DM stores dimension 0 (x) fastest; spectrum images are reordered energy-fastest here.

use crate::data::{Axis, Dataset, Image, SpectrumImage};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// One node of the tag tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Tag {
    /// A tag group: its entries in file order (unnamed entries have an empty label).
    Group(Vec<(String, Tag)>),
    /// A single number (any simple type).
    Number(f64),
    /// A string (type 18).
    Text(String),
    /// A struct of simple values.
    Struct(Vec<f64>),
    /// An array of a simple type: where its bytes are in the file.
    Array { element: u64, offset: usize, count: usize },
    /// An array of structs or strings, kept only as its size.
    OtherArray,
}

impl Tag {
    /// The entry `label` of a group.
    pub fn get(&self, label: &str) -> Option<&Tag> {
        match self {
            Tag::Group(entries) => entries.iter().find(|(l, _)| l == label).map(|(_, t)| t),
            _ => None,
        }
    }

    /// The entry at a `.`-separated path of labels.
    pub fn path(&self, path: &str) -> Option<&Tag> {
        path.split('.').try_fold(self, |tag, label| tag.get(label))
    }

    /// The entries of a group (empty for anything else).
    pub fn entries(&self) -> &[(String, Tag)] {
        match self {
            Tag::Group(entries) => entries,
            _ => &[],
        }
    }
}

/// A parsed DM file: its version, byte order, bytes and tag tree.
#[derive(Debug)]
pub struct DmFile {
    pub path: PathBuf,
    pub version: u32,
    pub little_endian: bool,
    pub root: Tag,
    bytes: Vec<u8>,
}

/// Read a DM3/DM4 file and return its main image, spectrum or spectrum image.
pub fn read(path: &Path) -> Result<Dataset> {
    DmFile::open(path)?.dataset()
}

impl DmFile {
    /// Read and parse the tag tree of the file at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Self::parse(path, bytes)
    }

    /// Parse the tag tree of `bytes` (`path` only names the file in errors).
    pub fn parse(path: &Path, bytes: Vec<u8>) -> Result<Self> {
        let mut cursor = Cursor {
            path,
            bytes: &bytes,
            pos: 0,
            version: 3,
            little_endian: true,
        };
        let version = cursor.be(4, "header version")? as u32;
        if version != 3 && version != 4 {
            return Err(cursor.error("header version", format!("{version} is not a DM version (3 or 4)")));
        }
        cursor.version = version;
        cursor.count("header file size")?;
        cursor.little_endian = match cursor.be(4, "header byte order")? {
            0 => false,
            1 => true,
            other => return Err(cursor.error("header byte order", format!("{other} is neither 0 nor 1"))),
        };
        let root = cursor.group("root")?;
        let little_endian = cursor.little_endian;
        Ok(DmFile {
            path: path.to_path_buf(),
            version,
            little_endian,
            root,
            bytes,
        })
    }

    /// The main dataset: the largest image of the `ImageList` that is not a thumbnail.
    pub fn dataset(&self) -> Result<Dataset> {
        let thumbnails: Vec<usize> = self
            .root
            .get("Thumbnails")
            .map(|t| {
                t.entries()
                    .iter()
                    .filter_map(|(_, th)| number(th.get("ImageIndex")?))
                    .map(|i| i as usize)
            })
            .into_iter()
            .flatten()
            .collect();
        let images = self.root.get("ImageList").ok_or_else(|| self.missing("ImageList"))?;
        let mut best: Option<(usize, &Tag)> = None;
        for (index, (_, image)) in images.entries().iter().enumerate() {
            let size = image
                .path("ImageData.Dimensions")
                .map_or(0, |d| self.dimensions(d).iter().product());
            if !thumbnails.contains(&index) && best.is_none_or(|(s, _)| size > s) {
                best = Some((size, image));
            }
        }
        let (_, image) = best.ok_or_else(|| self.missing("ImageList (no image that is not a thumbnail)"))?;
        self.image_dataset(image)
    }

    fn image_dataset(&self, image: &Tag) -> Result<Dataset> {
        let data_tag = image.get("ImageData").ok_or_else(|| self.missing("ImageData"))?;
        let dims = self.dimensions(
            data_tag
                .get("Dimensions")
                .ok_or_else(|| self.missing("ImageData.Dimensions"))?,
        );
        let data_type = data_tag
            .get("DataType")
            .and_then(number)
            .ok_or_else(|| self.missing("ImageData.DataType"))?;
        let values = self.image_values(
            data_tag.get("Data").ok_or_else(|| self.missing("ImageData.Data"))?,
            data_type,
        )?;
        let expected: usize = dims.iter().product();
        if values.len() != expected {
            return Err(self.invalid(
                "ImageData.Data",
                format!("{} values for the dimensions {dims:?}", values.len()),
            ));
        }
        let axes: Vec<Axis> = (0..dims.len()).map(|i| self.axis(data_tag, i, dims[i])).collect();
        match dims.len() {
            1 => Ok(Dataset::SpectrumImage(SpectrumImage::new(
                Axis::pixels(1),
                Axis::pixels(1),
                axes[0].clone(),
                values,
            )?)),
            2 if self.is_spectrum_image(image) => Ok(Dataset::SpectrumImage(transpose_to_energy_fastest(
                axes[0].clone(),
                Axis::pixels(1),
                axes[1].clone(),
                &values,
            )?)),
            2 => Ok(Dataset::Image(Image::new(axes[0].clone(), axes[1].clone(), values)?)),
            3 => Ok(Dataset::SpectrumImage(transpose_to_energy_fastest(
                axes[0].clone(),
                axes[1].clone(),
                axes[2].clone(),
                &values,
            )?)),
            n => Err(self.invalid(
                "ImageData.Dimensions",
                format!("{n} dimensions are not supported (1 to 3)"),
            )),
        }
    }

    fn dimensions(&self, tag: &Tag) -> Vec<usize> {
        tag.entries()
            .iter()
            .filter_map(|(_, d)| number(d))
            .map(|d| d as usize)
            .collect()
    }

    /// The calibration of dimension `i`: DM gives `Origin` (index of zero) and `Scale`.
    fn axis(&self, data_tag: &Tag, i: usize, size: usize) -> Axis {
        let Some((_, dim)) = data_tag.path("Calibrations.Dimension").and_then(|d| d.entries().get(i)) else {
            return Axis::pixels(size);
        };
        let origin = dim.get("Origin").and_then(number).unwrap_or(0.0);
        let scale = dim.get("Scale").and_then(number).unwrap_or(1.0);
        let units = dim.get("Units").map(|u| self.text(u)).unwrap_or_default();
        Axis {
            size,
            offset: -origin * scale,
            scale,
            units,
        }
    }

    /// Whether DM marks a 2-D image as a line of spectra (as RosettaSciIO decides: `ImageTags.Meta
    /// Data.Format` names a spectrum format, or an `ImageTags.spim` group exists).
    fn is_spectrum_image(&self, image: &Tag) -> bool {
        let format = image
            .path("ImageTags.Meta Data.Format")
            .map(|t| self.text(t))
            .unwrap_or_default();
        format.to_ascii_lowercase().starts_with("spectrum") || image.path("ImageTags.spim").is_some()
    }

    /// A string stored as type 18 or as an array of UTF-16 code units (how DM stores units and names).
    pub fn text(&self, tag: &Tag) -> String {
        match tag {
            Tag::Text(s) => s.clone(),
            Tag::Array {
                element: 4,
                offset,
                count,
            } => {
                let units: Vec<u16> = (0..*count)
                    .map(|k| self.uint(&self.bytes[offset + 2 * k..offset + 2 * k + 2]) as u16)
                    .collect();
                String::from_utf16_lossy(&units)
            }
            _ => String::new(),
        }
    }

    /// The pixel values of an `ImageData.Data` array, decoded by the image `DataType`.
    fn image_values(&self, tag: &Tag, data_type: f64) -> Result<Vec<f64>> {
        let Tag::Array { element, offset, count } = *tag else {
            return Err(self.invalid("ImageData.Data", "is not an array of numbers"));
        };
        let (width, decode): (usize, fn(u64) -> f64) = match data_type as i64 {
            1 => (2, |u| u as u16 as i16 as f64),
            2 => (4, |u| f32::from_bits(u as u32) as f64),
            6 | 14 => (1, |u| u as u8 as f64),
            7 => (4, |u| u as u32 as i32 as f64),
            9 => (1, |u| u as u8 as i8 as f64),
            10 => (2, |u| u as u16 as f64),
            11 => (4, |u| u as u32 as f64),
            12 => (8, f64::from_bits),
            other => {
                return Err(self.invalid(
                    "ImageData.DataType",
                    format!("{other} (complex, RGB or packed data) is not supported"),
                ));
            }
        };
        let total = count * simple_size(element).unwrap_or(0);
        if !total.is_multiple_of(width) {
            return Err(self.invalid(
                "ImageData.Data",
                format!("{total} bytes are not whole {width}-byte values"),
            ));
        }
        let bytes = &self.bytes[offset..offset + total];
        Ok(bytes.chunks_exact(width).map(|b| decode(self.uint(b))).collect())
    }

    fn uint(&self, b: &[u8]) -> u64 {
        read_uint(b, self.little_endian)
    }

    fn missing(&self, field: &str) -> Error {
        self.invalid(field, "tag not found")
    }

    fn invalid(&self, field: &str, message: impl Into<String>) -> Error {
        Error::parse(&self.path, "tag tree", field, message)
    }
}

fn number(tag: &Tag) -> Option<f64> {
    match tag {
        Tag::Number(v) => Some(*v),
        _ => None,
    }
}

/// DM order (x fastest, energy slowest) → energy fastest.
fn transpose_to_energy_fastest(x: Axis, y: Axis, energy: Axis, values: &[f64]) -> Result<SpectrumImage> {
    let (nx, ny, ne) = (x.size, y.size, energy.size);
    let mut data = vec![0.0; values.len()];
    for ie in 0..ne {
        for iy in 0..ny {
            for ix in 0..nx {
                data[(iy * nx + ix) * ne + ie] = values[(ie * ny + iy) * nx + ix];
            }
        }
    }
    SpectrumImage::new(x, y, energy, data)
}

fn read_uint(b: &[u8], little_endian: bool) -> u64 {
    let fold = |acc: u64, &byte: &u8| (acc << 8) | byte as u64;
    if little_endian {
        b.iter().rev().fold(0, fold)
    } else {
        b.iter().fold(0, fold)
    }
}

/// The byte size of a simple type code.
fn simple_size(code: u64) -> Option<usize> {
    match code {
        8..=10 => Some(1),
        2 | 4 => Some(2),
        3 | 5 | 6 => Some(4),
        7 | 11 | 12 => Some(8),
        _ => None,
    }
}

/// Decode one value of a simple type.
fn simple_value(code: u64, bits: u64) -> f64 {
    match code {
        2 => bits as u16 as i16 as f64,
        3 => bits as u32 as i32 as f64,
        6 => f32::from_bits(bits as u32) as f64,
        7 => f64::from_bits(bits),
        9 => bits as u8 as i8 as f64,
        11 => bits as i64 as f64,
        _ => bits as f64,
    }
}

/// A position in the file being parsed.
struct Cursor<'a> {
    path: &'a Path,
    bytes: &'a [u8],
    pos: usize,
    version: u32,
    little_endian: bool,
}

impl Cursor<'_> {
    fn error(&self, field: &str, message: impl Into<String>) -> Error {
        Error::parse(self.path, format!("byte {}", self.pos), field, message)
    }

    fn take(&mut self, n: usize, field: &str) -> Result<&[u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| self.error(field, format!("file ends before its {n} bytes")))?;
        let slice = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    fn be(&mut self, n: usize, field: &str) -> Result<u64> {
        Ok(read_uint(self.take(n, field)?, false))
    }

    /// A count or info entry: u32 in DM3, u64 in DM4, big endian.
    fn count(&mut self, field: &str) -> Result<u64> {
        self.be(if self.version == 4 { 8 } else { 4 }, field)
    }

    fn group(&mut self, label: &str) -> Result<Tag> {
        self.take(2, label)?; // sorted, open
        let n = self.count(label)?;
        let mut entries = Vec::new();
        for _ in 0..n {
            entries.push(self.entry(label)?);
        }
        Ok(Tag::Group(entries))
    }

    fn entry(&mut self, parent: &str) -> Result<(String, Tag)> {
        let kind = self.be(1, parent)?;
        let label_len = self.be(2, parent)? as usize;
        let label = String::from_utf8_lossy(self.take(label_len, parent)?).into_owned();
        let field = if label.is_empty() {
            parent.to_string()
        } else {
            label.clone()
        };
        if self.version == 4 {
            self.count(&field)?; // tag size in bytes
        }
        let tag = match kind {
            20 => self.group(&field)?,
            21 => self.data(&field)?,
            other => return Err(self.error(&field, format!("tag kind {other} is neither 20 (group) nor 21 (data)"))),
        };
        Ok((label, tag))
    }

    fn data(&mut self, field: &str) -> Result<Tag> {
        if self.take(4, field)? != b"%%%%" {
            return Err(self.error(field, "data tag does not start with %%%%"));
        }
        let n_info = self.count(field)? as usize;
        if n_info == 0 || n_info > 1 << 16 {
            return Err(self.error(field, format!("implausible info-array length {n_info}")));
        }
        let info = (0..n_info).map(|_| self.count(field)).collect::<Result<Vec<u64>>>()?;
        let info_at = |k: usize| {
            info.get(k)
                .copied()
                .ok_or_else(|| self.error(field, "info array too short"))
        };
        match info[0] {
            15 => {
                let n_fields = info_at(2)? as usize;
                let types = (0..n_fields)
                    .map(|k| info_at(4 + 2 * k))
                    .collect::<Result<Vec<u64>>>()?;
                let values = types
                    .iter()
                    .map(|&t| self.simple(t, field))
                    .collect::<Result<Vec<f64>>>()?;
                Ok(Tag::Struct(values))
            }
            18 => {
                let units = (0..info_at(1)?).map(|_| self.simple(4, field).map(|u| u as u16));
                Ok(Tag::Text(String::from_utf16_lossy(
                    &units.collect::<Result<Vec<u16>>>()?,
                )))
            }
            20 => self.array(&info, field),
            code => Ok(Tag::Number(self.simple(code, field)?)),
        }
    }

    fn array(&mut self, info: &[u64], field: &str) -> Result<Tag> {
        let element = info.get(1).copied().unwrap_or(0);
        let count = *info.last().unwrap_or(&0) as usize;
        let element_size = match element {
            15 => {
                let n_fields = info.get(3).copied().unwrap_or(0) as usize;
                let types = (0..n_fields).map(|k| info.get(5 + 2 * k).copied().unwrap_or(0));
                types
                    .map(|t| simple_size(t).ok_or_else(|| self.unknown(t, field)))
                    .sum::<Result<usize>>()?
            }
            code => simple_size(code).ok_or_else(|| self.unknown(code, field))?,
        };
        let offset = self.pos;
        let bytes = count
            .checked_mul(element_size)
            .ok_or_else(|| self.error(field, "array size overflows"))?;
        self.take(bytes, field)?;
        Ok(if element == 15 {
            Tag::OtherArray
        } else {
            Tag::Array { element, offset, count }
        })
    }

    fn simple(&mut self, code: u64, field: &str) -> Result<f64> {
        let size = simple_size(code).ok_or_else(|| self.unknown(code, field))?;
        let little_endian = self.little_endian;
        let bits = read_uint(self.take(size, field)?, little_endian);
        Ok(simple_value(code, bits))
    }

    fn unknown(&self, code: u64, field: &str) -> Error {
        self.error(field, format!("unknown data type code {code}"))
    }
}
