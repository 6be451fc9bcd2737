//! CSV in: a header row naming the records' fields (`externalId`,
//! `amountMinor`, …), then one record per row. A cell is read as the type
//! its field has: text as is, numbers and booleans parsed, and nested
//! values (order lines, identities, brand answers, `traits`) as a JSON
//! cell. An empty cell is an absent field. Rows then go through the same
//! record types and checks as NDJSON lines.
//!
//! Rows are cut from the same bounded lines as NDJSON: a row goes on to
//! the next line while it has an odd number of `"` (a quoted cell holding
//! a newline; RFC 4180 escapes a quote inside one as `""`, which keeps the
//! count even), and the `csv` crate parses the finished row.

use serde::de::value::StrDeserializer;
use serde::de::{self, DeserializeOwned, IntoDeserializer, MapAccess, Unexpected, Visitor};
use serde::forward_to_deserialize_any;

use super::records::{FieldError, read_record};
use crate::error::Error;

/// A record read from the input with the line it started on, or why it
/// could not be read.
pub type Decoded<R> = (u64, Result<R, FieldError>);

/// Turns lines into records, one row at a time.
pub struct CsvRows {
    header: Option<Vec<String>>,
    /// The row read so far, while a quoted cell is open.
    pending: String,
    /// The line the pending row started on.
    start: u64,
    quoted: bool,
    max_bytes: usize,
}

impl CsvRows {
    pub fn new(max_bytes: usize) -> Self {
        Self {
            header: None,
            pending: String::new(),
            start: 0,
            quoted: false,
            max_bytes,
        }
    }

    /// Takes line `line_no`; returns a record once a row is complete, with
    /// the line it started on. A header that cannot name fields is an
    /// error for the whole input.
    pub fn push<R: DeserializeOwned>(&mut self, line_no: u64, text: &str) -> Result<Option<Decoded<R>>, Error> {
        if self.pending.is_empty() {
            if text.trim().is_empty() {
                return Ok(None);
            }
            self.start = line_no;
        } else {
            self.pending.push('\n');
        }
        self.pending.push_str(text);
        if text.bytes().filter(|&b| b == b'"').count() % 2 == 1 {
            self.quoted = !self.quoted;
        }
        if self.quoted {
            if self.pending.len() > self.max_bytes {
                return Ok(Some((self.start, Err(self.refuse_pending()))));
            }
            return Ok(None);
        }
        let row = std::mem::take(&mut self.pending);
        let cells = match cells(&row) {
            Ok(cells) => cells,
            Err(error) if self.header.is_none() => return Err(header_error(self.start, &error.message)),
            Err(error) => return Ok(Some((self.start, Err(error)))),
        };
        let Some(header) = &self.header else {
            self.header = Some(header_of(self.start, cells)?);
            return Ok(None);
        };
        Ok(Some((self.start, record(header, &cells))))
    }

    /// A line that could not be read (too long, not UTF-8) ends the row it
    /// belongs to; the row is reported from its first line.
    pub fn refuse_line(&mut self, line_no: u64) -> u64 {
        let start = if self.pending.is_empty() { line_no } else { self.start };
        self.drop_pending();
        start
    }

    /// At the end of the input: a row whose quoted cell never closed.
    pub fn finish(&mut self) -> Option<(u64, FieldError)> {
        if self.pending.is_empty() {
            return None;
        }
        self.drop_pending();
        Some((
            self.start,
            FieldError::new("record", "malformed CSV: a quoted cell is not closed"),
        ))
    }

    /// Forgets the row read so far.
    fn drop_pending(&mut self) {
        self.pending.clear();
        self.quoted = false;
    }

    fn refuse_pending(&mut self) -> FieldError {
        self.drop_pending();
        FieldError::new(
            "record",
            format!(
                "a row longer than {} bytes (is a quoted cell not closed?)",
                self.max_bytes
            ),
        )
    }
}

fn cells(row: &str) -> Result<Vec<String>, FieldError> {
    let malformed = |e: ::csv::Error| FieldError::new("record", format!("malformed CSV: {e}"));
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(row.as_bytes());
    let mut record = ::csv::StringRecord::new();
    reader.read_record(&mut record).map_err(malformed)?;
    if reader.read_record(&mut ::csv::StringRecord::new()).map_err(malformed)? {
        return Err(FieldError::new(
            "record",
            "malformed CSV: a quote inside a cell that is not quoted (quote the cell and double the quote)",
        ));
    }
    Ok(record.iter().map(str::to_owned).collect())
}

