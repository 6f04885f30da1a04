//! File formats: extended XYZ (ASE conventions), VASP POSCAR/CONTCAR, LAMMPS data and dump, MLIP `.cfg`.
//! Every reader streams frames from a `BufRead` (constant memory on any trajectory length) and reports bad
//! input as [`Error::Parse`] with the source name, the 1-based line and the field. Writers append one frame
//! at a time; [`write_file`] writes atomically (temporary file + rename).
//!
//! Each format module offers the same two entry points:
//! `Reader::new(input, source_name, &ReadOptions)` (an `Iterator<Item = Result<Structure>>`) and
//! `write_frame(&mut out, &structure, &WriteOptions)`.

pub mod cfg;
pub mod extxyz;
pub mod lammps_data;
pub mod lammps_dump;
pub mod poscar;
pub(crate) mod text;

use crate::{Element, Error, Result, Structure};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

/// A supported file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    ExtXyz,
    Poscar,
    LammpsData,
    LammpsDump,
    Cfg,
}

impl Format {
    /// All formats, with their command-line names.
    pub const ALL: [(Format, &'static str); 5] = [
        (Format::ExtXyz, "extxyz"),
        (Format::Poscar, "poscar"),
        (Format::LammpsData, "lammps-data"),
        (Format::LammpsDump, "lammps-dump"),
        (Format::Cfg, "cfg"),
    ];

    /// The format named on the command line (`extxyz`, `poscar`, `lammps-data`, `lammps-dump`, `cfg`).
    pub fn from_name(name: &str) -> Result<Format> {
        Format::ALL
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(name))
            .map(|(f, _)| *f)
            .ok_or_else(|| {
                let names: Vec<_> = Format::ALL.iter().map(|(_, n)| *n).collect();
                Error::Invalid(format!("unknown format {name:?}; expected one of {}", names.join(", ")))
            })
    }

    /// The command-line name of this format.
    pub fn name(self) -> &'static str {
        Format::ALL
            .iter()
            .find(|(f, _)| *f == self)
            .map(|(_, n)| *n)
            .expect("every format is named")
    }

    /// Guess the format from a file name: `*.xyz`/`*.extxyz` → extxyz; `POSCAR*`, `CONTCAR*`, `*.vasp`,
    /// `*.poscar` → poscar; `*.data`, `*.lmp`, `data.*` → lammps-data; `*.dump`, `*.lammpstrj`, `dump.*`
    /// → lammps-dump; `*.cfg` → cfg.
    pub fn from_path(path: &Path) -> Result<Format> {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        let format = match ext.as_str() {
            "xyz" | "extxyz" => Some(Format::ExtXyz),
            "vasp" | "poscar" | "contcar" => Some(Format::Poscar),
            "data" | "lmp" => Some(Format::LammpsData),
            "dump" | "lammpstrj" => Some(Format::LammpsDump),
            "cfg" => Some(Format::Cfg),
            _ if name.starts_with("poscar") || name.starts_with("contcar") => Some(Format::Poscar),
            _ if name.starts_with("data.") => Some(Format::LammpsData),
            _ if name.starts_with("dump.") => Some(Format::LammpsDump),
            _ => None,
        };
        format.ok_or_else(|| {
            Error::Invalid(format!(
                "cannot tell the format of {} from its name; give it with --format",
                path.display()
            ))
        })
    }

    /// Whether a file of this format can hold more than one frame.
    pub fn is_multi_frame(self) -> bool {
        matches!(self, Format::ExtXyz | Format::LammpsDump | Format::Cfg)
    }
}

/// Options for readers.
#[derive(Clone, Debug, Default)]
pub struct ReadOptions {
    /// Element of each type index: LAMMPS type `t` (1-based) is `type_map[t - 1]`; MLIP `.cfg` type `t`
    /// (0-based) is `type_map[t]`. When absent, LAMMPS data infers elements from `Masses`, and LAMMPS
    /// dumps and `.cfg` files need an `element` column or this map.
    pub type_map: Option<Vec<Element>>,
    /// LAMMPS data `atom_style` (`atomic`, `charge`, `full`, `molecular`) when the `Atoms` section header
    /// carries no `# style` comment; otherwise the style is inferred from the column count.
    pub atom_style: Option<String>,
}

