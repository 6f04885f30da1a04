//! (format being written by its owner; this placeholder reads and writes nothing)

use crate::io::{ReadOptions, WriteOptions};
use crate::{Error, Result, Structure};
use std::io::{BufRead, Write};

pub struct Reader<R: BufRead> {
    _input: R,
    source_name: String,
    done: bool,
}

impl<R: BufRead> Reader<R> {
    pub fn new(input: R, source_name: &str, _options: &ReadOptions) -> Self {
        Reader {
            _input: input,
            source_name: source_name.to_string(),
            done: false,
        }
    }
}

impl<R: BufRead> Iterator for Reader<R> {
    type Item = Result<Structure>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        self.done = true;
        Some(Err(Error::parse(
            &self.source_name,
            1,
            "this format is not implemented yet",
        )))
    }
}

pub fn write_frame<W: Write>(_out: &mut W, _frame: &Structure, _options: &WriteOptions) -> Result<()> {
    Err(Error::Invalid("this format is not implemented yet".into()))
}
