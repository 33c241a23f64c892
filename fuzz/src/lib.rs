//! Helpers shared by the fuzz targets.

use std::fmt::{Debug, Display};

/// Format the outcome of a decoder, so `Debug` of decoded values and the
/// error messages are exercised as well (a message must never be empty).
pub fn exercise<T: Debug, E: Display>(outcome: Result<T, E>) {
    let text = match outcome {
        Ok(value) => format!("{value:?}"),
        Err(error) => error.to_string(),
    };
    assert!(!text.is_empty());
}

/// Reads the fuzz input piece by piece; every read past the end gives zeros
/// or empty slices, so a target never has to check lengths itself.
pub struct Input<'a> {
    rest: &'a [u8],
}

impl<'a> Input<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Input { rest: data }
    }

    /// True when the input is used up.
    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The next byte (0 at the end).
    pub fn byte(&mut self) -> u8 {
        let (&b, rest) = self.rest.split_first().unwrap_or((&0, &[]));
        self.rest = rest;
        b
    }

    /// The next big-endian 16-bit value.
    pub fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.byte(), self.byte()])
    }

    /// Up to `len` next bytes (fewer at the end).
    pub fn bytes(&mut self, len: usize) -> &'a [u8] {
        let (head, rest) = self.rest.split_at(len.min(self.rest.len()));
        self.rest = rest;
        head
    }
}
