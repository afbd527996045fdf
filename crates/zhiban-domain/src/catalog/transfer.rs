//! Catalog import and export as CSV and XLSX, with the official Chinese
//! column headers. An import is all or nothing: every row is checked first,
//! and a single bad row rejects the file with its row number and reasons.

use std::collections::{HashMap, HashSet};
use std::io::Cursor;

use calamine::{Reader, Xlsx};
use serde::Serialize;

use super::parse::COLUMNS;
use super::*;
use crate::{ActorName, Db, DomainError, FieldError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    pub fn from_filename(name: &str) -> Option<Format> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".csv") {
            Some(Format::Csv)
        } else if lower.ends_with(".xlsx") {
            Some(Format::Xlsx)
        } else {
            None
        }
    }
}

/// What is wrong with one row. `row` counts like a spreadsheet: the header
/// is row 1, so the first item is row 2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub row: usize,
    pub errors: Vec<FieldError>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{} row(s) are invalid", .0.len())]
    Rows(Vec<RowError>),
    #[error(transparent)]
    Domain(#[from] DomainError),
}

impl ImportError {
    fn file(code: &'static str, detail: impl Into<String>) -> Self {
        ImportError::Rows(vec![RowError {
            row: 1,
            errors: vec![FieldError::new("file", code, detail)],
        }])
    }
}

/// Reads a table of strings: the header row, then data rows.
fn read_table(bytes: &[u8], format: Format) -> Result<Vec<Vec<String>>, ImportError> {
    match format {
        Format::Csv => {
            let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(bytes);
            let mut rows = Vec::new();
            for rec in reader.records() {
                let rec = rec.map_err(|e| ImportError::file("unreadable", e.to_string()))?;
                rows.push(rec.iter().map(str::to_string).collect());
            }
            Ok(rows)
        }
        Format::Xlsx => {
            let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec()))
                .map_err(|e: calamine::XlsxError| ImportError::file("unreadable", e.to_string()))?;
            let range = book
                .worksheet_range_at(0)
                .ok_or_else(|| ImportError::file("unreadable", "no sheet"))?
                .map_err(|e| ImportError::file("unreadable", e.to_string()))?;
            Ok(range
                .rows()
                .map(|r| r.iter().map(|c| c.to_string()).collect())
                .collect())
        }
    }
}

/// Parses the file into raw rows keyed by the catalog columns.
pub fn read_rows(bytes: &[u8], format: Format) -> Result<Vec<ServiceInput>, ImportError> {
    let table = read_table(bytes, format)?;
    let Some((header, body)) = table.split_first() else {
        return Err(ImportError::file("required", ""));
    };
    let mut index = HashMap::new();
    for (i, h) in header.iter().enumerate() {
        let h = h.trim();
        if let Some((key, _)) = COLUMNS.iter().find(|(k, zh)| *zh == h || *k == h) {
            index.insert(*key, i);
        }
    }
    let missing: Vec<&str> = COLUMNS
        .iter()
        .filter(|(k, _)| {
            !index.contains_key(k)
                && !matches!(
                    *k,
                    "fee_basis" | "high_frequency" | "realname_level" | "name_en" | "aliases"
                )
        })
        .map(|(_, zh)| *zh)
        .collect();
    if !missing.is_empty() {
        return Err(ImportError::file("missing_column", missing.join("、")));
    }
    Ok(body
        .iter()
        .filter(|r| r.iter().any(|c| !c.trim().is_empty()))
        .map(|r| {
            let mut input = ServiceInput::default();
            for (key, &i) in &index {
                input.set(key, r.get(i).cloned().unwrap_or_default());
            }
            input
        })
        .collect())
}

/// Checks every row; returns the items, or every problem with its row.
pub fn validate_rows(
    rows: &[ServiceInput],
    departments: &HashMap<String, String>,
) -> Result<Vec<ServiceItem>, Vec<RowError>> {
    let mut seen = HashSet::new();
    let mut items = Vec::new();
    let mut problems = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let row_no = i + 2;
        let mut errors = match row.validate(departments) {
            Ok(item) => {
                items.push(item);
                Vec::new()
            }
            Err(e) => e,
        };
        let code = row.code.trim().to_string();
        if !code.is_empty() && !seen.insert(code.clone()) {
            errors.push(FieldError::new("code", "duplicate_code", code));
        }
        if !errors.is_empty() {
            problems.push(RowError {
                row: row_no,
                errors,
            });
        }
    }
    if problems.is_empty() {
        Ok(items)
    } else {
        Err(problems)
    }
}