/// Options for writers.
#[derive(Clone, Debug, Default)]
pub struct WriteOptions {
    /// Element of each type index (see [`ReadOptions::type_map`]); when absent, types are numbered by
    /// order of first appearance of each element in the first frame written.
    pub type_map: Option<Vec<Element>>,
    /// LAMMPS data `atom_style` to write (`atomic`, `charge`, `full`, `molecular`); by default `charge`
    /// when the structure has charges, else `atomic`.
    pub atom_style: Option<String>,
}

/// A boxed stream of frames.
pub type Frames = Box<dyn Iterator<Item = Result<Structure>>>;

/// Stream the frames of any `BufRead` in `format`; `source_name` appears in error messages.
pub fn read_frames<R: BufRead + 'static>(input: R, source_name: &str, format: Format, options: &ReadOptions) -> Frames {
    match format {
        Format::ExtXyz => Box::new(extxyz::Reader::new(input, source_name, options)),
        Format::Poscar => Box::new(poscar::Reader::new(input, source_name, options)),
        Format::LammpsData => Box::new(lammps_data::Reader::new(input, source_name, options)),
        Format::LammpsDump => Box::new(lammps_dump::Reader::new(input, source_name, options)),
        Format::Cfg => Box::new(cfg::Reader::new(input, source_name, options)),
    }
}

/// Open `path` and stream its frames; the format is guessed from the name unless given.
pub fn read_file(path: &Path, format: Option<Format>, options: &ReadOptions) -> Result<Frames> {
    let format = match format {
        Some(f) => f,
        None => Format::from_path(path)?,
    };
    let file = File::open(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(read_frames(BufReader::new(file), &name, format, options))
}

/// Write one frame to `out` in `format`.
pub fn write_frame<W: Write>(out: &mut W, frame: &Structure, format: Format, options: &WriteOptions) -> Result<()> {
    match format {
        Format::ExtXyz => extxyz::write_frame(out, frame, options),
        Format::Poscar => poscar::write_frame(out, frame, options),
        Format::LammpsData => lammps_data::write_frame(out, frame, options),
        Format::LammpsDump => lammps_dump::write_frame(out, frame, options),
        Format::Cfg => cfg::write_frame(out, frame, options),
    }
}

/// Write frames to `path` atomically (a temporary file in the same directory, renamed when complete).
/// A single-frame format given more than one frame is an error, and nothing is written.
pub fn write_file<I>(path: &Path, format: Option<Format>, frames: I, options: &WriteOptions) -> Result<usize>
where
    I: IntoIterator<Item = Result<Structure>>,
{
    let format = match format {
        Some(f) => f,
        None => Format::from_path(path)?,
    };
    let io_error = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut tmp = temp_file_beside(path).map_err(io_error)?;
    let mut count = 0;
    {
        let mut out = BufWriter::new(tmp.as_file_mut());
        for frame in frames {
            let frame = frame?;
            if count == 1 && !format.is_multi_frame() {
                return Err(Error::Invalid(format!(
                    "{} holds a single frame, but more than one was given",
                    format.name()
                )));
            }
            write_frame(&mut out, &frame, format, options)?;
            count += 1;
        }
        out.flush().map_err(io_error)?;
    }
    tmp.persist(path).map_err(|e| io_error(e.error))?;
    Ok(count)
}

/// A temporary file in the directory of `path`, to be renamed onto `path` once complete (`persist`), so a
/// reader never sees a half-written file. It is readable by others once in place (mode 0644 on Unix;
/// `tempfile` alone creates 0600), as a file written directly would be.
pub fn temp_file_beside(path: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    builder.prefix(".gbion-").suffix(".tmp").tempfile_in(dir)
}