fn header_of(line: u64, cells: Vec<String>) -> Result<Vec<String>, Error> {
    let mut names: Vec<String> = Vec::with_capacity(cells.len());
    for (i, cell) in cells.into_iter().enumerate() {
        let name = if i == 0 {
            cell.trim_start_matches('\u{feff}').trim().to_owned()
        } else {
            cell.trim().to_owned()
        };
        if name.is_empty() {
            return Err(header_error(line, &format!("column {} has no name", i + 1)));
        }
        if names.contains(&name) {
            return Err(header_error(line, &format!("column {name:?} appears twice")));
        }
        names.push(name);
    }
    Ok(names)
}

fn header_error(line: u64, reason: &str) -> Error {
    Error::validation(
        "header",
        format!("line {line}: {reason}; the first row names the record's fields, like externalId,name"),
    )
}

fn record<R: DeserializeOwned>(header: &[String], cells: &[String]) -> Result<R, FieldError> {
    if cells.len() != header.len() {
        return Err(FieldError::new(
            "record",
            format!("the row has {} cells and the header {}", cells.len(), header.len()),
        ));
    }
    read_record(Row { header, cells })
}

/// A row as a map from the header's names to cells, leaving empty cells out.
struct Row<'de> {
    header: &'de [String],
    cells: &'de [String],
}

impl<'de> de::Deserializer<'de> for Row<'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        let entries = self.header.iter().zip(self.cells).filter(|(_, cell)| !cell.is_empty());
        visitor.visit_map(Entries { entries, cell: None })
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

struct Entries<'de, I> {
    entries: I,
    cell: Option<&'de str>,
}

impl<'de, I: Iterator<Item = (&'de String, &'de String)>> MapAccess<'de> for Entries<'de, I> {
    type Error = serde_json::Error;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Self::Error> {
        let Some((name, cell)) = self.entries.next() else {
            return Ok(None);
        };
        self.cell = Some(cell);
        let name: StrDeserializer<'_, serde_json::Error> = name.as_str().into_deserializer();
        seed.deserialize(name).map(Some)
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Self::Error> {
        seed.deserialize(Cell(self.cell.take().unwrap_or_default()))
    }
}

/// One cell, read as whatever its field asks for.
struct Cell<'de>(&'de str);

impl Cell<'_> {
    fn is_json(&self) -> bool {
        self.0.trim_start().starts_with(['{', '['])
    }
}

/// Reads a JSON cell to its end.
fn json<'de, T>(
    cell: &'de str,
    read: impl FnOnce(&mut serde_json::Deserializer<serde_json::de::StrRead<'de>>) -> Result<T, serde_json::Error>,
) -> Result<T, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_str(cell);
    let value = read(&mut deserializer)?;
    deserializer.end()?;
    Ok(value)
}

macro_rules! parsed {
    ($($method:ident: $ty:ty => $visit:ident),* $(,)?) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
                match self.0.trim().parse::<$ty>() {
                    Ok(value) => visitor.$visit(value),
                    Err(_) => Err(de::Error::invalid_value(Unexpected::Str(self.0), &visitor)),
                }
            }
        )*
    };
}

