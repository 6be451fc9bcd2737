//! Lines of a body or file, read with a bound on their length: memory
//! holds at most `max_bytes` of one line whatever the input, a longer
//! line is skipped to its end and reported, and a line that is not UTF-8
//! is reported rather than ending the read.

use tokio::io::{AsyncBufRead, AsyncBufReadExt};

/// One line of input, without its line ending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Text(String),
    /// Longer than the limit; `bytes` is its whole length.
    TooLong {
        bytes: u64,
    },
    /// Not valid UTF-8 at byte `at` of the line.
    NotUtf8 {
        at: usize,
    },
}

impl Line {
    /// Why a line that is not text is refused (field "record").
    pub fn refusal(&self, max_bytes: usize) -> Option<String> {
        match self {
            Line::Text(_) => None,
            Line::TooLong { bytes } => Some(format!(
                "the line is {bytes} bytes long; the most a record may take is {max_bytes} (ACCORD_MAX_LINE_BYTES)"
            )),
            Line::NotUtf8 { at } => Some(format!("the line is not valid UTF-8 (at byte {at})")),
        }
    }
}

/// Reads lines from `reader`, each at most `max_bytes` long.
pub struct LineReader<R> {
    reader: R,
    max_bytes: usize,
    buffer: Vec<u8>,
}

impl<R: AsyncBufRead + Unpin> LineReader<R> {
    pub fn new(reader: R, max_bytes: usize) -> Self {
        Self {
            reader,
            max_bytes,
            buffer: Vec::new(),
        }
    }

    /// The next line and the bytes it took (ending included), or `None`
    /// at the end of the input. An error is a failure to read, not a bad
    /// line.
    pub async fn next_line(&mut self) -> std::io::Result<Option<(Line, u64)>> {
        self.buffer.clear();
        let mut length: u64 = 0;
        let mut ended = false;
        loop {
            let available = self.reader.fill_buf().await?;
            if available.is_empty() {
                break;
            }
            let (taken, newline) = match available.iter().position(|byte| *byte == b'\n') {
                Some(at) => (at, true),
                None => (available.len(), false),
            };
            length += taken as u64 + u64::from(newline);
            let room = (self.max_bytes + 1).saturating_sub(self.buffer.len());
            self.buffer.extend_from_slice(&available[..taken.min(room)]);
            self.reader.consume(taken + usize::from(newline));
            if newline {
                ended = true;
                break;
            }
        }
        if length == 0 && !ended {
            return Ok(None);
        }
        if self.buffer.last() == Some(&b'\r') {
            self.buffer.pop();
        }
        let line_bytes = length - u64::from(ended);
        if self.buffer.len() > self.max_bytes {
            return Ok(Some((Line::TooLong { bytes: line_bytes }, length)));
        }
        let line = match std::str::from_utf8(&self.buffer) {
            Ok(text) => Line::Text(text.to_owned()),
            Err(error) => Line::NotUtf8 {
                at: error.valid_up_to(),
            },
        };
        Ok(Some((line, length)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn lines(input: &[u8], max: usize) -> Vec<Line> {
        let mut reader = LineReader::new(tokio::io::BufReader::with_capacity(4, input), max);
        let mut lines = Vec::new();
        while let Some((line, _)) = reader.next_line().await.expect("reads from memory") {
            lines.push(line);
        }
        lines
    }

    #[tokio::test]
    async fn long_and_undecodable_lines_are_reported_and_reading_goes_on() {
        let input = b"{\"a\":1}\r\n0123456789abcdef\n\xff\xfe\nlast";
        assert_eq!(
            lines(input, 10).await,
            vec![
                Line::Text("{\"a\":1}".to_owned()),
                Line::TooLong { bytes: 16 },
                Line::NotUtf8 { at: 0 },
                Line::Text("last".to_owned()),
            ]
        );
    }

    #[tokio::test]
    async fn a_line_of_exactly_the_limit_is_text_and_empty_lines_count() {
        assert_eq!(
            lines(b"0123456789\n\n", 10).await,
            vec![Line::Text("0123456789".to_owned()), Line::Text(String::new())]
        );
        assert_eq!(lines(b"", 10).await, vec![]);
    }
}
