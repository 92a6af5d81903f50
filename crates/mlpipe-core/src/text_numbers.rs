//! Text columns that are mostly numbers: a column meant to be numeric that some values
//! kept from parsing (`n/a`, `12,5`, `?`) arrives as text, and a numeric feature step
//! would leave it out without a word. [`NumericText`] counts what such a column holds so
//! ingestion (in the batch record) and the data quality report can say so.

use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use std::collections::BTreeMap;

/// What one text column holds, counted over one or more batches.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NumericText {
    /// Present (non-null, non-empty) values.
    pub present: u64,
    /// Present values that parse as numbers.
    pub numeric: u64,
    /// The first present value that does not parse.
    pub example: Option<String>,
}

impl NumericText {
    /// Counts the values of a string column (other types are ignored).
    pub fn observe(&mut self, col: &dyn Array) {
        if col.data_type() != &DataType::Utf8 {
            return;
        }
        for v in col.as_string::<i32>().iter().flatten() {
            let t = v.trim();
            if t.is_empty() {
                continue;
            }
            self.present += 1;
            if t.parse::<f64>().is_ok() {
                self.numeric += 1;
            } else if self.example.is_none() {
                self.example = Some(t.chars().take(40).collect());
            }
        }
    }

    /// Whether most values are numbers but some are not: a column probably meant to be
    /// numeric.
    pub fn looks_numeric(&self) -> bool {
        self.numeric < self.present && self.numeric * 2 > self.present
    }

    /// The warning for column `name` when it [looks numeric](Self::looks_numeric).
    pub fn warning(&self, name: &str) -> Option<String> {
        if !self.looks_numeric() {
            return None;
        }
        Some(format!(
            "column `{name}` is text, but {} of its {} values are numbers ({} are not, e.g. `{}`), \
             so numeric feature steps leave it out; declare it numeric in \
             [ingest.datasets.<dataset>.schema] to quarantine the rows that do not parse, \
             or clean the source",
            self.numeric,
            self.present,
            self.present - self.numeric,
            self.example.as_deref().unwrap_or_default()
        ))
    }
}

/// [`NumericText`] of every string column, over the batches observed.
#[derive(Clone, Debug, Default)]
pub struct TextColumns {
    columns: BTreeMap<String, NumericText>,
}

impl TextColumns {
    /// Counts the string columns of `batch`.
    pub fn observe(&mut self, batch: &RecordBatch) {
        let schema = batch.schema();
        for (f, c) in schema.fields().iter().zip(batch.columns()) {
            if f.data_type() == &DataType::Utf8 {
                self.columns
                    .entry(f.name().clone())
                    .or_default()
                    .observe(c.as_ref());
            }
        }
    }

    /// One warning per string column that looks numeric, in column-name order.
    pub fn warnings(&self) -> Vec<String> {
        self.columns
            .iter()
            .filter_map(|(n, c)| c.warning(n))
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use arrow_array::StringArray;
    use std::sync::Arc;

    #[test]
    fn mostly_numbers_with_strays_is_flagged_and_plain_text_is_not() {
        let schema = Arc::new(arrow_schema::Schema::new(vec![
            arrow_schema::Field::new("price", DataType::Utf8, true),
            arrow_schema::Field::new("city", DataType::Utf8, true),
        ]));
        let price = StringArray::from(vec![Some("1.5"), Some("n/a"), Some(" 3 "), None, Some("")]);
        let city = StringArray::from(vec![Some("Oslo"), Some("Bergen"), Some("7"), None, None]);
        let batch = RecordBatch::try_new(schema, vec![Arc::new(price), Arc::new(city)]).unwrap();
        let mut t = TextColumns::default();
        t.observe(&batch);
        let w = t.warnings();
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("`price`") && w[0].contains("2 of its 3") && w[0].contains("`n/a`"));
        // All numbers is not text gone wrong either (it is a choice of the schema).
        let mut all = NumericText::default();
        all.observe(&StringArray::from(vec!["1", "2"]));
        assert!(!all.looks_numeric());
    }
}