impl<'de> de::Deserializer<'de> for Cell<'de> {
    type Error = serde_json::Error;

    /// For fields of any type (`traits`, `properties`): JSON when it looks
    /// like an object or array, else a boolean, a number or text.
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        if self.is_json() {
            return json(self.0, |d| de::Deserializer::deserialize_any(d, visitor));
        }
        let text = self.0.trim();
        if let Ok(value) = text.parse::<bool>() {
            visitor.visit_bool(value)
        } else if let Ok(value) = text.parse::<i64>() {
            visitor.visit_i64(value)
        } else if let Some(value) = text.parse::<f64>().ok().filter(|v| v.is_finite()) {
            visitor.visit_f64(value)
        } else {
            visitor.visit_str(self.0)
        }
    }

    parsed! {
        deserialize_bool: bool => visit_bool,
        deserialize_i8: i64 => visit_i64,
        deserialize_i16: i64 => visit_i64,
        deserialize_i32: i64 => visit_i64,
        deserialize_i64: i64 => visit_i64,
        deserialize_u8: u64 => visit_u64,
        deserialize_u16: u64 => visit_u64,
        deserialize_u32: u64 => visit_u64,
        deserialize_u64: u64 => visit_u64,
        deserialize_f32: f64 => visit_f64,
        deserialize_f64: f64 => visit_f64,
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_borrowed_str(self.0)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        // Empty cells never get here: they are absent fields.
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        if self.is_json() {
            return json(self.0, |d| {
                de::Deserializer::deserialize_enum(d, name, variants, visitor)
            });
        }
        let variant: StrDeserializer<'_, serde_json::Error> = self.0.trim().into_deserializer();
        visitor.visit_enum(variant)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        json(self.0, |d| de::Deserializer::deserialize_seq(d, visitor))
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        json(self.0, |d| de::Deserializer::deserialize_map(d, visitor))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        json(self.0, |d| {
            de::Deserializer::deserialize_struct(d, name, fields, visitor)
        })
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_unit()
    }

    forward_to_deserialize_any! {
        i128 u128 bytes byte_buf unit unit_struct tuple tuple_struct
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::records::{CustomerRecord, OrderRecord, SurveyResponseRecord};

    fn rows<R: DeserializeOwned>(text: &str) -> Result<Vec<Decoded<R>>, Error> {
        let mut csv = CsvRows::new(1024);
        let mut out = Vec::new();
        for (i, line) in text.split('\n').enumerate() {
            out.extend(csv.push::<R>(i as u64 + 1, line)?);
        }
        out.extend(csv.finish().map(|(line, error)| (line, Err(error))));
        Ok(out)
    }

    #[test]
    fn nested_values_are_json_cells_and_numbers_are_parsed() {
        let text = "externalId,customerExternalId,channel,orderedAt,currency,amountMinor,lines\n\
            O1,C1,ONLINE,2025-01-01T00:00:00Z,USD,1200,\"[{\"\"productExternalId\"\":\"\"P1\"\",\"\"quantity\"\":2,\"\"unitAmountMinor\"\":600}]\"";
        let orders = rows::<OrderRecord>(text).expect("a header");
        let [(line, Ok(order))] = orders.as_slice() else {
            panic!("one good row: {orders:?}");
        };
        assert_eq!((*line, order.amount_minor, order.lines.len()), (2, 1200, 1));
        assert_eq!(order.lines[0].quantity, 2);
        assert_eq!(order.account_external_id, None);
    }

    #[test]
    fn a_quoted_cell_may_hold_newlines_and_quotes() {
        let text = "externalId,surveyExternalId,region,respondedAt,npsScore,comment\n\
            R1,S1,EU,2025-01-01T00:00:00Z,9,\"good, \"\"really\"\"\nand fast\"\n\
            R2,S1,EU,2025-01-02T00:00:00Z,,";
        let responses = rows::<SurveyResponseRecord>(text).expect("a header");
        let lines: Vec<u64> = responses.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, vec![2, 4]);
        let Ok(first) = &responses[0].1 else {
            panic!("{responses:?}")
        };
        assert_eq!(first.comment.as_deref(), Some("good, \"really\"\nand fast"));
        let Ok(second) = &responses[1].1 else {
            panic!("{responses:?}")
        };
        assert_eq!((second.nps_score, second.comment.as_deref()), (None, None));
    }

    #[test]
    fn bad_cells_name_their_field() {
        let text = "externalId,customerExternalId,channel,orderedAt,currency,amountMinor,lines\n\
            O1,C1,ONLINE,2025-01-01T00:00:00Z,USD,twelve,[]\n\
            O2,C1,ONLINE,2025-01-01T00:00:00Z,USD,1,\"[{\"\"productExternalId\"\":\"\"P1\"\",\"\"quantity\"\":\"\"two\"\",\"\"unitAmountMinor\"\":1}]\"\n\
            O3,C1,ONLINE";
        let orders = rows::<OrderRecord>(text).expect("a header");
        let fields: Vec<(u64, String)> = orders
            .into_iter()
            .map(|(line, result)| (line, result.err().map(|e| e.field).unwrap_or_default()))
            .collect();
        assert_eq!(
            fields,
            vec![
                (2, "amountMinor".to_owned()),
                (3, "lines[0].quantity".to_owned()),
                (4, "record".to_owned())
            ]
        );
    }

    #[test]
    fn traits_take_json_and_a_bad_header_stops_the_input() {
        let text = "externalId,email,name,region,country,acquisitionChannel,firstSeenAt,traits\n\
            C1,a@example.com,Ann,EU,DE,ads,2025-01-01T00:00:00Z,\"{\"\"plan\"\":\"\"pro\"\"}\"";
        let customers = rows::<CustomerRecord>(text).expect("a header");
        let Ok(customer) = &customers[0].1 else {
            panic!("{customers:?}")
        };
        assert_eq!(customer.traits["plan"], "pro");
        let error = rows::<CustomerRecord>("externalId,,name\nC1,x,y").err();
        assert!(error.is_some_and(|e| e.to_string().contains("column 2 has no name")));
    }

    #[test]
    fn an_unclosed_quote_is_reported_at_the_row_it_opened() {
        let text = "externalId,surveyExternalId,region,respondedAt,comment\nR1,S1,EU,2025-01-01T00:00:00Z,\"open";
        let responses = rows::<SurveyResponseRecord>(text).expect("a header");
        assert_eq!(responses.len(), 1);
        assert_eq!(responses[0].0, 2);
        assert!(responses[0].1.as_ref().is_err_and(|e| e.message.contains("not closed")));
    }
}