/// Imports a whole file in one transaction. Nothing is written unless every
/// row is valid.
pub async fn import(
    db: &Db,
    bytes: &[u8],
    format: Format,
    actor: &ActorName,
) -> Result<ImportSummary, ImportError> {
    let rows = read_rows(bytes, format)?;
    if rows.is_empty() {
        return Err(ImportError::file("required", ""));
    }
    let departments = department_names(db).await?;
    let items = validate_rows(&rows, &departments).map_err(ImportError::Rows)?;
    Ok(import_services(db, &items, actor).await?)
}

fn export_rows(items: &[ServiceItem]) -> impl Iterator<Item = Vec<String>> + '_ {
    items.iter().map(|item| {
        let input = ServiceInput::from_item(item);
        COLUMNS
            .iter()
            .map(|(k, _)| input.get(k).to_string())
            .collect()
    })
}

/// CSV with a byte-order mark, so spreadsheet programs read the Chinese right.
pub fn export_csv(items: &[ServiceItem]) -> Result<Vec<u8>, DomainError> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        let write = |w: &mut csv::Writer<&mut Vec<u8>>, rec: &[String]| {
            w.write_record(rec)
                .map_err(|_| DomainError::Internal("export_failed"))
        };
        let header: Vec<String> = COLUMNS.iter().map(|(_, zh)| zh.to_string()).collect();
        write(&mut w, &header)?;
        for rec in export_rows(items) {
            write(&mut w, &rec)?;
        }
        w.flush()
            .map_err(|_| DomainError::Internal("export_failed"))?;
    }
    Ok(out)
}

pub fn export_xlsx(items: &[ServiceItem]) -> Result<Vec<u8>, DomainError> {
    let fail = |_| DomainError::Internal("export_failed");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("事项目录").map_err(fail)?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (c, (_, zh)) in COLUMNS.iter().enumerate() {
        let col = u16::try_from(c).unwrap_or(u16::MAX);
        sheet
            .write_string_with_format(0, col, *zh, &bold)
            .map_err(fail)?;
    }
    for (r, rec) in export_rows(items).enumerate() {
        let row = u32::try_from(r + 1).unwrap_or(u32::MAX);
        for (c, value) in rec.iter().enumerate() {
            let col = u16::try_from(c).unwrap_or(u16::MAX);
            sheet.write_string(row, col, value).map_err(fail)?;
        }
    }
    book.save_to_buffer().map_err(fail)
}

/// Reads the org tree file (`code,name,parent_code,level,phone,address,hours`).
pub fn read_departments(bytes: &[u8]) -> Result<Vec<DepartmentInput>, ImportError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::Reader::from_reader(bytes);
    let mut out = Vec::new();
    for (i, rec) in reader.deserialize().enumerate() {
        let d: DepartmentInput = rec.map_err(|e| {
            ImportError::Rows(vec![RowError {
                row: i + 2,
                errors: vec![FieldError::new("department", "unreadable", e.to_string())],
            }])
        })?;
        out.push(d);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::parse::tests::{depts, valid_input};

    #[test]
    fn csv_export_reads_back_as_the_same_items() {
        let item = valid_input().validate(&depts()).expect("valid");
        let bytes = export_csv(std::slice::from_ref(&item)).expect("csv");
        let rows = read_rows(&bytes, Format::Csv).expect("rows");
        let items = validate_rows(&rows, &depts()).expect("valid rows");
        assert_eq!(items, vec![item]);
    }

    #[test]
    fn xlsx_export_reads_back_as_the_same_items() {
        let item = valid_input().validate(&depts()).expect("valid");
        let bytes = export_xlsx(std::slice::from_ref(&item)).expect("xlsx");
        let rows = read_rows(&bytes, Format::Xlsx).expect("rows");
        let items = validate_rows(&rows, &depts()).expect("valid rows");
        assert_eq!(items, vec![item]);
    }

    #[test]
    fn a_bad_row_is_reported_with_its_spreadsheet_row_number() {
        let good = valid_input();
        let mut bad = valid_input();
        bad.code = "T-0002".into();
        bad.legal_limit_days = "十五".into();
        let mut dup = valid_input();
        dup.name = "重复".into();
        let errs = validate_rows(&[good, bad, dup], &depts()).expect_err("invalid");
        assert_eq!(errs.len(), 2);
        assert_eq!(errs[0].row, 3);
        assert_eq!(errs[0].errors[0].field, "legal_limit_days");
        assert_eq!(errs[1].row, 4);
        assert_eq!(errs[1].errors[0].code, "duplicate_code");
    }

    #[test]
    fn a_file_without_the_required_columns_is_refused() {
        let err =
            read_rows("事项编码,事项名称\nA,B\n".as_bytes(), Format::Csv).expect_err("refused");
        let ImportError::Rows(rows) = err else {
            panic!("expected row errors")
        };
        assert_eq!(rows[0].errors[0].code, "missing_column");
        assert!(rows[0].errors[0].detail.contains("主项编码"));
    }
}
